// Writes src/store/migrations.generated.ts from drizzle/ (SQLite) and
// src/store/postgres/migrations.generated.ts from drizzle/postgres/: every migration drizzle-kit
// generated, as the data Drizzle's migrator reads (statements, breakpoints flag, timestamp, hash).
//
// Usage: bun scripts/generate-migrations.ts   (`bun run db:generate` runs it after drizzle-kit)
//
// The store imports the generated module instead of reading drizzle/ at run time, so kiln migrates
// from any working directory: from a checkout, from node_modules, and inside the compiled binary.
// tests/store/migrations-generated.test.ts fails when a committed module no longer matches its folder.

import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { type MigrationMeta, readMigrationFiles } from "drizzle-orm/migrator";

const ROOT = join(import.meta.dir, "..");
export const MIGRATIONS_FOLDER = join(ROOT, "drizzle");
export const GENERATED_FILE = join(ROOT, "src/store/migrations.generated.ts");
export const POSTGRES_MIGRATIONS_FOLDER = join(ROOT, "drizzle/postgres");
export const POSTGRES_GENERATED_FILE = join(ROOT, "src/store/postgres/migrations.generated.ts");

/** Each dialect's drizzle-kit output and the module generated from it. */
export const MIGRATION_TARGETS = [
  { dialect: "sqlite", folder: MIGRATIONS_FOLDER, file: GENERATED_FILE },
  { dialect: "postgres", folder: POSTGRES_MIGRATIONS_FOLDER, file: POSTGRES_GENERATED_FILE },
] as const;

interface JournalEntry {
  tag: string;
}

/** Every migration in `folder`, in the journal's order, as Drizzle's migrator reads it. */
function readMigrations(folder: string = MIGRATIONS_FOLDER): Array<MigrationMeta & { tag: string }> {
  const journal = JSON.parse(readFileSync(join(folder, "meta/_journal.json"), "utf8")) as {
    entries: JournalEntry[];
  };
  const metas = readMigrationFiles({ migrationsFolder: folder });
  return metas.map((meta, index) => ({ ...meta, tag: journal.entries[index]?.tag ?? `#${index}` }));
}

function renderEntry(migration: MigrationMeta & { tag: string }): string {
  const statements = migration.sql.map((statement) => `      ${JSON.stringify(statement)},`).join("\n");
  return [
    `  // ${migration.tag}`,
    "  {",
    "    sql: [",
    statements,
    "    ],",
    `    bps: ${migration.bps},`,
    `    folderMillis: ${migration.folderMillis},`,
    `    hash: ${JSON.stringify(migration.hash)},`,
    "  },",
  ].join("\n");
}

/** The generated module's text for `folder`'s migrations, before formatting. */
export function renderMigrationsModule(folder: string = MIGRATIONS_FOLDER): string {
  const from = `${relative(ROOT, folder) || "."}/`;
  return `// Generated from ${from} by scripts/generate-migrations.ts; do not edit. \`bun run db:generate\`
// rewrites it after drizzle-kit, and a test fails while it is out of date with ${from}.
import type { MigrationMeta } from "drizzle-orm/migrator";

export const MIGRATIONS: readonly MigrationMeta[] = [
${readMigrations(folder).map(renderEntry).join("\n")}
];
`;
}

/** `text` as Biome formats the file (quotes, short arrays on one line), so lint passes on it. */
function formatted(text: string, file: string): string {
  const biome = Bun.spawnSync([process.execPath, "x", "biome", "format", `--stdin-file-path=${file}`], {
    cwd: ROOT,
    stdin: new TextEncoder().encode(text),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (biome.exitCode !== 0) throw new Error(`biome format failed: ${biome.stderr.toString()}`);
  return biome.stdout.toString();
}

if (import.meta.main) {
  for (const { folder, file } of MIGRATION_TARGETS) {
    const migrations = readMigrations(folder);
    writeFileSync(file, formatted(renderMigrationsModule(folder), file));
    console.log(`wrote ${file} (${migrations.length} migrations)`);
  }
}
