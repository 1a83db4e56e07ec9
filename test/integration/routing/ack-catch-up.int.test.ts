/**
 * An acknowledgment a partner makes directly on the FHIR server reaches the hub even when the
 * rest-hook notification never comes (the hub was down, the server dropped it): the history scan
 * finds the Task and records the step, as the rest-hook would have.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CarePlan, Communication, Patient, Task } from 'fhir/r4.js';
import path from 'node:path';
import { loadPartners } from '../../../src/config/partners.js';
import { ensurePartnerOrganizations } from '../../../src/fhir/partner-organizations.js';
import { hubIdentifier } from '../../../src/fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';
import { ackTaskIdentifier } from '../../../src/routing/acknowledge.js';
import { catchUpAcknowledgments } from '../../../src/routing/catch-up.js';
import { DeliveryStatusStore } from '../../../src/routing/delivery-status.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { REPO_ROOT, testGateway, testRedis, unique } from '../../support/test-env.js';
import type { RedisClient } from '../../../src/queues/connection.js';

const BASE = 'https://carecoord.example.org';

describe('acknowledgment catch-up', () => {
  const prefix = testPrefix();
  const fhir = testGateway();
  let redis: RedisClient;

  beforeAll(async () => {
    redis = testRedis();
    const partners = await loadPartners(path.join(REPO_ROOT, 'config/partners'));
    await ensurePartnerOrganizations(fhir, partners.all(), BASE);
  });

  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  it('records an acknowledgment completed on the FHIR server that no notification reported', async () => {
    const status = new DeliveryStatusStore(redis, prefix);
    const deps = { fhir, identifierBase: BASE, status, now: () => new Date() };
    const patient = await fhir.create<Patient>({
      resourceType: 'Patient',
      identifier: [{ system: `${BASE}/sid/medicaid`, value: unique('mcd') }],
    });
    const plan = await fhir.create<CarePlan>({
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: `Patient/${patient.id}` },
      author: { reference: 'Organization/sunrise-hcbs' },
    });
    const task = await fhir.create<Task>({
      resourceType: 'Task',
      identifier: [ackTaskIdentifier(BASE, 'northside-bh', plan.id!, '1')],
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: CODE_SYSTEM.taskCode, code: 'acknowledge-plan-change' }] },
      for: { reference: `Patient/${patient.id}` },
      focus: { reference: `CarePlan/${plan.id}/_history/1` },
      basedOn: [{ reference: `CarePlan/${plan.id}` }],
      owner: { reference: 'Organization/northside-bh' },
    });
    expect(await catchUpAcknowledgments(deps, redis, prefix)).toBe(0); // the first scan sets the checkpoint

    await fhir.update<Task>({ ...task, status: 'completed' });
    await catchUpAcknowledgments(deps, redis, prefix);

    const [loop] = await status.list(plan.id!, '1');
    expect(loop).toMatchObject({ partnerId: 'northside-bh', state: 'completed' });
    const notice = await fhir.search<Communication>('Communication', {
      identifier: `${hubIdentifier(BASE, 'ack-notice', task.id!).system}|${task.id}`,
    });
    expect(notice[0]?.recipient).toEqual([{ reference: 'Organization/sunrise-hcbs' }]);
  });
});
