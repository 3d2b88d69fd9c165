// The same key as the Swagger page's, so a token entered on one serves the other. Session
// storage: the token is forgotten with the tab rather than kept on disk.
const KEY = "kiln.token";

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the page asks again after a reload
  }
}

export function storeToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // Nothing to do: the token lives only as long as the page then.
  }
}

/** The Authorization header for the stored token, if any. */
export function authHeaders(): Record<string, string> {
  const token = storedToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}
