import { describe, expect, it } from '@jest/globals';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Bundle, Resource } from 'fhir/r4.js';
import { ALWAYS_WHOLE, ReadBatcher, type ReadBatchTransport } from '../../../src/fhir/read-batch.js';

/** How the fake server names an entry: a GET by its URL, a conditional create by its query. */
const urlOf = (request: { method?: string; url?: string; ifNoneExist?: string } | undefined): string =>
  request?.method === 'POST' ? `POST ${request.url}?${request.ifNoneExist}` : (request?.url ?? '');

class Refused extends Error {}

/**
 * A server answering each URL from `answers` (a status and, for 2xx, a Patient with the URL as
 * its id); batches and reads sent alone are recorded.
 */
function server(
  answers: Record<string, string> = {},
  opts: {
    refuse?: boolean;
    fail?: Error;
    callerOf?: () => string | undefined;
    /** Called as each batch is sent, in the context it is sent in. */
    onBatch?: () => void;
  } = {},
) {
  const batches: string[][] = [];
  /** Whether each batch was sent unkept. */
  const unkeptBatches: boolean[] = [];
  const alone: string[] = [];
  const patient = (url: string): Resource => ({ resourceType: 'Patient', id: url.replace(/\W/g, '-') });
  const transport: ReadBatchTransport = {
    batch: async (entries, unkept) => {
      const urls = entries.map((e) => urlOf(e.request));
      batches.push(urls);
      unkeptBatches.push(unkept);
      opts.onBatch?.();
      if (opts.refuse) {
        throw new Refused('400 batch not supported');
      }
      if (opts.fail) {
        throw opts.fail;
      }
      return {
        resourceType: 'Bundle',
        type: 'batch-response',
        entry: urls.map((url) => {
          const status = answers[url] ?? '200 OK';
          return status.startsWith('2')
            ? { resource: patient(url), response: { status } }
            : {
                response: {
                  status,
                  outcome: {
                    resourceType: 'OperationOutcome',
                    issue: [{ severity: 'error', code: 'not-found', diagnostics: url }],
                  },
                },
              };
        }),
      } as Bundle;
    },
    single: async (url) => {
      alone.push(url);
      return patient(url);
    },
    createIfNoneExist: async (resource, query) => {
      const url = urlOf({ method: 'POST', url: resource.resourceType, ifNoneExist: query });
      alone.push(url);
      return { resource: patient(url), created: (answers[url] ?? '201 Created').startsWith('201') };
    },
    errorFor: (status, label, outcome) =>
      new Error(`${status} ${label} ${outcome?.issue?.[0]?.diagnostics ?? ''}`),
    refusedBatch: (err) => err instanceof Refused,
    ...(opts.callerOf ? { callerOf: opts.callerOf } : {}),
  };
  return { batcher: new ReadBatcher(transport), batches, unkeptBatches, alone };
}

const settled = (reads: Promise<Resource>[]) =>
  Promise.allSettled(reads).then((all) =>
    all.map((r) => (r.status === 'fulfilled' ? r.value.id : (r.reason as Error).message)),
  );

