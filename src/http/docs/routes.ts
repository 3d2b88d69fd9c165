import { Elysia, t } from "elysia";
import { pagePolicy } from "../content-security-policy.ts";
import { httpError } from "../errors.ts";
import { SWAGGER_ASSETS } from "./assets.ts";
import { SWAGGER_INIT_SCRIPT, SWAGGER_PAGE } from "./shell.ts";

/** The page has a small <style> block, and Swagger UI sets style attributes as it renders. */
const SWAGGER_CSP = pagePolicy({ inlineStyles: true });

const html = (body: string) =>
  new Response(body, {
    headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": SWAGGER_CSP },
  });

/** The Swagger UI page and its assets: public, so a browser can load them before it has a token. */
export function swaggerShellRoutes() {
  return new Elysia()
    .get("/swagger", () => html(SWAGGER_PAGE), { detail: { hide: true } })
    .get(
      "/swagger/assets/:file",
      ({ params }) => {
        if (params.file === "init.js") {
          return new Response(SWAGGER_INIT_SCRIPT, {
            headers: { "content-type": "text/javascript; charset=utf-8" },
          });
        }
        // Own keys only: "toString" or "__proto__" must not find Object.prototype's members.
        const asset = Object.hasOwn(SWAGGER_ASSETS, params.file) ? SWAGGER_ASSETS[params.file] : undefined;
        if (!asset) throw httpError("not_found", 404, `no asset named ${params.file}`);
        return new Response(Bun.file(asset.path), {
          headers: { "content-type": asset.type, "cache-control": "public, max-age=86400" },
        });
      },
      { params: t.Object({ file: t.String({ maxLength: 64 }) }), detail: { hide: true } },
    );
}
