/**
 * Checks one allowed origin: `scheme://host[:port]` exactly as a browser sends it in `Origin`
 * (lower-case, no path, no trailing slash, no default port). Returns it, or throws saying why.
 */
export function checkCorsOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`CORS origin "${value}" is not a URL; write it as https://host[:port]`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`CORS origin "${value}" must start with http:// or https://`);
  }
  if (url.origin !== value) {
    throw new Error(
      `CORS origin "${value}" must be exactly scheme://host[:port] as browsers send it; did you mean "${url.origin}"?`,
    );
  }
  return value;
}
