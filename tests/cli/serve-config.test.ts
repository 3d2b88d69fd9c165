import { describe, expect, test } from "bun:test";
import { ConfigError, parseServeConfig, type ServeConfig } from "../../src/cli/config.ts";

const parse = (args: string[], env: Record<string, string> = {}): ServeConfig =>
  parseServeConfig(args, env, false);

/** The ConfigError's message; fails the test when the call does not throw one. */
function refusal(args: string[], env: Record<string, string> = {}): string {
  try {
    parse(args, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { message } = error as Error;
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(args)} ${JSON.stringify(env)}`);
}

describe("read tokens", () => {
  test("--read-token repeats, in order; tokens holding '=' or ',' stay whole", () => {
    const config = parse(["--token", "adm", "--read-token", "grafana=abc==", "--read-token", "b,c"]);
    expect(config.token).toBe("adm");
    expect(config.readTokens).toEqual(["grafana=abc==", "b,c"]);
  });

  test("KILN_READ_TOKENS is comma-separated, blanks dropped; flags win over it", () => {
    expect(parse([], { KILN_TOKEN: "adm", KILN_READ_TOKENS: " r1, r2 ,," }).readTokens).toEqual(["r1", "r2"]);
    expect(
      parse(["--read-token", "flag"], { KILN_TOKEN: "adm", KILN_READ_TOKENS: "env1,env2" }).readTokens,
    ).toEqual(["flag"]);
    expect(parse([], {}).readTokens).toEqual([]);
  });

  test("mistakes are one line naming the label, never the token", () => {
    const secret = "s3cret-read";
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [["--read-token", secret], {}, /need an admin token as well/],
      [[], { KILN_READ_TOKENS: secret }, /need an admin token as well/],
      [
        ["--token", secret, "--read-token", "x", "--read-token", secret],
        {},
        /read-2 repeats an earlier token/,
      ],
      [["--token", "adm", "--read-token", `${secret} x`], {}, /read-1 must be printable ASCII/],
      [["--token", `${secret}\u00e9`], {}, /--token must be printable ASCII/],
      [[secret], {}, /unexpected argument/],
      [["--token", `-${secret}`], {}, /argument is ambiguous/],
    ];
    for (const [args, env, expected] of cases) {
      const message = refusal(args, env);
      expect(message).toMatch(expected);
      expect(message).not.toContain(secret);
    }
  });
});

describe("CORS origins", () => {
  test("off by default; --cors-origin repeats; KILN_CORS_ORIGINS is comma-separated; flags win", () => {
    expect(parse([]).corsOrigins).toEqual([]);
    expect(
      parse(["--cors-origin", "https://a.example", "--cors-origin", "http://localhost:5173"]).corsOrigins,
    ).toEqual(["https://a.example", "http://localhost:5173"]);
    expect(parse([], { KILN_CORS_ORIGINS: "https://a.example, https://b.example:8443" }).corsOrigins).toEqual(
      ["https://a.example", "https://b.example:8443"],
    );
    expect(
      parse(["--cors-origin", "https://flag.example"], { KILN_CORS_ORIGINS: "https://env.example" })
        .corsOrigins,
    ).toEqual(["https://flag.example"]);
  });

  test("an origin that is not exactly scheme://host[:port] stops start-up with one clear line", () => {
    expect(refusal(["--cors-origin", "*"])).toBe(
      '--cors-origin: CORS origin "*" is not a URL; write it as https://host[:port]',
    );
    expect(refusal(["--cors-origin", "https://a.example/"])).toContain('did you mean "https://a.example"?');
    expect(refusal([], { KILN_CORS_ORIGINS: "https://ok.example,file:///etc" })).toContain(
      "must start with http:// or https://",
    );
  });
});

describe("webhooks", () => {
  const secret = "0123456789abcdef0123";
  test("--webhook repeats; KILN_WEBHOOK is comma-separated; flags win; the secret comes from KILN_WEBHOOK_SECRET", () => {
    expect(parse([]).webhooks).toEqual([]);
    const flags = parse(["--webhook", "https://a.example/hook", "--webhook", "http://127.0.0.1:9000/x"], {
      KILN_WEBHOOK_SECRET: secret,
      KILN_WEBHOOK: "https://env.example/hook",
    });
    expect(flags.webhooks).toEqual(["https://a.example/hook", "http://127.0.0.1:9000/x"]);
    expect(flags.webhookSecret).toBe(secret);
    expect(
      parse([], { KILN_WEBHOOK_SECRET: secret, KILN_WEBHOOK: "https://a.example/1, https://b.example/2" })
        .webhooks,
    ).toEqual(["https://a.example/1", "https://b.example/2"]);
  });

  test("webhooks without a secret, with a short one, or to a URL that is not http(s) stop start-up", () => {
    expect(refusal(["--webhook", "https://a.example/hook"])).toBe(
      "--webhook: webhooks need a signing secret of at least 16 characters (KILN_WEBHOOK_SECRET; make one with openssl rand -hex 32)",
    );
    expect(refusal([], { KILN_WEBHOOK: "https://a.example/hook", KILN_WEBHOOK_SECRET: "short" })).toContain(
      "at least 16 characters",
    );
    expect(refusal(["--webhook", "ftp://a.example/x"], { KILN_WEBHOOK_SECRET: secret })).toBe(
      "--webhook: a webhook URL must start with http:// or https://, not ftp:",
    );
    expect(refusal(["--webhook", "not a url"], { KILN_WEBHOOK_SECRET: secret })).toContain("is not a URL");
  });
});

describe("log file", () => {
  test("off by default; --log-file or KILN_LOG_FILE with rotation defaults of 10 MiB and 5 files", () => {
    expect(parse([]).logFile).toBeUndefined();
    expect(parse(["--log-file", "/var/log/kiln.log"]).logFile).toEqual({
      path: "/var/log/kiln.log",
      mode: "rotate",
      maxBytes: 10 * 1024 * 1024,
      backups: 5,
    });
    expect(
      parse([], {
        KILN_LOG_FILE: "/l/k.log",
        KILN_LOG_FILE_MODE: "watched",
        KILN_LOG_FILE_MAX_BYTES: "65536",
        KILN_LOG_FILE_BACKUPS: "0",
      }).logFile,
    ).toEqual({ path: "/l/k.log", mode: "watched", maxBytes: 65_536, backups: 0 });
    expect(
      parse(["--log-file", "/l/k.log", "--log-file-max-bytes", "4096", "--log-file-backups", "2"]).logFile,
    ).toMatchObject({ maxBytes: 4_096, backups: 2 });
  });

  test("mistakes are one line: a bad mode, size or count, or a companion flag without --log-file", () => {
    expect(refusal(["--log-file", "k.log", "--log-file-mode", "daily"])).toBe(
      '--log-file-mode must be one of rotate, watched, got "daily"',
    );
    expect(refusal(["--log-file", "k.log", "--log-file-max-bytes", "10"])).toContain(
      "--log-file-max-bytes must be an integer from 4096",
    );
    expect(refusal(["--log-file", "k.log", "--log-file-backups", "-1"])).toContain("--log-file-backups");
    expect(refusal(["--log-file-backups", "3"])).toBe(
      "--log-file-backups needs --log-file (or KILN_LOG_FILE)",
    );
  });
});

describe("durability", () => {
  test("normal by default; --durability or KILN_DURABILITY sets it; the flag wins", () => {
    expect(parse([]).durability).toBe("normal");
    expect(parse(["--durability", "full"]).durability).toBe("full");
    expect(parse([], { KILN_DURABILITY: "full" }).durability).toBe("full");
    expect(parse(["--durability=normal"], { KILN_DURABILITY: "full" }).durability).toBe("normal");
  });

  test("anything else stops start-up with one line naming the choices", () => {
    expect(refusal(["--durability", "fsync"])).toBe('--durability must be one of normal, full, got "fsync"');
    expect(refusal([], { KILN_DURABILITY: "FULL" })).toBe(
      '--durability must be one of normal, full, got "FULL"',
    );
  });
});
