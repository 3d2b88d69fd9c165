import { timingSafeEqual } from "node:crypto";
import type { Context } from "elysia";
import { httpError } from "./errors.ts";

export interface KilnAuthOptions {
  /** When set, every route but the probes and the UI shells needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
}

function digest(value: string): Buffer {
  return new Bun.CryptoHasher("sha256").update(value).digest();
}

/**
 * Compares in time independent of where the strings differ: both sides are hashed first, so
 * even the length of the token leaks nothing.
 */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

function bearer(header: string | null): string | undefined {
  if (header === null) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * A `beforeHandle` hook that refuses requests without the token. kiln installs it as a local
 * hook on the instance holding its protected routes, so the probes, the UI shells and a host
 * app's own routes stay open. Without a token configured it lets everything through.
 */
export function requireToken(options: KilnAuthOptions) {
  const expected = options.token;
  return ({ request, set }: { request: Request; set: Context["set"] }): void => {
    if (expected === undefined) return;
    const presented = bearer(request.headers.get("authorization"));
    if (presented !== undefined && tokenMatches(presented, expected)) return;
    set.headers["www-authenticate"] = 'Bearer realm="kiln"';
    throw httpError(
      "unauthorized",
      401,
      presented === undefined
        ? "this kiln server needs a token: send Authorization: Bearer <token>"
        : "the token is not valid for this kiln server",
    );
  };
}
