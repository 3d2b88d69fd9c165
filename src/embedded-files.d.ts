// Files imported `with { type: "file" }` evaluate to a path Bun.file() can read, inside a
// compiled executable too.
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui.css" {
  const path: string;
  export default path;
}
