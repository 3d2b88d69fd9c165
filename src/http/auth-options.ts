/**
 * Token options and their rules, without Elysia, so the CLI can check its configuration
 * before it loads the server.
 */

export interface KilnAuthOptions {
  /**
   * The admin token: when set, every route but the probes and the UI shells needs
   * `Authorization: Bearer <token>`. Its holder may do everything; history records it as "admin".
   */
  token?: string | undefined;
  /**
   * Read-only tokens: they may list, read and watch but not create, control or delete (403).
   * History and logs name them "read-1", "read-2", … in the order given. They need `token`.
   */
  readTokens?: readonly string[] | undefined;
}

/** The history's actor when the server has no token configured. */
export const ANONYMOUS = "anonymous";
export const ADMIN_LABEL = "admin";
export const readTokenLabel = (index: number): string => `read-${index + 1}`;

/** Throws when the token options cannot make a working server (the message never shows a token). */
export function checkAuthOptions(options: KilnAuthOptions): void {
  const read = options.readTokens ?? [];
  if (options.token !== undefined && options.token.length === 0) throw new Error("token must not be empty");
  if (read.length === 0) return;
  if (options.token === undefined) {
    throw new Error(
      "read-only tokens need an admin token as well: set --token / KILN_TOKEN (or the token option)",
    );
  }
  read.forEach((value, index) => {
    if (value.length === 0) throw new Error(`read token ${readTokenLabel(index)} must not be empty`);
  });
  const all = [options.token, ...read];
  if (new Set(all).size !== all.length) {
    const twice = all.findIndex((value, index) => all.indexOf(value) !== index);
    const label = readTokenLabel(twice - 1);
    throw new Error(`read token ${label} repeats an earlier token: every token must be different`);
  }
}
