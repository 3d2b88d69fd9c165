export type { EndpointCounts } from "./counters.ts";
export { type WebhookCounts, WebhookDispatcher, type WebhookOptions } from "./dispatcher.ts";
export { checkWebhookOptions, MIN_SECRET_LENGTH, WebhookConfigError } from "./options.ts";
export { webhookEventType } from "./payload.ts";
export {
  DEFAULT_TOLERANCE_SECONDS,
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_HEADERS,
  type WebhookSignatureCheck,
} from "./signature.ts";
