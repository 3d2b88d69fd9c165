import { dashboardBundle } from "./bundle.ts" with { type: "macro" };
import { FAVICON_SVG } from "./favicon.ts";

// Built when this module is transpiled (see bundle.ts): inside the executable these are
// plain string literals.
const bundle = dashboardBundle();

export const DASHBOARD_JS: string = bundle.js;
export const DASHBOARD_CSS: string = bundle.css;

/** Changes with the assets: the page asks for `app.js?v=<version>`, so a browser never keeps a stale copy. */
export const DASHBOARD_VERSION: string = Bun.hash(bundle.js + bundle.css + FAVICON_SVG).toString(36);
