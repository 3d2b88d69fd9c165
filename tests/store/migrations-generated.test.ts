import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { MIGRATIONS_FOLDER, renderMigrationsModule } from "../../scripts/generate-migrations.ts";
import { SqliteSyncStore } from "../../src/store/index.ts";
import { MIGRATIONS } from "../../src/store/migrations.generated.ts";
import { tempDir } from "../helpers.ts";

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

describe("src/store/migrations.generated.ts", () => {
  test("holds every migration in drizzle/, exactly as Drizzle's migrator reads it", () => {
    const fromDrizzle = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
    if (!Bun.deepEquals(MIGRATIONS, fromDrizzle, true)) {
      throw new Error(
        "src/store/migrations.generated.ts is out of date with drizzle/: run `bun run db:generate` " +
          `(or \`bun run db:migrations\` alone) and commit it (generated: ${MIGRATIONS.length} migrations, drizzle/: ${fromDrizzle.length})`,
      );
    }
    expect(MIGRATIONS.length).toBeGreaterThan(0);
  });

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
