import fc from "fast-check";
import type { FuzzRequest } from "./harness.ts";
import { headerText, siteHeaders } from "./header-arbitraries.ts";

/** One route of the server, with what its OpenAPI document says it reads. */
export interface RouteInfo {
  method: string;
  /** Elysia's template, e.g. /tasks/:id/pause. */
  path: string;
  query: string[];
  bodyFields: string[];
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "FOO"];
/** fetch refuses a body on GET and HEAD, and Bun's fetch on methods it does not know. */
const WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const bodyFor = <T>(method: string, payload: T): T | undefined =>
  WITH_BODY.has(method) ? payload : undefined;

/** Text that parses as a number, or almost does. */
const numberLike = fc.constantFrom(
  "NaN",
  "nan",
  "Infinity",
  "-Infinity",
  "1e308",
  "1e309",
  "-1e308",
  "5e-324",
  "-0",
  "0x10",
  "1_000",
  "9007199254740993",
  "123456789012345678901234567890",
  "-99999999999999999999",
  "0.5",
  " 1",
  "1 ",
  "",
  "+1",
  "1e",
  "--1",
);

/** Strings of any code point, lone surrogates included. */
const anyString = fc.string({ unit: "binary", maxLength: 40 });

const scalarText = fc.oneof(
  numberLike,
  anyString,
  fc.constantFrom(
    "true",
    "false",
    "null",
    "undefined",
    "[]",
    "{}",
    "PENDING",
    "RUNNING",
    "FINISHED",
    "pending",
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt().map(String),
  fc.constant("x".repeat(10_000)),
);

/** A value that JSON can carry, including numbers outside what a schema allows. */
const wildJson: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: "small" },
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(1e308, -1e308, -0, 5e-324, Number.MAX_SAFE_INTEGER + 2, 2 ** 63, -(2 ** 63), 0.5),
  scalarText,
  fc.array(anyString, { maxLength: 30 }),
  fc.constant("y".repeat(200_000)),
);

/** A path segment: real ids, ids of the right shape that do not exist, and garbage. */
function segment(ids: string[]): fc.Arbitrary<string> {
  const raw = fc.oneof(
    fc.constantFrom(...ids),
    fc.uuid(),
    anyString,
    numberLike,
    fc.constantFrom(
      "..",
      ".",
      "%",
      "%00",
      "%zz",
      "%C3%28",
      "%ED%A0%80",
      "a/b",
      "index.html",
      "../../etc/passwd",
    ),
    // Names that a lookup in a plain object finds on Object.prototype.
    fc.constantFrom("toString", "__proto__", "constructor", "hasOwnProperty", "valueOf", "init.js", "app.js"),
    fc.constant("z".repeat(5_000)),
  );
  // Mostly encoded as a client would; sometimes left raw for the URL parser to cope with.
  return fc.tuple(raw, fc.boolean()).map(([value, encode]) => (encode ? encodeLoosely(value) : value));
}

