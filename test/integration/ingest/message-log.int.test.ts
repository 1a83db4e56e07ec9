/**
 * Issue 19: the message log. Every inbound message is found by its business keys (MSH-10, visit
 * id, the participant's identifiers, what its records wrote), a page at a time, and followed
 * across its legs; a replay is linked to the message it replays, both ways. Real HAPI and Redis.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  dropPrefix,
  eventually,
  ingest,
  startTestHub,
  testPrefix,
  useTestHub,
} from '../../fixtures/ingest/hub-helpers.js';
import { partnerDir } from '../../support/config-dirs.js';
import { testRedis } from '../../support/test-env.js';
import { MessageLog } from '../../../src/ingest/message-log.js';
import { adt, evvCsv, evvRow, newPerson } from '../../fixtures/ingest/samples.js';

interface Logged {
  readonly id: string;
  readonly partnerId: string;
  readonly format: string;
  readonly counts: { accepted: number; rejected: number };
  readonly records: Array<{ sourceId?: string; status: string; jobId?: string; rejectionId?: string }>;
  readonly replayOf?: string;
}

interface Trace {
  readonly message: Logged;
  readonly records: Array<{ state: string; patient?: string; written?: string[]; issues?: unknown[] }>;
  readonly replays: Logged[];
  readonly replayOf?: Logged;
}

describe('the message log', () => {
  const hub = useTestHub();
  const person = newPerson();
  const find = async (query: string): Promise<Logged[]> => {
    const res = await request(hub().url).get(`/admin/messages?${query}`);
    expect(res.status).toBe(200);
    return res.body as Logged[];
  };
  const trace = async (id: string): Promise<Trace> =>
    (await request(hub().url).get(`/admin/messages/${id}`)).body as Trace;

  it('finds a message by its MSH-10 and follows its record to the participant it landed on', async () => {
    const controlId = `ML-${person.tag}`;
    const answer = await ingest(
      hub(),
      'northside-bh',
      'hl7v2-adt',
      adt(person, { trigger: 'A01', controlId, visitNumber: `V${person.tag}` }),
      'application/hl7-v2',
    );
    expect(answer.status).toBe(200);
    const [message, ...more] = await find(`key=${controlId.toLowerCase()}`);
    expect(more).toEqual([]);
    expect(message).toMatchObject({
      partnerId: 'northside-bh',
      format: 'hl7v2-adt',
      counts: { accepted: 1, rejected: 0 },
    });
    const legs = await trace(message!.id);
    expect(legs.records[0]).toMatchObject({ state: 'applied', patient: expect.stringMatching(/^Patient\//) });
    // By the participant's Medicaid ID, and by the Patient the record wrote.
    expect((await find(`key=${person.medicaid}`)).map((m) => m.id)).toContain(message!.id);
    expect((await find(`key=${legs.records[0]!.patient!}`)).map((m) => m.id)).toContain(message!.id);
  });

  it('narrows by partner, format and status, and pages by the Link header', async () => {
    const rows = [1, 2, 3].map((i) => evvRow(person, `ML-${person.tag}-${i}`, 'NOT-A-STATUS'));
    for (const row of rows) {
      expect((await ingest(hub(), 'sunrise-hcbs', 'evv-csv', evvCsv(row), 'text/csv')).status).toBe(422);
    }
    const first = await request(hub().url).get(
      '/admin/messages?partner=sunrise-hcbs&format=evv-csv&status=rejected&limit=2',
    );
    expect(first.body).toHaveLength(2);
    const next = /^<([^>]+)>; rel="next"$/.exec(first.headers.link ?? '')?.[1];
    expect(next).toBeDefined();
    const second = await request(hub().url).get(next!);
    expect(second.body).toHaveLength(1);
    expect(second.headers.link).toBeUndefined();
    const all = [...first.body, ...second.body] as Logged[];
    expect(new Set(all.map((m) => m.id)).size).toBe(3);
    expect(all.every((m) => m.format === 'evv-csv' && m.counts.rejected === 1)).toBe(true);
    expect(await find('partner=sunrise-hcbs&status=accepted')).toEqual([]);
    expect((await find(`key=${person.medicaid}&format=hl7v2-adt`)).length).toBe(1);
    // A limit that is not digits (0x10 would read as 16) is refused, naming the parameter.
    const bad = await request(hub().url).get('/admin/messages?limit=0x10');
    expect(bad.status).toBe(400);
    expect(bad.body.issue).toEqual([expect.objectContaining({ code: 'value', expression: ['limit'] })]);
  });

  it('links an edited replay to the message it replays, both ways', async () => {
    const visit = `ML-${person.tag}-1`;
    const [original] = await find(`key=${visit}`);
    const rejectionId = original!.records[0]!.rejectionId!;
    expect((await trace(original!.id)).records[0]).toMatchObject({
      state: 'rejected',
      issues: [expect.anything()],
    });
    const corrected = evvCsv(evvRow(person, visit, 'Scheduled'));
    const replay = await request(hub().url)
      .post(`/admin/rejected/${rejectionId}/replay`)
      .set('content-type', 'text/csv')
      .send(corrected);
    expect(replay.status).toBeLessThan(300);
    const messages = await find(`key=${visit}`);
    expect(messages).toHaveLength(2);
    const newest = messages[0]!;
    expect(newest.replayOf).toBe(original!.id);
    expect((await trace(newest.id)).replayOf?.id).toBe(original!.id);
    const again = await trace(original!.id);
    expect(again.replays.map((m) => m.id)).toEqual([newest.id]);
    expect(again.records[0]!.state).toBe('rejection gone');
  });

  it('answers 404 for a message it does not hold and 400 naming a bad parameter', async () => {
    expect(
      (await request(hub().url).get('/admin/messages/00000000-0000-0000-0000-000000000000')).status,
    ).toBe(404);
    const bad = await request(hub().url).get('/admin/messages?status=lost');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('status');
    expect((await request(hub().url).get('/admin/messages?from=yesterday')).status).toBe(400);
  });
});

describe('bulk replay of a search', () => {
  const prefix = testPrefix();
  afterAll(() => dropPrefix(prefix));

  it("replays a search's rejected records once the partner's file knows their code, at most the limit", async () => {
    const person = newPerson();
    const rows = [1, 2, 3].map((i) => evvRow(person, `BR-${person.tag}-${i}`, 'PCAN'));
    // The file the records were refused under, then the fixed one (a new code table entry).
    const before = await startTestHub(prefix, { PARTNER_CONFIG_DIR: partnerDir() });
    try {
      for (const row of rows) {
        expect((await ingest(before, 'sunrise-hcbs', 'evv-csv', evvCsv(row), 'text/csv')).status).toBe(422);
      }
    } finally {
      await before.close();
    }
    const fixed = partnerDir({
      'sunrise-hcbs': (p: { codeTranslations: { visitStatus: Record<string, string> } }) => {
        p.codeTranslations.visitStatus.PCAN = 'cancelled';
      },
    });
    const after = await startTestHub(prefix, { PARTNER_CONFIG_DIR: fixed });
    try {
      const asked = await request(after.url)
        .post(`/admin/messages/replay?key=${person.medicaid.toLowerCase()}&partner=sunrise-hcbs`)
        .send({ limit: 2, perSecond: 20 });
      // The Medicaid ID is not a key of a record refused at the door: nothing found, nothing replayed.
      expect(asked.status).toBe(202);
      const nothing = await eventually(async () => {
        const s = await request(after.url).get(asked.headers.location!);
        const status = s.body as { state: string; result?: unknown };
        return status.state === 'completed' ? status : undefined;
      });
      expect(nothing.result).toEqual({ replayed: 0, accepted: 0 });

      const replay = await request(after.url)
        .post('/admin/messages/replay?partner=sunrise-hcbs&format=evv-csv&status=rejected')
        .send({ limit: 2, perSecond: 20 });
      const done = await eventually(async () => {
        const s = await request(after.url).get(replay.headers.location!);
        const status = s.body as { state: string; result?: unknown };
        return status.state === 'completed' ? status : undefined;
      });
      expect(done.result).toEqual({ replayed: 2, accepted: 2 });
      // Two of the three are replays now, each linked to its original; one is still rejected.
      const replays = (await request(after.url).get('/admin/messages?partner=sunrise-hcbs&status=accepted'))
        .body as Logged[];
      expect(replays.filter((m) => m.replayOf)).toHaveLength(2);
      const left = (await request(after.url).get('/admin/rejected?partner=sunrise-hcbs')).body as Array<{
        sourceId?: string;
      }>;
      expect(left.filter((r) => r.sourceId?.startsWith(`BR-${person.tag}-`))).toHaveLength(1);
      expect(
        (await request(after.url).post('/admin/messages/replay?partner=x').send({ limit: 0 })).status,
      ).toBe(400);
      // A replay takes up to 1000 records, in the query string too: the search's page size is not its bound.
      expect((await request(after.url).post('/admin/messages/replay?partner=x&limit=800')).status).toBe(202);
    } finally {
      await after.close();
    }
  });
});

describe('the message log by time', () => {
  const prefix = testPrefix();
  const redis = testRedis();
  const log = new MessageLog(redis, prefix);
  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  it('keeps to [from, to) and pages within it, newest first', async () => {
    const base = Date.now() - 60_000;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await log.add({
        partnerId: 'sunrise-hcbs',
        format: 'evv-csv',
        receivedAt: new Date(base + i * 1000).toISOString(),
        bytes: 10,
        counts: { accepted: 1, rejected: 0, skipped: 0 },
        keys: [`T-${prefix}`],
        records: [],
      });
      ids.push(m.id);
    }
    const page = await log.find({ key: `t-${prefix}`, from: base + 1000, to: base + 4000, limit: 2 });
    expect(page.items.map((m) => m.id)).toEqual([ids[3], ids[2]]);
    const rest = await log.find({
      key: `T-${prefix}`,
      from: base + 1000,
      to: base + 4000,
      limit: 2,
      before: page.next!,
    });
    expect(rest.items.map((m) => m.id)).toEqual([ids[1]]);
    expect(rest.next).toBeUndefined();
  });
});
