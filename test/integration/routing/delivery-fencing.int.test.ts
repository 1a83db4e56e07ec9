/**
 * The per-plan delivery lock is a lease: a process stalled past it (a blocked event loop, Redis
 * away) goes on while another replica takes the plan. The version marks themselves must then keep
 * the order: an older version is never sent, and the marks never move back.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Job } from 'bullmq';
import type { CarePlan, Communication, Patient } from 'fhir/r4.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCoordinationConfig } from '../../../src/coordination/coordination-config.js';
import { loadPartners } from '../../../src/config/partners.js';
import { ensurePartnerOrganizations } from '../../../src/fhir/partner-organizations.js';
import { createLogger } from '../../../src/logging/logger.js';
import { CircuitBreaker } from '../../../src/outbound/circuit-breaker.js';
import type { DeliveryRequest } from '../../../src/routing/deliver-plan-change.js';
import { processDeliveryJob } from '../../../src/routing/deliveries.queue.js';
import { DeliveryStatusStore } from '../../../src/routing/delivery-status.js';
import type { RoutingDeps } from '../../../src/routing/routing-deps.js';
import { WithheldDeliveries } from '../../../src/routing/withheld-deliveries.js';
import { PlanContentCache } from '../../../src/routing/plan-content.js';
import { DisclosureBacklog } from '../../../src/security/disclosures.queue.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { PartnerServer } from '../../support/partner-server.js';
import { REPO_ROOT, testGateway, testRedis, unique } from '../../support/test-env.js';
import { storeKeyPrefix, type RedisClient } from '../../../src/queues/connection.js';

const SECRET = 'fencing-test-secret';

describe('delivery marks under a lapsed lock', () => {
  const prefix = testPrefix();
  const partner = new PartnerServer('webhook', SECRET);
  const fhir = testGateway();
  let redis: RedisClient;
  let deps: RoutingDeps;

  beforeAll(async () => {
    redis = testRedis();
    const dir = mkdtempSync(path.join(tmpdir(), 'fencing-'));
    writeFileSync(
      path.join(dir, 'f-partner.yaml'),
      [
        'id: f-partner',
        'name: Fencing partner',
        'kind: other',
        'inbound:',
        '  formats: []',
        'outbound:',
        '  transport: webhook',
        `  url: ${await partner.start()}`,
        '  receives: [plan-change]',
        '  secretEnv: FENCING_TEST_SECRET',
      ].join('\n') + '\n',
    );
    const partners = await loadPartners(dir, { FENCING_TEST_SECRET: SECRET });
    await ensurePartnerOrganizations(fhir, partners.all(), 'https://carecoord.example.org');
    deps = {
      fhir,
      partners,
      identifierBase: 'https://carecoord.example.org',
      coordination: await loadCoordinationConfig(
        path.join(REPO_ROOT, 'config/coordination'),
        path.join(REPO_ROOT, 'profiles'),
        await loadPartners(path.join(REPO_ROOT, 'config/partners')),
      ),
      logger: createLogger('silent'),
      redis,
      prefix,
      status: new DeliveryStatusStore(redis, prefix),
      circuit: new CircuitBreaker(redis, prefix),
      withheld: new WithheldDeliveries(redis, prefix),
      content: new PlanContentCache(redis, prefix),
      disclosures: new DisclosureBacklog(redis, prefix),
      now: () => new Date(),
      enqueueDelivery: async () => undefined,
      enqueuePlanRecord: async () => undefined,
      scheduleAckDeadline: async () => undefined,
      queueDisclosures: async () => undefined,
      enqueueEscalation: async () => undefined,
    };
  });

  afterAll(async () => {
    await partner.stop();
    redis.disconnect();
    await dropPrefix(prefix);
  });

  /** A plan with `versions` versions on the server, and the request delivering `version` of it. */
  async function planWithVersions(versions: number, version: string): Promise<DeliveryRequest> {
    const patient = await fhir.create<Patient>({
      resourceType: 'Patient',
      identifier: [{ system: 'https://carecoord.example.org/sid/medicaid', value: unique('mcd') }],
    });
    let plan = await fhir.create<CarePlan>({
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: `Patient/${patient.id}` },
      description: 'version 1',
    });
    for (let v = 2; v <= versions; v++) {
      plan = await fhir.update<CarePlan>({ ...plan, description: `version ${v}` });
    }
    const notice = await fhir.create<Communication>({
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: `Patient/${patient.id}` },
    });
    return {
      partnerId: 'f-partner',
      carePlanId: plan.id!,
      version,
      notice: `Communication/${notice.id}`,
      patient: `Patient/${patient.id}`,
      altersDelivery: true,
    };
  }

  function job(req: DeliveryRequest): Job<DeliveryRequest> {
    return {
      id: unique('job'),
      data: req,
      attemptsMade: 0,
      opts: { attempts: 3 },
      log: async () => 0,
      moveToDelayed: async () => undefined,
    } as unknown as Job<DeliveryRequest>;
  }

  it('does not send an older version once another process has claimed a newer one', async () => {
    const req = await planWithVersions(5, '4');
    const sentKey = `${storeKeyPrefix(redis, prefix, 'delivery-marks')}:sent:f-partner:${req.carePlanId}`;
    // Between this process reading the marks and sending, another replica (its lease lapsed here)
    // claims version 5 of the same plan for the same partner.
    const stalled = Object.create(redis) as RedisClient;
    stalled.mget = (async (...keys: string[]) => {
      const marks = await redis.mget(...keys);
      await redis.set(sentKey, '5');
      return marks;
    }) as RedisClient['mget'];

    const result = await processDeliveryJob({ ...deps, redis: stalled }, 5000)(job(req), 'token');
    expect(result.status).toBe('superseded');
    expect(partner.arrivals.filter((a) => a.carePlan === `CarePlan/${req.carePlanId}`)).toEqual([]);
    expect(await redis.get(sentKey)).toBe('5');
  });

  it('never moves the delivered mark back', async () => {
    const req = await planWithVersions(4, '4');
    const deliveredKey = `${storeKeyPrefix(redis, prefix, 'delivery-marks')}:delivered:f-partner:${req.carePlanId}`;
    // Version 5 was delivered by another replica while this one was sending version 4.
    const racing = Object.create(redis) as RedisClient;
    racing.mget = (async (...keys: string[]) => {
      const marks = await redis.mget(...keys);
      partner.script = () => {
        void redis.set(deliveredKey, '5');
        return { acceptAfterMs: 200 };
      };
      return marks;
    }) as RedisClient['mget'];
    await processDeliveryJob({ ...deps, redis: racing }, 5000)(job(req), 'token');
    partner.script = () => undefined;
    expect(await redis.get(deliveredKey)).toBe('5');
  });
});
