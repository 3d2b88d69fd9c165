import { describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createServiceLogger } from "../../src/cli/log.ts";
import { StdoutLines } from "../../src/cli/stdout-lines.ts";
import { tempDir } from "../helpers.ts";

describe("service logger", () => {
  test("a JSON line is time, level, msg, then the fields; an Error field becomes its name and message", () => {
    const out: string[] = [];
    const logger = createServiceLogger("info", "json", (line) => out.push(line));
    const fields = { taskId: "t1", error: new TypeError("bad"), n: 2 };
    logger.info("task failed", fields);
    logger.warn("bare");
    logger.debug("dropped below the level");
    expect(out).toHaveLength(2);
    const first = JSON.parse(out[0] ?? "") as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(["time", "level", "msg", "taskId", "error", "n"]);
    expect(first).toMatchObject({ level: "info", msg: "task failed", taskId: "t1", n: 2 });
    expect(first.error).toEqual({ name: "TypeError", message: "bad" });
    expect(Date.parse(first.time as string)).toBeGreaterThan(0);
    // The caller's object is left alone.
    expect(fields.error).toBeInstanceOf(TypeError);
    expect(JSON.parse(out[1] ?? "")).toMatchObject({ level: "warn", msg: "bare" });
  });

  test("with a file, the file gets JSON lines whatever the format of stdout", () => {
    const out: string[] = [];
    const file: string[] = [];
    const logger = createServiceLogger(
      "info",
      "pretty",
      (line) => out.push(line),
      (line) => file.push(line),
    );
    logger.info("kiln serving", { url: "http://127.0.0.1:3000" });
    expect(out[0]).toContain("kiln serving");
    expect(() => JSON.parse(out[0] ?? "")).toThrow();
    expect(JSON.parse(file[0] ?? "")).toMatchObject({
      level: "info",
      msg: "kiln serving",
      url: "http://127.0.0.1:3000",
    });
  });
});

describe("stdout lines", () => {
  test("lines are gathered and written together shortly after, or at once on flush()", async () => {
    const dir = tempDir("kiln-stdout-lines-");
    try {
      const path = join(dir.path, "out.log");
      const fd = openSync(path, "a");
      const lines = new StdoutLines(fd);
      lines.write("one");
      lines.write("two");
      expect(readFileSync(path, "utf8")).toBe("");
      const deadline = Date.now() + 5_000;
      while (readFileSync(path, "utf8") === "" && Date.now() < deadline) await Bun.sleep(5);
      expect(readFileSync(path, "utf8")).toBe("one\ntwo\n");
      lines.write("three ünïcode");
      lines.flush();
      expect(readFileSync(path, "utf8")).toBe("one\ntwo\nthree ünïcode\n");
      closeSync(fd);
    } finally {
      dir.remove();
    }
  });
});
