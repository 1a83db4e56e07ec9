import type { Bundle, MessageHeader } from 'fhir/r4.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { DeliveryError, kindOfFetchError, kindOfStatus } from './delivery-error.js';
import type { DeliveryReceipt, OutboundTarget, PlanChangeDelivery } from './types.js';
import {
  CAREPLAN_HEADER,
  MESSAGE_ID_HEADER,
  PLAN_VERSION_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  standardWebhookHeaders,
  TIMESTAMP_HEADER,
} from './webhook-signature.js';
import { inSpan, SpanKind, traceHeaders } from '../tracing/tracing.js';

/** How much of a partner's answer is kept with a delivery or dead letter. */
const ANSWER_LIMIT = 2000;
/** How much of a partner's answer is read at all: a partner cannot make the hub buffer gigabytes. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * Sends one plan change to one partner through its configured transport. Every transport carries
 * the stable message id, so a retried delivery can be de-duplicated by the partner. Throws a
 * {@link DeliveryError} that says whether and how the failure may be retried.
 */
export async function deliver(
  delivery: PlanChangeDelivery,
  target: OutboundTarget,
  nowSeconds: number,
): Promise<DeliveryReceipt> {
  switch (target.transport) {
    case 'webhook':
      return sendWebhook(delivery, target, nowSeconds);
    case 'fhir-rest':
      return post(target, target.url, fhirRestBundle(delivery), signed(target, delivery, nowSeconds));
    case 'fhir-message':
      return sendMessage(delivery, target, signed(target, delivery, nowSeconds));
  }
}

/**
 * The id headers, and, when the partner has a signing secret, the signature headers too: every
 * transport is signed (the signature is computed over the exact body in {@link send}).
 */
function signed(
  target: OutboundTarget,
  delivery: PlanChangeDelivery,
  nowSeconds: number,
): Record<string, string> {
  return target.secret
    ? { ...idHeaders(delivery), [TIMESTAMP_HEADER]: String(nowSeconds) }
    : idHeaders(delivery);
}

async function sendWebhook(
  delivery: PlanChangeDelivery,
  target: OutboundTarget,
  nowSeconds: number,
): Promise<DeliveryReceipt> {
  if (!target.secret) {
    throw new DeliveryError('permanent', `No signing secret configured for partner ${delivery.partnerId}`);
  }
  const body = JSON.stringify({
    messageId: delivery.messageId,
    type: 'plan-change',
    participant: delivery.participant,
    carePlan: delivery.carePlan,
    notice: delivery.notice,
  });
  return post(target, target.url, body, { ...idHeaders(delivery), [TIMESTAMP_HEADER]: String(nowSeconds) });
}

/**
 * To a partner's own FHIR server: one transaction that conditionally updates the plan (on the
 * hub's identifier) and the notice (on the message id), so a redelivery changes nothing.
 */
