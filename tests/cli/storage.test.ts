import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ConfigError, parseServeConfig } from "../../src/cli/config.ts";
import { SqliteSyncStore, silentLogger, TaskManager } from "../../src/index.ts";
import { keyId } from "../../src/store/index.ts";
import { tempDir } from "../helpers.ts";
import { kiln, lines } from "./run.ts";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function dbPath(): string {
  const dir = tempDir("kiln-cli-storage-");
  cleanups.push(dir.remove);
  return join(dir.path, "kiln.db");
}

/** A database with one task whose params are encrypted with `key`. */
function encryptedDb(key: Uint8Array): { path: string; id: string } {
  const path = dbPath();
  const store = new SqliteSyncStore({ path, encryptionKey: key });
  store.migrate();
  const id = Bun.randomUUIDv7();
  store.createTask(
    {
      id,
      taskName: "echo",
      status: "PAUSED",
      params: { value: "secret" },
      priority: 0,
      runAt: null,
      idempotencyKey: null,
      tags: null,
    },
    { fromStatus: null, toStatus: "PAUSED", action: "create", reason: null, actor: null, source: null },
  );
  store.close();
  return { path, id };
}

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("no ConfigError");
}

describe("serve configuration", () => {
  test("--retain / KILN_RETAIN take s, m, h or d; anything else is refused in one line", () => {
    expect(parseServeConfig(["--retain", "30d"], {}).retainMs).toBe(30 * 86_400_000);
    expect(parseServeConfig([], { KILN_RETAIN: "12h" }).retainMs).toBe(12 * 3_600_000);
    expect(parseServeConfig(["--retain", "15m"], { KILN_RETAIN: "1d" }).retainMs).toBe(15 * 60_000);
    expect(parseServeConfig(["--retain", "90s"], {}).retainMs).toBe(90_000);
    expect(parseServeConfig([], {}).retainMs).toBeUndefined();
    for (const bad of ["5x", "0s", "-1d", "1.5h", "30", "d"]) {
      expect(configError(() => parseServeConfig([`--retain=${bad}`], {}))).toBe(
        `--retain must be a positive whole number of s, m, h or d (like 30d or 12h), got "${bad}"`,
      );
    }
  });

  test("keys: hex or base64 from flags or environment; a bad one is named, never echoed", () => {
    const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const fromFlags = parseServeConfig(
      [
        "--encryption-key",
        a.toString("hex"),
        "--decryption-key",
        b.toString("base64"),
        "--decryption-key",
        c.toString("hex"),
      ],
      {},
    );
    expect(Buffer.from(fromFlags.encryptionKey ?? []).equals(a)).toBe(true);
    expect(fromFlags.decryptionKeys.map((key) => Buffer.from(key).toString("hex"))).toEqual([
      b.toString("hex"),
      c.toString("hex"),
    ]);
    const fromEnv = parseServeConfig([], {
      KILN_ENCRYPTION_KEY: a.toString("base64"),
      KILN_DECRYPTION_KEYS: `${b.toString("base64")},${c.toString("base64")}`,
    });
    expect(fromEnv.decryptionKeys).toHaveLength(2);
    expect(parseServeConfig([], {}).encryptionKey).toBeUndefined();

    const message = configError(() => parseServeConfig([], { KILN_ENCRYPTION_KEY: "hunter2-password" }));
    expect(message).toStartWith("KILN_ENCRYPTION_KEY: the key must be 32 random bytes");
    expect(message).not.toContain("hunter2");
    expect(
      configError(() =>
        parseServeConfig(["--encryption-key", a.toString("hex"), "--decryption-key", "short"], {}),
      ),
    ).toStartWith("--decryption-key: the key must be 32 random bytes");
    expect(configError(() => parseServeConfig([], { KILN_DECRYPTION_KEYS: a.toString("hex") }))).toBe(
      "decryption keys need an encryption key too: set --encryption-key or KILN_ENCRYPTION_KEY",
    );
  });
});

