import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** Headers of a signed webhook delivery. */
export const SIGNATURE_HEADER = 'x-hub-signature';
export const TIMESTAMP_HEADER = 'x-hub-timestamp';
export const MESSAGE_ID_HEADER = 'x-hub-message-id';
/** The hub's version of the plan in a delivery, so a partner can tell order without parsing. */
export const PLAN_VERSION_HEADER = 'x-hub-plan-version';
/** `CarePlan/<id>` the delivery is a version of: with the version, what a partner orders by. */
export const CAREPLAN_HEADER = 'x-hub-careplan';

/**
 * `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`. Signing the timestamp with the body lets a
 * partner refuse replays: a captured request cannot be resent later with a fresh timestamp.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * The Standard Webhooks headers of a signed delivery (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), so a partner verifies
 * with the `standardwebhooks` library of its language (`new Webhook(secret, { format: 'raw' })`:
 * the partner's secret is used as written, not base64). Sent beside `x-hub-signature`, which
 * stays for one release (README, "Partner transport settings").
 * @see https://www.standardwebhooks.com/
 */
export function standardWebhookHeaders(
  secret: string,
  messageId: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': new Webhook(secret, { format: 'raw' }).sign(
      messageId,
      new Date(timestamp * 1000),
      body,
    ),
  };
}

/**
 * What a partner runs to check a delivery: the signature matches and the timestamp is within
 * `toleranceSeconds` of `nowSeconds`. Combined with remembering message ids, this stops replays.
 */
export function verifyWebhook(
  secret: string,
  headers: { signature?: string; timestamp?: string },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): { ok: true } | { ok: false; reason: string } {
  const timestamp = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(timestamp)) {
    return { ok: false, reason: 'missing signature or timestamp' };
  }
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    return { ok: false, reason: 'timestamp outside the tolerance window (possible replay)' };
  }
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'signature does not match' };
  }
  return { ok: true };
}
