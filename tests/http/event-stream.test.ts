import { describe, expect, test } from "bun:test";
import { createEventStream, type SseFrame } from "../../src/http/event-stream.ts";
import { SseReader } from "./sse.ts";

function harness(maxQueued: number, shutdown?: AbortSignal) {
  let push: ((frame: SseFrame) => void) | undefined;
  let unsubscribed = 0;
  const controller = new AbortController();
  const stream = createEventStream({
    maxQueued,
    heartbeatMs: 60_000,
    signal: controller.signal,
    ...(shutdown ? { shutdown } : {}),
    subscribe: (feed) => {
      push = feed;
      return () => {
        unsubscribed++;
      };
    },
  });
  const reader = new SseReader(stream);
  const send = (event: string, data: unknown) => push?.({ event, data, droppable: event === "progress" });
  return { reader, send, controller, unsubscribed: () => unsubscribed };
}

/** Every remaining event until the stream ends. */
async function drain(reader: SseReader) {
  const events = [];
  for (let message = await reader.next(); message; message = await reader.next()) events.push(message);
  return events;
}

describe("bounded event stream", () => {
  test("a client that keeps up gets every event in order", async () => {
    const { reader, send, controller } = harness(4);
    for (let i = 0; i < 10; i++) {
      send("log", { i });
      expect(await reader.next()).toEqual({ event: "log", data: { i } });
    }
    controller.abort();
    expect(await reader.next()).toBeNull();
  });

  test("a slow client loses the oldest progress first, keeping the rest in order", async () => {
    const { reader, send, controller } = harness(4);
    send("progress", { n: 1 });
    send("transition", { n: 2 });
    send("progress", { n: 3 });
    send("log", { n: 4 });
    send("log", { n: 5 }); // full: progress 1 goes
    send("log", { n: 6 }); // full: progress 3 goes
    send("progress", { n: 7 }); // full, nothing older to drop: this tick is skipped
    const events = await reader.collect((message) => (message.data as { n: number }).n === 6);
    expect(events.map((message) => (message.data as { n: number }).n)).toEqual([2, 4, 5, 6]);
    send("log", { n: 8 });
    expect(await reader.next()).toEqual({ event: "log", data: { n: 8 } });
    controller.abort();
    expect(await reader.next()).toBeNull();
  });

  test("past the bound with nothing to drop, the client gets a final overflow event and is cut off", async () => {
    const { reader, send, unsubscribed } = harness(3);
    for (let i = 0; i < 10; i++) send("log", { i });
    expect(unsubscribed()).toBe(1);
    const events = await drain(reader);
    expect(events.map((event) => event.event)).toEqual(["overflow"]);
    expect(events[0]?.data).toMatchObject({ message: expect.stringContaining("3") });
  });

  test("a shutdown ends every open stream with a final shutdown event and unsubscribes it", async () => {
    const shutdown = new AbortController();
    const one = harness(10, shutdown.signal);
    const two = harness(10, shutdown.signal);
    one.send("log", { n: 1 });
    expect(await one.reader.next()).toEqual({ event: "log", data: { n: 1 } });
    shutdown.abort();
    one.send("log", { n: 2 }); // after the shutdown: never sent
    const final = { event: "shutdown", data: { message: "the server is shutting down" } };
    expect(await drain(one.reader)).toEqual([final]);
    expect(await drain(two.reader)).toEqual([final]);
    expect(one.unsubscribed()).toBe(1);
    expect(two.unsubscribed()).toBe(1);
  });

  test("a stream opened after the shutdown began gets the shutdown event at once, never subscribing", async () => {
    const shutdown = new AbortController();
    shutdown.abort();
    const { reader, send, unsubscribed } = harness(10, shutdown.signal);
    send("log", { n: 1 });
    expect(await drain(reader)).toEqual([
      { event: "shutdown", data: { message: "the server is shutting down" } },
    ]);
    expect(unsubscribed()).toBe(0);
  });
});
