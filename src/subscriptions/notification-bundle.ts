import type { Bundle, BundleEntry, FhirResource, Parameters, ParametersParameter } from 'fhir/r4.js';

// The notifications of topic-based subscriptions on R4 (Subscriptions R5 Backport IG): a
// `history` Bundle whose first entry is the subscription's status as a Parameters resource,
// then the focus of each event (README, "Subscriptions"). Pure: the caller reads what it sends.

export const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';

export type NotificationType =
  'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';
export type PayloadContent = 'empty' | 'id-only' | 'full-resource';
export type SubscriptionState = 'requested' | 'active' | 'error' | 'off';

/** One event of a subscription: its number, when it happened, its focus (`CarePlan/1/_history/2`) and whom it is about. */
export interface SubscriptionEvent {
  readonly number: number;
  readonly at: string;
  readonly focus: string;
  /** The participant it is about, for the disclosure's AuditEvent. */
  readonly patient?: string;
}

export interface StatusOf {
  /** The subscription's full URL on the hub's FHIR base. */
  readonly subscriptionUrl: string;
  readonly topic: string;
  readonly status: SubscriptionState;
  readonly eventsSinceStart: number;
  readonly error?: string;
}

/** The subscription's status as the R4 backport's Parameters (`backport-subscription-status-r4`). */
export function statusParameters(
  of: StatusOf,
  type: NotificationType,
  events: readonly SubscriptionEvent[] = [],
): Parameters {
  const parameter: ParametersParameter[] = [
    { name: 'subscription', valueReference: { reference: of.subscriptionUrl } },
    { name: 'topic', valueCanonical: of.topic },
    { name: 'status', valueCode: of.status },
    { name: 'type', valueCode: type },
    { name: 'events-since-subscription-start', valueString: String(of.eventsSinceStart) },
    ...events.map((e): ParametersParameter => ({
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: String(e.number) },
        { name: 'timestamp', valueInstant: e.at },
        { name: 'focus', valueReference: { reference: e.focus } },
      ],
    })),
    ...(of.error ? [{ name: 'error', valueCodeableConcept: { text: of.error } }] : []),
  ];
  return {
    resourceType: 'Parameters',
    meta: { profile: [`${BACKPORT}/backport-subscription-status-r4`] },
    parameter,
  };
}

/**
 * A notification: the status entry, then one entry per event's focus, with the resource itself
 * when the payload is `full-resource` (`resources` by focus reference), its URL for `id-only`.
 */
export function notificationBundle(
  of: StatusOf,
  type: NotificationType,
  events: readonly SubscriptionEvent[],
  payload: PayloadContent,
  fhirBase: string,
  resources: ReadonlyMap<string, FhirResource> = new Map(),
): Bundle {
  const status: BundleEntry = {
    fullUrl: `urn:uuid:${crypto.randomUUID()}`,
    resource: statusParameters(of, type, payload === 'empty' ? [] : events),
    request: { method: 'GET', url: `${of.subscriptionUrl}/$status` },
    response: { status: '200' },
  };
  const focus =
    payload === 'empty'
      ? []
      : events.map((e): BundleEntry => {
          const resource = payload === 'full-resource' ? resources.get(e.focus) : undefined;
          const [type = '', id = ''] = e.focus.split('/');
          return {
            fullUrl: `${fhirBase}/${type}/${id}`,
            ...(resource ? { resource } : {}),
            request: { method: 'PUT', url: `${type}/${id}` },
            response: { status: '200' },
          };
        });
  return {
    resourceType: 'Bundle',
    id: crypto.randomUUID(),
    meta: { profile: [`${BACKPORT}/backport-subscription-notification-r4`] },
    type: 'history',
    timestamp: new Date().toISOString(),
    entry: [status, ...focus],
  };
}
