import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { signWebhook, verifyWebhookSignature } from "../../src/index.ts";
import { webhookBody } from "../../src/webhooks/payload.ts";
import { startManager, untilStatus } from "../helpers.ts";

const SECRET = "a-secret-of-some-length";

describe("webhook signatures", () => {
  test("sha256= HMAC of `<timestamp>.<body>` with the secret, as any HMAC library computes it", () => {
    const body = '{"id":"e1","type":"task.finished"}';
    const expected = createHmac("sha256", SECRET).update(`1700000000.${body}`).digest("hex");
    expect(signWebhook(SECRET, 1_700_000_000, body)).toBe(`sha256=${expected}`);
  });

  test("verification accepts the signed body and refuses a changed body, secret or stale time", () => {
    const body = '{"id":"e1"}';
    const now = 1_700_000_000_000;
    const timestamp = String(now / 1000);
    const signature = signWebhook(SECRET, now / 1000, body);
    const check = { secret: SECRET, body, signature, timestamp, now };
    expect(verifyWebhookSignature(check)).toBe(true);
    expect(verifyWebhookSignature({ ...check, body: '{"id":"e2"}' })).toBe(false);
    expect(verifyWebhookSignature({ ...check, secret: `${SECRET}x` })).toBe(false);
    expect(verifyWebhookSignature({ ...check, timestamp: String(now / 1000 + 1) })).toBe(false);
    expect(verifyWebhookSignature({ ...check, now: now + 301_000 })).toBe(false);
    expect(verifyWebhookSignature({ ...check, now: now + 299_000 })).toBe(true);
    expect(verifyWebhookSignature({ ...check, signature: null })).toBe(false);
    expect(verifyWebhookSignature({ ...check, timestamp: "soon" })).toBe(false);
    expect(verifyWebhookSignature({ ...check, signature: "sha256=00" })).toBe(false);
  });
});

describe("webhook body", () => {
  test("the transition and the task as the API shows it, without params and result", async () => {
    const env = await startManager();
    try {
      const { manager } = env;
      const bodies: Record<string, unknown>[] = [];
      manager.onTransition((event) => {
        bodies.push(JSON.parse(webhookBody("event-id", event)) as Record<string, unknown>);
      });
      const { task } = await manager.create(
        "fail",
        { where: "run", value: "secret-param" },
        { tags: ["t1"] },
      );
      await untilStatus(manager, task.id, ["FAILED"]);
      await Bun.sleep(0);
      expect(bodies.map((body) => body.type)).toEqual(["task.created", "task.started", "task.failed"]);
      const failed = bodies[2] as { task: Record<string, unknown> } & Record<string, unknown>;
      expect(failed).toMatchObject({
        id: "event-id",
        from: "RUNNING",
        to: "FAILED",
        action: "fail",
        actor: "kiln",
      });
      expect(Date.parse(failed.at as string)).toBeGreaterThan(0);
      expect(failed.task).toMatchObject({
        id: task.id,
        name: "fail",
        status: "FAILED",
        attempt: 1,
        tags: ["t1"],
      });
      expect(failed.task.error).toMatchObject({ message: "failed in run" });
      expect(failed.task).not.toHaveProperty("params");
      expect(failed.task).not.toHaveProperty("result");
      expect(JSON.stringify(bodies)).not.toContain("secret-param");
    } finally {
      await env.close();
    }
  });
});