describe("kiln serve and kiln rekey", () => {
  test("serve with a malformed key exits 2 with one line", async () => {
    const run = await kiln(["serve", "--db", dbPath(), "--port", "0", "--encryption-key", "abc"]);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      "kiln: --encryption-key: the key must be 32 random bytes written as base64 (44 characters) or hex (64 characters); got 3 characters (make one with: openssl rand -base64 32)",
    ]);
  });

  test("serve refuses an encrypted database without its key, in one line", async () => {
    const key = randomBytes(32);
    const { path, id } = encryptedDb(key);
    const noKey = await kiln(["serve", "--db", path, "--port", "0", "--log-format", "json"]);
    expect(noKey.code).toBe(1);
    expect(lines(noKey.stderr)).toEqual([
      `kiln: cannot start: tasks.params of task ${id} is encrypted with key ${keyId(key)}, but no encryption key is configured; start kiln with --encryption-key or KILN_ENCRYPTION_KEY`,
    ]);
    const other = randomBytes(32);
    const wrongKey = await kiln(["serve", "--db", path, "--port", "0", "--log-format", "json"], {
      KILN_ENCRYPTION_KEY: other.toString("base64"),
    });
    expect(wrongKey.code).toBe(1);
    expect(lines(wrongKey.stderr)).toEqual([
      `kiln: cannot start: tasks.params of task ${id} is encrypted with key ${keyId(key)}, which is not configured (configured: ${keyId(other)}); give it with --decryption-key or KILN_DECRYPTION_KEYS`,
    ]);
  });

  test("rekey rewrites under the new key, and says what is missing when it cannot", async () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const { path } = encryptedDb(oldKey);
    const withSchedule = new SqliteSyncStore({ path, encryptionKey: oldKey });
    withSchedule.schedules.createSchedule({
      id: "nightly",
      taskName: "echo",
      cron: "0 3 * * *",
      everyMs: null,
      timezone: "UTC",
      params: { value: "secret" },
      priority: 0,
      tags: null,
      misfire: "skip",
      backfillMs: null,
      overlap: "allow",
      paused: false,
      source: "api",
      nextRunAt: null,
      createdAt: Date.now(),
    });
    withSchedule.close();
    const missingOld = await kiln(["rekey", "--db", path, "--encryption-key", newKey.toString("hex")]);
    expect(missingOld.code).toBe(1);
    expect(lines(missingOld.stderr)).toHaveLength(1);
    expect(missingOld.stderr).toContain(`rekey stopped after 0 tasks: tasks.params of task`);
    expect(missingOld.stderr).toContain(`is encrypted with key ${keyId(oldKey)}, which is not configured`);

    const done = await kiln(["rekey", "--db", path], {
      KILN_ENCRYPTION_KEY: newKey.toString("base64"),
      KILN_DECRYPTION_KEYS: oldKey.toString("base64"),
    });
    expect(done.code).toBe(0);
    expect(done.stdout.trim()).toBe(
      `kiln: ${path}: 1 of 1 tasks and 1 of 1 schedules rewritten under key ${keyId(newKey)} (1 batches)`,
    );
    const store = new SqliteSyncStore({ path, encryptionKey: newKey });
    try {
      store.verifyReadable();
      expect(store.schedules.getSchedule("nightly")?.params).toEqual({ value: "secret" });
    } finally {
      store.close();
    }

    const noKey = await kiln(["rekey", "--db", path]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr.trim()).toBe(
      "kiln: rekey needs the key to encrypt with: set --encryption-key or KILN_ENCRYPTION_KEY",
    );
  });

  test("rekey refuses while a server owns the database", async () => {
    const path = dbPath();
    const manager = new TaskManager({ db: path, logger: silentLogger, concurrency: 1 });
    cleanups.push(() => manager.shutdown());
    await manager.start();
    const run = await kiln(["rekey", "--db", path, "--encryption-key", randomBytes(32).toString("hex")]);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([
      `kiln: database ${path} is in use by another kiln process: one kiln owns a database file at a time (stop the other one, or give this one its own --db)`,
    ]);
  });

  test("help lists rekey and explains its flags", async () => {
    const help = await kiln(["help"]);
    expect(help.stdout).toContain("rekey");
    const rekeyHelp = await kiln(["rekey", "--help"]);
    expect(rekeyHelp.code).toBe(0);
    expect(rekeyHelp.stdout).toContain("--decryption-key K");
    const serveHelp = await kiln(["help", "serve"]);
    for (const flag of ["--encryption-key K", "--decryption-key K (repeatable)", "--retain AGE"]) {
      expect(serveHelp.stdout).toContain(`  ${flag}  `);
    }
  });
});
