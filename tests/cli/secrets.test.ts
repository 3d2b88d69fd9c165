import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, keyConfig, parseServeConfig, type ServeConfig } from "../../src/cli/config.ts";
import { KILN_FROM_SOURCE, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";
import { kiln, lines } from "./run.ts";

const dir = tempDir("kiln-secrets-");
afterAll(() => dir.remove());

const parse = (args: string[], env: Record<string, string> = {}): ServeConfig =>
  parseServeConfig(args, env, false);

/** The ConfigError's message; fails the test when the call does not throw one. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { message } = error as Error;
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error("expected a ConfigError");
}

let files = 0;
/** A file holding `text`, mode 0600 unless told otherwise. */
function secretFile(text: string, mode = 0o600): string {
  const path = join(dir.path, `secret-${++files}`);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

describe("an empty or blank token is a configuration error, never 'no auth'", () => {
  test("--token, KILN_TOKEN, read tokens and keys: empty or blank values are refused in one line", () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [["--token", ""], {}, "--token is empty (an unset shell variable?): give it a value, or leave it out"],
      [
        ["--token", "   "],
        {},
        "--token is empty (an unset shell variable?): give it a value, or leave it out",
      ],
      [[], { KILN_TOKEN: "" }, "KILN_TOKEN is set but empty: give it a value, or unset it"],
      [[], { KILN_TOKEN: " \t" }, "KILN_TOKEN is set but empty: give it a value, or unset it"],
      [
        ["--token", "adm", "--read-token", "r1", "--read-token", ""],
        {},
        "read token read-2 (--read-token) is empty (an unset shell variable?): give it a value, or leave it out",
      ],
      [
        [],
        { KILN_TOKEN: "adm", KILN_READ_TOKENS: "" },
        "KILN_READ_TOKENS is set but empty: give it a value, or unset it",
      ],
      [
        [],
        { KILN_TOKEN: "adm", KILN_READ_TOKENS: " , " },
        "KILN_READ_TOKENS is set but empty: give it a value, or unset it",
      ],
      [[], { KILN_ENCRYPTION_KEY: "" }, "KILN_ENCRYPTION_KEY is set but empty: give it a value, or unset it"],
      [
        ["--encryption-key", ""],
        {},
        "--encryption-key is empty (an unset shell variable?): give it a value, or leave it out",
      ],
    ];
    for (const [args, env, expected] of cases) {
      expect({ args, env, message: refusal(() => parse(args, env)) }).toEqual({
        args,
        env,
        message: expected,
      });
    }
    // Unset is still "no token".
    expect(parse([]).token).toBeUndefined();
  });

  test("kiln serve --token '' exits 2 with one line instead of serving without auth", async () => {
    const run = await kiln(["serve", "--port", "0", "--db", join(dir.path, "empty.db"), "--token", ""]);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      "kiln: --token is empty (an unset shell variable?): give it a value, or leave it out",
    ]);
    expect(run.stdout).not.toContain("kiln serving");
    const fromEnv = await kiln(["serve", "--port", "0", "--db", join(dir.path, "empty.db")], {
      KILN_TOKEN: "",
    });
    expect(fromEnv.code).toBe(2);
    expect(lines(fromEnv.stderr)).toEqual([
      "kiln: KILN_TOKEN is set but empty: give it a value, or unset it",
    ]);
  });
});

