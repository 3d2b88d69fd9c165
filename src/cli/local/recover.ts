import { existsSync, rmSync } from "node:fs";
import { HELP_FLAG, parseFlags, positionals } from "../client/args.ts";
import { type Command, commandHelp, usageLine } from "../client/command.ts";
import { CliError, UsageError } from "../client/errors.ts";
import { databasePath } from "./check.ts";

const FLAGS_HELP = [
  "  --db PATH     the damaged database (env KILN_DB, default ./kiln.db)",
  "  --to PATH     the new database to write; it must not exist",
  "",
  "Copies every task (with its dependencies and searchable param fields), history event, log line,",
  "schedule, schedule fire and paused task name that can still be read into a new database with",
  "kiln's current schema, walking around damaged pages,",
  "and says which rows it could not read. Values are copied as stored: encrypted ones stay",
  "encrypted under their key. The server must be stopped: recover takes the database's owner lock.",
].join("\n");

const WHAT: Record<string, string> = {
  tasks: "tasks",
  task_dependencies: "dependencies",
  task_params: "searchable param fields",
  task_tags: "tags",
  task_events: "history events",
  task_logs: "log lines",
  schedules: "schedules",
  schedule_fires: "schedule fires",
  paused_task_types: "paused task names",
};

/** Why a table's rows were left out: a child row whose parent was not recovered, or a value refused. */
const REFUSED: Record<string, string> = {
  task_dependencies: "their task was not recovered",
  task_params: "their task was not recovered",
  task_tags: "their task was not recovered",
  task_events: "their task was not recovered",
  task_logs: "their task was not recovered",
  schedule_fires: "their schedule was not recovered",
};

export const recoverCommand: Command = {
  name: "recover",
  synopsis: "[--db ./kiln.db] --to NEW.db",
  summary: "Copy what is still readable of a damaged database into a new one, then exit.",
  async run(args, env) {
    const usage = usageLine(this.name, this.synopsis);
    const parsed = parseFlags(args, { ...HELP_FLAG, db: { type: "string" }, to: { type: "string" } }, usage);
    if (parsed.values.help) {
      console.log(commandHelp(this, FLAGS_HELP));
      return 0;
    }
    positionals(parsed.positionals, [], usage);
    const source = databasePath(
      parsed.values.db,
      env,
      usage,
      "recover",
      "PostgreSQL's own recovery (a pg_dump backup or point-in-time recovery)",
    );
    const target = parsed.values.to;
    if (!target) throw new UsageError("recover needs --to: the new database to write", usage);
    if (!existsSync(source)) throw new CliError(`no database at ${source}`);
    if (existsSync(target)) throw new CliError(`${target} exists already: give a new file to write to`);
    // Loaded here so that the client commands never pay for drizzle.
    const { DatabaseInUseError, recoverDatabase } = await import("../../store/index.ts");
    let report: Awaited<ReturnType<typeof recoverDatabase>>;
    try {
      report = recoverDatabase(source, target);
    } catch (error) {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${target}${suffix}`, { force: true });
      if (error instanceof DatabaseInUseError) throw new CliError(error.message);
      throw new CliError(`cannot recover ${source}: ${(error as Error).message}`);
    }
    const tables = Object.entries(report);
    if (report.tasks.copied === 0 && report.tasks.skipped.length > 0) {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${target}${suffix}`, { force: true });
      throw new CliError(
        `could not read a single task from ${source} (its first pages are damaged): restore it from a backup`,
      );
    }
    const copied = tables.map(([table, result]) => `${result.copied} ${WHAT[table]}`).join(", ");
    console.log(`kiln: copied ${copied} from ${source} into ${target}`);
    for (const [table, result] of tables) {
      const stretches = result.skipped.map(({ after, before }) =>
        before === null ? `after row ${after} to the end` : `after row ${after} up to row ${before}`,
      );
      if (stretches.length > 0) console.log(`kiln: unreadable ${WHAT[table]}: ${stretches.join("; ")}`);
      if (result.refused > 0) {
        const why = REFUSED[table] ?? "values the schema refuses";
        console.log(`kiln: left out ${result.refused} ${WHAT[table]} (${why})`);
      }
    }
    console.log(`kiln: start kiln on the new file: kiln serve --db ${target}`);
    return 0;
  },
};
