import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { readMigrationFiles } from "drizzle-orm/migrator";
import {
  MIGRATION_TARGETS,
  MIGRATIONS_FOLDER,
  renderMigrationsModule,
} from "../../scripts/generate-migrations.ts";
import { SqliteSyncStore } from "../../src/store/index.ts";
import { MIGRATIONS } from "../../src/store/migrations.generated.ts";
import { MIGRATIONS as POSTGRES_MIGRATIONS } from "../../src/store/postgres/migrations.generated.ts";
import { tempDir } from "../helpers.ts";

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

const ROOT = join(import.meta.dir, "../..");

describe("the generated migration modules", () => {
  const generated = { sqlite: MIGRATIONS, postgres: POSTGRES_MIGRATIONS };
  for (const { dialect, folder, file } of MIGRATION_TARGETS) {
    const module = relative(ROOT, file);
    const source = `${relative(ROOT, folder)}/`;
    test(`${dialect}: ${module} holds every migration in ${source}, exactly as Drizzle's migrator reads it`, () => {
      const fromDrizzle = readMigrationFiles({ migrationsFolder: folder });
      const embedded = generated[dialect];
      if (!Bun.deepEquals(embedded, fromDrizzle, true)) {
        throw new Error(
          `${module} is out of date with ${source}: run \`bun run db:generate\` ` +
            `(or \`bun run db:migrations\` alone) and commit it (generated: ${embedded.length} migrations, ${source}: ${fromDrizzle.length})`,
        );
      }
      expect(embedded.length).toBeGreaterThan(0);
    });
  }

  test("the generator picks up a migration added to drizzle/", () => {
    const dir = tempDir("kiln-migrations-");
    dirs.push(dir);
    const folder = join(dir.path, "drizzle");
    cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
    const journalPath = join(folder, "meta/_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8")) as {
      entries: Array<Record<string, unknown>>;
    };
    const idx = journal.entries.length;
    journal.entries.push({
      idx,
      version: "6",
      when: 4_102_444_800_000,
      tag: "9999_added",
      breakpoints: true,
    });
    writeFileSync(journalPath, JSON.stringify(journal));
    writeFileSync(join(folder, "9999_added.sql"), "CREATE TABLE `added` (`id` integer);");
    const text = renderMigrationsModule(folder);
    expect(text).toContain("// 9999_added");
    expect(text).toContain(JSON.stringify("CREATE TABLE `added` (`id` integer);"));
    expect(text).toContain("folderMillis: 4102444800000,");
    expect(text.match(/^ {2}\/\/ \d{4}_/gm)).toHaveLength(idx + 1);
  });

  test("a store migrates a new database from it, whatever the working directory", () => {
    const dir = tempDir("kiln-migrations-");
    dirs.push(dir);
    const path = join(dir.path, "kiln.db");
    const before = process.cwd();
    process.chdir(dir.path); // no drizzle/ here: the migrations come from the generated module
    try {
      const store = new SqliteSyncStore({ path, backgroundCheckpoints: false });
      store.migrate();
      store.close();
    } finally {
      process.chdir(before);
    }
    const db = new Database(path, { readonly: true });
    const applied = db.query<{ hash: string }, []>("select hash from __drizzle_migrations order by id").all();
    db.close();
    expect(applied.map((row) => row.hash)).toEqual(MIGRATIONS.map((migration) => migration.hash));
  });
});
