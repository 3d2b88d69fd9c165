import { defineConfig } from "drizzle-kit";

// The PostgreSQL store's migrations; drizzle.config.ts has SQLite's. `bun run db:generate` runs both.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/postgres/schema.ts",
  out: "./drizzle/postgres",
});