describe('reads in one batch', () => {
  it('sends the reads issued together as one batch, each answered with its own entry', async () => {
    const { batcher, batches, alone } = server();
    const ids = await settled([
      batcher.read('Patient?identifier=a%7C1', 'GET Patient?identifier'),
      batcher.read('CareTeam/ct1', 'GET CareTeam/ct1'),
      batcher.read('CarePlan/p1/_history/2', 'GET CarePlan/p1/_history/2'),
    ]);
    expect(batches).toEqual([['Patient?identifier=a%7C1', 'CareTeam/ct1', 'CarePlan/p1/_history/2']]);
    expect(alone).toEqual([]);
    expect(ids).toEqual(['Patient-identifier-a-7C1', 'CareTeam-ct1', 'CarePlan-p1-_history-2']);
  });

  it('sends a read issued alone as a plain read, and reads of a later turn in a batch of their own', async () => {
    const { batcher, batches, alone } = server();
    await batcher.read('Patient/1', 'GET Patient/1');
    await Promise.all([batcher.read('Patient/2', 'x'), batcher.read('Patient/3', 'x')]);
    expect(alone).toEqual(['Patient/1']);
    expect(batches).toEqual([['Patient/2', 'Patient/3']]);
  });

  it('fails only the read whose entry failed, with the error that read alone would raise', async () => {
    const { batcher } = server({ 'Patient/gone': '404 Not Found' });
    const ids = await settled([
      batcher.read('Patient/here', 'GET Patient/here'),
      batcher.read('Patient/gone', 'GET Patient/gone'),
    ]);
    expect(ids).toEqual(['Patient-here', '404 GET Patient/gone Patient/gone']);
  });

  it('reads again alone an entry the server failed in a way worth retrying (5xx, 429)', async () => {
    const { batcher, alone } = server({
      'Patient/busy': '503 Service Unavailable',
      'Flag/f': '429 Too Many',
    });
    const ids = await settled([
      batcher.read('Patient/busy', 'x'),
      batcher.read('Flag/f', 'x'),
      batcher.read('Task/t', 'x'),
    ]);
    expect(alone.sort()).toEqual(['Flag/f', 'Patient/busy']);
    expect(ids).toEqual(['Patient-busy', 'Flag-f', 'Task-t']);
  });

  it('sends the reads alone when the server refuses batches, and stops trying after three refusals', async () => {
    const { batcher, batches, alone } = server({}, { refuse: true });
    for (let i = 0; i < 4; i++) {
      expect(await settled([batcher.read(`Patient/${i}a`, 'x'), batcher.read(`Patient/${i}b`, 'x')])).toEqual(
        [`Patient-${i}a`, `Patient-${i}b`],
      );
    }
    expect(batches).toHaveLength(3);
    expect(alone).toHaveLength(8);
  });

  it('fails every read of a batch that failed for another reason (the gateway already retried it)', async () => {
    const { batcher } = server({}, { fail: new Error('FHIR server unreachable') });
    expect(await settled([batcher.read('Patient/1', 'x'), batcher.read('Patient/2', 'x')])).toEqual([
      'FHIR server unreachable',
      'FHIR server unreachable',
    ]);
  });

  it("keeps the reads of different callers (traces) in batches of their own, sent in each caller's context", async () => {
    const seen = new AsyncLocalStorage<string>();
    const sentIn: (string | undefined)[] = [];
    const { batcher, batches } = server(
      {},
      { callerOf: () => seen.getStore(), onBatch: () => sentIn.push(seen.getStore()) },
    );
    const readAs = (who: string, url: string): Promise<Resource> =>
      seen.run(who, () => batcher.read(url, url));
    await Promise.all([
      readAs('trace-a', 'Patient/1'),
      readAs('trace-b', 'Patient/2'),
      readAs('trace-a', 'CareTeam/1'),
      readAs('trace-b', 'CareTeam/2'),
    ]);
    expect(batches).toEqual([
      ['Patient/1', 'CareTeam/1'],
      ['Patient/2', 'CareTeam/2'],
    ]);
    expect(sentIn).toEqual(['trace-a', 'trace-b']);
  });

  it('sends a conditional create with the reads of its turn, settled as created or found', async () => {
    const { batcher, batches, alone } = server({
      'POST Patient?identifier=a%7C1': '201 Created',
      'POST Patient?identifier=b%7C2': '200 OK',
      'POST Patient?identifier=c%7C3': '412 Precondition Failed',
    });
    const newOne = { resourceType: 'Patient' as const, identifier: [{ system: 'a', value: '1' }] };
    const [read, created, found, several] = await Promise.allSettled([
      batcher.read('Provenance/p1', 'GET Provenance/p1'),
      batcher.createIfNoneExist(newOne, 'identifier=a%7C1', 'POST Patient (If-None-Exist)'),
      batcher.createIfNoneExist(newOne, 'identifier=b%7C2', 'POST Patient (If-None-Exist)'),
      batcher.createIfNoneExist(newOne, 'identifier=c%7C3', 'POST Patient (If-None-Exist)'),
    ]);
    expect(batches).toEqual([
      [
        'Provenance/p1',
        'POST Patient?identifier=a%7C1',
        'POST Patient?identifier=b%7C2',
        'POST Patient?identifier=c%7C3',
      ],
    ]);
    expect(alone).toEqual([]);
    expect(read).toMatchObject({ status: 'fulfilled', value: { id: 'Provenance-p1' } });
    expect(created).toMatchObject({ status: 'fulfilled', value: { created: true } });
    expect(found).toMatchObject({ status: 'fulfilled', value: { created: false } });
    expect(several).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringMatching(/^412 /) },
    });
  });

  it('sends a conditional create alone when it is alone in its turn, or the server refuses batches', async () => {
    const { batcher, batches, alone } = server({}, { refuse: true });
    const newOne = { resourceType: 'Patient' as const };
    expect(await batcher.createIfNoneExist(newOne, 'identifier=a%7C1', 'x')).toMatchObject({ created: true });
    await Promise.all([
      batcher.read('Provenance/p1', 'x'),
      batcher.createIfNoneExist(newOne, 'identifier=b%7C2', 'x'),
    ]);
    expect(batches).toHaveLength(1);
    expect(alone).toEqual([
      'POST Patient?identifier=a%7C1',
      'Provenance/p1',
      'POST Patient?identifier=b%7C2',
    ]);
  });

  it('sends a batch unkept only when each of its reads allows it, and reads again alone a search whose unkept page may have stopped short', async () => {
    const { batcher, batches, unkeptBatches, alone } = server();
    const short = () => false;
    await Promise.all([
      batcher.read('Patient/1', 'x', ALWAYS_WHOLE),
      batcher.read('Task?patient=1&_count=2', 'x', short),
      batcher.createIfNoneExist({ resourceType: 'Patient' }, 'identifier=a%7C1', 'x'),
    ]);
    expect(unkeptBatches).toEqual([true]);
    expect(alone).toEqual(['Task?patient=1&_count=2']);
    // A read that must not go unkept keeps its whole batch as usual: every answer is taken.
    await Promise.all([
      batcher.read('Task?patient=1&_count=500', 'x'),
      batcher.read('Task?_count=2', 'x', short),
    ]);
    expect(unkeptBatches).toEqual([true, false]);
    expect(alone).toEqual(['Task?patient=1&_count=2']);
    expect(batches).toHaveLength(2);
  });

  it('splits a burst into batches of at most 50 reads', async () => {
    const { batcher, batches } = server();
    await Promise.all(Array.from({ length: 120 }, (_, i) => batcher.read(`Patient/${i}`, 'x')));
    expect(batches.map((b) => b.length)).toEqual([50, 50, 20]);
  });
});
