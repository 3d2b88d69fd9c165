import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const script = join(import.meta.dir, "..", "scripts", "junit-summary.ts");
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kiln-junit-summary-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): { lines: string[]; last: string; exitCode: number } {
  const proc = Bun.spawnSync([process.execPath, script, ...args], { stdout: "pipe", stderr: "pipe" });
  const lines = proc.stdout.toString().trimEnd().split("\n");
  return { lines, last: lines.at(-1) ?? "", exitCode: proc.exitCode ?? -1 };
}

function summarise(name: string, xml: string, extra: string[] = []) {
  const path = join(dir, name);
  writeFileSync(path, xml);
  return run([path, ...extra]);
}

const header = '<?xml version="1.0" encoding="UTF-8"?>\n';

describe("scripts/junit-summary.ts", () => {
  test("all passing", () => {
    const result = summarise(
      "pass.xml",
      `${header}<testsuites name="bun test" tests="3">
  <testsuite name="a.test.ts" tests="3">
    <testcase name="one" classname="" time="0.1" />
    <testcase name="two" classname="" time="0.1"/>
    <testcase name="three" classname="" time="0.1"></testcase>
  </testsuite>
</testsuites>
`,
    );
    expect(result.lines).toEqual(["3 passed, 0 failed"]);
    expect(result.exitCode).toBe(0);
  });

  test("one failure", () => {
    const result = summarise(
      "fail.xml",
      `${header}<testsuites>
  <testsuite name="a.test.ts">
    <testcase name="ok" />
    <testcase name="broken">
      <failure type="AssertionError" message="expected 2 &lt; 1">AssertionError: a &gt; b&#10;  at a.test.ts:5:3</failure>
    </testcase>
    <testcase name="ok too" />
  </testsuite>
</testsuites>
`,
    );
    expect(result.lines).toEqual(["2 passed, 1 failed"]);
    expect(result.exitCode).toBe(1);
  });

  test("an <error> child counts as a failure", () => {
    const result = summarise(
      "error.xml",
      `${header}<testsuite><testcase name="a"><error message="boom"/></testcase><testcase name="b"/></testsuite>`,
    );
    expect(result.last).toBe("1 passed, 1 failed");
    expect(result.exitCode).toBe(1);
  });

  test("skipped and todo tests", () => {
    const result = summarise(
      "skipped.xml",
      `${header}<testsuites>
  <testsuite name="a.test.ts">
    <testcase name="ok" />
    <testcase name="later">
      <skipped />
    </testcase>
    <testcase name="todo">
      <skipped message="TODO" />
    </testcase>
  </testsuite>
</testsuites>
`,
    );
    expect(result.lines).toEqual(["1 passed, 0 failed, 2 skipped"]);
    expect(result.exitCode).toBe(0);
  });

  test("only skipped tests is not a pass", () => {
    const result = summarise(
      "all-skipped.xml",
      `${header}<testsuite><testcase name="a"><skipped/></testcase></testsuite>`,
    );
    expect(result.last).toBe("0 passed, 0 failed, 1 skipped");
    expect(result.exitCode).toBe(1);
  });

  test("nested suites, as bun writes them for describe blocks", () => {
    const result = summarise(
      "nested.xml",
      `${header}<testsuites name="bun test" tests="5" failures="1" skipped="1">
  <testsuite name="a.test.ts" file="a.test.ts" tests="5">
    <testsuite name="outer" file="a.test.ts" line="2" tests="4">
      <testsuite name="inner" file="a.test.ts" line="3" tests="2">
        <testcase name="pass1" classname="inner &gt; outer" time="0.000058" file="a.test.ts" line="4" assertions="1" />
        <testcase name="fail1" classname="inner &gt; outer" time="0.00025" file="a.test.ts" line="5" assertions="1">
          <failure type="AssertionError" message="expect(received).toBe(expected)&#10;">AssertionError&#10;</failure>
        </testcase>
      </testsuite>
      <testcase name="skipped1" classname="outer" time="0" file="a.test.ts" line="7" assertions="0">
        <skipped />
      </testcase>
      <testcase name="in outer" classname="outer" time="0" />
    </testsuite>
    <testcase name="top pass" classname="" time="0.000016" file="a.test.ts" line="10" assertions="0" />
  </testsuite>
  <testsuite name="b.test.ts" tests="1">
    <testcase name="b" />
  </testsuite>
</testsuites>
`,
    );
    expect(result.lines).toEqual(["4 passed, 1 failed, 1 skipped"]);
    expect(result.exitCode).toBe(1);
  });

  test("markup inside comments and CDATA is ignored", () => {
    const result = summarise(
      "cdata.xml",
      `${header}<!-- <testcase name="commented out"><failure/></testcase> -->
<testsuite>
  <testcase name="a"><system-out><![CDATA[<failure> printed by the test </testcase>]]></system-out></testcase>
</testsuite>
`,
    );
    expect(result.lines).toEqual(["1 passed, 0 failed"]);
    expect(result.exitCode).toBe(0);
  });

  test("missing file", () => {
    const result = run([join(dir, "does-not-exist.xml")]);
    expect(result.last).toBe("0 passed, 1 failed");
    expect(result.exitCode).toBe(1);
  });

  test("a report without testcases", () => {
    const result = summarise("empty.xml", `${header}<testsuites name="bun test" tests="0"></testsuites>\n`);
    expect(result.last).toBe("0 passed, 1 failed");
    expect(result.exitCode).toBe(1);
  });

  test("a failed test run with a clean report counts one failure", () => {
    const xml = `${header}<testsuite><testcase name="a"/><testcase name="b"/></testsuite>`;
    const failedRun = summarise("load-error.xml", xml, ["--exit-code", "1"]);
    expect(failedRun.last).toBe("2 passed, 1 failed");
    expect(failedRun.exitCode).toBe(1);

    const cleanRun = summarise("clean-run.xml", xml, ["--exit-code", "0"]);
    expect(cleanRun.lines).toEqual(["2 passed, 0 failed"]);
    expect(cleanRun.exitCode).toBe(0);
  });
});