/** encodeURIComponent, except that a lone surrogate becomes its (invalid) UTF-8 bytes. */
function encodeLoosely(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...value]
      .map((char) => {
        try {
          return encodeURIComponent(char);
        } catch {
          const code = char.charCodeAt(0);
          return `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase();
        }
      })
      .join("");
  }
}

function queryString(known: string[]): fc.Arbitrary<string> {
  const key = known.length > 0 ? fc.oneof(fc.constantFrom(...known), anyString) : anyString;
  const pair = fc.oneof(
    fc.tuple(key, scalarText).map(([k, v]) => `${encodeLoosely(k)}=${encodeLoosely(v)}`),
    fc
      .tuple(key, fc.constantFrom("%", "%G1", "%C3%28", "%FF", "a%", "&&", "==", "%00"))
      .map(([k, v]) => `${encodeLoosely(k)}=${v}`),
    key.map(encodeLoosely),
  );
  return fc.array(pair, { maxLength: 6 }).map((pairs) => (pairs.length === 0 ? "" : `?${pairs.join("&")}`));
}

/** `[[[…]]]` or `{"a":{"a":…}}` nested `depth` levels. */
function nested(depth: number, object: boolean): string {
  return object
    ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`
    : `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

const invalidUtf8 = fc.oneof(
  fc
    .constantFrom(
      [0xc3, 0x28],
      [0xa0, 0xa1],
      [0xe2, 0x28, 0xa1],
      [0xf0, 0x28, 0x8c, 0x28],
      [0xff, 0xfe, 0xfd],
      [0xed, 0xa0, 0x80],
      [0xc0, 0xaf],
      [0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d], // {"n":"\xff"}
    )
    .map((bytes) => new Uint8Array(bytes)),
  fc.uint8Array({ minLength: 1, maxLength: 300 }),
);

function body(fields: string[]): fc.Arbitrary<string | Uint8Array | undefined> {
  const knownObject =
    fields.length === 0
      ? fc.dictionary(anyString, wildJson, { maxKeys: 4 })
      : fc.dictionary(fc.oneof(fc.constantFrom(...fields), anyString), wildJson, { maxKeys: 6 });
  const createLike = fc.record(
    {
      name: fc.oneof(fc.constantFrom("echo", "missing", "", " echo"), anyString, wildJson),
      params: fc.oneof(fc.record({ value: wildJson }), wildJson),
      priority: wildJson,
      runAt: fc.oneof(
        wildJson,
        fc
          .date({ noInvalidDate: false })
          .map((d) => (Number.isNaN(d.getTime()) ? "Invalid" : d.toISOString())),
      ),
      idempotencyKey: wildJson,
      tags: fc.oneof(fc.array(anyString, { maxLength: 25 }), wildJson),
      reason: wildJson,
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    fc.constant(undefined),
    fc.constant(""),
    wildJson.map((value) => JSON.stringify(value) ?? "null"),
    knownObject.map((value) => JSON.stringify(value)),
    createLike.map((value) => JSON.stringify(value)),
    // Literal numbers JSON.stringify would never write.
    fc
      .constantFrom("1e308", "1e999", "-0", "123456789012345678901234567890")
      .map((n) => `{"name":"echo","priority":${n},"runAt":${n},"params":{"value":${n}}}`),
    fc
      .constantFrom(10, 1_000, 10_000)
      .chain((depth) =>
        fc.constantFrom(
          nested(depth, false),
          nested(depth, true),
          `{"name":"echo","params":{"value":${nested(depth, false)}}}`,
          `{"name":"echo","params":${nested(depth, true)}}`,
          `{"reason":${nested(depth, false)}}`,
        ),
      ),
    fc.string({ maxLength: 200 }),
    fc.constantFrom(
      "{",
      "}",
      "[1,]",
      "{'a':1}",
      "NaN",
      "undefined",
      "\u0000",
      '{"a":1}{"b":2}',
      "\uFEFF{}",
      '{"__proto__":{"x":1}}',
      '{"constructor":{"prototype":{}}}',
    ),
    invalidUtf8,
  );
}

const contentType = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  " application/json ",
  "application/json;",
  "application/json, text/plain",
  "application/jsonp",
  "application/json-seq",
  "text/json",
  "text/plain",
  "text/plain;charset=UTF-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "multipart/form-data; boundary=zzz",
  "application/octet-stream",
  "garbage/!!",
  ";",
  "",
);

/** Requests aimed at one route: its method (mostly), its template filled with garbage, any body and headers. */
export function requestFor(route: RouteInfo, ids: string[], port: number): fc.Arbitrary<FuzzRequest> {
  const names = [...route.path.matchAll(/:(\w+)/g)].map((match) => match[1] as string);
  return fc
    .record({
      method: fc.oneof({ weight: 4, arbitrary: fc.constant(route.method) }, fc.constantFrom(...METHODS)),
      segments: fc.tuple(...names.map(() => segment(ids))),
      query: queryString(route.query),
      body: body(route.bodyFields),
      contentType,
      accept: fc.constantFrom(undefined, "application/json", "text/event-stream", "*/*", "text/html"),
      site: siteHeaders(port),
    })
    .map(({ method, segments, query, body: payload, contentType: type, accept, site }) => {
      let path = route.path;
      names.forEach((name, index) => {
        path = path.replace(`:${name}`, segments[index] ?? "");
      });
      const headers: Record<string, string> = { ...site };
      if (type !== undefined) headers["content-type"] = type;
      if (accept !== undefined) headers.accept = accept;
      return { method, target: path + query, headers, body: bodyFor(method, payload) };
    });
}

/**
 * Requests written byte for byte, as fetch cannot send them: HTTP/1.0 or 1.1, no Host line, an
 * empty, garbled or repeated one, with the site headers and a body of any declared type.
 */
export function rawRequestFor(routes: RouteInfo[], ids: string[], port: number): fc.Arbitrary<string> {
  const hostLines = fc.oneof(
    fc.constant([] as string[]),
    fc
      .constantFrom(`127.0.0.1:${port}`, `localhost:${port}`, `attacker.example:${port}`, "", "[zz", "a b/c")
      .map((value) => [`Host: ${value}`]),
    fc.constant([`Host: 127.0.0.1:${port}`, "Host: attacker.example"]),
    headerText.map((value) => [`Host: ${value}`]),
  );
  return fc
    .record({
      route: fc.constantFrom(...routes),
      // Methods Bun's parser knows: it drops a connection with an unknown one without a word.
      method: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"),
      ),
      id: segment(ids),
      version: fc.constantFrom("HTTP/1.1", "HTTP/1.0"),
      hostLines,
      site: siteHeaders(port),
      contentType,
      body: fc.oneof(
        fc.constant(""),
        fc.constantFrom('{"name":"echo","params":{"value":1}}', "{", "name=echo"),
      ),
    })
    .map(({ route, method, id, version, hostLines: hosts, site, contentType: type, body: payload }) => {
      const target = route.path.replace(/:\w+/g, id);
      const lines = [`${method ?? route.method} ${target} ${version}`, ...hosts];
      for (const [name, value] of Object.entries(site)) if (name !== "host") lines.push(`${name}: ${value}`);
      if (type !== undefined) lines.push(`Content-Type: ${type}`);
      if (payload !== "") lines.push(`Content-Length: ${Buffer.byteLength(payload)}`);
      lines.push("Connection: close");
      return `${lines.join("\r\n")}\r\n\r\n${payload}`;
    });
}

/** Requests to paths no route has, or that only look like one. */
export function strayRequest(ids: string[]): fc.Arbitrary<FuzzRequest> {
  const path = fc.oneof(
    fc.webPath(),
    fc.array(segment(ids), { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join("/")}`),
    fc
      .tuple(
        fc.constantFrom("/tasks", "/tasks/", "/swagger", "/dashboard", "/events", "/metrics"),
        segment(ids),
      )
      .map(([prefix, rest]) => `${prefix}/${rest}/${rest}`),
  );
  return fc
    .record({
      method: fc.constantFrom(...METHODS),
      path,
      query: queryString([]),
      body: body([]),
      contentType,
    })
    .map(({ method, path: target, query, body: payload, contentType: type }) => ({
      method,
      target: (target.startsWith("/") ? target : `/${target}`) + query,
      headers: type === undefined ? ({} as Record<string, string>) : { "content-type": type },
      body: bodyFor(method, payload),
    }));
}

/** Bodies past the size limit, declared or streamed without a length, at routes that read one. */
export function hugeRequest(routes: RouteInfo[], limit: number): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      route: fc.constantFrom(...routes),
      extra: fc.integer({ min: 1, max: 2 * limit }),
      streamed: fc.boolean(),
      json: fc.boolean(),
    })
    .map(({ route, extra, streamed, json }) => {
      const size = limit + extra;
      const bytes = new Uint8Array(size).fill(0x61);
      if (json) {
        bytes.set(new TextEncoder().encode('{"name":"'), 0);
        bytes.set(new TextEncoder().encode('"}'), size - 2);
      }
      const body = streamed ? chunked(bytes) : bytes;
      return {
        method: route.method,
        target: route.path.replace(/:\w+/g, "00000000-0000-7000-8000-000000000000"),
        headers: { "content-type": "application/json" },
        body,
      };
    });
}

/** A body sent in 64 KiB chunks with no Content-Length. */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + 65_536));
      offset += 65_536;
    },
  });
}
