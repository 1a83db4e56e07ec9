import express, { Router, type Request, type Response } from 'express';
import type { Bundle, Subscription } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import type { PartnerRegistry } from '../../config/partners.js';
import { HubError, InvalidInputError } from '../../errors/hub-error.js';
import { notificationBundle, statusParameters } from '../../subscriptions/notification-bundle.js';
import { TOPIC_INFO } from '../../subscriptions/topics.js';
import type { SubscriptionStore } from '../../subscriptions/subscription-store.js';
import {
  asSubscriptionResource,
  readSubscriptionRequest,
  type HubSubscription,
} from '../../subscriptions/subscription-request.js';
import { readFhirBody, sendFhir } from '../fhir-format.js';
import { callingPartner } from '../middleware/partner-auth.js';

export interface SubscriptionRouteDeps {
  readonly store: SubscriptionStore;
  readonly partners: PartnerRegistry;
  /** The hub's FHIR base as partners reach it (`<public URL>/fhir`). */
  readonly fhirBase: string;
  readonly now: () => Date;
  startNotifying(sub: HubSubscription): Promise<void>;
  stopNotifying(id: string): Promise<void>;
}

const ID = '([A-Za-z0-9-]{1,64})';

/**
 * Topic-based subscriptions (Subscriptions R5 Backport IG, R4; README, "Subscriptions"):
 * `GET /fhir/Subscription/$topic-list`, `POST /fhir/Subscription`, and per subscription `GET`,
 * `DELETE`, `$status` and `$events`. A partner sees and ends only its own subscriptions.
 */
export function subscriptionRoutes(deps: SubscriptionRouteDeps): Router {
  const router = Router();
  const body = express.raw({ type: () => true, limit: '64kb' });

  router.get(/^\/fhir\/Subscription\/\$topic-list$/, (req, res) => {
    sendFhir(req, res, 200, {
      resourceType: 'Parameters',
      parameter: Object.keys(TOPIC_INFO).map((url) => ({
        name: 'subscription-topic-canonical',
        valueCanonical: url,
      })),
    });
  });

  router.post(/^\/fhir\/Subscription\/?$/, body, async (req, res) => {
    const partnerId = callingPartner(req, res);
    const partner = deps.partners.get(partnerId);
    const origins = partner?.outbound?.url ? [new URL(partner.outbound.url).origin] : [];
    const resource = readFhirBody(
      Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    ) as unknown as Subscription;
    const read = readSubscriptionRequest(resource, partnerId, origins, randomUUID(), deps.now());
    if (Array.isArray(read)) {
      throw new InvalidInputError('The Subscription cannot be accepted', read);
    }
    await deps.store.create(read);
    await deps.startNotifying(read);
    res.set('Location', `${deps.fhirBase}/Subscription/${read.id}`);
    sendFhir(req, res, 201, asSubscriptionResource(read, 'requested', undefined));
  });

  router.get(new RegExp(`^/fhir/Subscription/${ID}$`), async (req, res) => {
    const sub = await own(deps, req, res);
    const { status, error } = await deps.store.status(sub.id);
    sendFhir(req, res, 200, asSubscriptionResource(sub, status, error));
  });

  router.delete(new RegExp(`^/fhir/Subscription/${ID}$`), async (req, res) => {
    const sub = await own(deps, req, res);
    await deps.stopNotifying(sub.id);
    await deps.store.remove(sub.id);
    res.status(204).end();
  });

  router.get(new RegExp(`^/fhir/Subscription/${ID}/\\$status$`), async (req, res) => {
    const sub = await own(deps, req, res);
    const { status, error } = await deps.store.status(sub.id);
    const parameters = statusParameters(
      {
        subscriptionUrl: `${deps.fhirBase}/Subscription/${sub.id}`,
        topic: sub.topic,
        status,
        eventsSinceStart: await deps.store.eventsSinceStart(sub.id),
        ...(error ? { error } : {}),
      },
      'query-status',
    );
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: 1,
      entry: [{ resource: parameters }],
    };
    sendFhir(req, res, 200, bundle);
  });

  // Replays past events by number from the hub's log, so a subscriber that was down catches up.
  router.get(new RegExp(`^/fhir/Subscription/${ID}/\\$events$`), async (req, res) => {
    const sub = await own(deps, req, res);
    const since = eventNumber(req.query.eventsSinceNumber, 'eventsSinceNumber') ?? 1;
    const until = eventNumber(req.query.eventsUntilNumber, 'eventsUntilNumber') ?? Infinity;
    const { status } = await deps.store.status(sub.id);
    const events = await deps.store.events(sub.id, since, until, 1000);
    const of = {
      subscriptionUrl: `${deps.fhirBase}/Subscription/${sub.id}`,
      topic: sub.topic,
      status,
      eventsSinceStart: await deps.store.eventsSinceStart(sub.id),
    };
    // Replays carry ids: the subscriber reads each resource as itself, through the usual read.
    sendFhir(req, res, 200, notificationBundle(of, 'query-event', events, 'id-only', deps.fhirBase));
  });

  return router;
}

/** The caller's own subscription; another partner's is not found (its existence is not told). */
async function own(deps: SubscriptionRouteDeps, req: Request, res: Response): Promise<HubSubscription> {
  const partnerId = callingPartner(req, res);
  const id = (req.params as Record<string, string>)[0] ?? '';
  const sub = await deps.store.get(id);
  if (!sub || sub.partnerId !== partnerId) {
    throw new HubError('SUBSCRIPTION.NOT_FOUND', `No Subscription/${id} of ${partnerId}`, {
      status: 404,
      issues: [{ severity: 'error', code: 'not-found', diagnostics: `No Subscription/${id}` }],
    });
  }
  return sub;
}

function eventNumber(value: unknown, name: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new InvalidInputError(`${name} must be an event number`);
  }
  return Number(value);
}
