import { describe, expect, test } from "bun:test";
import { duration, paramsSummary, table } from "../../src/cli/client/format.ts";
import { readSse, type SseEvent } from "../../src/cli/client/sse.ts";

/** A body delivered in exactly these chunks. */
function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function events(chunks: string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const event of readSse(body(chunks))) out.push(event);
  return out;
}

describe("readSse", () => {
  test("frames split anywhere across chunks, comments skipped", async () => {
    const text =
      ': connected\n\nevent: log\ndata: {"a":1}\n\n: heartbeat\n\nevent: transition\ndata: {"b":2}\n\n';
    const expected = [
      { event: "log", data: '{"a":1}' },
      { event: "transition", data: '{"b":2}' },
    ];
    expect(await events([text])).toEqual(expected);
    for (let cut = 1; cut < text.length; cut++) {
      expect(await events([text.slice(0, cut), text.slice(cut)])).toEqual(expected);
    }
  });

  test("CRLF and CR line endings, multi-line data, and no event name", async () => {
    expect(await events(["event: log\r\ndata: one\r\ndata:two\r\n\r\n", "data: x\r\r"])).toEqual([
      { event: "log", data: "one\ntwo" },
      { event: "message", data: "x" },
    ]);
    // "\r" at the end of one chunk and "\n" at the start of the next are one line ending.
    expect(await events(["data: a\r", "\n\r", "\n"])).toEqual([{ event: "message", data: "a" }]);
  });

  test("an unterminated last frame is not delivered", async () => {
    expect(await events(["event: log\ndata: cut off"])).toEqual([]);
  });
});

describe("format", () => {
  test("durations read naturally at every scale", () => {
    expect([850, 12_340, 245_000, 7_380_000, 277_200_000].map(duration)).toEqual([
      "850ms",
      "12.3s",
      "4m05s",
      "2h03m",
      "3d05h",
    ]);
  });

  test("table pads by display width and right-aligns the columns asked for", () => {
    expect(
      table(
        ["A", "N"],
        [
          ["日本", "5"],
          ["x", "123"],
        ],
        [1],
      ),
    ).toBe("A       N\n日本    5\nx     123");
  });

  test("params summaries: optional, defaults (optional too: the server fills them in), unions, arrays, no schema", () => {
    const schema = {
      type: "object",
      properties: {
        paths: { type: "array", items: { type: "string" } },
        mode: { anyOf: [{ const: "a" }, { const: "b" }] },
        depth: { type: "integer", default: 3 },
      },
      required: ["paths", "depth"],
    };
    expect(paramsSummary(schema)).toBe('paths: string[], mode?: "a"|"b", depth?: integer = 3');
    expect(paramsSummary({})).toBe("any");
    expect(paramsSummary(schema, 20)).toBe("paths: string[], mo…");
  });
});
