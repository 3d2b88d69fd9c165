import { html } from "htm/preact";
import { useState } from "preact/hooks";

/** Asks for the server's API token; `message` says why (none yet, or the last one was refused). */
export function TokenGate({ message, onToken }: { message: string; onToken: (token: string) => void }) {
  const [token, setToken] = useState("");
  const submit = (event: Event) => {
    event.preventDefault();
    if (token.trim()) onToken(token.trim());
  };
  return html`<main class="gate">
    <form class="panel token-form" onSubmit=${submit}>
      <h1>kiln</h1>
      <p class="gate-message" role="alert">${message}</p>
      <label for="token">API token</label>
      <input
        id="token"
        type="password"
        autocomplete="current-password"
        required
        value=${token}
        onInput=${(event: Event) => setToken((event.currentTarget as HTMLInputElement).value)}
      />
      <button type="submit" class="btn btn-primary">Sign in</button>
      <p class="muted">It is kept for this browser tab only and sent as a bearer token with every request.</p>
    </form>
  </main>`;
}
