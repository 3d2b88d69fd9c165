import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { runKiln, serveKiln } from "./kiln-process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

interface Stage {
  from: string;
  instructions: Array<{ op: string; args: string }>;
}

/** The Dockerfile's stages, with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  for (const line of logical) {
    const [, op = "", args = ""] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === "FROM") stages.push({ from: args, instructions: [] });
    else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const [build, runtime] = stages;
const all = (stage: Stage | undefined, op: string) =>
  stage?.instructions.filter((instruction) => instruction.op === op).map((instruction) => instruction.args) ??
  [];
const execForm = (args: string) => JSON.parse(args) as string[];

const dirs: Array<{ remove: () => void }> = [];
afterAll(() => {
  for (const dir of dirs) dir.remove();
});

describe("Dockerfile", () => {
  test("has a build stage and a slim runtime stage that ships only the executable", () => {
    expect(stages).toHaveLength(2);
    expect(build?.from).toMatch(/^oven\/bun:1\.4\.5 AS build$/);
    expect(runtime?.from).toMatch(/slim/);
    expect(all(runtime, "COPY")).toEqual(["--from=build /src/dist/kiln /usr/local/bin/kiln"]);
  });

  test("runs as a non-root user, keeps the database on /data, exposes 3000 and checks /health", () => {
    const user = all(runtime, "USER");
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)$/);
    expect(all(runtime, "VOLUME")).toEqual(['["/data"]']);
    expect(all(runtime, "EXPOSE")).toEqual(["3000"]);
    const cmd = execForm(all(runtime, "CMD")[0] ?? "[]");
    expect(cmd.slice(0, 6)).toEqual(["kiln", "serve", "--host", "0.0.0.0", "--db", "/data/kiln.db"]);
    expect(all(runtime, "HEALTHCHECK")[0]).toContain('CMD ["kiln", "health"');
  });

  test("its build steps, run as written in a copy of what it copies, make a working executable", async () => {
    const dir = tempDir("kiln-docker-");
    dirs.push(dir);
    const workdir = join(dir.path, "src-root");
    mkdirSync(workdir);
    for (const instruction of build?.instructions ?? []) {
      if (instruction.op === "COPY") {
        const parts = instruction.args.split(/\s+/);
        const destination = parts.pop() ?? ".";
        for (const source of parts) {
          const target = destination.endsWith("/")
            ? join(workdir, destination, source)
            : join(workdir, destination);
          cpSync(join(ROOT, source), target, { recursive: true });
        }
      } else if (instruction.op === "RUN") {
        const proc = Bun.spawn(["sh", "-c", instruction.args], {
          cwd: workdir,
          stdout: "pipe",
          stderr: "pipe",
        });
        const code = await proc.exited;
        if (code !== 0)
          throw new Error(`RUN ${instruction.args} failed: ${await new Response(proc.stderr).text()}`);
      }
    }
    const binary = join(workdir, "dist", "kiln");
    expect(existsSync(binary)).toBe(true);

    // The image's CMD and HEALTHCHECK, with the paths of this machine instead of the image's.
    const data = join(dir.path, "data");
    const tasks = join(dir.path, "tasks");
    mkdirSync(data);
    mkdirSync(tasks);
    const cmd = execForm(all(runtime, "CMD")[0] ?? "[]")
      .slice(2)
      .map((arg) => arg.replace("/data", data).replace("/tasks", tasks))
      .map((arg) => (arg === "0.0.0.0" ? "127.0.0.1" : arg));
    const kiln = await serveKiln(binary, cmd, dir.path);
    try {
      const healthArgs = execForm(/CMD (\[.*\])$/.exec(all(runtime, "HEALTHCHECK")[0] ?? "")?.[1] ?? "[]")
        .slice(1)
        .map((arg) => (arg.startsWith("http://") ? kiln.url : arg));
      const healthy = await runKiln(binary, healthArgs, dir.path);
      expect(healthy.code).toBe(0);
    } finally {
      await kiln.stop();
    }
    const down = await runKiln(binary, ["health", "--url", kiln.url], dir.path);
    expect(down.code).toBe(1);
    expect(existsSync(join(data, "kiln.db"))).toBe(true);
  }, 180_000);
});