function fhirRestBundle(delivery: PlanChangeDelivery): Bundle {
  const planId = delivery.carePlan.identifier?.[0];
  // Server metadata stays behind; security labels travel (the partner must honour them).
  const { id: _planId, meta: planMeta, ...planBody } = delivery.carePlan;
  const plan = planMeta?.security ? { ...planBody, meta: { security: planMeta.security } } : planBody;
  const { id: _noticeId, ...notice } = delivery.notice;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        resource: plan,
        request: {
          method: 'PUT',
          url: `CarePlan?identifier=${encodeURIComponent(`${planId?.system}|${planId?.value}`)}`,
        },
      },
      {
        resource: {
          ...notice,
          identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${delivery.messageId}` }],
        },
        request: {
          method: 'PUT',
          url: `Communication?identifier=${encodeURIComponent(`urn:ietf:rfc:3986|urn:uuid:${delivery.messageId}`)}`,
        },
      },
    ],
  };
}

/** A FHIR message to the partner's `$process-message`; its Bundle and MessageHeader ids are the message id. */
async function sendMessage(
  delivery: PlanChangeDelivery,
  target: OutboundTarget,
  headers: Record<string, string>,
): Promise<DeliveryReceipt> {
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: delivery.messageId,
    eventCoding: { system: CODE_SYSTEM.messageEvent, code: 'careplan-update' },
    source: { name: 'Care coordination hub', endpoint: 'urn:care-coordination-hub' },
    destination: [{ endpoint: target.url, receiver: { reference: `Organization/${delivery.partnerId}` } }],
    focus: [{ reference: `urn:uuid:${delivery.messageId}-plan` }],
  };
  const bundle: Bundle = {
    resourceType: 'Bundle',
    id: delivery.messageId,
    type: 'message',
    entry: [
      { fullUrl: `urn:uuid:${delivery.messageId}`, resource: header },
      { fullUrl: `urn:uuid:${delivery.messageId}-plan`, resource: delivery.carePlan },
      { fullUrl: `urn:uuid:${delivery.messageId}-notice`, resource: delivery.notice },
    ],
  };
  const url = `${target.url.replace(/\/$/, '')}/$process-message`;
  const { httpStatus, answer } = await send(target, url, bundle, headers);
  const receipt = { httpStatus, partnerAnswer: answer.slice(0, ANSWER_LIMIT) };
  // A response message can say the partner refused it even with HTTP 200. Read from the whole
  // answer: in a long response message the code can come after the part that is kept.
  const code = /"code"\s*:\s*"(ok|transient-error|fatal-error)"/.exec(answer)?.[1];
  if (code === 'fatal-error') {
    throw new DeliveryError('permanent', 'Partner answered fatal-error', {
      httpStatus: receipt.httpStatus,
      partnerAnswer: receipt.partnerAnswer,
    });
  }
  if (code === 'transient-error') {
    throw new DeliveryError('transient', 'Partner answered transient-error', {
      httpStatus: receipt.httpStatus,
      partnerAnswer: receipt.partnerAnswer,
    });
  }
  return receipt;
}

/**
 * Every delivery says which message it is and which plan version it carries. A partner applies a
 * message id once, and ignores a version of a plan older than one it has applied: the hub never
 * sends an older version after a newer one, but a partner still working on a delivery the hub gave
 * up waiting for may finish it after the next one arrives.
 */
function idHeaders(delivery: PlanChangeDelivery): Record<string, string> {
  return {
    [MESSAGE_ID_HEADER]: delivery.messageId,
    [CAREPLAN_HEADER]: `CarePlan/${delivery.carePlan.id ?? ''}`,
    [PLAN_VERSION_HEADER]: delivery.carePlan.meta?.versionId ?? '',
  };
}

async function post(
  target: OutboundTarget,
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<DeliveryReceipt> {
  const { httpStatus, answer } = await send(target, url, body, headers);
  return { httpStatus, partnerAnswer: answer.slice(0, ANSWER_LIMIT) };
}

/**
 * POSTs a subscription notification (a FHIR Bundle) once, classified and traced like a delivery:
 * a {@link DeliveryError} unless the subscriber answers 2xx.
 */
export async function postNotification(
  url: string,
  bundle: Bundle,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<DeliveryReceipt> {
  return post({ transport: 'fhir-rest', url, timeoutMs }, url, bundle, headers);
}

/**
 * POSTs once; a 2xx resolves with the whole answer, anything else throws a classified
 * {@link DeliveryError}. A client span of the delivery's trace, whose `traceparent` the partner gets.
 */
async function send(
  target: OutboundTarget,
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ httpStatus: number; answer: string }> {
  const attributes = { 'server.address': new URL(url).host, 'hub.transport': target.transport };
  return inSpan(
    `deliver ${target.transport}`,
    attributes,
    async (span) => {
      const sent = await sendOnce(target, url, body, { ...headers, ...traceHeaders() });
      span.setAttribute('http.response.status_code', sent.httpStatus);
      return sent;
    },
    SpanKind.CLIENT,
  );
}

async function sendOnce(
  target: OutboundTarget,
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ httpStatus: number; answer: string }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const timestamp = headers[TIMESTAMP_HEADER];
  const messageId = headers[MESSAGE_ID_HEADER];
  const signature: Record<string, string> =
    target.secret && timestamp
      ? {
          [SIGNATURE_HEADER]: signWebhook(target.secret, Number(timestamp), text),
          ...(messageId ? standardWebhookHeaders(target.secret, messageId, Number(timestamp), text) : {}),
        }
      : {};
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': target.transport === 'webhook' ? 'application/json' : 'application/fhir+json',
        ...headers,
        ...signature,
      },
      body: text,
      signal: AbortSignal.timeout(target.timeoutMs),
      // Never follow a redirect: fetch would turn the POST into a GET without the body (and take
      // its 200 for a delivery) or re-send the message to another address. A 3xx is the partner's
      // answer: the configured URL is wrong (permanent).
      redirect: 'manual',
    });
  } catch (err) {
    const { kind, reason } = kindOfFetchError(err);
    throw new DeliveryError(kind, `Delivery to ${new URL(url).host} failed: ${reason}`, { cause: err });
  }
  let answer: string;
  try {
    answer = await readCapped(response, MAX_ANSWER_BYTES);
  } catch (err) {
    // The partner answered a status but the body broke off: it did receive the request.
    throw new DeliveryError('ambiguous', `Answer from ${new URL(url).host} broke off`, {
      httpStatus: response.status,
      cause: err,
    });
  }
  if (!response.ok) {
    throw new DeliveryError(kindOfStatus(response.status), `Partner answered ${response.status}`, {
      httpStatus: response.status,
      partnerAnswer: answer.slice(0, ANSWER_LIMIT),
    });
  }
  return { httpStatus: response.status, answer };
}

/** The answer's text, at most `max` bytes of it (the rest is not read; the stream is cancelled). */
async function readCapped(response: Response, max: number): Promise<string> {
  if (!response.body) {
    return '';
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early cancels the stream, which drops the connection.
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    parts.push(chunk);
    size += chunk.byteLength;
    if (size >= max) {
      break;
    }
  }
  return Buffer.concat(parts).subarray(0, max).toString('utf8');
}
