import { lstat, opendir } from "node:fs/promises";
import { join, sep } from "node:path";
import { type Static, Type } from "@sinclair/typebox";
import { BaseTask } from "../task/index.ts";
import { confinedPath, isProtectedPath } from "./confined-path.ts";
import { classifyFsError, requireDirectory } from "./input-paths.ts";
import { addFile, entriesSeen, freshWalk, isWalkState, topExtensions, type WalkState } from "./walk-state.ts";

const TOP_EXTENSIONS = 20;
/** A directory of a million entries must still let a stop or pause through now and then. */
const ENTRIES_BETWEEN_CHECKS = 1_000;

const WalkDirectoryParams = Type.Object({
  path: Type.String({
    minLength: 1,
    description:
      "The directory to walk; it must lie under a files root. Symbolic links below it are not followed.",
  }),
  maxEntries: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: "Stop after this many entries; the result is then marked truncated.",
    }),
  ),
});

const Tally = Type.Object({ files: Type.Integer({ minimum: 0 }), bytes: Type.Integer({ minimum: 0 }) });

const WalkDirectoryResult = Type.Object({
  path: Type.String(),
  files: Type.Integer({ minimum: 0 }),
  directories: Type.Integer({ minimum: 0, description: "The root included." }),
  symlinks: Type.Integer({ minimum: 0 }),
  others: Type.Integer({ minimum: 0 }),
  bytes: Type.Integer({ minimum: 0 }),
  unreadable: Type.Integer({
    minimum: 0,
    description: "Directories skipped because they could not be read.",
  }),
  truncated: Type.Boolean({ description: "True when `maxEntries` ended the walk early." }),
  extensions: Type.Array(Type.Composite([Type.Object({ extension: Type.String() }), Tally]), {
    maxItems: TOP_EXTENSIONS,
    description: "The extensions that take the most bytes, largest first.",
  }),
});

type Params = Static<typeof WalkDirectoryParams>;
type Result = Static<typeof WalkDirectoryResult>;

/** Summarises a directory tree (counts, bytes, biggest extensions), resumable directory by directory. */
export class WalkDirectoryTask extends BaseTask<Params, Result, WalkState> {
  static override taskName = "walk-directory";
  static override description = "Counts the files, directories and bytes of a directory tree, by extension.";
  static override params = WalkDirectoryParams;
  static override result = WalkDirectoryResult;

  #root: string | undefined;

  override async pre(params: Params): Promise<void> {
    const root = await confinedPath(this.fileAccess, params.path, "directory", "existing");
    await requireDirectory(root, "directory");
    try {
      await (await opendir(root)).close();
    } catch (thrown) {
      throw classifyFsError(thrown, `directory ${params.path}`);
    }
    this.#root = root;
  }

  override async run(params: Params): Promise<Result> {
    const root = this.#root;
    if (root === undefined) throw new Error("walk-directory: run() called without pre()");
    const limit = params.maxEntries ?? Number.POSITIVE_INFINITY;
    let state = this.#startState(root);
    let truncated = false;

    while (state.pending.length > 0 && !truncated) {
      // The checkpointed state is never mutated: the runtime may still hold it, to save on a later pause.
      const next = structuredClone(state);
      const directory = next.pending.pop() as string;
      try {
        truncated = await this.#read(directory, next, limit);
      } catch (thrown) {
        // Only the file system's complaints mean "unreadable"; a stop or a bug must go on up.
        if (!isFsError(thrown)) throw thrown;
        this.log("warn", `skipped ${directory}: ${thrown.message}`);
        state = { ...state, pending: state.pending.slice(0, -1), unreadable: state.unreadable + 1 };
        await this.checkpoint(state);
        continue;
      }
      state = next;
      this.progress(
        entriesSeen(state),
        params.maxEntries,
        `${state.files} files, ${state.directories} directories`,
      );
      if (!truncated) await this.checkpoint(state);
    }

    if (truncated) this.log("info", `stopped after ${entriesSeen(state)} entries (maxEntries)`);
    this.log("info", `${state.files} files, ${state.directories} directories, ${state.bytes} bytes`);
    const { pending: _pending, byExtension, ...counts } = state;
    return { path: root, ...counts, truncated, extensions: topExtensions(byExtension, TOP_EXTENSIONS) };
  }

  #startState(root: string): WalkState {
    const saved = this.state;
    if (saved === undefined) return freshWalk(root);
    // A checkpoint from another root (the path resolves elsewhere now) must not lead outside it.
    if (
      isWalkState(saved) &&
      saved.pending.every((path) => path === root || path.startsWith(`${root}${sep}`))
    ) {
      this.log("info", `resuming with ${saved.pending.length} directories left to read`);
      return saved;
    }
    this.log("warn", "ignoring a malformed checkpoint or one from another root; walking from the root");
    return freshWalk(root);
  }

  /** Adds one directory's entries to `state`; true when an entry was left out because `limit` was reached. */
  async #read(directory: string, state: WalkState, limit: number): Promise<boolean> {
    let sinceCheck = 0;
    for await (const entry of await opendir(directory)) {
      if (entriesSeen(state) >= limit) return true;
      const path = join(directory, entry.name);
      // kiln's own files are left out of the walk as out of every other file task.
      if (isProtectedPath(this.fileAccess, path)) continue;
      if (entry.isDirectory()) {
        state.directories += 1;
        state.pending.push(path);
      } else if (entry.isSymbolicLink()) {
        state.symlinks += 1;
      } else if (entry.isFile()) {
        const size = await sizeOf(path);
        if (size !== undefined) addFile(state, entry.name, size);
      } else {
        state.others += 1;
      }
      if (++sinceCheck % ENTRIES_BETWEEN_CHECKS === 0) await this.checkpoint();
    }
    return false;
  }
}

function isFsError(thrown: unknown): thrown is NodeJS.ErrnoException {
  return thrown instanceof Error && typeof (thrown as NodeJS.ErrnoException).code === "string";
}

/** Undefined when the file vanished between listing and stat, which is not worth a warning. */
async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await lstat(path)).size;
  } catch (thrown) {
    if (isFsError(thrown) && thrown.code === "ENOENT") return undefined;
    throw thrown;
  }
}
