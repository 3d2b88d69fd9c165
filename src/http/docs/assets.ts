// Imported as files so `bun build --compile` embeds them in the executable: the Swagger UI
// must work on a server that cannot reach a CDN.

import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };

export interface Asset {
  path: string;
  type: string;
}

/** The files served under /swagger/assets/, by name. */
export const SWAGGER_ASSETS: Readonly<Record<string, Asset>> = {
  "swagger-ui-bundle.js": { path: swaggerBundle, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { path: swaggerCss, type: "text/css; charset=utf-8" },
};
