import type { Extension, OperationOutcomeIssue, Subscription } from 'fhir/r4.js';
import { filterCriteria, readFilters, type SubscriptionFilter } from './filters.js';
import { BACKPORT, type PayloadContent } from './notification-bundle.js';
import { TOPIC_INFO } from './topics.js';

/** A partner's subscription as the hub keeps it. */
export interface HubSubscription {
  readonly id: string;
  readonly partnerId: string;
  readonly topic: string;
  /** What the subscription narrows its topic to (none: every event the partner may be told of). */
  readonly filter: SubscriptionFilter;
  readonly endpoint: string;
  readonly headers: readonly string[];
  readonly payload: PayloadContent;
  readonly heartbeatSeconds?: number;
  readonly timeoutSeconds: number;
  readonly maxCount: number;
  readonly end?: string;
  readonly createdAt: string;
}

const PAYLOADS: readonly PayloadContent[] = ['empty', 'id-only', 'full-resource'];
const ext = (list: readonly Extension[] | undefined, name: string): Extension | undefined =>
  list?.find((e) => e.url === `${BACKPORT}/${name}`);

/**
 * Reads a Subscription a partner posts (the backport's R4 profile: the topic in `criteria`, its
 * filter in `backport-filter-criteria`, a `rest-hook` channel, the payload content, heartbeat,
 * timeout and max count as channel extensions). Answers the subscription, or every problem
 * naming its element. The endpoint must be on the partner's own delivery origin: a partner
 * cannot point the hub at another's server or at the hub's network.
 */
export function readSubscriptionRequest(
  resource: Subscription,
  partnerId: string,
  allowedOrigins: readonly string[],
  id: string,
  now: Date,
): HubSubscription | OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const problem = (expression: string, diagnostics: string): void => {
    issues.push({ severity: 'error', code: 'invalid', diagnostics, expression: [expression] });
  };
  if (resource?.resourceType !== 'Subscription') {
    return [{ severity: 'error', code: 'invalid', diagnostics: 'Send a Subscription resource' }];
  }
  const topic = resource.criteria ?? '';
  if (!TOPIC_INFO[topic]) {
    problem(
      'Subscription.criteria',
      `Unknown topic "${topic}": GET /fhir/Subscription/$topic-list lists them`,
    );
  }
  const criteria = (resource._criteria?.extension ?? [])
    .filter((e) => e.url === `${BACKPORT}/backport-filter-criteria`)
    .map((e) => e.valueString ?? '');
  const filters = TOPIC_INFO[topic] ? readFilters(criteria, TOPIC_INFO[topic]) : { filter: {} };
  if ('problems' in filters) {
    filters.problems.forEach((p) => problem('Subscription.criteria.extension', `Unsupported filter: ${p}`));
  }
  const channel = resource.channel;
  if (channel?.type !== 'rest-hook') {
    problem('Subscription.channel.type', 'Only rest-hook channels are supported');
  }
  const endpoint = channel?.endpoint ?? '';
  let origin = '';
  try {
    origin = new URL(endpoint).origin;
  } catch {
    problem('Subscription.channel.endpoint', 'The endpoint must be an absolute http(s) URL');
  }
  if (origin && !allowedOrigins.includes(origin)) {
    problem(
      'Subscription.channel.endpoint',
      `The endpoint must be on ${partnerId}'s delivery address (${allowedOrigins.join(', ') || 'none configured'})`,
    );
  }
  if (channel?.payload !== undefined && channel.payload !== 'application/fhir+json') {
    problem('Subscription.channel.payload', 'Notifications are sent as application/fhir+json');
  }
  const content = ext(channel?._payload?.extension, 'backport-payload-content')?.valueCode ?? 'id-only';
  if (!(PAYLOADS as readonly string[]).includes(content)) {
    problem(
      'Subscription.channel.payload.extension',
      `payload content must be one of ${PAYLOADS.join(', ')}`,
    );
  }
  const heartbeat = ext(channel?.extension, 'backport-heartbeat-period')?.valueUnsignedInt;
  const timeout = ext(channel?.extension, 'backport-timeout')?.valueUnsignedInt ?? 30;
  const maxCount = ext(channel?.extension, 'backport-max-count')?.valuePositiveInt ?? 20;
  if (heartbeat !== undefined && (heartbeat < 1 || heartbeat > 86400)) {
    problem('Subscription.channel.extension', 'The heartbeat period must be 1 to 86400 seconds');
  }
  if (timeout < 1 || timeout > 120) {
    problem('Subscription.channel.extension', 'The timeout must be 1 to 120 seconds');
  }
  if (maxCount < 1 || maxCount > 100) {
    problem('Subscription.channel.extension', 'The max count must be 1 to 100');
  }
  const headers = channel?.header ?? [];
  if (headers.some((h) => !/^[A-Za-z0-9-]{1,64}: [\x20-\x7e]{1,1024}$/.test(h))) {
    problem('Subscription.channel.header', 'Each header must be "Name: value" in printable ASCII');
  }
  if (issues.length > 0 || 'problems' in filters) {
    return issues;
  }
  return {
    id,
    partnerId,
    topic,
    filter: filters.filter,
    endpoint,
    headers,
    payload: content as PayloadContent,
    ...(heartbeat ? { heartbeatSeconds: heartbeat } : {}),
    timeoutSeconds: timeout,
    maxCount,
    ...(resource.end ? { end: resource.end } : {}),
    createdAt: now.toISOString(),
  };
}

/** The subscription as the partner reads it back: the R4 resource with its current status. */
export function asSubscriptionResource(
  sub: HubSubscription,
  status: string,
  error: string | undefined,
): Subscription {
  const channelExtensions: Extension[] = [
    ...(sub.heartbeatSeconds
      ? [{ url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: sub.heartbeatSeconds }]
      : []),
    { url: `${BACKPORT}/backport-timeout`, valueUnsignedInt: sub.timeoutSeconds },
    { url: `${BACKPORT}/backport-max-count`, valuePositiveInt: sub.maxCount },
  ];
  const filter = filterCriteria(sub.filter, TOPIC_INFO[sub.topic]?.resourceType ?? 'Resource');
  return {
    resourceType: 'Subscription',
    id: sub.id,
    meta: { profile: [`${BACKPORT}/backport-subscription`] },
    status: status === 'off' ? 'off' : (status as Subscription['status']),
    reason: `${sub.partnerId} follows ${sub.topic}`,
    ...(sub.end ? { end: sub.end } : {}),
    ...(error ? { error } : {}),
    criteria: sub.topic,
    ...(filter
      ? { _criteria: { extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: filter }] } }
      : {}),
    channel: {
      extension: channelExtensions,
      type: 'rest-hook',
      endpoint: sub.endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: sub.payload }] },
      ...(sub.headers.length > 0 ? { header: [...sub.headers] } : {}),
    },
  };
}
