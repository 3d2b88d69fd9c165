/**
 * The path of a request, for messages and logs. `new URL(request.url)` throws when the request
 * came without a usable Host header (HTTP/1.0 without one, an empty or garbled one): Bun then
 * gives the request a relative url such as `/tasks`, or an absolute one it cannot parse. This
 * never throws.
 */
export function requestPath(request: { url: string }): string {
  const { url } = request;
  let rest = url;
  if (!url.startsWith("/")) {
    const scheme = url.indexOf("://");
    const slash = scheme < 0 ? -1 : url.indexOf("/", scheme + 3);
    rest = slash < 0 ? "/" : url.slice(slash);
  }
  const query = rest.search(/[?#]/);
  return query < 0 ? rest : rest.slice(0, query);
}
