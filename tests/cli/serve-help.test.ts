// `kiln serve --help`, the environment variables and the README's table all follow the one
// flag table, SERVE_FLAGS in src/cli/config.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseServeConfig } from "../../src/cli/config.ts";
import { SERVE_FLAGS, type ServeFlag } from "../../src/cli/serve-flags.ts";
import { kiln, lines } from "./run.ts";

const FLAGS = Object.entries(SERVE_FLAGS) as Array<[keyof typeof SERVE_FLAGS, ServeFlag]>;
const KEY_A = Buffer.alloc(32, 1).toString("base64");
const KEY_B = Buffer.alloc(32, 2).toString("base64");

/** Files for the flags that read a secret from a file, readable by their owner only. */
const FILES = mkdtempSync(join(tmpdir(), "kiln-serve-help-"));
afterAll(() => rmSync(FILES, { recursive: true, force: true }));
function secretFile(name: string, text: string): string {
  const path = join(FILES, name);
  writeFileSync(path, `${text}\n`, { mode: 0o600 });
  return path;
}
const TOKEN_FILE = secretFile("token", "admin-token-from-file");
const READ_TOKEN_FILE = secretFile("read-token", "read-token-from-file");
const KEY_A_FILE = secretFile("key-a", KEY_A);
const KEY_B_FILE = secretFile("key-b", KEY_B);

/** A value each flag accepts that differs from its default; typed so a new flag needs one. */
const SAMPLES: Record<keyof typeof SERVE_FLAGS, string> = {
  host: "0.0.0.0",
  port: "4000",
  db: "/srv/kiln/other.db",
  concurrency: "3",
  "tasks-dir": "/srv/tasks",
  token: "admin-token",
  "read-token": "read-token",
  "cors-origin": "https://grafana.example.com",
  "max-body-bytes": "2048",
  "task-memory-limit": "64",
  "log-level": "debug",
  "log-format": "pretty",
  "encryption-key": KEY_A,
  "decryption-key": KEY_B,
  retain: "30d",
  "max-result-bytes": "2097152",
  "max-checkpoint-bytes": "4096",
  "max-log-line-bytes": "2048",
  "log-file": "/var/log/kiln/kiln.log",
  "log-file-max-bytes": "65536",
  "log-file-backups": "2",
  "log-file-mode": "watched",
  webhook: "https://hooks.example.com/kiln",
  durability: "full",
  "token-file": TOKEN_FILE,
  "read-token-file": READ_TOKEN_FILE,
  "encryption-key-file": KEY_A_FILE,
  "decryption-key-file": KEY_B_FILE,
  "allowed-hosts": "kiln.example.com",
  "files-root": FILES,
  "node-name": "node-1",
  "lease-ms": "30000",
  "heartbeat-ms": "2000",
  "rescue-ms": "2000",
  "claim-poll-ms": "500",
};

/** What a flag needs beside it to be accepted at all. */
const NEEDS: Partial<Record<keyof typeof SERVE_FLAGS, Record<string, string>>> = {
  "read-token": { [SERVE_FLAGS.token.env]: "admin-token" },
  "decryption-key": { [SERVE_FLAGS["encryption-key"].env]: KEY_A },
  "read-token-file": { [SERVE_FLAGS.token.env]: "admin-token" },
  "decryption-key-file": { [SERVE_FLAGS["encryption-key"].env]: KEY_A },
  "log-file-max-bytes": { [SERVE_FLAGS["log-file"].env]: "/var/log/kiln/kiln.log" },
  "log-file-backups": { [SERVE_FLAGS["log-file"].env]: "/var/log/kiln/kiln.log" },
  "log-file-mode": { [SERVE_FLAGS["log-file"].env]: "/var/log/kiln/kiln.log" },
  webhook: { KILN_WEBHOOK_SECRET: "a-secret-of-sixteen-chars" },
};

describe("kiln serve --help", () => {
  test("lists every flag with its environment variable and its default, and what it does below", async () => {
    const run = await kiln(["serve", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const out = lines(run.stdout);
    expect(out[0]).toBe("usage: kiln serve [flags]");
    for (const [name, flag] of FLAGS) {
      const at = out.findIndex((line) => line.startsWith(`  --${name} ${flag.value}`));
      expect(at).toBeGreaterThan(0);
      const row = out[at] as string;
      expect(row.split(/ {2,}/).filter(Boolean)).toEqual([
        `--${name} ${flag.value}${flag.multiple ? " (repeatable)" : ""}`,
        `${flag.env}${flag.multiple ? " (comma-separated)" : ""}`,
        flag.default,
      ]);
      expect(out[at + 1]).toBe(`      ${flag.help}`);
    }
    expect((await kiln(["help", "serve"])).stdout).toBe(run.stdout);
  });

  test("every environment variable in the table sets what its flag sets", () => {
    const defaults = parseServeConfig([], {}, false);
    for (const [name, flag] of FLAGS) {
      const sample = SAMPLES[name];
      const needs = NEEDS[name] ?? {};
      const fromFlag = parseServeConfig([`--${name}`, sample], needs, false);
      const fromEnv = parseServeConfig([], { ...needs, [flag.env]: sample }, false);
      expect({ name, config: fromEnv }).toEqual({ name, config: fromFlag });
      expect({ name, changed: !Bun.deepEquals(fromFlag, parseServeConfig([], needs, false)) }).toEqual({
        name,
        changed: true,
      });
    }
    expect(defaults).toMatchObject({
      host: SERVE_FLAGS.host.default,
      port: Number(SERVE_FLAGS.port.default),
      db: SERVE_FLAGS.db.default,
      logLevel: SERVE_FLAGS["log-level"].default,
      maxBodyBytes: Number(SERVE_FLAGS["max-body-bytes"].default),
    });
  });

  test("the README's table of serve flags names each flag with its environment variable", async () => {
    const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();
    for (const [name, flag] of FLAGS) {
      const row = readme.split("\n").find((line) => line.startsWith(`| \`--${name}\``));
      expect({ name, row }).toEqual({ name, row: expect.stringContaining(`\`${flag.env}\``) });
    }
  });
});
