import type { CarePlan, Communication, Identifier } from 'fhir/r4.js';

/** A plan change as it leaves the hub for one partner. */
export interface PlanChangeDelivery {
  /** Stable for this partner and plan version: redeliveries carry the same id. */
  readonly messageId: string;
  readonly partnerId: string;
  /** The participant's identifiers only (minimum necessary). */
  readonly participant: { readonly identifiers: readonly Identifier[] };
  /** The CarePlan version being delivered, with the hub's identifier on it. */
  readonly carePlan: CarePlan;
  /** The plan-change notice: what changed, who changed it and why. */
  readonly notice: Communication;
}

/** Where and how a partner receives deliveries (from its partner file). */
export interface OutboundTarget {
  readonly transport: 'webhook' | 'fhir-rest' | 'fhir-message';
  readonly url: string;
  readonly timeoutMs: number;
  /** HMAC secret for webhooks, resolved from the environment. */
  readonly secret?: string;
}

/** What the partner answered to a successful delivery. */
export interface DeliveryReceipt {
  readonly httpStatus: number;
  readonly partnerAnswer?: string;
}
