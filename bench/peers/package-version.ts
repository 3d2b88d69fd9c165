// The version of an installed package, read from its package.json (some packages do not export it).
import { readFileSync } from "node:fs";

export function packageVersion(name: string): string {
  const file = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
  try {
    const { version } = JSON.parse(readFileSync(file, "utf8")) as { version?: string };
    return `${name}@${version ?? "?"}`;
  } catch {
    return `${name}@?`;
  }
}
