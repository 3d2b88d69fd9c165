// docker-compose.yml and deploy/nginx.conf without Docker: the compose file's shape (each kiln
// node's command parsed by kiln's own flag parser), then nginx itself, checked with `nginx -t`
// and run in front of three real kiln servers on 127.0.0.1: requests spread over the nodes,
// and GET /events streams through it unbuffered.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/config.ts";
import type { NodeListJson } from "../../src/http/index.ts";
import { tempDir } from "../helpers.ts";
import { startServer, type TestServer } from "../http/server.ts";
import { SseReader } from "../http/sse.ts";

const ROOT = join(import.meta.dir, "../..");
const NODES = ["kiln-1", "kiln-2", "kiln-3"] as const;
const DB_URL = "postgres://postgres:postgres@db:5432/kiln";

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
  volumes?: string[];
}

const compose = Bun.YAML.parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as {
  services: Record<string, Service>;
};
const NGINX_CONF = readFileSync(join(ROOT, "deploy/nginx.conf"), "utf8");

describe("docker-compose.yml", () => {
  test("PostgreSQL 17 with a healthcheck, three kiln nodes and one proxy", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["db", ...NODES, "proxy"].sort());
    const db = compose.services.db;
    expect(db?.image).toBe("postgres:17");
    expect(db?.healthcheck?.test.join(" ")).toContain("pg_isready");
  });

  test("each node is built from the Dockerfile and runs kiln serve on the database with its own name", () => {
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    // The image's executable is `kiln` on PATH: the command names it as the Dockerfile's CMD does.
    expect(dockerfile).toContain("/usr/local/bin/kiln");
    for (const [index, name] of NODES.entries()) {
      const service = compose.services[name] as Service;
      expect({ name, build: service.build }).toEqual({ name, build: "." });
      expect(service.depends_on?.db?.condition).toBe("service_healthy");
      const [program, command, ...flags] = service.command ?? [];
      expect([program, command]).toEqual(["kiln", "serve"]);
      // kiln's own parser: a flag it did not know, or a bad value, fails here as at start-up.
      const config = parseServeConfig(flags, {}, false);
      expect(config).toMatchObject({ db: DB_URL, nodeName: `node-${index + 1}`, host: "0.0.0.0" });
    }
  });

  test("the proxy publishes port 3000, mounts deploy/nginx.conf and waits for healthy nodes", () => {
    const proxy = compose.services.proxy as Service;
    expect(proxy.ports).toEqual(["3000:3000"]);
    expect(proxy.volumes).toContain("./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro");
    for (const name of NODES) expect(proxy.depends_on?.[name]?.condition).toBe("service_healthy");
    for (const name of NODES) expect(NGINX_CONF).toContain(`server ${name}:3000`);
  });
});

// ── nginx itself ────────────────────────────────────────────────────────────────────────────

const NGINX = Bun.which("nginx") ?? Bun.which("nginx", { PATH: "/usr/sbin:/usr/local/sbin" });
const NGINX_HINT =
  'no "nginx" on PATH: install it ("apt-get install -y nginx-light" on Debian) to check deploy/nginx.conf';

/** A port nothing listens on now. */
function freePort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port;
  server.stop(true);
  if (!port) throw new Error("no free port");
  return port;
}

/**
 * deploy/nginx.conf inside a minimal main configuration, with the compose host names replaced by
 * the test's servers and its port by a free one: everything else is the file as shipped.
 */
function nginxConfig(dir: string, listen: number, upstreams: string[]): string {
  let site = NGINX_CONF.replace(/listen 3000;/, `listen 127.0.0.1:${listen};`);
  for (const [index, name] of NODES.entries())
    site = site.replace(`${name}:3000`, upstreams[index] as string);
  writeFileSync(join(dir, "kiln.conf"), site);
  const temp = join(dir, "temp");
  mkdirSync(temp, { recursive: true, mode: 0o777 });
  const path = join(dir, "nginx.conf");
  writeFileSync(
    path,
    [
      "worker_processes 1;",
      `pid ${join(dir, "nginx.pid")};`,
      `error_log ${join(dir, "error.log")} warn;`,
      "events { worker_connections 64; }",
      "http {",
      "  access_log off;",
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
        (kind) => `  ${kind}_temp_path ${join(temp, kind)};`,
      ),
      `  include ${join(dir, "kiln.conf")};`,
      "}",
    ].join("\n"),
  );
  return path;
}

describe("deploy/nginx.conf", () => {
  test("nginx is installed to check it", () => {
    // Never a silent skip: without nginx this test fails and says how to get it.
    if (NGINX === null) throw new Error(NGINX_HINT);
  });

  test("streams are unbuffered with a long read timeout; other requests go to the same nodes", () => {
    const events = /location = \/events \{([^}]*)\}/.exec(NGINX_CONF)?.[1] ?? "";
    expect(events).toContain("proxy_buffering off;");
    expect(events).toContain("proxy_pass http://kiln_nodes;");
    const timeout = /proxy_read_timeout (\d+)([smh]);/.exec(events);
    const seconds = Number(timeout?.[1]) * ({ s: 1, m: 60, h: 3_600 }[timeout?.[2] as "s" | "m" | "h"] ?? 0);
    // kiln writes a heartbeat comment every 15 s: the timeout must be far beyond that.
    expect(seconds).toBeGreaterThanOrEqual(600);
  });

  describe.skipIf(NGINX === null)("run in front of three kiln servers", () => {
    const dir = tempDir("kiln-nginx-");
    const servers: TestServer[] = [];
    let proxy: ReturnType<typeof Bun.spawn> | undefined;
    let base = "";

    beforeAll(async () => {
      for (const name of ["node-1", "node-2", "node-3"]) servers.push(await startServer({ nodeName: name }));
      const port = freePort();
      const config = nginxConfig(
        dir.path,
        port,
        servers.map((server) => new URL(server.base).host),
      );
      const check = Bun.spawnSync([NGINX as string, "-t", "-e", "stderr", "-c", config]);
      if (check.exitCode !== 0) throw new Error(`nginx -t failed: ${check.stderr.toString()}`);
      proxy = Bun.spawn([NGINX as string, "-e", "stderr", "-c", config, "-g", "daemon off;"], {
        stdout: "ignore",
        stderr: "pipe",
      });
      base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          if ((await fetch(`${base}/health`)).ok) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error("nginx did not answer within 10 s");
        await Bun.sleep(50);
      }
    }, 30_000);

    afterAll(async () => {
      proxy?.kill();
      await proxy?.exited;
      await Promise.all(servers.map((server) => server.stop()));
      dir.remove();
    });

    test("requests are spread over the three nodes", async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 9; i++) {
        const response = await fetch(`${base}/nodes`);
        expect(response.status).toBe(200);
        seen.add(((await response.json()) as NodeListJson).items[0]?.name ?? "");
      }
      expect([...seen].sort()).toEqual(["node-1", "node-2", "node-3"]);
    });

    test("GET /events streams through it: an event arrives while the response is still open", async () => {
      const response = await fetch(`${base}/events`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      const reader = new SseReader(response.body as ReadableStream<Uint8Array>);
      try {
        // Whichever node the stream reached, it sees its own task start.
        for (const server of servers) await server.manager.create("echo", { value: "through nginx" });
        const messages = await reader.collect((message) => message.event === "transition", 10_000);
        expect(messages.at(-1)?.event).toBe("transition");
      } finally {
        await reader.cancel();
      }
    });
  });
});
