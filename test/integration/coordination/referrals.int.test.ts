/**
 * Issue 16, closed-loop referrals (SDOH Clinical Care IG): a clinic refers a participant to
 * another agency with a ServiceRequest and its Task; the agency takes it up and works it, each step
 * told back to the clinic, which polls its referrals; neither side takes the other's steps.
 */
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Bundle, CareTeam, Communication, Task } from 'fhir/r4.js';
import {
  byIdentifier,
  diagnostics,
  ingest,
  outcomeOf,
  useTestHub,
} from '../../fixtures/ingest/hub-helpers.js';
import { MEDICAID_SYSTEM, newPerson } from '../../fixtures/ingest/samples.js';

const REFERRAL = 'https://northside.example.org/referral';

/** The clinic's referral: the person, the service asked for, and the Task the agency owns. */
function referral(medicaid: string, id: string, note?: string): object {
  const patient = 'urn:uuid:7d4b3c2a-1111-4111-8111-000000000001';
  const service = 'urn:uuid:7d4b3c2a-1111-4111-8111-000000000002';
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: patient,
        resource: { resourceType: 'Patient', identifier: [{ system: MEDICAID_SYSTEM, value: medicaid }] },
        request: { method: 'PUT', url: `Patient?identifier=${MEDICAID_SYSTEM}|${medicaid}` },
      },
      {
        fullUrl: service,
        resource: {
          resourceType: 'ServiceRequest',
          identifier: [{ system: REFERRAL, value: `SR-${id}` }],
          status: 'active',
          intent: 'order',
          code: { text: 'Home-delivered meals' },
          subject: { reference: patient },
        },
        request: { method: 'POST', url: 'ServiceRequest', ifNoneExist: `identifier=${REFERRAL}|SR-${id}` },
      },
      {
        resource: {
          resourceType: 'Task',
          identifier: [{ system: REFERRAL, value: `T-${id}` }],
          status: 'requested',
          intent: 'order',
          code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
          description: 'Home-delivered meals after discharge',
          focus: { reference: service },
          for: { reference: patient },
          authoredOn: '2026-12-01T09:00:00Z',
          requester: { reference: 'Organization/northside-bh' },
          owner: { reference: 'Organization/sunrise-hcbs' },
          restriction: { period: { end: '2026-12-04T09:00:00Z' } },
          ...(note ? { note: [{ text: note }] } : {}),
        },
        request: { method: 'POST', url: 'Task', ifNoneExist: `identifier=${REFERRAL}|T-${id}` },
      },
    ],
  };
}

describe('closed-loop referrals between agencies', () => {
  const hub = useTestHub();
  const person = newPerson();
  let task: Task;

  /** The referral-update notices about the Task (Communication has no `about` search). */
  const noticesAbout = async (about: Task): Promise<Communication[]> =>
    (
      await hub().fhir.search<Communication>('Communication', {
        identifier: 'https://carecoord.example.org/sid/hub/referral-update|',
        _count: 200,
      })
    ).filter((c) => c.about?.[0]?.reference === `Task/${about.id}`);

  const step = (partner: string, status: string, reason?: string) =>
    request(hub().url)
      .post(`/partners/${partner}/tasks/${task.id}/status`)
      .send({ status, ...(reason ? { reason } : {}) });

  it('lets a clinic refer a participant to another agency: the Task is that agency’s to answer', async () => {
    const answer = await ingest(
      hub(),
      'northside-bh',
      'fhir-transaction',
      referral(person.medicaid, person.tag),
    );
    expect(outcomeOf(answer)).toMatchObject({ status: 200 });
    [task] = (await hub().fhir.search<Task>('Task', { identifier: `${REFERRAL}|T-${person.tag}` })) as [Task];
    expect(task).toMatchObject({ status: 'requested', owner: { reference: 'Organization/sunrise-hcbs' } });
  });

  it('lets the owner take it up, joining the care team, tells the clinic, and the clinic finds it by polling', async () => {
    const since = new Date(Date.now() - 2000).toISOString();
    const accepted = await step('sunrise-hcbs', 'accepted');
    expect(accepted.status).toBe(200);
    expect((accepted.body as Task).status).toBe('accepted');
    // Asked again (a retry after a lost answer): nothing moves, nothing is told twice.
    const again = await step('sunrise-hcbs', 'accepted');
    expect({ status: again.status, version: (again.body as Task).meta?.versionId }).toEqual({
      status: 200,
      version: (accepted.body as Task).meta?.versionId,
    });
    const notices = await noticesAbout(task);
    expect(notices.map((c) => [c.recipient?.[0]?.reference, c.payload?.[0]?.contentString])).toEqual([
      ['Organization/northside-bh', expect.stringMatching(/is accepted \(Sunrise/)],
    ]);
    // Taking up the referral puts the agency on the participant's care team.
    const [team] = await hub().fhir.search<CareTeam>('CareTeam', { patient: task.for!.reference! });
    expect(team?.participant?.map((p) => p.member?.reference)).toContain('Organization/sunrise-hcbs');
    const polled = await request(hub().url).get(
      `/partners/northside-bh/tasks?role=requester&_lastUpdated=ge${since}`,
    );
    const found = (polled.body as Bundle).entry?.map((e) => e.resource as Task).find((t) => t.id === task.id);
    expect(found?.status).toBe('accepted');
  });

  it('keeps each side to its own steps, and a third agency out', async () => {
    expect((await step('harbor-housing', 'completed')).status).toBe(403);
    const clinicCompletes = await step('northside-bh', 'completed');
    expect(clinicCompletes.status).toBe(409);
    expect(diagnostics(clinicCompletes.body as object).join()).toMatch(
      /its requester may move it to cancelled/,
    );
    expect((await step('sunrise-hcbs', 'requested')).status).toBe(400);
    expect((await step('sunrise-hcbs', 'cancelled', 'no capacity')).status).toBe(409);
  });

  it("refuses the clinic's record that would undo the agency's step", async () => {
    // Sent again, changed, as an EHR does when the order is edited: it would put the Task back to requested.
    const answer = await ingest(
      hub(),
      'northside-bh',
      'fhir-transaction',
      referral(person.medicaid, person.tag, 'please call first'),
    );
    expect(outcomeOf(answer).status).toBe(422);
    expect(outcomeOf(answer).diagnostics.join()).toMatch(/was moved on to accepted by its owner/);
    expect((await hub().fhir.read<Task>('Task', task.id!)).status).toBe('accepted');
  });

  it('lets the clinic cancel an open referral with its reason, telling the agency', async () => {
    expect((await step('northside-bh', 'cancelled')).status).toBe(422);
    const cancelled = await step('northside-bh', 'cancelled', 'the participant moved away');
    expect(cancelled.status).toBe(200);
    const notices = await noticesAbout(task);
    expect(notices.map((c) => c.recipient?.[0]?.reference).sort()).toEqual([
      'Organization/northside-bh',
      'Organization/sunrise-hcbs',
    ]);
    // Both steps are on the participant's timeline, under Referrals.
    const page = await request(hub().url).get(`/ui/participants/${task.for!.reference!.split('/')[1]}`);
    const referrals = page.text.slice(page.text.indexOf('<h2>Referrals</h2>'));
    expect(referrals).toContain('is cancelled (Northside');
    expect(referrals).toContain('is accepted (Sunrise');
    const [stored] = await byIdentifier<Task>(hub().fhir, 'Task', REFERRAL, `T-${person.tag}`);
    expect(stored).toMatchObject({
      status: 'cancelled',
      statusReason: { text: 'the participant moved away' },
    });
  });
});
