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
 * A check against one token that takes the same time wherever a presented string differs:
 * both sides are compared as digests, so even the token's length leaks nothing. The
 * expected digest is computed once, not on every request.
 */
export function tokenMatcher(expected: string): (presented: string) => boolean {
  const expectedDigest = digest(expected);
  return (presented) => timingSafeEqual(digest(presented), expectedDigest);
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
  const matches = options.token === undefined ? undefined : tokenMatcher(options.token);
  return ({ request, set }: { request: Request; set: Context["set"] }): void => {
    if (matches === undefined) return;
    const presented = bearer(request.headers.get("authorization"));
    if (presented !== undefined && matches(presented)) return;
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
