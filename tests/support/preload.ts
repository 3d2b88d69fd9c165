// Loaded before every test file (bunfig.toml): ends what a test process started for all its files.
// Bun's test runner fires no "exit" event, so a global afterAll is where this happens.
import { afterAll } from "bun:test";
import { removeCompiledKiln } from "../binary/kiln-process.ts";
import { stopSharedServer } from "./postgres.ts";

afterAll(stopSharedServer);
afterAll(removeCompiledKiln);
