import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, parseServeConfig, type ServeConfig } from "../../src/cli/config.ts";
import { KILN_FROM_SOURCE, serveKiln } from "../binary/kiln-process.ts";
import { tempDir } from "../helpers.ts";

const dir = tempDir("kiln-access-config-");
afterAll(() => dir.remove());

const parse = (args: string[], env: Record<string, string> = {}): ServeConfig =>
  parseServeConfig(args, env, false);

function refusal(args: string[], env: Record<string, string> = {}): string {
  try {
    parse(args, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(args)}`);
}

describe("--allowed-hosts", () => {
  test("bound to loopback, the loopback names and the bound address; elsewhere any host", () => {
    expect(parse([]).allowedHosts).toEqual(["localhost", "127.0.0.1", "[::1]"]);
    expect(parse(["--host", "127.0.0.2"]).allowedHosts).toEqual([
      "localhost",
      "127.0.0.1",
      "[::1]",
      "127.0.0.2",
    ]);
    expect(parse(["--host", "::1"]).allowedHosts).toEqual(["localhost", "127.0.0.1", "[::1]"]);
    expect(parse(["--host", "0.0.0.0"]).allowedHosts).toBeUndefined();
    expect(parse([], { KILN_HOST: "10.1.2.3" }).allowedHosts).toBeUndefined();
  });

  test("repeatable and comma-separated, or KILN_ALLOWED_HOSTS; * allows any host", () => {
    expect(
      parse(["--allowed-hosts", "kiln.example,Kiln.Internal:8443", "--allowed-hosts", "[::1]"]).allowedHosts,
    ).toEqual(["kiln.example", "kiln.internal:8443", "[::1]"]);
    expect(parse(["--host", "0.0.0.0"], { KILN_ALLOWED_HOSTS: "a.example, b.example" }).allowedHosts).toEqual(
      ["a.example", "b.example"],
    );
    expect(parse(["--allowed-hosts", "*"]).allowedHosts).toBeUndefined();
  });

  test("a malformed entry or an empty list stops start-up with one line", () => {
    expect(refusal(["--allowed-hosts", "::1"])).toBe(
      '--allowed-hosts: allowed host "::1" is an IPv6 address: write it in brackets, as [::1]',
    );
    expect(refusal(["--allowed-hosts", "http://kiln.example"])).toBe(
      '--allowed-hosts: allowed host "http://kiln.example" is not a host name or address with an optional :port',
    );
    expect(refusal(["--allowed-hosts", ""])).toBe(
      "--allowed-hosts is empty: give host names, or * for any host",
    );
  });

  test("kiln serve answers only to the hosts it allows", async () => {
    const served = await serveKiln(KILN_FROM_SOURCE, ["--db", "hosts.db"], dir.path);
    const custom = await serveKiln(
      KILN_FROM_SOURCE,
      ["--db", "custom.db", "--allowed-hosts", "kiln.example"],
      dir.path,
    );
    try {
      const port = new URL(served.url).port;
      const status = async (url: string, host: string) =>
        (await fetch(`${url}/tasks`, { headers: { host } })).status;
      expect(await status(served.url, `localhost:${port}`)).toBe(200);
      expect(await status(served.url, `rebound.example:${port}`)).toBe(421);
      const customPort = new URL(custom.url).port;
      expect(await status(custom.url, `kiln.example:${customPort}`)).toBe(200);
      expect(await status(custom.url, `127.0.0.1:${customPort}`)).toBe(421);
      expect(JSON.parse(served.lines[0] ?? "{}").allowedHosts).toEqual(["localhost", "127.0.0.1", "[::1]"]);
    } finally {
      await served.stop();
      await custom.stop();
    }
  });
});

describe("--files-root", () => {
  test("none by default; repeatable or KILN_FILES_ROOTS; each must be an existing directory", () => {
    expect(parse([]).filesRoots).toEqual([]);
    const a = join(dir.path);
    expect(parse(["--files-root", a, "--files-root", "."]).filesRoots).toEqual([a, process.cwd()]);
    expect(parse([], { KILN_FILES_ROOTS: `${a},/tmp` }).filesRoots).toEqual([a, "/tmp"]);
    expect(refusal(["--files-root", join(dir.path, "missing")])).toBe(
      `--files-root ${join(dir.path, "missing")} does not exist`,
    );
    const file = join(dir.path, "plain-file");
    writeFileSync(file, "x");
    expect(refusal(["--files-root", file])).toBe(`--files-root ${file} is not a directory`);
  });
});
