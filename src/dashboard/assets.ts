import { type DashboardBundle, dashboardBundle } from "./bundle.ts";
import { FAVICON_SVG } from "./favicon.ts";

// Inside the compiled executable the bundle was built with it, by a macro (embedded.ts). Anywhere
// else it is built here, once, when this module loads: Bun refuses to run macros from
// node_modules, where kiln lives when it is installed as a package.
const bundle: DashboardBundle = import.meta.url.startsWith("file:///$bunfs/")
  ? (await import("./embedded.ts")).EMBEDDED_DASHBOARD
  : dashboardBundle();

export const DASHBOARD_JS: string = bundle.js;
export const DASHBOARD_CSS: string = bundle.css;

/** Changes with the assets: the page asks for `app.js?v=<version>`, so a browser never keeps a stale copy. */
export const DASHBOARD_VERSION: string = Bun.hash(bundle.js + bundle.css + FAVICON_SVG).toString(36);
