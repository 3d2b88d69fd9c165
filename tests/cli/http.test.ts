import { afterEach, describe, expect, test } from "bun:test";
import type { TaskTypeJson } from "../../src/http/index.ts";
import { kiln, lines } from "./run.ts";

const PROBE_TYPE: TaskTypeJson = {
  name: "probe",
  description: "answers the test",
  params: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
  result: null,
  options: {
    retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 },
    timeoutMs: null,
    concurrency: 3,
    resumable: true,
    isolation: "worker",
    memoryLimitMb: null,
  },
};

interface Seen {
  path: string;
  authorization: string | null;
}

let fake: ReturnType<typeof Bun.serve> | undefined;
afterEach(async () => {
  await fake?.stop(true);
  fake = undefined;
});

/** A stand-in server on a free port that records each request and answers with `answer`. */
function fakeServer(answer: (request: Request) => Response) {
  const seen: Seen[] = [];
  fake = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      seen.push({ path: new URL(request.url).pathname, authorization: request.headers.get("authorization") });
      return answer(request);
    },
  });
  return { url: `http://127.0.0.1:${fake.port}`, seen };
}

const taskTypes = () => Response.json({ items: [PROBE_TYPE] });

describe("the token", () => {
  test("--token is sent as a bearer token", async () => {
    const server = fakeServer(taskTypes);
    const run = await kiln(["types", "--url", server.url, "--token", "s3cret"]);
    expect(run.code).toBe(0);
    expect(server.seen).toEqual([{ path: "/task-types", authorization: "Bearer s3cret" }]);
    expect(lines(run.stdout)[1]).toMatch(/^probe +3 +- +n: integer +answers the test$/);
  });

  test("KILN_TOKEN and KILN_URL work too; the flags win over them", async () => {
    const server = fakeServer(taskTypes);
    expect((await kiln(["types"], { KILN_URL: server.url, KILN_TOKEN: "from-env" })).code).toBe(0);
    expect(
      (await kiln(["types", "--token", "from-flag"], { KILN_URL: server.url, KILN_TOKEN: "x" })).code,
    ).toBe(0);
    expect(server.seen.map((request) => request.authorization)).toEqual([
      "Bearer from-env",
      "Bearer from-flag",
    ]);
  });

  test("no token, no Authorization header", async () => {
    const server = fakeServer(taskTypes);
    expect((await kiln(["types", "--url", server.url])).code).toBe(0);
    expect(server.seen).toEqual([{ path: "/task-types", authorization: null }]);
  });

  test("a token that cannot travel in a header is exit 2", async () => {
    const run = await kiln(["types", "--url", "http://127.0.0.1:9", "--token", "two words"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toStartWith("kiln: --token must not contain whitespace or control characters");
  });

  test("a 401 is exit 1 with the server's message and code", async () => {
    const server = fakeServer(() =>
      Response.json({ error: { code: "unauthorized", message: "the token is not valid" } }, { status: 401 }),
    );
    const run = await kiln(["ls", "--url", server.url, "--token", "wrong"]);
    expect(run).toEqual({ code: 1, stdout: "", stderr: "kiln: the token is not valid (unauthorized)\n" });
  });
});

describe("reaching the server", () => {
  test("a server that cannot be reached is exit 1, naming its URL", async () => {
    // A port that was just free: nothing listens on it now.
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const url = `http://127.0.0.1:${probe.port}`;
    await probe.stop(true);
    for (const args of [
      ["ls", "--url", url],
      ["watch", "some-id", "--url", url],
    ]) {
      const run = await kiln(args);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toStartWith(`kiln: cannot reach the kiln server at ${url}: `);
      expect(lines(run.stderr)).toHaveLength(1);
    }
  });

  test("an error that is not kiln's JSON is exit 1 with the HTTP status", async () => {
    const server = fakeServer(() => new Response("upstream is down", { status: 502 }));
    const run = await kiln(["show", "abc", "--url", server.url]);
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr: "kiln: the server answered 502 Bad Gateway: upstream is down (http_502)\n",
    });
  });

  test("a 200 that is not JSON is exit 1: probably not a kiln server", async () => {
    const server = fakeServer(
      () => new Response("<html>hello</html>", { headers: { "content-type": "text/html" } }),
    );
    const run = await kiln(["types", "--url", server.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("is it a kiln server? (bad_response)");
  });

  test("a URL with a path prefix keeps it (kiln behind a reverse proxy)", async () => {
    const server = fakeServer((request) =>
      new URL(request.url).pathname === "/kiln/task-types"
        ? taskTypes()
        : Response.json({ error: { code: "task_not_found", message: "no such task" } }, { status: 404 }),
    );
    expect((await kiln(["types", "--url", `${server.url}/kiln`])).code).toBe(0);
    const show = await kiln(["show", "a/b", "--url", `${server.url}/kiln/`]);
    expect(show.stderr).toBe("kiln: no such task (task_not_found)\n");
    expect(server.seen.map((request) => request.path)).toEqual(["/kiln/task-types", "/kiln/tasks/a%2Fb"]);
  });
});
