import { plugin } from "bun";
import * as sdk from "./task/index.ts";

/** The package's name in the npm registry (and in package.json). */
export const PACKAGE_NAME = "@kiln-tasks/kiln";

/** The names a task file may import the SDK by, wherever it is run. */
export const SDK_MODULE_NAMES: readonly string[] = ["kiln", PACKAGE_NAME, `${PACKAGE_NAME}/task`];

/**
 * Makes `import … from "kiln"` (or the package's name, or its "/task" entry) in a task file
 * resolve to the SDK this thread is running, wherever the file lives: beside a compiled binary
 * there is no node_modules to find it in, and a second copy of the SDK would break
 * `instanceof BaseTask`. It is the SDK alone, not the engine, so a worker thread loads neither
 * the engine nor the store nor Drizzle. Every thread that imports task files (the main thread
 * and each worker) installs it before the first import.
 */
export function installKilnModule(): void {
  plugin({
    name: "kiln-module",
    setup(build) {
      for (const name of SDK_MODULE_NAMES) {
        build.module(name, () => ({
          // The namespace object is the module's exports; the plugin API types it loosely.
          exports: sdk as unknown as Record<string, unknown>,
          loader: "object",
        }));
      }
    },
  });
}
