import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { PACKAGE_NAME, SDK_MODULE_NAMES } from "../../src/kiln-module.ts";

const ROOT = join(import.meta.dir, "../..");
const transpiler = new Bun.Transpiler({ loader: "ts" });

/**
 * Every module `entry` loads at run time (type-only imports are erased, so they do not count):
 * the repository's files, relative to the root, and the packages and builtins by name.
 */
function runtimeImports(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [join(ROOT, entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    const name = relative(ROOT, file);
    if (files.has(name)) continue;
    files.add(name);
    for (const { path } of transpiler.scanImports(readFileSync(file, "utf8"))) {
      if (path.startsWith(".")) pending.push(join(dirname(file), path));
      else packages.add(path);
    }
  }
  return { files, packages };
}

const ENGINE_PARTS = /^src\/(engine|store|http|cli|dashboard)\/|^src\/index\.ts$/;

describe("the SDK a task file imports", () => {
  test('"./task" loads the SDK alone: no engine, store, HTTP, CLI or Drizzle', () => {
    const { files, packages } = runtimeImports("src/task/index.ts");
    expect([...files].filter((file) => !file.startsWith("src/task/"))).toEqual([]);
    expect([...packages].sort()).toEqual(["@sinclair/typebox"]);
  });

  test("a worker and a task process of kiln serve load no engine, store or Drizzle", () => {
    for (const entry of ["src/worker/bundled.ts", "src/worker/process-bundled.ts"]) {
      const { files, packages } = runtimeImports(entry);
      expect({ entry, engine: [...files].filter((file) => ENGINE_PARTS.test(file)) }).toEqual({
        entry,
        engine: [],
      });
      expect({ entry, drizzle: [...packages].filter((name) => name.startsWith("drizzle")) }).toEqual({
        entry,
        drizzle: [],
      });
    }
  });

  test("the package's name and its exports are the ones task files and the README use", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      name: string;
      exports: Record<string, string>;
      bin: Record<string, string>;
    };
    expect(pkg.name).toBe(PACKAGE_NAME);
    expect(pkg.exports["./task"]).toBe("./src/task/index.ts");
    expect(pkg.exports["."]).toBe("./src/index.ts");
    expect(pkg.exports["./http"]).toBe("./src/http/index.ts");
    expect(Object.keys(pkg.bin)).toEqual(["kiln"]);
    expect(SDK_MODULE_NAMES).toEqual(["kiln", PACKAGE_NAME, `${PACKAGE_NAME}/task`]);
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    for (const name of [PACKAGE_NAME, `${PACKAGE_NAME}/task`, `${PACKAGE_NAME}/http`]) {
      expect({ name, inReadme: readme.includes(`"${name}"`) }).toEqual({ name, inReadme: true });
    }
  });
});
