/**
 * The writer and the participant's shared care team, on real HAPI: two agencies' records for one
 * participant written at the same moment, before it has a team, both end up on the one team (the
 * writes are held at their transaction until both have read the missing team, then sent one after
 * the other); and a record for a known participant finds its team with the participant, in one
 * batch, and hands the team it left to the rules.
 */
import { describe, expect, it } from '@jest/globals';
import type { CareTeam, Identifier, Patient } from 'fhir/r4.js';
import { FhirServerError } from '../../../src/fhir/fhir-errors.js';
import type { FhirGateway } from '../../../src/fhir/fhir-gateway.js';
import { tokenOf } from '../../../src/fhir/hub-identifiers.js';
import { writeMappedRecord, type SourceRecord } from '../../../src/ingest/write-mapped-record.js';
import type { MappedRecord } from '../../../src/mappers/types.js';
import { IDENTIFIER_BASE } from '../../fixtures/ingest/samples.js';
import { testGateway, unique } from '../../support/test-env.js';

/** `fhir` with one of its methods replaced (`original` is the gateway's own). */
function replacing<K extends 'search' | 'transaction'>(
  fhir: FhirGateway,
  method: K,
  make: (original: FhirGateway[K]) => FhirGateway[K],
): FhirGateway {
  const replaced = make(fhir[method].bind(fhir) as FhirGateway[K]);
  return new Proxy(fhir, {
    get(target, prop, receiver) {
      if (prop === method) {
        return replaced;
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A gateway whose first `n` transactions wait until all `n` have been asked for, then go one after
 * the other: each writer has read what it read before any of them wrote.
 */
function heldAtTransaction(fhir: FhirGateway, n: number): FhirGateway {
  let waiting = 0;
  let release!: () => void;
  let queue: Promise<unknown> = new Promise<void>((resolve) => (release = resolve));
  return replacing(fhir, 'transaction', (send) => (bundle, opts) => {
    if (waiting >= n) {
      return send(bundle, opts);
    }
    waiting += 1;
    if (waiting === n) {
      release();
    }
    const turn = queue.then(() => send(bundle, opts));
    queue = turn.catch(() => undefined);
    return turn;
  });
}

function joining(identifiers: Identifier[], partnerId: string, role: string): MappedRecord {
  return {
    participant: {
      identifiers,
      demographics: { resourceType: 'Patient', identifier: identifiers, birthDate: '1970-01-01' },
    },
    writes: [],
    careTeamMembers: [{ role, member: { reference: `Organization/${partnerId}` } }],
    events: [],
  };
}

const source = (partnerId: string, id: string): SourceRecord => ({
  partnerId,
  format: 'service-plan',
  sourceId: id,
  location: id,
  receivedAt: new Date().toISOString(),
});

/** A record by which `partnerId` joins the participant's care team as `role`, written. */
function join(fhir: FhirGateway, identifiers: Identifier[], partnerId: string, role: string) {
  return writeMappedRecord(
    fhir,
    joining(identifiers, partnerId, role),
    source(partnerId, unique('R')),
    IDENTIFIER_BASE,
  );
}

describe('two agencies joining a new care team at once', () => {
  const plain = testGateway();

  async function joinTogether(identifiers: Identifier[]): Promise<string> {
    const fhir = heldAtTransaction(plain, 2);
    const [a] = await Promise.all([
      join(fhir, identifiers, 'sunrise-hcbs', 'hcbs-provider'),
      join(fhir, identifiers, 'harbor-housing', 'housing-navigator'),
    ]);
    return a.patient;
  }

  async function expectBothOnOneTeam(patient: string): Promise<void> {
    const teams = await plain.search<CareTeam>('CareTeam', { subject: patient });
    expect(teams).toHaveLength(1);
    expect(teams[0]!.participant?.map((p) => p.member?.reference).sort()).toEqual([
      'Organization/harbor-housing',
      'Organization/sunrise-hcbs',
    ]);
  }

  it('puts both agencies on the one team of a participant both records found', async () => {
    const identifiers = [{ system: 'https://medicaid.example.org/id', value: unique('MCD') }];
    await plain.createIfNoneExist<Patient>(
      { resourceType: 'Patient', identifier: identifiers, birthDate: '1970-01-01' },
      `identifier=${tokenOf(identifiers[0]!)}`,
    );
    await expectBothOnOneTeam(await joinTogether(identifiers));
  });

  it('puts both agencies on the one team of a participant one of the records created', async () => {
    const identifiers = [{ system: 'https://medicaid.example.org/id', value: unique('MCD') }];
    await expectBothOnOneTeam(await joinTogether(identifiers));
  });
});

describe('the care team a write leaves', () => {
  const plain = testGateway();

  /** FHIR requests made while `fn` runs (method and path), from the process's fetch. */
  async function requestsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; requests: string[] }> {
    const requests: string[] = [];
    const original = globalThis.fetch;
    globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const request = input instanceof Request ? input : undefined;
      const url = request?.url ?? (input instanceof URL ? input.href : (input as string));
      requests.push(`${init?.method ?? request?.method ?? 'GET'} ${new URL(url).pathname}`);
      return original(input, init);
    };
    try {
      return { result: await fn(), requests };
    } finally {
      globalThis.fetch = original;
    }
  }

  it('is looked up with a known participant and returned, in one batch and one transaction', async () => {
    const identifiers = [{ system: 'https://medicaid.example.org/id', value: unique('MCD') }];
    const first = await join(plain, identifiers, 'sunrise-hcbs', 'hcbs-provider');
    expect(first.careTeam?.participant?.map((p) => p.member?.reference)).toEqual([
      'Organization/sunrise-hcbs',
    ]);

    const { result: second, requests } = await requestsDuring(() =>
      join(plain, identifiers, 'harbor-housing', 'housing-navigator'),
    );
    const [stored] = await plain.search<CareTeam>('CareTeam', { subject: second.patient });
    expect(second.careTeam).toMatchObject({
      id: stored!.id,
      meta: { versionId: stored!.meta?.versionId },
      participant: stored!.participant,
    });
    // The participant, an earlier attempt's Provenance and the team: one batch; then the write.
    expect(requests).toEqual([
      expect.stringMatching(/^POST \/fhir\/?$/),
      expect.stringMatching(/^POST \/fhir\/?$/),
    ]);
  });

  it('is read directly from a server that refuses the chained search', async () => {
    const identifiers = [{ system: 'https://medicaid.example.org/id', value: unique('MCD') }];
    await join(plain, identifiers, 'sunrise-hcbs', 'hcbs-provider');
    const refusing = replacing(
      plain,
      'search',
      (search) =>
        (type, params = {}) =>
          Object.keys(params).some((p) => p.includes('.'))
            ? Promise.reject(new FhirServerError(400, `GET ${type} (chained)`, undefined))
            : search(type, params),
    );
    const outcome = await join(refusing, identifiers, 'harbor-housing', 'housing-navigator');
    expect(outcome.careTeam?.participant?.map((p) => p.member?.reference)).toEqual([
      'Organization/sunrise-hcbs',
      'Organization/harbor-housing',
    ]);
  });

  it('is none for a participant the record created without a team', async () => {
    const identifiers = [{ system: 'https://medicaid.example.org/id', value: unique('MCD') }];
    const outcome = await writeMappedRecord(
      plain,
      { ...joining(identifiers, 'sunrise-hcbs', 'hcbs-provider'), careTeamMembers: [] },
      source('sunrise-hcbs', unique('A')),
      IDENTIFIER_BASE,
    );
    expect(outcome.careTeam).toBeNull();
  });
});
