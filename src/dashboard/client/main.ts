// The dashboard's entry point, bundled by src/dashboard/bundle.ts.
import { html } from "htm/preact";
import { render } from "preact";
import "./styles.css";
import { App } from "./components/app.ts";

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(html`<${App} />`, root);
}
