import { describe, expect, it, jest } from '@jest/globals';
import type { Basic, CarePlan, CareTeam, Communication, Patient, Task } from 'fhir/r4.js';
import {
  FhirServerError,
  ResourceNotFoundError,
  VersionConflictError,
} from '../../../src/fhir/fhir-errors.js';
import { FhirGateway, hasErrors, searchUrl, wholeSearchset } from '../../../src/fhir/fhir-gateway.js';
import { CODE_SYSTEM, PROFILE } from '../../../src/fhir/profiles.js';
import { fhirBaseUrl, testGateway, unique } from '../../support/test-env.js';

const fhir = testGateway();
const SID = 'https://carecoord.example.org/sid/test-partner';

function patient(mrn: string): Patient {
  return {
    resourceType: 'Patient',
    identifier: [{ system: `${SID}/patient`, value: mrn }],
    name: [{ family: 'Tester', given: ['Pat'] }],
  };
}

function task(patientId: string, focus: string, extra: Partial<Task> = {}): Task {
  return {
    resourceType: 'Task',
    meta: { profile: [PROFILE.task] },
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: CODE_SYSTEM.taskCode, code: 'acknowledge-plan-change' }] },
    for: { reference: `Patient/${patientId}` },
    focus: { reference: focus },
    restriction: { period: { end: '2026-12-01T17:00:00Z' } },
    ...extra,
  };
}

