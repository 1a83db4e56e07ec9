import { describe, expect, it } from '@jest/globals';
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import { WriteGrouper, type WriteGroupTransport } from '../../../src/fhir/write-group.js';

class Refused extends Error {}

/** A PUT of a Provenance by id, its id naming the record it belongs to. */
const put = (id: string, participant = `p-${id}`): BundleEntry => ({
  resource: { resourceType: 'Provenance', id, target: [{ reference: `Patient/${participant}` }] } as never,
  request: { method: 'PUT', url: `Provenance/${id}` },
});

/**
 * A server that answers each entry with its URL as `location`, and refuses a transaction holding
 * an entry whose URL is in `refuse`; every transaction it receives is recorded, by its entries' URLs.
 */
function server(opts: { refuse?: string[]; fail?: Error; dropAnswer?: boolean } = {}) {
  const sent: string[][] = [];
  /** Transactions not yet answered, in order; each answers when released. */
  const held: Array<() => void> = [];
  let holding = false;
  const transport: WriteGroupTransport = {
    transaction: async (entries) => {
      const urls = entries.map((e) => e.request!.url);
      sent.push(urls);
      if (holding) {
        await new Promise<void>((resolve) => held.push(resolve));
      }
      if (opts.fail) {
        throw opts.fail;
      }
      if (urls.some((u) => opts.refuse?.includes(u))) {
        throw new Refused(`422 ${urls.join(',')}`);
      }
      const answered = opts.dropAnswer && urls.length > 1 ? urls.slice(1) : urls;
      return {
        resourceType: 'Bundle',
        type: 'transaction-response',
        entry: answered.map((url) => ({ response: { status: '200 OK', location: `${url}/_history/1` } })),
      } satisfies Bundle;
    },
    refused: (err) => err instanceof Refused,
  };
  return {
    sent,
    transport,
    hold: () => (holding = true),
    /** Answers the transactions sent so far, and stops holding later ones. */
    release: () => {
      holding = false;
      held.splice(0).forEach((answer) => answer());
    },
  };
}

