import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Patient } from 'fhir/r4.js';
import { FhirServerError, FhirUnreachableError } from '../../../src/fhir/fhir-errors.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { fhirBaseUrl, freePort, testGateway, unique } from '../../support/test-env.js';

/** Real HAPI behind a proxy that injects 503s and dropped connections. */
describe('FhirGateway retries', () => {
  const proxy = new FaultProxy(fhirBaseUrl());
  let baseUrl: string;

  beforeAll(async () => {
    baseUrl = await proxy.start();
  });
  afterAll(() => proxy.stop());

  const patient = (): Patient => ({
    resourceType: 'Patient',
    identifier: [{ system: 'https://carecoord.example.org/sid/retry-test/patient', value: unique('p') }],
  });

  it('retries a 503 and a dropped connection, then succeeds', async () => {
    const fhir = testGateway(baseUrl, 3);
    const pat = await fhir.create(patient());
    proxy.seen.length = 0;
    proxy.inject({ kind: 'status', status: 503 }, { kind: 'reset' });
    const read = await fhir.read<Patient>('Patient', pat.id!);
    expect(read.id).toBe(pat.id);
    expect(proxy.seen).toHaveLength(3);
  });

  it('does not retry a 400: the request itself is wrong', async () => {
    const fhir = testGateway(baseUrl, 3);
    proxy.seen.length = 0;
    const bad = { resourceType: 'Patient', gender: 'not-a-gender' } as unknown as Patient;
    await expect(fhir.create(bad)).rejects.toMatchObject({ httpStatus: 400 });
    expect(proxy.seen).toHaveLength(1);
  });

  it('gives up after its retries with a transient error', async () => {
    const fhir = testGateway(baseUrl, 2);
    proxy.seen.length = 0;
    proxy.inject(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503 })));
    const err = await fhir.read('Patient', 'anything').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirServerError);
    expect((err as FhirServerError).transient).toBe(true);
    expect(proxy.seen).toHaveLength(3);
  });

  it('does not resend a plain create whose connection dropped after sending, but does when refused', async () => {
    const fhir = testGateway(baseUrl, 3);
    proxy.seen.length = 0;
    proxy.inject({ kind: 'reset' });
    await expect(fhir.create(patient())).rejects.toBeInstanceOf(FhirUnreachableError);
    expect(proxy.seen).toHaveLength(1);

    const refused = testGateway(`http://127.0.0.1:${await freePort()}/fhir`, 2);
    const err = await refused.create(patient()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirUnreachableError);
    expect((err as FhirUnreachableError).maybeSent).toBe(false);
  });
});
