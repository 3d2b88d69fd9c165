import { connect } from "node:net";

export interface RawResponse {
  status: number;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent, as text. */
  raw: string;
}

function decodeChunked(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", offset);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString("latin1"), 16);
    if (Number.isNaN(size)) return Buffer.alloc(0);
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/** The response once it is complete, undefined while more is to come. */
function complete(data: Buffer, ended: boolean, head: boolean): RawResponse | undefined {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const lines = data.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(headEnd + 4);
  let body: Buffer | undefined;
  // A HEAD answer announces the length of a body it does not send.
  if (head || (headers["content-type"] ?? "").startsWith("text/event-stream")) body = Buffer.alloc(0);
  else if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    if (rest.length >= length) body = rest.subarray(0, length);
  } else if ((headers["transfer-encoding"] ?? "").includes("chunked")) body = decodeChunked(rest);
  else if (ended || status === 204 || status === 304) body = rest;
  if (body === undefined) return undefined;
  return { status, headers, body: body.toString("utf8"), raw: data.toString("latin1") };
}

/**
 * Sends `request` as it is, bytes for bytes, on a new TCP connection: requests `fetch` cannot
 * make (no Host, HTTP/1.0, a broken request line). Resolves with the first response, or rejects
 * when none is complete within `timeoutMs`.
 */
export function rawRequest(
  port: number,
  request: string | Uint8Array,
  { host = "127.0.0.1", timeoutMs = 10_000 }: { host?: string; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const head = (typeof request === "string" ? request : Buffer.from(request).toString("latin1")).startsWith(
    "HEAD ",
  );
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    let settled = false;
    const socket = connect(port, host, () => socket.write(request));
    const finish = (ended: boolean) => {
      if (settled) return;
      const response = complete(data, ended, head);
      if (response) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(response);
      } else if (ended) {
        settled = true;
        clearTimeout(timer);
        reject(new Error(`the connection closed after ${JSON.stringify(data.toString("latin1"))}`));
      }
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(
        new Error(`no complete response in ${timeoutMs} ms: ${JSON.stringify(data.toString("latin1"))}`),
      );
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      finish(false);
    });
    socket.on("end", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("error", (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Bun's HTTP parser answers a request it cannot parse itself, before any handler: no body, no type. */
function bareParserAnswer(response: RawResponse): boolean {
  return (
    [400, 431, 505].includes(response.status) &&
    response.body === "" &&
    response.headers["content-type"] === undefined
  );
}

/**
 * What is wrong with an answer: a 5xx, anything of Bun's development page (its HTML, stack
 * frames, source lines, the working directory), or an error that is not JSON in the API's
 * shape. Empty when nothing is.
 */
export function serverFaults(response: RawResponse): string[] {
  const problems: string[] = [];
  if (bareParserAnswer(response)) return problems;
  if (response.status === 0 || response.status >= 500) problems.push(`status ${response.status}`);
  // Bun's development page, whatever its status. Stack frames, paths and an HTML page are signs of
  // one only in an error: a 200 may hold them (the OpenAPI document's example of a failed task's
  // stack, the dashboard's page).
  const leaks = ["__bunfallback", "DevErrorPage"];
  if (response.status >= 400) leaks.push(process.cwd(), "    at ", "src/http", "<!doctype");
  for (const leak of leaks) {
    if (response.raw.toLowerCase().includes(leak.toLowerCase())) problems.push(`contains ${leak}`);
  }
  if (response.status >= 400 && response.body !== "") {
    if (!(response.headers["content-type"] ?? "").startsWith("application/json"))
      problems.push(`content-type ${response.headers["content-type"]}`);
    let parsed: { error?: { code?: unknown; message?: unknown } } | undefined;
    try {
      parsed = JSON.parse(response.body) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (typeof parsed?.error?.code !== "string" || typeof parsed?.error?.message !== "string")
      problems.push(`not the error shape: ${response.body.slice(0, 200)}`);
  }
  return problems;
}
