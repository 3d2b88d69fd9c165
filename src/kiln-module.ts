import { plugin } from "bun";
import * as kiln from "./index.ts";

/**
 * Makes `import … from "kiln"` in a task file resolve to the kiln this process is running,
 * wherever the file lives: beside a compiled binary there is no node_modules to find it in,
 * and a second copy of the SDK would break `instanceof BaseTask`. Every thread that imports
 * task files (the main thread and each worker) installs it before the first import.
 */
export function installKilnModule(): void {
  plugin({
    name: "kiln-module",
    setup(build) {
      build.module("kiln", () => ({
        // The namespace object is the module's exports; the plugin API types it loosely.
        exports: kiln as unknown as Record<string, unknown>,
        loader: "object",
      }));
    },
  });
}
