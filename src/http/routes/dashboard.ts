import { Elysia, t } from "elysia";
import { DASHBOARD_CSS, DASHBOARD_JS, DASHBOARD_VERSION } from "../../dashboard/assets.ts";
import { FAVICON_SVG } from "../../dashboard/favicon.ts";
import { dashboardPage } from "../../dashboard/page.ts";
import { pagePolicy } from "../content-security-policy.ts";
import { httpError } from "../errors.ts";
import { requestPath } from "../request-path.ts";

/** Scripts and styles only from this server, and nothing inline, whatever a task writes. */
const DASHBOARD_CSP = pagePolicy({ inlineStyles: false });

const ASSETS: Readonly<Record<string, { body: string; type: string }>> = {
  "app.js": { body: DASHBOARD_JS, type: "text/javascript; charset=utf-8" },
  "app.css": { body: DASHBOARD_CSS, type: "text/css; charset=utf-8" },
  "favicon.svg": { body: FAVICON_SVG, type: "image/svg+xml" },
};

const PAGE = dashboardPage(DASHBOARD_VERSION);

/**
 * The dashboard page and its assets: public, like the Swagger shell, so a browser can load
 * them before it has a token; the page then calls the guarded API with the token it asks for.
 */
export function dashboardRoutes() {
  return new Elysia()
    .get(
      "/dashboard",
      ({ request }) => {
        // The page's URLs are relative to /dashboard; under /dashboard/ they would miss.
        if (requestPath(request).endsWith("/")) {
          return new Response(null, { status: 308, headers: { location: "../dashboard" } });
        }
        return new Response(PAGE, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "cache-control": "no-cache",
            "content-security-policy": DASHBOARD_CSP,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
          },
        });
      },
      { detail: { hide: true } },
    )
    .get(
      "/dashboard/assets/:file",
      ({ params, query }) => {
        // Own keys only: "toString" or "__proto__" must not find Object.prototype's members.
        const asset = Object.hasOwn(ASSETS, params.file) ? ASSETS[params.file] : undefined;
        if (!asset) throw httpError("not_found", 404, `no asset named ${params.file}`);
        // A versioned URL never changes content; an unversioned one may after an upgrade.
        const cache = query.v === DASHBOARD_VERSION ? "public, max-age=31536000, immutable" : "no-cache";
        return new Response(asset.body, {
          headers: {
            "content-type": asset.type,
            "cache-control": cache,
            "x-content-type-options": "nosniff",
          },
        });
      },
      {
        params: t.Object({ file: t.String({ maxLength: 64 }) }),
        query: t.Object({ v: t.Optional(t.String({ maxLength: 64 })) }),
        detail: { hide: true },
      },
    );
}
