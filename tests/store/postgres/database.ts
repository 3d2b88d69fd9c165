import postgres from "postgres";

/** The test server (the local one, trust auth, unless KILN_TEST_POSTGRES_URL names another). */
const SERVER_URL = process.env.KILN_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** The server's URL on the database `name`. */
function onDatabase(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A database of its own for one test file: `kiln_pgstore_<random>`, dropped by `drop()`. */
export async function testDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `kiln_pgstore_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = postgres(onDatabase("postgres"), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: onDatabase(name),
    drop: async () => {
      const dropper = postgres(onDatabase("postgres"), { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/** A plain connection to look under the store. */
export function rawClient(url: string): postgres.Sql {
  return postgres(url, { max: 2, onnotice: () => {} });
}
