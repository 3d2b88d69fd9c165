import { readMigrationFiles } from "drizzle-orm/migrator";

/**
 * Reads `drizzle/` at build time. Imported with `{ type: "macro" }`, so the compiled binary
 * carries the migrations inline and migrates from any working directory.
 */
export function embeddedMigrations(): ReturnType<typeof readMigrationFiles> {
  return readMigrationFiles({ migrationsFolder: `${import.meta.dir}/../../drizzle` });
}
