// Summarise a JUnit XML report as one line: "N passed, N failed" (plus ", N skipped" when any were skipped).
//
// Usage: bun scripts/junit-summary.ts <junit.xml> [--exit-code <status of the test run>]
//
// Every <testcase> element counts once, however deeply its <testsuite> elements nest. A testcase with a
// <failure> or <error> child failed; one with a <skipped> child (bun also uses it for test.todo) was
// skipped; any other testcase passed.
//
// `bun test` leaves some failures out of the report, e.g. a test file that throws while loading. Passing
// the test run's exit status with --exit-code makes a non-zero status count as one failure when the
// report itself records none, so the line never claims a clean run that was not.
//
// Exits 0 only when at least one test passed and none failed. A missing or unreadable report, or one
// without any testcase, prints "0 passed, 1 failed" and exits 1.

import { readFileSync } from "node:fs";

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

type Outcome = "passed" | "failed" | "skipped";

function usage(message: string): never {
  console.error(`junit-summary: ${message}`);
  console.error("usage: bun scripts/junit-summary.ts <junit.xml> [--exit-code <n>]");
  process.exit(2);
}

function parseArgs(argv: string[]): { path: string; exitCode: number | null } {
  const path = argv[2];
  if (path === undefined || path.startsWith("--")) usage("missing path to the JUnit XML report");
  let exitCode: number | null = null;
  for (let i = 3; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--exit-code") {
      const value = argv[++i];
      if (value === undefined || !/^\d+$/.test(value)) usage("--exit-code needs a non-negative integer");
      exitCode = Number(value);
    } else {
      usage(`unexpected argument: ${arg}`);
    }
  }
  return { path, exitCode };
}

// Comments, CDATA sections, processing instructions and the doctype can hold "<" and ">" that are not
// tags; drop them before scanning for elements.
function stripNonElements(xml: string): string {
  return xml
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, "")
    .replace(/<\?[\s\S]*?\?>/g, "")
    .replace(/<!DOCTYPE[^>[]*(\[[\s\S]*?\])?\s*>/gi, "");
}

function countTestcases(xml: string): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  // Groups: 1 = "/" for a closing tag, 2 = element name (a namespace prefix is kept), 3 = "/" when self-closing.
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)(?:\s(?:"[^"]*"|'[^']*'|[^"'>])*?)?\s*(\/?)>/g;
  let open: Outcome | null = null;
  for (const match of stripNonElements(xml).matchAll(tag)) {
    const closing = match[1] === "/";
    const name = (match[2] ?? "").replace(/^.*:/, "").toLowerCase();
    const selfClosing = match[3] === "/";
    if (name === "testcase") {
      if (closing) {
        if (open !== null) counts[open]++;
        open = null;
      } else if (selfClosing) {
        counts.passed++;
      } else {
        // A testcase that is never closed (a truncated report) still counts once, when the next begins.
        if (open !== null) counts[open]++;
        open = "passed";
      }
    } else if (open !== null && !closing) {
      if (name === "failure" || name === "error") open = "failed";
      else if (name === "skipped" && open === "passed") open = "skipped";
    }
  }
  if (open !== null) counts[open]++;
  return counts;
}

function format(counts: Counts): string {
  const line = `${counts.passed} passed, ${counts.failed} failed`;
  return counts.skipped > 0 ? `${line}, ${counts.skipped} skipped` : line;
}

const { path, exitCode } = parseArgs(process.argv);

let xml: string;
try {
  xml = readFileSync(path, "utf8");
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  console.log(`junit-summary: cannot read JUnit report ${path}: ${reason}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const counts = countTestcases(xml);
if (counts.passed + counts.failed + counts.skipped === 0) {
  console.log(`junit-summary: no <testcase> elements in ${path}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
if (exitCode !== null && exitCode !== 0 && counts.failed === 0) {
  console.log(
    `junit-summary: the test run exited with status ${exitCode} but ${path} records no failing test ` +
      "(a test file that fails to load is not in the report); counting it as one failure",
  );
  counts.failed = 1;
}

console.log(format(counts));
process.exit(counts.failed === 0 && counts.passed > 0 ? 0 : 1);
