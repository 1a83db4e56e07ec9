/**
 * Issue 3 acceptance: batches with malformed records store their valid records, reject each bad
 * one naming the record and the field, and list the rejections for replay; after the partner's
 * code table is fixed (a new partner file, hub restarted on the same Redis) a replay stores them.
 * Runs on the fixture partners, copied with the demo partners (the escalation tiers name demo
 * partners as chairs) into a temporary folder, so the fix never touches the repository.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CarePlan, Encounter, Flag, OperationOutcome, Task } from 'fhir/r4.js';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoredRejection } from '../../../src/ingest/rejected-store.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  byIdentifier,
  dropPrefix,
  eventually,
  get,
  ingest,
  outcomeOf,
  partnersWithFixtures,
  post,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import {
  adt,
  EVV_HEADER,
  evvCsv,
  evvRow,
  IDENTIFIER_BASE,
  newPerson,
  servicePlan,
} from '../../fixtures/ingest/samples.js';

const sid = (partner: string, recordType: string): string =>
  `${IDENTIFIER_BASE}/sid/${partner}/${recordType}`;

describe('batches with malformed records', () => {
  const prefix = testPrefix();
  const person = newPerson();
  const visit = (n: number): string => `${person.tag}-${n}`;
  let partnerDir: string;
  let hub: RunningHub;

  const rejections = async (partner: string): Promise<StoredRejection[]> => {
    const answer = await get(hub, `/admin/rejected?partner=${partner}`);
    expect(answer.status).toBe(200);
    return answer.body as StoredRejection[];
  };

  beforeAll(async () => {
    partnerDir = await partnersWithFixtures();
    hub = await startTestHub(prefix, { PARTNER_CONFIG_DIR: partnerDir });
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
    await rm(partnerDir, { recursive: true, force: true });
  });

  it('EVV CSV: stores the good rows, rejects a bad row and an unknown local status code, naming row and column', async () => {
    const body = evvCsv(
      evvRow(person, visit(1), 'NS', '2025-03-04'),
      evvRow(person, visit(2), 'NS', '2025-03-05').replace('2025-03-05T09:00', 'yesterday'),
      evvRow(person, visit(3), 'AGCXL', '2025-03-06'),
      evvRow(person, visit(4), 'COMPLETED', '2025-03-07', true),
    );
    const answer = await ingest(hub, 'fixture-hcbs', 'evv-csv', body, 'text/csv');
    expect(answer.status).toBe(202); // some applied, some rejected
    const issues = (answer.body as OperationOutcome).issue;
    const errors = issues.filter((i) => i.severity === 'error');
    expect(errors).toEqual([
      expect.objectContaining({
        diagnostics: expect.stringMatching(
          new RegExp(`^row 3 \\(${visit(2)}\\): row 3:ScheduledStart: "yesterday" is not a date-time`),
        ),
        location: ['row 3:ScheduledStart'],
      }),
      expect.objectContaining({
        diagnostics: expect.stringMatching(
          new RegExp(`^row 4 \\(${visit(3)}\\): row 4:VisitStatus: "AGCXL" is not a known visit status`),
        ),
        location: ['row 4:VisitStatus'],
      }),
    ]);
    expect(issues.filter((i) => i.severity === 'information').map((i) => i.diagnostics)).toEqual([
      expect.stringMatching(/^row 2: applied as /),
      expect.stringMatching(/^row 5: applied as /),
    ]);

    // The valid rows are on the server: a missed-visit Flag and Task, and a completed visit.
    expect(
      await byIdentifier<Flag>(hub.fhir, 'Flag', sid('fixture-hcbs', 'evv-missed-visit'), visit(1)),
    ).toHaveLength(1);
    expect(
      await byIdentifier<Task>(hub.fhir, 'Task', sid('fixture-hcbs', 'evv-missed-visit-follow-up'), visit(1)),
    ).toHaveLength(1);
    expect(
      await byIdentifier<Encounter>(hub.fhir, 'Encounter', sid('fixture-hcbs', 'evv-visit'), visit(4)),
    ).toHaveLength(1);
    expect(
      await byIdentifier<Flag>(hub.fhir, 'Flag', sid('fixture-hcbs', 'evv-missed-visit'), visit(3)),
    ).toHaveLength(0);

    // Both rejected rows are listed, each with the header before it so it can be replayed alone.
    const listed = await rejections('fixture-hcbs');
    const byRow = Object.fromEntries(listed.map((r) => [r.sourceId, r]));
    expect(byRow[visit(2)]).toMatchObject({
      partnerId: 'fixture-hcbs',
      format: 'evv-csv',
      stage: 'parse',
      location: 'row 3',
      issues: [{ field: 'row 3:ScheduledStart' }],
    });
    expect(byRow[visit(3)]).toMatchObject({
      location: 'row 4',
      issues: [{ field: 'row 4:VisitStatus' }],
      raw: `${EVV_HEADER}\n${evvRow(person, visit(3), 'AGCXL', '2025-03-06')}`,
    });
  });

  it('HL7: a message with a broken MSH is rejected naming MSH-2, the good one in the same body is applied', async () => {
    const good = adt(person, {
      trigger: 'A01',
      controlId: `GOOD-${person.tag}`,
      visitNumber: `HV-${person.tag}`,
      facility: 'FIXTURE-BH',
    });
    const broken = adt(person, {
      trigger: 'A01',
      controlId: `BROKEN-${person.tag}`,
      visitNumber: `HX-${person.tag}`,
      facility: 'FIXTURE-BH',
    }).replace('MSH|^~\\&|', 'MSH|^^\\&|');
    const answer = outcomeOf(
      await ingest(hub, 'fixture-bh', 'hl7v2-adt', broken + good, 'application/hl7-v2'),
    );
    expect(answer).toEqual({
      status: 202,
      diagnostics: [
        expect.stringMatching(new RegExp(`^message 2 \\(MSH-10 GOOD-${person.tag}\\): applied as Patient/`)),
        'message 1: MSH-2: encoding characters must be 4 distinct non-alphanumeric characters',
      ],
    });
    expect(
      await byIdentifier(hub.fhir, 'Encounter', sid('fixture-bh', 'visit'), `HV-${person.tag}`),
    ).toHaveLength(1);
    expect(
      await byIdentifier(hub.fhir, 'Encounter', sid('fixture-bh', 'visit'), `HX-${person.tag}`),
    ).toHaveLength(0);
    const listed = await rejections('fixture-bh');
    expect(listed.find((r) => r.raw?.includes(`BROKEN-${person.tag}`))).toMatchObject({
      location: 'message 1',
      issues: [{ field: 'MSH-2' }],
    });
  });

  it('service plans: the plan missing required fields is rejected naming each field, the other is stored', async () => {
    const {
      planReviewDate: _r,
      supportPlanner: _s,
      ...incomplete
    } = servicePlan(person, `SPB-${person.tag}`);
    const batch = { plans: [servicePlan(person, `SPA-${person.tag}`), incomplete] };
    const answer = outcomeOf(await ingest(hub, 'fixture-hcbs', 'service-plan', batch));
    expect(answer).toEqual({
      status: 202,
      diagnostics: [
        expect.stringMatching(new RegExp(`^plan 1 \\(SPA-${person.tag}\\): applied as `)),
        `plan 2 (SPB-${person.tag}): /plans/1/planReviewDate: is required`,
        `plan 2 (SPB-${person.tag}): /plans/1/supportPlanner: is required`,
      ],
    });
    expect(
      await byIdentifier<CarePlan>(
        hub.fhir,
        'CarePlan',
        sid('fixture-hcbs', 'service-plan'),
        `SPA-${person.tag}`,
      ),
    ).toHaveLength(1);
    expect(
      await byIdentifier<CarePlan>(
        hub.fhir,
        'CarePlan',
        sid('fixture-hcbs', 'service-plan'),
        `SPB-${person.tag}`,
      ),
    ).toHaveLength(0);
    expect((await rejections('fixture-hcbs')).map((r) => r.sourceId)).toContain(`SPB-${person.tag}`);
  });

  it('after the code table is fixed and the hub restarted, replaying the rejected row stores it', async () => {
    const unknownCode = (await rejections('fixture-hcbs')).find((r) => r.sourceId === visit(3))!;
    const file = path.join(partnerDir, 'fixture-hcbs.yaml');
    const fixed = (await readFile(file, 'utf8')).replace(
      '    NS: missed',
      '    NS: missed\n    AGCXL: missed',
    );
    expect(fixed).toContain('AGCXL: missed');
    await writeFile(file, fixed);
    await hub.close();
    hub = await startTestHub(prefix, { PARTNER_CONFIG_DIR: partnerDir });

    // The rejection survived the restart (it is in Redis), and replays with the new table.
    expect((await get(hub, `/admin/rejected/${unknownCode.id}`)).status).toBe(200);
    const replay = outcomeOf(await post(hub, `/admin/rejected/${unknownCode.id}/replay`, ''));
    expect(replay).toEqual({ status: 202, diagnostics: [expect.stringMatching(/^row 2: accepted \(job /)] });
    expect((await get(hub, `/admin/rejected/${unknownCode.id}`)).status).toBe(404);

    const flag = await eventually(
      async () =>
        (await byIdentifier<Flag>(hub.fhir, 'Flag', sid('fixture-hcbs', 'evv-missed-visit'), visit(3)))[0],
      30000,
      'the replayed missed visit on the server',
    );
    expect(flag.code?.coding?.[0]?.code).toBe('missed-visits');
    expect(
      await byIdentifier<Task>(hub.fhir, 'Task', sid('fixture-hcbs', 'evv-missed-visit-follow-up'), visit(3)),
    ).toHaveLength(1);
  }, 120000);

  it('replays a rejected row with a corrected body, and discards a rejection', async () => {
    const listed = await rejections('fixture-hcbs');
    const badDate = listed.find((r) => r.sourceId === visit(2))!;
    const corrected = evvCsv(evvRow(person, visit(2), 'NS', '2025-03-05'));
    const replay = outcomeOf(await post(hub, `/admin/rejected/${badDate.id}/replay`, corrected, 'text/csv'));
    expect(replay.status).toBe(202);
    await eventually(
      async () =>
        (await byIdentifier(hub.fhir, 'Flag', sid('fixture-hcbs', 'evv-missed-visit'), visit(2)))[0],
      30000,
      'the corrected visit on the server',
    );

    const broken = (await rejections('fixture-bh')).find((r) => r.raw?.includes(`BROKEN-${person.tag}`))!;
    const removed = await fetch(`${hub.url}/admin/rejected/${broken.id}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect((await get(hub, `/admin/rejected/${broken.id}`)).status).toBe(404);
    expect((await rejections('fixture-bh')).map((r) => r.id)).not.toContain(broken.id);
  }, 120000);
});