describe('FhirGateway against the real HAPI server', () => {
  it('writes Patient, CareTeam, CarePlan, Task and Communication, reads them back, and versions the CarePlan', async () => {
    const pat = await fhir.create(patient(unique('mrn')));
    const subject = { reference: `Patient/${pat.id}` };
    await fhir.update({ resourceType: 'Organization', id: 'hcbs-demo', name: 'HCBS demo provider' });
    const org = { reference: 'Organization/hcbs-demo', display: 'HCBS demo provider' };

    const team = await fhir.create<CareTeam>({
      resourceType: 'CareTeam',
      status: 'active',
      subject,
      participant: [
        {
          role: [{ coding: [{ system: CODE_SYSTEM.careTeamRole, code: 'coordinator-of-the-day' }] }],
          member: { display: 'Alex Coordinator' },
          period: { start: '2026-11-22', end: '2026-11-22' },
        },
      ],
    });
    const plan = await fhir.create<CarePlan>({
      resourceType: 'CarePlan',
      meta: { profile: [PROFILE.carePlan] },
      status: 'active',
      intent: 'plan',
      subject,
      author: { display: 'HCBS demo provider' },
      careTeam: [{ reference: `CareTeam/${team.id}` }],
      activity: [{ detail: { status: 'scheduled', performer: [org], description: 'Daily personal care' } }],
    });
    const ack = await fhir.create(task(pat.id!, `CarePlan/${plan.id}`, { owner: org }));
    const note = await fhir.create<Communication>({
      resourceType: 'Communication',
      status: 'completed',
      subject,
      about: [{ reference: `CarePlan/${plan.id}` }],
      payload: [{ contentString: 'Plan updated' }],
    });

    expect((await fhir.read<Patient>('Patient', pat.id!)).identifier?.[0]?.value).toBe(
      pat.identifier?.[0]?.value,
    );
    expect((await fhir.read<CareTeam>('CareTeam', team.id!)).participant).toHaveLength(1);
    expect((await fhir.read<Task>('Task', ack.id!)).owner).toEqual(org);
    expect((await fhir.read<Communication>('Communication', note.id!)).about?.[0]?.reference).toBe(
      `CarePlan/${plan.id}`,
    );

    const v2 = await fhir.update<CarePlan>({ ...plan, description: 'second' });
    const v3 = await fhir.update<CarePlan>({ ...v2, description: 'third' }, { ifMatch: v2.meta!.versionId! });
    expect(v3.meta?.versionId).toBe('3');

    const history = await fhir.history<CarePlan>('CarePlan', plan.id!);
    expect(history.map((v) => v.meta?.versionId)).toEqual(['3', '2', '1']);
    expect(history.map((v) => v.description)).toEqual(['third', 'second', undefined]);
    expect((await fhir.vread<CarePlan>('CarePlan', plan.id!, '2')).description).toBe('second');

    const found = await fhir.search<Task>('Task', { focus: `CarePlan/${plan.id}` });
    expect(found.map((t) => t.id)).toEqual([ack.id]);
  });

  it('lists a version written just after an earlier history read (no cached history count)', async () => {
    const basic = await fhir.create<Basic>({ resourceType: 'Basic', code: { text: 'history, first' } });
    expect(await fhir.history<Basic>('Basic', basic.id!)).toHaveLength(1);
    await fhir.update<Basic>({ ...basic, code: { text: 'history, second' } });
    const versions = await fhir.history<Basic>('Basic', basic.id!);
    expect(versions.map((v) => v.code.text)).toEqual(['history, second', 'history, first']);
  });

  it('makes one resource from a conditional create run twice', async () => {
    const mrn = unique('mrn');
    const query = `identifier=${SID}/patient|${mrn}`;
    const first = await fhir.createIfNoneExist(patient(mrn), query);
    const second = await fhir.createIfNoneExist(patient(mrn), query);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.resource.id).toBe(first.resource.id);
    expect(await fhir.search('Patient', { identifier: `${SID}/patient|${mrn}` })).toHaveLength(1);
  });

  it('upserts by identifier: creates once, then updates the same resource', async () => {
    const mrn = unique('mrn');
    const identifier = { system: `${SID}/patient`, value: mrn };
    const created = await fhir.upsertByIdentifier(patient(mrn), identifier);
    const updated = await fhir.upsertByIdentifier({ ...patient(mrn), gender: 'female' }, identifier);
    expect(created.created).toBe(true);
    expect(updated.created).toBe(false);
    expect(updated.resource.id).toBe(created.resource.id);
    expect(updated.resource.meta?.versionId).toBe('2');
  });

  it('upserts one new identifier from several writers at once: each write lands, one resource results', async () => {
    // Two doors reporting one acknowledgment (the API and the rest-hook) upsert one notice at the
    // same moment; HAPI refuses one of two creates of one search URL at once with a 409.
    for (let round = 0; round < 5; round++) {
      const mrn = unique('mrn');
      const identifier = { system: `${SID}/patient`, value: mrn };
      const writes = await Promise.allSettled(
        [0, 1, 2, 3].map(() => fhir.upsertByIdentifier(patient(mrn), identifier)),
      );
      expect(writes.filter((w) => w.status === 'rejected')).toEqual([]);
      expect(await fhir.search('Patient', { identifier: `${SID}/patient|${mrn}` })).toHaveLength(1);
    }
  });

  it('refuses to upsert a resource by an identifier it does not carry (it would be created anew each time)', async () => {
    const identifier = { system: `${SID}/patient`, value: unique('mrn') };
    await expect(fhir.upsertByIdentifier(patient(unique('mrn')), identifier)).rejects.toThrow(
      /does not carry the identifier/,
    );
    expect(
      await fhir.search('Patient', { identifier: `${identifier.system}|${identifier.value}` }),
    ).toHaveLength(0);
  });

  it('conditionally creates one new resource from several writers at once', async () => {
    for (let round = 0; round < 5; round++) {
      const mrn = unique('mrn');
      const query = `identifier=${SID}/patient|${mrn}`;
      const writes = await Promise.allSettled(
        [0, 1, 2, 3].map(() => fhir.createIfNoneExist(patient(mrn), query)),
      );
      expect(writes.filter((w) => w.status === 'rejected')).toEqual([]);
      expect(await fhir.search('Patient', { identifier: `${SID}/patient|${mrn}` })).toHaveLength(1);
    }
  });

  it('refuses an update with a stale If-Match as a VersionConflictError', async () => {
    const pat = await fhir.create(patient(unique('mrn')));
    await fhir.update({ ...pat, gender: 'male' }, { ifMatch: '1' });
    const stale = fhir.update({ ...pat, gender: 'female' }, { ifMatch: '1' });
    await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
    await expect(fhir.update({ ...pat, gender: 'female' }, { ifMatch: '1' })).rejects.toMatchObject({
      httpStatus: 412,
      code: 'FHIR.VERSION_CONFLICT',
    });
  });

  it('has the server refuse a Task without an owner because of the hub profile', async () => {
    const pat = await fhir.create(patient(unique('mrn')));
    const noOwner = task(pat.id!, `Patient/${pat.id}`);
    const err = await fhir.create(noOwner).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FhirServerError);
    const serverError = err as FhirServerError;
    expect(serverError.httpStatus).toBeGreaterThanOrEqual(400);
    expect(serverError.httpStatus).toBeLessThan(500);
    expect(serverError.message).toMatch(/Task\.owner/);

    const outcome = await fhir.validate(noOwner, PROFILE.task);
    expect(hasErrors(outcome)).toBe(true);
    const valid = await fhir.validate(
      task(pat.id!, `Patient/${pat.id}`, { owner: { display: 'BH clinic' } }),
    );
    expect(hasErrors(valid)).toBe(false);
  });

  it('runs a transaction bundle with conditional entries, idempotently', async () => {
    const mrn = unique('mrn');
    const bundle = {
      resourceType: 'Bundle' as const,
      type: 'transaction' as const,
      entry: [
        {
          fullUrl: 'urn:uuid:5d1c0a4e-0000-4000-8000-000000000001',
          resource: patient(mrn),
          request: {
            method: 'POST' as const,
            url: 'Patient',
            ifNoneExist: `identifier=${SID}/patient|${mrn}`,
          },
        },
        {
          resource: {
            resourceType: 'Communication' as const,
            status: 'completed' as const,
            identifier: [{ system: `${SID}/note`, value: mrn }],
            subject: { reference: 'urn:uuid:5d1c0a4e-0000-4000-8000-000000000001' },
          },
          request: { method: 'PUT' as const, url: `Communication?identifier=${SID}/note|${mrn}` },
        },
      ],
    };
    const first = await fhir.transaction(bundle);
    const second = await fhir.transaction(bundle);
    expect(first.type).toBe('transaction-response');
    expect(first.entry?.map((e) => e.response?.status)).toEqual([
      expect.stringMatching(/^201/),
      expect.stringMatching(/^201/),
    ]);
    expect(second.entry?.[0]?.response?.status).toMatch(/^200/);
    const notes = await fhir.search<Communication>('Communication', { identifier: `${SID}/note|${mrn}` });
    expect(notes).toHaveLength(1);
    expect(notes[0]?.subject?.reference).toMatch(/^Patient\//);
  });

  it('follows next links when a search spans pages', async () => {
    const family = unique('Pager').replace(/-/g, '');
    for (let i = 0; i < 5; i++) {
      await fhir.create<Patient>({ resourceType: 'Patient', name: [{ family }] });
    }
    const onePage = await fhir.searchPage('Patient', { family, _count: 2 });
    expect(onePage.entry).toHaveLength(2);
    const all = await fhir.search<Patient>('Patient', { family, _count: 2 });
    expect(all).toHaveLength(5);
  });

  it('answers a search issued in a batch with every match, though the batch asks the server to keep no pages', async () => {
    const family = unique('Unkept').replace(/-/g, '');
    for (let i = 0; i < 5; i++) {
      await fhir.create<Patient>({ resourceType: 'Patient', name: [{ family }] });
    }
    const calls = jest.spyOn(FhirGateway.prototype as unknown as { call: () => unknown }, 'call');
    const [all, page, firstOnly, unnamed] = await Promise.all([
      fhir.search<Patient>('Patient', { family, _count: 2 }),
      fhir.searchPage('Patient', { family, _count: 2 }),
      fhir.searchPage('Patient', { family, _count: 2 }, { firstPageOnly: true }),
      fhir.search<Patient>('Patient', { family }),
    ]);
    const labels = calls.mock.calls.map((c) => (c as unknown as [{ label: string }])[0].label);
    calls.mockRestore();
    expect(all).toHaveLength(5);
    expect(page.entry).toHaveLength(2);
    expect(page.link?.some((l) => l.relation === 'next')).toBe(true);
    expect(firstOnly.entry).toHaveLength(2);
    expect(unnamed).toHaveLength(5);
    // The two that asked for every match, or a next link, were asked again alone, where they page.
    expect(labels.slice(0, 3)).toEqual([
      'POST batch (4 reads)',
      'GET Patient?family&_count',
      'GET Patient?family&_count',
    ]);
  });

  it("answers a transaction's searches unkept: a page as long as the search's _count is not taken as all matches", async () => {
    const family = unique('Unkept').replace(/-/g, '');
    const two = { resourceType: 'Patient', params: { family, _count: 2 } };
    const ten = { resourceType: 'Patient', params: { family, _count: 10 } };
    const answer = await fhir.transaction({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        ...Array.from({ length: 3 }, () => ({
          resource: { resourceType: 'Patient' as const, name: [{ family }] },
          request: { method: 'POST' as const, url: 'Patient' },
        })),
        { request: { method: 'GET', url: searchUrl(two) } },
        { request: { method: 'GET', url: searchUrl(ten) } },
      ],
    });
    expect(wholeSearchset(answer.entry?.[3]?.resource, two)).toBeUndefined();
    expect(wholeSearchset(answer.entry?.[4]?.resource, ten)).toHaveLength(3);
  });

  it('answers reads issued together, sent as one batch, exactly as the same reads sent alone', async () => {
    const mrn = unique('mrn');
    const pat = await fhir.create(patient(mrn));
    await fhir.update<Patient>({ ...pat, active: true });
    const reads = (gateway: FhirGateway) => [
      gateway.read<Patient>('Patient', pat.id!),
      gateway.vread<Patient>('Patient', pat.id!, '1'),
      gateway.search<Patient>('Patient', { identifier: `${SID}/patient|${mrn}` }),
      gateway.searchPage('Patient', { identifier: `${SID}/patient|${mrn}`, _summary: 'count' }),
      gateway.readIfPresent<Patient>('Patient', `${pat.id}-none`),
      gateway.read<Patient>('Patient', `${pat.id}-none`),
      gateway.search('Patient', { 'no-such-parameter': 'x' }),
    ];
    const outcome = (r: PromiseSettledResult<unknown>) =>
      r.status === 'fulfilled'
        ? JSON.stringify(r.value, (k, v: unknown) =>
            k === 'id' && typeof v === 'string' && v.length === 36
              ? '<bundle id>'
              : k === 'lastUpdated' || k === 'link'
                ? undefined
                : v,
          )
        : `${(r.reason as Error).constructor.name} ${(r.reason as FhirServerError).httpStatus}`;
    const batch = jest.spyOn(FhirGateway.prototype as unknown as { call: () => unknown }, 'call');
    const together = (await Promise.allSettled(reads(fhir))).map(outcome);
    const labels = batch.mock.calls.map((c) => (c as unknown as [{ label: string }])[0].label);
    batch.mockRestore();
    expect(labels).toEqual(['POST batch (7 reads)']);
    const alone = new FhirGateway({ baseUrl: fhirBaseUrl(), retry: { retries: 0 } });
    expect(together).toEqual((await Promise.allSettled(reads(alone))).map(outcome));
    expect(together[1]).toContain('"versionId":"1"');
    expect(together.slice(4, 7)).toEqual([
      undefined,
      `${ResourceNotFoundError.name} 404`,
      `${FhirServerError.name} 400`,
    ]);
  });
});