const locations = (b: Bundle): string[] => b.entry!.map((e) => e.response!.location!);
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WriteGrouper', () => {
  it('sends a transaction at once, alone, while a slot is free', async () => {
    const s = server();
    const grouper = new WriteGrouper(s.transport, { inFlight: 2, maxEntries: 100 });
    const [a, b] = await Promise.all([grouper.transaction([put('a')], false), grouper.transaction([put('b')], false)]);
    expect(s.sent).toEqual([['Provenance/a'], ['Provenance/b']]);
    expect(locations(a)).toEqual(['Provenance/a/_history/1']);
    expect(locations(b)).toEqual(['Provenance/b/_history/1']);
  });

  it('sends the transactions that waited for a slot as one, each answered with its own entries', async () => {
    const s = server();
    const grouper = new WriteGrouper(s.transport, { inFlight: 1, maxEntries: 100 });
    s.hold();
    const first = grouper.transaction([put('a')], false);
    await tick();
    const waiting = [
      grouper.transaction([put('b'), put('b2', 'p-b')], false),
      grouper.transaction([put('c')], true),
    ];
    await tick();
    s.release();
    const [a, b, c] = await Promise.all([first, ...waiting]);
    expect(s.sent).toEqual([['Provenance/a'], ['Provenance/b', 'Provenance/b2', 'Provenance/c']]);
    expect(locations(a!)).toEqual(['Provenance/a/_history/1']);
    expect(locations(b!)).toEqual(['Provenance/b/_history/1', 'Provenance/b2/_history/1']);
    expect(locations(c!)).toEqual(['Provenance/c/_history/1']);
  });

  it('never sends together two transactions that touch the same resource, conditional URL or participant', async () => {
    const s = server();
    const grouper = new WriteGrouper(s.transport, { inFlight: 1, maxEntries: 100 });
    s.hold();
    const sends = [grouper.transaction([put('first')], false)];
    await tick();
    const conditional = (identifier: string): BundleEntry => ({
      resource: { resourceType: 'CareTeam' },
      request: { method: 'POST', url: 'CareTeam', ifNoneExist: `identifier=${identifier}` },
    });
    sends.push(
      grouper.transaction([put('x', 'same')], false),
      grouper.transaction([put('y', 'same')], false), // the same participant as x
      grouper.transaction([put('x', 'other')], false), // the same Provenance as x
      grouper.transaction([conditional('t1')], false),
      grouper.transaction([conditional('t1')], false), // the same conditional create
    );
    await tick();
    s.release();
    await Promise.all(sends);
    expect(s.sent).toEqual([
      ['Provenance/first'],
      ['Provenance/x', 'CareTeam'],
      // Each beside nothing it shares anything with: y, the second x, the second conditional create.
      ['Provenance/y', 'Provenance/x', 'CareTeam'],
    ]);
  });

  it('keeps a group within its entry limit', async () => {
    const s = server();
    const grouper = new WriteGrouper(s.transport, { inFlight: 1, maxEntries: 2 });
    s.hold();
    const sends = [grouper.transaction([put('a')], false)];
    await tick();
    sends.push(...['b', 'c', 'd'].map((id) => grouper.transaction([put(id)], false)));
    await tick();
    s.release();
    await Promise.all(sends);
    expect(s.sent).toEqual([['Provenance/a'], ['Provenance/b', 'Provenance/c'], ['Provenance/d']]);
  });

  it('sends each member of a refused group alone: the others are written, the refused one gets its own error', async () => {
    const s = server({ refuse: ['Provenance/bad'] });
    const grouper = new WriteGrouper(s.transport, { inFlight: 1, maxEntries: 100 });
    s.hold();
    const first = grouper.transaction([put('a')], false);
    await tick();
    const good = grouper.transaction([put('good')], false);
    const bad = grouper.transaction([put('bad')], false);
    await tick();
    s.release();
    await first;
    await expect(good.then(locations)).resolves.toEqual(['Provenance/good/_history/1']);
    await expect(bad).rejects.toThrow('422 Provenance/bad');
    expect(s.sent.slice(1)).toEqual([['Provenance/good', 'Provenance/bad'], ['Provenance/good'], ['Provenance/bad']]);
  });

  it('fails every member with the error of a group the server could not take (not a refusal)', async () => {
    const down = new Error('ECONNREFUSED');
    const s = server();
    const grouper = new WriteGrouper(s.transport, { inFlight: 1, maxEntries: 100 });
    s.hold();
    const first = grouper.transaction([put('a')], false);
    await tick();
    const waiting = [grouper.transaction([put('b')], false), grouper.transaction([put('c')], false)];
    await tick();
    s.transport.transaction = async (entries) => {
      s.sent.push(entries.map((e) => e.request!.url));
      throw down;
    };
    s.release();
    await first;
    for (const w of waiting) {
      await expect(w).rejects.toBe(down);
    }
    expect(s.sent.slice(1)).toEqual([['Provenance/b', 'Provenance/c']]);
  });

  it('sends each member again alone when the answer does not hold an entry per request entry', async () => {
    const s = server({ dropAnswer: true });
    const grouper = new WriteGrouper(s.transport, { inFlight: 1, maxEntries: 100 });
    s.hold();
    const first = grouper.transaction([put('a')], false);
    await tick();
    const waiting = [grouper.transaction([put('b')], false), grouper.transaction([put('c')], false)];
    await tick();
    s.release();
    await first;
    const answers = await Promise.all(waiting);
    expect(answers.map(locations)).toEqual([['Provenance/b/_history/1'], ['Provenance/c/_history/1']]);
    expect(s.sent.slice(1)).toEqual([['Provenance/b', 'Provenance/c'], ['Provenance/b'], ['Provenance/c']]);
  });

  it('groups only transactions that are safe to send twice', () => {
    expect(WriteGrouper.groupable([put('a')])).toBe(true);
    expect(
      WriteGrouper.groupable([{ resource: { resourceType: 'Task' } as never, request: { method: 'POST', url: 'Task' } }]),
    ).toBe(false);
  });
});
