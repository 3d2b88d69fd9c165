import { SqliteTaskStore } from "../../../src/store/index.ts";
import { makeSqliteStore } from "./sqlite-files.ts";
import { runStoreSuite } from "./suite.ts";

runStoreSuite("SqliteTaskStore", (keys) => makeSqliteStore(keys, (options) => new SqliteTaskStore(options)));
