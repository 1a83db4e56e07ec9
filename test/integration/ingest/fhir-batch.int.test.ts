/**
 * Issue 16: a transaction or batch sent to the hub's FHIR base (`POST /fhir`) is answered as FHIR
 * defines it: a `transaction-response` or `batch-response` with each entry's status and location,
 * an OperationOutcome for a transaction refused.
 */
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Bundle, CapabilityStatement, OperationOutcome } from 'fhir/r4.js';
import { readFhirXml, writeFhirXml } from '../../../src/fhir/fhir-xml.js';
import { useTestHub } from '../../fixtures/ingest/hub-helpers.js';
import { unique } from '../../support/test-env.js';
import { ehrVisitEntries } from '../../fixtures/ingest/samples.js';

describe('POST /fhir: transactions and batches at the FHIR base', () => {
  const hub = useTestHub();

  const send = (bundle: object, partner = 'northside-bh') =>
    request(hub().url)
      .post('/fhir')
      .set('content-type', 'application/fhir+json')
      .set('x-partner-id', partner)
      .send(JSON.stringify(bundle));

  it('answers a batch entry by entry: the good ones created with their location, the bad one refused with why', async () => {
    const entries = [
      ...ehrVisitEntries(unique('mrn'), unique('v')),
      // A POST with no identifier, conditional URL or fullUrl has no identity across resends.
      {
        resource: { resourceType: 'Encounter', status: 'finished', subject: { reference: 'Patient/x' } },
        request: { method: 'POST', url: 'Encounter' },
      },
      {
        resource: {
          resourceType: 'Claim',
          identifier: [{ system: 'https://ehr.example.org/c', value: 'C-1' }],
        },
        request: { method: 'POST', url: 'Claim' },
      },
    ];
    const answer = await send({ resourceType: 'Bundle', type: 'batch', entry: entries });
    expect(answer.status).toBe(200);
    const bundle = answer.body as Bundle;
    expect(bundle.type).toBe('batch-response');
    const responses = bundle.entry!.map((e) => e.response!);
    expect(responses.map((r) => r.status)).toEqual([
      '200 OK',
      '201 Created',
      '422 Unprocessable Entity',
      '200 OK',
    ]);
    expect(responses[0]!.location).toMatch(/^Patient\/[\w-]+$/);
    expect(responses[1]!.location).toMatch(/^Encounter\/[\w-]+\/_history\/1$/);
    expect((responses[2]!.outcome as OperationOutcome).issue[0]!.location).toEqual([
      'Bundle.entry[2].resource.identifier',
    ]);
    expect((responses[3]!.outcome as OperationOutcome).issue[0]!.diagnostics).toMatch(/\(Claim\): skipped/);
    const encounter = await hub().fhir.read('Encounter', responses[1]!.location!.split('/')[1]!);
    expect(encounter.resourceType).toBe('Encounter');
  });

  it('answers a transaction applied whole with a transaction-response, and one refused with an OperationOutcome', async () => {
    const applied = await send({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: ehrVisitEntries(unique('mrn'), unique('v')),
    });
    expect(applied.status).toBe(200);
    expect((applied.body as Bundle).type).toBe('transaction-response');
    expect((applied.body as Bundle).entry!.map((e) => e.response!.status)).toEqual(['200 OK', '201 Created']);

    const refused = await send({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        ...ehrVisitEntries(unique('mrn'), unique('v')),
        { request: { method: 'DELETE', url: 'CarePlan/1' } },
      ],
    });
    expect(refused.status).toBe(422);
    expect((refused.body as OperationOutcome).issue?.[0]?.location).toEqual([
      'Bundle.entry[2].request.method',
    ]);
  });

  it('takes the Bundle in XML and answers in XML', async () => {
    const xml = writeFhirXml({
      resourceType: 'Bundle',
      type: 'batch',
      entry: ehrVisitEntries(unique('mrn'), unique('v')),
    });
    const answer = await request(hub().url)
      .post('/fhir')
      .set('content-type', 'application/fhir+xml')
      .set('x-partner-id', 'northside-bh')
      .send(xml);
    expect({ status: answer.status, type: answer.type }).toEqual({
      status: 200,
      type: 'application/fhir+xml',
    });
    const read = readFhirXml(answer.text);
    const bundle = ('resource' in read ? read.resource : {}) as unknown as Bundle;
    expect(bundle.entry?.map((e) => e.response?.status)).toEqual(['200 OK', '201 Created']);
  });

  it('refuses a Bundle that names no sender, or is not a transaction or batch', async () => {
    const anonymous = await request(hub().url)
      .post('/fhir')
      .set('content-type', 'application/fhir+json')
      .send(JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [] }));
    expect(anonymous.status).toBe(401);
    const collection = await send({ resourceType: 'Bundle', type: 'searchset', entry: [] });
    expect(collection.status).toBe(400);
  });

  it('describes what it serves in a CapabilityStatement at /fhir/metadata, in JSON or XML', async () => {
    const json = await request(hub().url).get('/fhir/metadata');
    expect(json.status).toBe(200);
    expect((json.body as CapabilityStatement).rest?.[0]?.interaction?.map((i) => i.code)).toEqual([
      'transaction',
      'batch',
    ]);
    const xml = await request(hub().url).get('/fhir/metadata?_format=xml');
    expect(xml.type).toBe('application/fhir+xml');
    expect(xml.text).toContain('<operation><name value="process-message"/>');
  });
});
