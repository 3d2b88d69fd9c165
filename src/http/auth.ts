import { timingSafeEqual } from "node:crypto";
import type { Context } from "elysia";
import type { Logger, Requester } from "../engine/index.ts";
import {
  ADMIN_LABEL,
  ANONYMOUS,
  checkAuthOptions,
  type KilnAuthOptions,
  readTokenLabel,
} from "./auth-options.ts";
import { httpError } from "./errors.ts";
import { requestPath } from "./request-path.ts";

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

/** Who a token belongs to. */
interface Holder {
  label: string;
  readOnly: boolean;
}

interface Entry {
  matches: (presented: string) => boolean;
  holder: Holder;
}

/** The client's address, or null when the request did not come over a socket (`app.handle`). */
function sourceOf(server: Context["server"], request: Request): string | null {
  return server?.requestIP(request)?.address ?? null;
}

/** Methods that change nothing; every other method needs a token that is not read-only. */
const READ_METHODS = new Set(["GET", "HEAD"]);

/**
 * kiln's bearer-token check. `guard` is a `beforeHandle` hook that kiln installs locally on the
 * instance holding its protected routes, so the probes, the UI shells and a host app's own
 * routes stay open; `requester` tells a route who asked and from where, for the history.
 */
export class TokenAuth {
  readonly #entries: Entry[];
  /** The token holder of each request the guard let through. */
  readonly #admitted = new WeakMap<Request, string>();

  constructor(
    options: KilnAuthOptions,
    /** Refused requests are logged at debug level: route, client and label, never a token. */
    private readonly logger: Logger,
  ) {
    checkAuthOptions(options);
    const admin: Entry[] =
      options.token === undefined
        ? []
        : [{ matches: tokenMatcher(options.token), holder: { label: ADMIN_LABEL, readOnly: false } }];
    const read = (options.readTokens ?? []).map((value, index) => ({
      matches: tokenMatcher(value),
      holder: { label: readTokenLabel(index), readOnly: true },
    }));
    this.#entries = [...admin, ...read];
  }

  get enabled(): boolean {
    return this.#entries.length > 0;
  }

  /** The labels in the order tokens are checked, for the start-up log (never the tokens). */
  get labels(): string[] {
    return this.#entries.map((entry) => entry.holder.label);
  }

  #holder(presented: string): Holder | undefined {
    let found: Holder | undefined;
    // Every token is compared, a match or not, so the time taken does not tell which matched.
    for (const entry of this.#entries) {
      if (entry.matches(presented) && found === undefined) found = entry.holder;
    }
    return found;
  }

  /**
   * The check, as a `beforeHandle` hook, for a TokenAuth with tokens (`enabled`). Without tokens
   * there is nothing to check: kilnRoutes installs no hook, and every request is the anonymous
   * requester's (`requester`).
   */
  readonly guard = ({
    request,
    set,
    server,
  }: {
    request: Request;
    set: Context["set"];
    server: Context["server"];
  }): void => {
    const presented = bearer(request.headers.get("authorization"));
    const holder = presented === undefined ? undefined : this.#holder(presented);
    const route = `${request.method} ${requestPath(request)}`;
    if (holder === undefined) {
      this.logger.debug("request refused: no valid token", {
        route,
        source: sourceOf(server, request),
        presented: presented === undefined ? "none" : "unknown token",
      });
      set.headers["www-authenticate"] = 'Bearer realm="kiln"';
      throw httpError(
        "unauthorized",
        401,
        presented === undefined
          ? "this kiln server needs a token: send Authorization: Bearer <token>"
          : "the token is not valid for this kiln server",
      );
    }
    if (holder.readOnly && !READ_METHODS.has(request.method)) {
      this.logger.debug("request refused: read-only token", {
        route,
        source: sourceOf(server, request),
        actor: holder.label,
      });
      throw httpError(
        "forbidden",
        403,
        `the token "${holder.label}" is read-only: it may list, read and watch tasks but not create, control or delete them`,
      );
    }
    this.#admitted.set(request, holder.label);
  };

  /**
   * Who asked and from where, for the history. The address is looked up only here, for the
   * routes that record it: `requestIP` is a `getpeername` call and an object, about 3.5 µs of
   * a read's 40 µs of server CPU. Call it before the route's first await: once the client has
   * gone, its address is no longer known. With tokens, a request the guard did not let through
   * has no actor.
   */
  requester(request: Request, server: Context["server"]): Requester {
    const actor = this.enabled ? (this.#admitted.get(request) ?? null) : ANONYMOUS;
    return { actor, source: sourceOf(server, request) };
  }
}
