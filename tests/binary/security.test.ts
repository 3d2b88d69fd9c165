// The attacks found against the built executable, run against the executable again: requests
// without a usable Host, and the built-in file tasks pointed at secrets and at kiln's own files.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { rawRequest, serverFaults } from "../http/raw-http.ts";
import { compiledKiln, type ServingKiln, serveKiln } from "./kiln-process.ts";

interface Task {
  id: string;
  status: string;
  error: { message: string } | null;
  result: unknown;
}

let binary: string;
const dirs: Array<{ remove: () => void }> = [];
const running: ServingKiln[] = [];

beforeAll(async () => {
  binary = await compiledKiln();
}, 120_000);

afterAll(async () => {
  for (const kiln of running) await kiln.stop("SIGKILL");
  for (const dir of dirs) dir.remove();
});

function workDir(): string {
  const dir = tempDir("kiln-binary-security-");
  dirs.push(dir);
  return dir.path;
}

async function serve(cwd: string, args: string[]): Promise<ServingKiln> {
  const kiln = await serveKiln(binary, ["--db", "kiln.db", ...args], cwd);
  running.push(kiln);
  return kiln;
}

/** Creates a task and waits until it has ended. */
async function runToEnd(kiln: ServingKiln, token: string | undefined, name: string, params: unknown) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const created = await fetch(`${kiln.url}/tasks`, {
    method: "POST",
    headers,
    body: JSON.stringify({ name, params }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as Task;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const task = (await (await fetch(`${kiln.url}/tasks/${id}`, { headers })).json()) as Task;
    if (["FINISHED", "FAILED", "STOPPED"].includes(task.status)) return task;
    if (Date.now() > deadline) throw new Error(`task ${id} still ${task.status}`);
    await Bun.sleep(50);
  }
}

describe("the compiled binary", () => {
  test("answers requests without a usable Host in JSON, never with Bun's error page", async () => {
    const kiln = await serve(workDir(), ["--token", "binary-token"]);
    const port = Number(new URL(kiln.url).port);
    const faults: string[] = [];
    for (const request of [
      "GET /nope HTTP/1.0\r\n\r\n",
      "GET /tasks HTTP/1.0\r\n\r\n",
      "GET /tasks HTTP/1.1\r\nHost: \r\n\r\n",
      "GET /nope HTTP/1.1\r\nHost: [zz\r\n\r\n",
      "GET /tasks/x HTTP/1.1\r\nHost: a b/c\r\n\r\n",
      "GET /tasks HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
      "GET\r\n\r\n",
    ]) {
      const response = await rawRequest(port, request);
      for (const fault of serverFaults(response)) faults.push(`${JSON.stringify(request)}: ${fault}`);
    }
    expect(faults).toEqual([]);
    // Bound to loopback: a request without a Host is refused by the Host check, in JSON.
    const noHost = await rawRequest(port, "GET /tasks HTTP/1.0\r\n\r\n");
    expect(noHost.status).toBe(421);
    expect(JSON.parse(noHost.body).error.code).toBe("misdirected_request");
  });

  test("without --files-root the file tasks are disabled: /etc/passwd is not copied", async () => {
    const cwd = workDir();
    const kiln = await serve(cwd, []);
    const task = await runToEnd(kiln, undefined, "copy-file", {
      source: "/etc/passwd",
      destination: join(cwd, "passwd"),
    });
    expect(task.status).toBe("FAILED");
    expect(task.error?.message).toContain("file tasks are disabled");
    expect(() => statSync(join(cwd, "passwd"))).toThrow();
  });

  test("with --files-root, secrets and kiln's own files stay out of reach; a copy inside is 0600", async () => {
    const cwd = workDir();
    const files = join(cwd, "files");
    mkdirSync(files);
    writeFileSync(join(files, "report.txt"), "quarterly numbers");
    const token = `tok-${randomBytes(8).toString("hex")}`;
    writeFileSync(join(cwd, "token"), `${token}\n`);
    chmodSync(join(cwd, "token"), 0o600);
    const key = join(cwd, "key");
    writeFileSync(key, `${randomBytes(32).toString("base64")}\n`);
    chmodSync(key, 0o600);
    // The root holds the database and the secrets too, the worst case an operator can make.
    const kiln = await serve(cwd, [
      "--files-root",
      cwd,
      "--token-file",
      join(cwd, "token"),
      "--encryption-key-file",
      key,
    ]);
    const refused: Array<[unknown, string]> = [
      [{ source: "/etc/passwd", destination: join(files, "passwd") }, "is outside the files roots"],
      [{ source: "/proc/self/environ", destination: join(files, "environ") }, "is outside the files roots"],
      [{ source: join(cwd, "key"), destination: join(files, "key") }, "is one of kiln's own files"],
      [{ source: join(cwd, "token"), destination: join(files, "token") }, "is one of kiln's own files"],
      [{ source: join(cwd, "kiln.db"), destination: join(files, "db") }, "is one of kiln's own files"],
      [
        { source: join(files, "report.txt"), destination: join(cwd, "kiln.db") },
        "is one of kiln's own files",
      ],
      [
        { source: join(files, "report.txt"), destination: join(cwd, "kiln.db-wal") },
        "is one of kiln's own files",
      ],
    ];
    for (const [params, message] of refused) {
      const task = await runToEnd(kiln, token, "copy-file", params);
      expect({ params, status: task.status, message: task.error?.message.includes(message) }).toEqual({
        params,
        status: "FAILED",
        message: true,
      });
    }
    const copied = await runToEnd(kiln, token, "copy-file", {
      source: join(files, "report.txt"),
      destination: join(files, "copy.txt"),
    });
    expect(copied.status).toBe("FINISHED");
    expect(readFileSync(join(files, "copy.txt"), "utf8")).toBe("quarterly numbers");
    expect(statSync(join(files, "copy.txt")).mode & 0o077).toBe(0);
    // The database is whole and still serves.
    const list = await fetch(`${kiln.url}/tasks?limit=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(refused.length + 1);
  });
});
