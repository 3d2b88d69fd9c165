import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findPostgresPrograms } from "../../scripts/postgres.ts";
import { tempDir } from "../helpers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function scratch(): string {
  const dir = tempDir("kiln-pg-programs-");
  cleanups.push(dir.remove);
  return dir.path;
}

/** Executable stand-ins for initdb and postgres in `dir`. */
function programs(dir: string, names = ["initdb", "postgres"]): void {
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    writeFileSync(join(dir, name), "#!/bin/sh\n");
    chmodSync(join(dir, name), 0o755);
  }
}

describe("findPostgresPrograms", () => {
  test("takes Debian's newest version that has both programs", () => {
    const root = scratch();
    programs(join(root, "13", "bin"));
    programs(join(root, "16", "bin"));
    programs(join(root, "17", "bin"), ["initdb"]);
    mkdirSync(join(root, "common"));
    expect(findPostgresPrograms("", root)).toEqual({
      initdb: join(root, "16", "bin", "initdb"),
      postgres: join(root, "16", "bin", "postgres"),
    });
  });

  test("falls back to PATH, and to null when neither has them", () => {
    const root = scratch();
    const bin = join(scratch(), "bin");
    programs(bin);
    expect(findPostgresPrograms(bin, root)).toEqual({
      initdb: join(bin, "initdb"),
      postgres: join(bin, "postgres"),
    });
    expect(findPostgresPrograms("", join(root, "absent"))).toBeNull();
  });
});
