/**
 * The Content-Security-Policy of kiln's own pages: scripts, styles, requests and images from
 * this server only, no framing, no forms, no <base>. `inlineStyles` lets a page keep a
 * <style> block and style attributes (the Swagger UI sets them as it renders); scripts are
 * never inline.
 */
export function pagePolicy({ inlineStyles }: { inlineStyles: boolean }): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    inlineStyles ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}