describe("tokens and keys from files", () => {
  test("--token-file, --read-token-file and the _FILE variables; one trailing newline is dropped", () => {
    const admin = secretFile("admin-from-file\n");
    const readOne = secretFile("read-one\r\n");
    const readTwo = secretFile("read-two");
    const config = parse(["--token-file", admin, "--read-token-file", readOne, "--read-token-file", readTwo]);
    expect(config.token).toBe("admin-from-file");
    expect(config.readTokens).toEqual(["read-one", "read-two"]);
    expect(config.secretFiles.paths).toEqual([admin, readOne, readTwo]);
    expect(config.secretFiles.warnings).toEqual([]);

    const fromEnv = parse([], { KILN_TOKEN_FILE: admin, KILN_READ_TOKEN_FILES: `${readOne}, ${readTwo}` });
    expect(fromEnv.token).toBe("admin-from-file");
    expect(fromEnv.readTokens).toEqual(["read-one", "read-two"]);
    // Flags win over the variables, as everywhere.
    expect(parse(["--token", "flag"], { KILN_TOKEN_FILE: admin }).token).toBe("flag");
    expect(parse(["--token-file", admin], { KILN_TOKEN: "env" }).token).toBe("admin-from-file");
  });

  test("key files: --encryption-key-file, --decryption-key-file and their variables", () => {
    const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const current = secretFile(`${a.toString("base64")}\n`);
    const older = [secretFile(b.toString("hex")), secretFile(`${c.toString("base64")}\n`)];
    const config = parse([
      "--encryption-key-file",
      current,
      "--decryption-key-file",
      older[0] as string,
      "--decryption-key-file",
      older[1] as string,
    ]);
    expect(Buffer.from(config.encryptionKey ?? []).equals(a)).toBe(true);
    expect(config.decryptionKeys.map((key) => Buffer.from(key).toString("hex"))).toEqual([
      b.toString("hex"),
      c.toString("hex"),
    ]);
    const fromEnv = keyConfig(
      {},
      { KILN_ENCRYPTION_KEY_FILE: current, KILN_DECRYPTION_KEY_FILES: older.join(",") },
    );
    expect(Buffer.from(fromEnv.encryptionKey ?? []).equals(a)).toBe(true);
    expect(fromEnv.decryptionKeys).toHaveLength(2);
    // A bad key in a file is named by the flag, never shown.
    const bad = secretFile("hunter2-password\n");
    const message = refusal(() => parse(["--encryption-key-file", bad]));
    expect(message).toStartWith("--encryption-key-file: the key must be 32 random bytes");
    expect(message).not.toContain("hunter2");
  });

  test("a value and its file together, a missing, empty, odd or world-writable file: one line each", () => {
    const token = secretFile("tok\n");
    const key = secretFile(randomBytes(32).toString("hex"));
    const cases: Array<[string[], Record<string, string>, string]> = [
      [
        ["--token", "x", "--token-file", token],
        {},
        "--token and --token-file are both given: give only one of them",
      ],
      [
        [],
        { KILN_TOKEN: "x", KILN_TOKEN_FILE: token },
        "KILN_TOKEN and KILN_TOKEN_FILE are both given: give only one of them",
      ],
      [
        ["--token", "adm", "--read-token", "r", "--read-token-file", token],
        {},
        "--read-token and --read-token-file are both given: give only one of them",
      ],
      [
        ["--encryption-key", "x", "--encryption-key-file", key],
        {},
        "--encryption-key and --encryption-key-file are both given: give only one of them",
      ],
      [
        [],
        { KILN_DECRYPTION_KEYS: "x", KILN_DECRYPTION_KEY_FILES: key },
        "KILN_DECRYPTION_KEYS and KILN_DECRYPTION_KEY_FILES are both given: give only one of them",
      ],
      [["--token-file", join(dir.path, "nope")], {}, `--token-file ${join(dir.path, "nope")} does not exist`],
      [["--token-file", dir.path], {}, `--token-file ${dir.path} is not a regular file`],
      [["--token-file", ""], {}, "--token-file is empty: give the path of the file that holds the secret"],
      [["--token-file", secretFile("\n")], {}, `--token-file ${join(dir.path, `secret-${files}`)} is empty`],
      [
        ["--token-file", secretFile("two words\n")],
        {},
        "the token in --token-file must be printable ASCII without spaces (one trailing newline is ignored)",
      ],
      [
        ["--token-file", secretFile("tok", 0o666)],
        {},
        `--token-file ${join(dir.path, `secret-${files}`)} may be written by every user of this machine: chmod 600 it`,
      ],
    ];
    for (const [args, env, expected] of cases) {
      expect({ args, env, message: refusal(() => parse(args, env)) }).toEqual({
        args,
        env,
        message: expected,
      });
    }
  });

  test("a file every user may read is used, with a warning", () => {
    const open = secretFile("tok\n", 0o644);
    const config = parse(["--token-file", open]);
    expect(config.token).toBe("tok");
    expect(config.secretFiles.warnings).toEqual([
      `--token-file ${open} may be read by every user of this machine: chmod 600 it`,
    ]);
  });

  test("kiln serve --token-file: the token guards the API and is not on the command line", async () => {
    const token = `file-token-${randomBytes(8).toString("hex")}`;
    const path = secretFile(`${token}\n`);
    const served = await serveKiln(KILN_FROM_SOURCE, ["--db", "files.db", "--token-file", path], dir.path);
    try {
      expect((await fetch(`${served.url}/tasks`)).status).toBe(401);
      const ok = await fetch(`${served.url}/tasks`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      const cmdline = readFileSync(`/proc/${served.proc.pid}/cmdline`, "utf8");
      expect(cmdline).toContain("--token-file");
      expect(cmdline).not.toContain(token);
      // The client reads it from a file too.
      const listed = await kiln(["ls", "--url", served.url, "--token-file", path]);
      expect(listed.code).toBe(0);
      const refused = await kiln(["ls", "--url", served.url]);
      expect(refused.code).toBe(1);
    } finally {
      await served.stop();
    }
  });
});
