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
