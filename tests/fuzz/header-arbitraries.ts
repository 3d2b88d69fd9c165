import fc from "fast-check";

/** Where the fuzzed server allows requests from (see server-child.ts). */
export const FUZZ_CORS_ORIGIN = "https://allowed.example";

/** Text a header value may hold (fetch refuses control characters), often odd for its header. */
export const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 60,
});

/**
 * The headers that decide whether a request is from a host and site kiln serves: Host (the
 * server's own, loopback names, rebinding names, garbage, empty), Origin (own, allowed, foreign,
 * "null", garbage) and Sec-Fetch-Site. `port` is the server's.
 */
export function siteHeaders(port: number): fc.Arbitrary<Record<string, string>> {
  const host = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    fc.constantFrom(
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      "localhost",
      `[::1]:${port}`,
      `LOCALHOST:${port}`,
      `attacker.example:${port}`,
      "attacker.example",
      `127.0.0.1.nip.io:${port}`,
      "localhost.",
      "localhost:99999",
      "[zz",
      "a b/c",
      "%%%",
      "h".repeat(2_000),
      "",
    ),
    headerText,
  );
  const origin = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    fc.constantFrom(
      `http://127.0.0.1:${port}`,
      `http://localhost:${port}`,
      FUZZ_CORS_ORIGIN,
      "https://evil.example",
      `http://attacker.example:${port}`,
      "null",
      "file://",
      "http://[zz",
      "",
    ),
    headerText,
  );
  const site = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    fc.constantFrom("same-origin", "same-site", "cross-site", "none", "CROSS-SITE", ""),
    headerText,
  );
  return fc.record({ host, origin, site }).map(({ host: h, origin: o, site: s }) => {
    const headers: Record<string, string> = {};
    if (h !== undefined) headers.host = h;
    if (o !== undefined) headers.origin = o;
    if (s !== undefined) headers["sec-fetch-site"] = s;
    return headers;
  });
}
