/** Shortest accepted secret: a guessable secret makes a signature worthless. */
export const MIN_SECRET_LENGTH = 16;

/** A webhook configuration mistake, with a message fit for one line. */
export class WebhookConfigError extends Error {}

export function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new WebhookConfigError(`${what} must be an integer ≥ 1`);
  return value;
}

/** Throws WebhookConfigError for a URL that is not http(s) or a secret that is too short. */
export function checkWebhookOptions(urls: readonly string[], secret: string | undefined): void {
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new WebhookConfigError(`webhook URL "${url}" is not a URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new WebhookConfigError(
        `a webhook URL must start with http:// or https://, not ${parsed.protocol}`,
      );
    }
  }
  if (urls.length > 0 && (secret === undefined || secret.length < MIN_SECRET_LENGTH)) {
    throw new WebhookConfigError(
      `webhooks need a signing secret of at least ${MIN_SECRET_LENGTH} characters (KILN_WEBHOOK_SECRET; make one with openssl rand -hex 32)`,
    );
  }
}
