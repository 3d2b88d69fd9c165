// Reading a `--db` value, with no store behind it: the CLI's client commands load this without the drivers.

/** Where a store's data lives, as given to `--db`: a SQLite file or a PostgreSQL database. */
export type StoreLocation = { dialect: "sqlite"; path: string } | { dialect: "postgres"; url: string };

/** A `--db` value that names neither a SQLite file nor a PostgreSQL database. */
export class UnsupportedStoreLocationError extends Error {
  override readonly name = "UnsupportedStoreLocationError";
}

/**
 * Reads a database location: `postgres://…` or `postgresql://…` is a PostgreSQL database;
 * `sqlite:<path>`, `sqlite://<path>`, `:memory:` or a plain path is a SQLite file. Any other
 * scheme (`mysql://…`) is refused rather than taken for a file name.
 */
export function parseStoreLocation(value: string): StoreLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") {
    if (!value.slice(scheme.length + 1).startsWith("//")) {
      throw new UnsupportedStoreLocationError(
        `${redactUrl(value)} is not a PostgreSQL URL: write ${scheme}://…`,
      );
    }
    return { dialect: "postgres", url: value };
  }
  if (scheme === "sqlite") {
    const rest = value.slice("sqlite:".length);
    const path = rest.startsWith("//") ? rest.slice(2) : rest;
    if (path === "") throw new UnsupportedStoreLocationError("sqlite: names no file: write sqlite:<path>");
    return { dialect: "sqlite", path };
  }
  // A one-letter scheme is a Windows drive (C:\kiln.db), and `:memory:` is SQLite's own name.
  if (scheme !== undefined && scheme.length > 1 && value.slice(scheme.length + 1).startsWith("//")) {
    throw new UnsupportedStoreLocationError(
      `${redactUrl(value)}: kiln stores its data in SQLite (a file path) or PostgreSQL (postgres://…), not ${scheme}`,
    );
  }
  if (value === "") throw new UnsupportedStoreLocationError("the database location is empty");
  return { dialect: "sqlite", path: value };
}

/** A URL as it may be shown: its password (in the authority, or a `password` parameter) hidden. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL the platform reads: hide whatever sits between "//user:" and "@".
    return url.replace(/(\/\/[^/:@]*:)[^@/]*@/, "$1***@");
  }
  if (parsed.password) parsed.password = "";
  for (const key of [...parsed.searchParams.keys()]) {
    if (key.toLowerCase() === "password") parsed.searchParams.set(key, "***");
  }
  return parsed.toString();
}
