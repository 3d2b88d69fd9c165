// kiln as a user installs it: `bun pm pack` in this checkout, `bun add` of the tarball in an empty
// project, then the README's library example run there as it is written, from node_modules.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import { api, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";

const ROOT = join(import.meta.dir, "../..");
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
};
const INSTALLED = (project: string) => join(project, "node_modules", PKG.name);

/** Runs a command to its end; throws with its output when it fails. */
async function run(command: string[], cwd: string): Promise<string> {
  const child = Bun.spawn(command, {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    timeout: 120_000,
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}:\n${err}${out}`);
  return out;
}

/**
 * The README's library example: each ```ts block of "Using kiln as a library" whose first line
 * is `// <path>`, by that path.
 */
function readmeExample(): Map<string, string> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.split("\n## Using kiln as a library\n")[1]?.split("\n## ")[0] ?? "";
  const files = new Map<string, string>();
  for (const [, body = ""] of section.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const path = /^\/\/ (\S+\.ts)\n/.exec(body)?.[1];
    if (path) files.set(path, body);
  }
  return files;
}

/** The task once it has ended, polled over HTTP. */
async function untilStatus(url: string, id: string): Promise<{ status: string; result: unknown }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await api<{ status: string; result: unknown }>(`${url}/tasks/${id}`);
    if (["FINISHED", "FAILED", "STOPPED"].includes(body.status) || Date.now() > deadline) return body;
    await Bun.sleep(50);
  }
}

let project: { path: string; remove: () => void };
let tarball: string;
let app: Subprocess<"ignore", "pipe", "pipe"> | undefined;

beforeAll(async () => {
  project = tempDir("kiln-package-");
  const printed = await run([process.execPath, "pm", "pack", "--destination", project.path, "--quiet"], ROOT);
  const packed = printed.trim().split("\n").at(-1);
  if (!packed?.endsWith(".tgz")) throw new Error(`bun pm pack printed no tarball: ${packed}`);
  tarball = packed;
  writeFileSync(
    join(project.path, "package.json"),
    JSON.stringify({ name: "kiln-user", private: true, type: "module" }),
  );
  const elysia = `elysia@${PKG.dependencies.elysia}`;
  await run([process.execPath, "add", tarball, elysia], project.path);
  for (const [path, source] of readmeExample()) {
    mkdirSync(dirname(join(project.path, path)), { recursive: true });
    writeFileSync(join(project.path, path), source);
  }
}, 180_000);

afterAll(async () => {
  if (app && app.exitCode === null) {
    app.kill("SIGKILL");
    await app.exited;
  }
  project?.remove();
});

describe(`${PKG.name} installed from its tarball into an empty project`, () => {
  test("the tarball holds the sources, the generated migrations and the driver patch, not the tests, benchmarks or drizzle/", async () => {
    const entries = (await run(["tar", "tzf", tarball], project.path)).trim().split("\n");
    const top = new Set(entries.map((entry) => entry.replace(/^package\//, "").split("/")[0]));
    expect([...top].sort()).toEqual(["README.md", "package.json", "patches", "src"]);
    // For a host app on PostgreSQL to apply as kiln's own install does (README, "Connections").
    expect(entries).toContain("package/patches/postgres@3.4.9.patch");
    expect(entries).toContain("package/src/store/migrations.generated.ts");
    expect(entries).toContain("package/src/dashboard/client/main.ts");
    expect(existsSync(join(INSTALLED(project.path), "src/task/index.ts"))).toBe(true);
  });

  test("the README's example runs from node_modules: a task to FINISHED, kiln's routes in an Elysia app", async () => {
    const example = readmeExample();
    expect([...example.keys()].sort()).toEqual(["app.ts", "tasks/greet.ts"]);
    app = Bun.spawn([process.execPath, "app.ts"], {
      cwd: project.path,
      env: { ...process.env, PORT: "0" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    const decoder = new TextDecoder();
    const reader = app.stdout.getReader();
    while (!/FINISHED[\s\S]*hello, kiln/.test(out)) {
      const { value, done } = await reader.read();
      if (done)
        throw new Error(
          `app.ts ended before its task finished:\n${out}\n${await new Response(app.stderr).text()}`,
        );
      out += decoder.decode(value, { stream: true });
    }
    reader.releaseLock();
    const dashboard = /dashboard at (\S+)/.exec(out)?.[1];
    if (!dashboard) throw new Error(`app.ts printed no dashboard URL:\n${out}`);
    const base = dashboard.replace(/jobs\/dashboard$/, "");

    expect(await (await fetch(base)).text()).toBe("my app");
    const list = (await (await fetch(`${base}jobs/tasks`)).json()) as {
      items: Array<{ name: string; status: string; result: unknown }>;
    };
    expect(list.items.map(({ name, status, result }) => ({ name, status, result }))).toEqual([
      { name: "greet", status: "FINISHED", result: { greeting: "hello, kiln" } },
    ]);
    const page = await (await fetch(dashboard)).text();
    const script = /src="(dashboard\/assets\/app\.js[^"]*)"/.exec(page)?.[1];
    const asset = await fetch(`${base}jobs/${script}`);
    expect(asset.status).toBe(200);
    expect((await asset.text()).length).toBeGreaterThan(1_000);
    expect(existsSync(join(project.path, "kiln.db"))).toBe(true);

    app.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  }, 60_000);

  test(`"${PKG.name}/task" imports alone, and is the one copy of the SDK the engine uses`, async () => {
    writeFileSync(
      join(project.path, "sdk-only.ts"),
      `import * as sdk from "${PKG.name}/task";
const exports = Object.keys(sdk).sort();
const engine = await import("${PKG.name}");
console.log(JSON.stringify({ exports, sameBaseTask: engine.BaseTask === sdk.BaseTask }));
`,
    );
    const printed = JSON.parse(await run([process.execPath, "sdk-only.ts"], project.path)) as {
      exports: string[];
      sameBaseTask: boolean;
    };
    expect(printed.exports).toEqual(
      expect.arrayContaining(["BaseTask", "t", "UnrecoverableError", "TaskStopped", "TASK_STATUSES"]),
    );
    expect(printed.exports).not.toContain("TaskManager");
    expect(printed.sameBaseTask).toBe(true);
  }, 30_000);

  test("the package's kiln command serves the README's task file from node_modules", async () => {
    const bin = join(project.path, "node_modules/.bin/kiln");
    expect((await run([bin, "version"], project.path)).trim()).toBe(
      `kiln ${PKG.version} (bun ${Bun.version})`,
    );
    const kiln = await serveKiln(bin, ["--db", "served.db", "--tasks-dir", "tasks"], project.path);
    try {
      const created = await api<{ id: string }>(`${kiln.url}/tasks`, {
        json: { name: "greet", params: { name: "cli" } },
      });
      expect(created.status).toBe(201);
      const task = await untilStatus(kiln.url, created.body.id);
      expect(task).toMatchObject({ status: "FINISHED", result: { greeting: "hello, cli" } });
    } finally {
      expect(await kiln.stop()).toBe(0);
    }
  }, 60_000);
});
