import { describe, expect, it } from '@jest/globals';
import type { Encounter, FhirResource } from 'fhir/r4.js';
import { EXTENSION } from '../../../src/fhir/profiles.js';
import { orderedEntry, type HeldLookup, type OrderedWrite } from '../../../src/ingest/source-order.js';
import type { ResourceWrite } from '../../../src/mappers/types.js';

const RECEIVED = '2026-12-03T12:00:00Z';
const identifier = { system: 'https://carecoord.example.org/sid/northside-bh/visit', value: 'V1' };

function stored(sourceTime?: string): Encounter {
  return {
    resourceType: 'Encounter',
    id: '42',
    meta: { versionId: '3' },
    status: 'finished',
    class: { code: 'IMP' },
    ...(sourceTime ? { extension: [{ url: EXTENSION.sourceTime, valueDateTime: sourceTime }] } : {}),
  };
}

function server(current?: Encounter): HeldLookup {
  return async () => (current ? [current] : []);
}

function write(sourceTime?: string, resource?: Partial<Encounter>): [ResourceWrite, FhirResource] {
  const r = {
    resourceType: 'Encounter',
    status: 'in-progress',
    class: { code: 'IMP' },
    ...resource,
  } as Encounter;
  return [{ fullUrl: 'urn:uuid:v1', identifier, resource: r, ...(sourceTime ? { sourceTime } : {}) }, r];
}

/** The write planned over the stored Encounter/42 at the version read (3), unstamped. */
function overStored(r: FhirResource): OrderedWrite {
  return {
    kind: 'write',
    entry: {
      fullUrl: 'urn:uuid:v1',
      resource: { ...r, id: '42' },
      request: { method: 'PUT', url: 'Encounter/42', ifMatch: 'W/"3"' },
    },
  };
}

describe('orderedEntry', () => {
  it('leaves out a write older than the state the server holds', async () => {
    const [w, r] = write('2026-12-01T08:00:00Z');
    expect(await orderedEntry(server(stored('2026-12-01T09:00:00Z')), w, r, RECEIVED)).toEqual({
      kind: 'stale',
      reference: 'Encounter/42',
      version: '3',
    });
  });

  it('writes a newer or equal state over the version it read, stamped with its time', async () => {
    const [w, r] = write('2026-12-01T09:00:00Z');
    const timed = await orderedEntry(server(stored('2026-12-01T09:00:00Z')), w, r, RECEIVED);
    expect(timed).toMatchObject({
      kind: 'write',
      entry: { request: { method: 'PUT', url: 'Encounter/42', ifMatch: 'W/"3"' } },
    });
    const entry = (timed as { entry: { resource: Encounter } }).entry;
    expect(entry.resource.extension).toEqual([
      { url: EXTENSION.sourceTime, valueDateTime: '2026-12-01T09:00:00Z' },
    ]);
  });

  it('never trusts the source-time extension a partner put on its resource', async () => {
    const [w, r] = write(undefined, {
      extension: [
        { url: EXTENSION.sourceTime, valueDateTime: '2999-01-01T00:00:00Z' },
        { url: 'https://example.org/other', valueString: 'kept' },
      ],
    });
    const timed = await orderedEntry(server(), w, r, RECEIVED);
    expect((timed as { entry: { resource: Encounter } }).entry.resource.extension).toEqual([
      { url: 'https://example.org/other', valueString: 'kept' },
    ]);
  });

  it('ignores a source time days ahead of the arrival (a wrong clock would freeze the resource)', async () => {
    const [w, r] = write('2026-12-09T00:00:00Z');
    expect(await orderedEntry(server(stored('2026-12-01T09:00:00Z')), w, r, RECEIVED)).toEqual(overStored(r));
  });

  it('creates an undated write only when its identifier is new, so two writers at once make one', async () => {
    // A conditional update (PUT Type?identifier=) from two transactions at once can create two
    // resources on HAPI; a conditional create cannot, and the loser reads again.
    const [w, r] = write();
    expect(await orderedEntry(server(), w, r, RECEIVED)).toEqual({
      kind: 'write',
      createOnly: true,
      entry: {
        fullUrl: 'urn:uuid:v1',
        resource: r,
        request: {
          method: 'POST',
          url: 'Encounter',
          ifNoneExist: `identifier=${encodeURIComponent(`${identifier.system}|V1`)}`,
        },
      },
    });
  });

  it('writes an undated write over the version it read, whatever source time that one holds', async () => {
    const [w, r] = write();
    expect(await orderedEntry(server(stored('2026-12-01T09:00:00Z')), w, r, RECEIVED)).toEqual(overStored(r));
  });

  it('leaves two resources under one identifier for the server to refuse, by a conditional update', async () => {
    const [w, r] = write();
    const two: HeldLookup = async () => [stored(), { ...stored(), id: '43' }];
    expect(await orderedEntry(two, w, r, RECEIVED)).toMatchObject({
      kind: 'write',
      entry: {
        request: {
          method: 'PUT',
          url: `Encounter?identifier=${encodeURIComponent(`${identifier.system}|V1`)}`,
        },
      },
    });
  });
});
