import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface DashboardBundle {
  js: string;
  css: string;
}

/**
 * Bundles and minifies the dashboard's browser code (src/dashboard/client). Under
 * `bun build --compile` it runs as a macro (embedded.ts), so the executable carries the result
 * as two strings: no build step of its own, no files next to the binary. From source or from
 * node_modules, assets.ts calls it when it loads. Bun.build cannot be called from a macro (the
 * bundler would wait on itself), so this runs `bun build` as a child process.
 */
export function dashboardBundle(): DashboardBundle {
  const out = mkdtempSync(join(tmpdir(), "kiln-dashboard-"));
  try {
    const build = Bun.spawnSync(
      [
        process.execPath,
        "build",
        join(import.meta.dir, "client", "main.ts"),
        "--target=browser",
        "--minify",
        `--outdir=${out}`,
        "--entry-naming=app.[ext]",
        "--asset-naming=[name].[ext]",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    if (build.exitCode !== 0) {
      throw new Error(
        `the dashboard bundle failed to build:\n${build.stderr.toString()}${build.stdout.toString()}`,
      );
    }
    const read = (file: string) => readFileSync(join(out, file), "utf8");
    const files = readdirSync(out);
    return { js: read("app.js"), css: files.includes("app.css") ? read("app.css") : "" };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
