/**
 * Issue 19: the rejected list is paged, so an engineer reaches every rejection rather than the
 * newest 500. Pages follow one another by a cursor: each rejection once, newest first, also when
 * several share a millisecond and when the list is narrowed to one partner. Real Redis.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { RejectedStore } from '../../../src/ingest/rejected-store.js';
import request from 'supertest';
import { dropPrefix, ingest, testPrefix, useTestHub } from '../../fixtures/ingest/hub-helpers.js';
import { evvCsv, evvRow, newPerson } from '../../fixtures/ingest/samples.js';
import { testRedis } from '../../support/test-env.js';

describe('the rejected list, page by page', () => {
  const prefix = testPrefix();
  const redis = testRedis();
  const store = new RejectedStore(redis, prefix);

  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  it('gives every rejection once, newest first, across pages and ties', async () => {
    const base = Date.now() - 60_000;
    const added: Array<{ id: string; partnerId: string; at: number }> = [];
    for (let i = 0; i < 450; i++) {
      const partnerId = i % 3 === 0 ? 'harbor-housing' : 'sunrise-hcbs';
      const at = base + Math.floor(i / 3); // three rejections to a millisecond
      const stored = await store.add({
        partnerId,
        format: 'evv-csv',
        location: `row ${i + 2}`,
        issues: [{ field: 'VisitID', message: 'is required' }],
        stage: 'parse',
        rejectedAt: new Date(at).toISOString(),
      });
      added.push({ id: stored.id, partnerId, at });
    }
    // Pages of 40, and for one partner pages of 100 (reading past the store's chunks of the index).
    const readAll = async (partnerId?: string): Promise<string[]> => {
      const ids: string[] = [];
      let before: string | undefined;
      do {
        const page = await store.page({
          limit: 40,
          ...(partnerId ? { partnerId } : {}),
          ...(before ? { before } : {}),
        });
        expect(page.items.length).toBeLessThanOrEqual(partnerId ? 100 : 40);
        ids.push(...page.items.map((r) => r.id));
        before = page.next;
      } while (before);
      return ids;
    };
    const newestFirst = (list: typeof added): string[] =>
      [...list].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((a) => a.id);

    const all = await readAll();
    expect(all).toEqual(newestFirst(added));
    expect(new Set(all).size).toBe(450);
    const harbor = await readAll('harbor-housing');
    expect(harbor).toEqual(newestFirst(added.filter((a) => a.partnerId === 'harbor-housing')));
  });

  it('refuses a cursor it did not write', async () => {
    await expect(store.page({ before: 'not-a-cursor' })).rejects.toThrow(/cursor/);
  });
});

describe('GET /admin/rejected', () => {
  const hub = useTestHub();

  it('pages by the Link header until the last page, which has none', async () => {
    const person = newPerson();
    const rows = [1, 2, 3].map((i) => evvRow(person, `P-${person.tag}-${i}`, 'NOT-A-STATUS'));
    expect((await ingest(hub(), 'sunrise-hcbs', 'evv-csv', evvCsv(...rows), 'text/csv')).status).toBe(422);
    const mine = (body: Array<{ sourceId?: string }>): number =>
      body.filter((r) => r.sourceId?.startsWith(`P-${person.tag}-`)).length;

    const first = await request(hub().url).get('/admin/rejected?partner=sunrise-hcbs&limit=2');
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(2);
    const next = /^<([^>]+)>; rel="next"$/.exec(first.headers.link ?? '')?.[1];
    expect(next).toMatch(/^\/admin\/rejected\?partner=sunrise-hcbs&limit=2&before=/);
    let seen = mine(first.body);
    let url: string | undefined = next;
    while (url) {
      const page = await request(hub().url).get(url);
      seen += mine(page.body);
      url = /^<([^>]+)>; rel="next"$/.exec(page.headers.link ?? '')?.[1];
    }
    expect(seen).toBe(3);
    const badLimit = await request(hub().url).get('/admin/rejected?limit=0');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.issue).toEqual([expect.objectContaining({ code: 'value', expression: ['limit'] })]);
    expect((await request(hub().url).get('/admin/rejected?before=x')).status).toBe(400);
  });
});
