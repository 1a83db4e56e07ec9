/**
 * Issue 15, item 4: two first records for a new person arriving together (an admission with MRN
 * and Medicaid ID, a service plan with the Medicaid ID only) make one Patient, not two. Real HAPI
 * and Redis.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import type { Patient } from 'fhir/r4.js';
import { redisIdentityLock } from '../../../src/ingest/identity-lock.js';
import { resolveParticipant } from '../../../src/ingest/participant-resolver.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { MEDICAID_SYSTEM } from '../../fixtures/ingest/samples.js';
import { REPO_ROOT, redisUrl, testGateway, testRedis, unique } from '../../support/test-env.js';

describe('resolving a new participant from records that arrive together', () => {
  const prefix = testPrefix();
  const redis = testRedis();
  const fhir = testGateway();

  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  it('makes one Patient for two first records with different identifiers', async () => {
    const lock = redisIdentityLock(redis, prefix);
    for (let round = 0; round < 5; round++) {
      const medicaid = { system: MEDICAID_SYSTEM, value: unique('MCD') };
      const mrn = { system: 'https://carecoord.example.org/sid/northside-bh/mrn', value: unique('MRN') };
      const [a, b] = await Promise.all([
        resolveParticipant(fhir, [mrn, medicaid], { resourceType: 'Patient', birthDate: '1970-01-02' }, lock),
        resolveParticipant(fhir, [medicaid], { resourceType: 'Patient', birthDate: '1970-01-02' }, lock),
      ]);
      expect(a.patientId).toBe(b.patientId);
      expect(
        await fhir.search<Patient>('Patient', { identifier: `${medicaid.system}|${medicaid.value}` }),
      ).toHaveLength(1);
    }
  });

  it('finds a known participant by the conditional create though the server would refuse the record as a new Patient', async () => {
    const medicaid = { system: MEDICAID_SYSTEM, value: unique('MCD') };
    const known = await resolveParticipant(fhir, [medicaid], { resourceType: 'Patient' });
    // Demographics the server refuses to parse (400): the create cannot be the lookup then.
    const refused = { resourceType: 'Patient', gender: 'x' } as unknown as Patient;
    const again = await resolveParticipant(fhir, [medicaid], refused, 'held');
    expect(again).toMatchObject({ patientId: known.patientId, created: false });
  });

  it('fails a record while the FHIR server is unreachable without a rejection left unhandled', () => {
    // In a process of its own, as the hub runs (dist/, built for the tests): Node ends a process
    // whose promise rejected with nobody to handle it, and Jest would not show it.
    const script = `
      import { Redis } from 'ioredis';
      import { FhirGateway } from './dist/fhir/fhir-gateway.js';
      import { redisIdentityLock } from './dist/ingest/identity-lock.js';
      import { writeMappedRecord } from './dist/ingest/write-mapped-record.js';
      const fhir = new FhirGateway({
        baseUrl: 'http://127.0.0.1:9/fhir',
        timeoutMs: 2000,
        retry: { retries: 0, baseDelayMs: 10, maxDelayMs: 10 },
        batchReads: true,
      });
      const redis = new Redis(process.env.REDIS_URL);
      const id = 'R-' + Date.now();
      await writeMappedRecord(
        fhir,
        { participant: { identifiers: [{ system: 'urn:test', value: id }] }, writes: [], events: [] },
        { partnerId: 'p', format: 'service-plan', sourceId: id, location: id, receivedAt: new Date().toISOString() },
        'https://carecoord.example.org',
        { identityLock: redisIdentityLock(redis, process.env.PREFIX) },
      ).then(() => console.log('written'), (err) => console.log('refused: ' + err.message));
      await new Promise((resolve) => setTimeout(resolve, 200));
      redis.disconnect();
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, REDIS_URL: redisUrl(), PREFIX: prefix },
      encoding: 'utf8',
      timeout: 30000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^refused: FHIR server unreachable/);
    expect(run.status).toBe(0);
  });
});
