import { header as metricHeader, sample } from "../http/metrics.ts";
import type { WebhookCounts } from "./dispatcher.ts";

/** Counters and queue depth of each webhook URL, in Prometheus' text format. */
export function renderWebhookMetrics(counts: readonly WebhookCounts[]): string[] {
  return [
    ...metricHeader(
      "kiln_webhook_deliveries_total",
      "counter",
      'Webhook events by result: "ok" delivered, "failed" attempts that failed (each is retried), "dropped" given up (queue full or shutdown).',
    ),
    ...counts.flatMap(({ webhook, ok, failed, dropped }) => [
      sample("kiln_webhook_deliveries_total", { webhook, result: "ok" }, ok),
      sample("kiln_webhook_deliveries_total", { webhook, result: "failed" }, failed),
      sample("kiln_webhook_deliveries_total", { webhook, result: "dropped" }, dropped),
    ]),
    ...metricHeader(
      "kiln_webhook_queue_depth",
      "gauge",
      "Webhook events waiting to be delivered, in flight included.",
    ),
    ...counts.map(({ webhook, queued }) => sample("kiln_webhook_queue_depth", { webhook }, queued)),
  ];
}
