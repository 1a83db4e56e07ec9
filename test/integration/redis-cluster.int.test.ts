import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CarePlan, CareTeam, Patient } from 'fhir/r4.js';
import request from 'supertest';
import { hubIdentifier } from '../../src/fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../../src/fhir/profiles.js';
import { createLogger } from '../../src/logging/logger.js';
import { createRedisConnection, serversOf } from '../../src/queues/connection.js';
import { startHub, type RunningHub } from '../../src/startup/start-hub.js';
import { byIdentifier, eventually, ingest } from '../fixtures/ingest/hub-helpers.js';
import { MEDICAID_SYSTEM, newPerson, servicePlan } from '../fixtures/ingest/samples.js';
import { partnerDir } from '../support/config-dirs.js';
import { PartnerServer } from '../support/partner-server.js';
import { RedisClusterServers } from '../support/redis-cluster.js';
import { testConfig, unique } from '../support/test-env.js';

const IDENTIFIER_BASE = 'https://carecoord.example.org';

/**
 * The hub on a Redis Cluster of three masters of the test's own (scripts/redis-cluster), with
 * real HAPI: a plan change reaches two partners, the queues are spread over the masters, and a
 * master killed and started again loses nothing. README "Redis Cluster".
 */
describe('the hub on a Redis Cluster', () => {
  let cluster: RedisClusterServers;
  const receivers = {
    'k-rest': new PartnerServer('fhir-rest'),
    'k-message': new PartnerServer('fhir-message'),
  };
  const prefix = `{${unique('cluster')}}`;
  let hub: RunningHub;

  beforeAll(async () => {
    cluster = await RedisClusterServers.onFreePorts();
    await cluster.start();
    const outbound = (url: string) => (p: { outbound: Record<string, unknown> }) => {
      p.outbound = { ...p.outbound, url, maxAttempts: 20, backoffMs: 200 };
    };
    const partners = partnerDir({
      'northside-bh': outbound(await receivers['k-rest'].start()),
      'harbor-housing': outbound(await receivers['k-message'].start()),
      'sunrise-hcbs': (p: Record<string, unknown>) => delete p.outbound,
    });
    hub = await startHub(
      testConfig({
        REDIS_CLUSTER: 'true',
        REDIS_URL: cluster.url,
        QUEUE_PREFIX: prefix,
        PARTNER_CONFIG_DIR: partners,
      }),
      createLogger('silent'),
    );
  }, 120_000);

  afterAll(async () => {
    await hub?.close();
    await Promise.all(Object.values(receivers).map((r) => r.stop()));
    await cluster?.stop();
  }, 120_000);

  async function participant(): Promise<Patient> {
    const patient = await hub.fhir.create<Patient>({
      resourceType: 'Patient',
      identifier: [{ system: `${IDENTIFIER_BASE}/sid/medicaid`, value: unique('mcd') }],
    });
    await hub.fhir.create<CareTeam>({
      resourceType: 'CareTeam',
      identifier: [hubIdentifier(IDENTIFIER_BASE, 'care-team', patient.id!)],
      status: 'active',
      subject: { reference: `Patient/${patient.id}` },
      participant: ['sunrise-hcbs', 'northside-bh', 'harbor-housing'].map((id) => ({
        role: [{ coding: [{ system: CODE_SYSTEM.careTeamRole, code: 'care-manager' }] }],
        member: { reference: `Organization/${id}` },
      })),
    });
    return patient;
  }

  function plan(patient: Patient, description: string): CarePlan {
    return {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: `Patient/${patient.id}` },
      author: { reference: 'Organization/sunrise-hcbs' },
      activity: [{ detail: { status: 'scheduled', description } }],
    };
  }

  /** Waits until both partners have the version, and counts each one's raw receipts of it. */
  async function delivered(planId: string, version: string): Promise<number[]> {
    await eventually(async () => {
      const states = (await request(hub.url).get(`/careplans/${planId}/versions/${version}/deliveries`))
        .body as Array<{ state: string }>;
      return states.length === 2 && states.every((d) => d.state === 'delivered');
    }, 90_000);
    return Object.values(receivers).map(
      (r) => r.received.filter((x) => x.body.includes(`CarePlan/${planId}`) && x.version === version).length,
    );
  }

  it('delivers a plan change to each partner once, each queue and store in a slot of its own', async () => {
    const ready = await request(hub.url).get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      dependencies: { redis: { status: 'up', persistence: 'aof (appendfsync always)' } },
    });

    const patient = await participant();
    const carePlan = await hub.fhir.create(plan(patient, 'Meals delivered twice a week'));
    expect(await delivered(carePlan.id!, '1')).toEqual([1, 1]);

    // Where the keys are: each queue and each store of the hub's own keys (delivery marks and
    // status, captured versions, throughput) in a slot of its own, what is left in the prefix's
    // (which master holds a slot is the cluster's choice; with three masters they spread).
    const redis = createRedisConnection({ url: cluster.url, cluster: true }, 'worker');
    try {
      await redis.connect();
      const keys = (await Promise.all(serversOf(redis).map((m) => m.keys(`${prefix.slice(0, -1)}*`)))).flat();
      const slotOf = async (key: string): Promise<number> => Number(await redis.cluster('KEYSLOT', key));
      const tagOf = (key: string): string => key.slice(0, key.indexOf('}') + 1);
      const own = (name: string): string => `{${prefix.slice(1, -1)}:${name}}`;
      const tags = [...new Set(keys.map(tagOf))].filter((t) => t !== prefix);
      const stores = ['delivery-marks', 'delivery-status', 'plan-content', 'throughput'].map(own);
      const queues = tags.filter((t) => !stores.includes(t));
      expect(tags).toEqual(expect.arrayContaining(stores));
      expect(queues).toEqual(
        expect.arrayContaining(
          ['plan-changes', 'deliveries-northside-bh', 'deliveries-harbor-housing'].map(own),
        ),
      );
      // Spread over the slots: two of 16,384 may coincide by chance, not more.
      const slots = new Set(await Promise.all([prefix, ...tags].map(slotOf)));
      expect(slots.size).toBeGreaterThanOrEqual(tags.length);
    } finally {
      redis.disconnect();
    }
  }, 120_000);

  // Every master killed and started again in turn, with the ingest queue idle throughout: its
  // worker's blocking read was in flight on a master that went away (README "Redis Cluster").
  it('carries on after each master is killed and started again on its files, idle queues included', async () => {
    const patient = await participant();
    const carePlan = await hub.fhir.create(plan(patient, 'Personal care daily'));
    expect(await delivered(carePlan.id!, '1')).toEqual([1, 1]);
    for (const node of [1, 2, 3]) {
      await cluster.restart(500, node);
    }
    const version2 = await hub.fhir.update<CarePlan>({
      ...carePlan,
      description: 'Personal care twice daily',
    });
    expect(await delivered(carePlan.id!, version2.meta!.versionId!)).toEqual([1, 1]);
    // Nothing was sent twice around the restarts: still one receipt of version 1 each.
    expect(await delivered(carePlan.id!, '1')).toEqual([1, 1]);
    // The ingest queue had nothing to do since the hub started: its worker still takes a record.
    const person = newPerson();
    const answer = await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person));
    expect([200, 202]).toContain(answer.status);
    await eventually(
      async () => (await byIdentifier(hub.fhir, 'Patient', MEDICAID_SYSTEM, person.medicaid)).length === 1,
      90_000,
      'the record sent after the restarts applied',
    );
    // Time for three restarts on a loaded machine (each waits for the cluster to be whole again).
  }, 240_000);
});
