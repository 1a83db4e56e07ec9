/**
 * Issue 5 acceptance: the operating model's rules, one scenario each, against real HAPI and Redis
 * through a started hub with the demo partners and the shipped coordination configuration. Every
 * result is read back from the FHIR server.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { AuditEvent, CarePlan, Communication, Encounter, Task } from 'fhir/r4.js';
import { DateTime } from 'luxon';
import path from 'node:path';
import { calendarOf, dueAt } from '../../../src/coordination/business-calendar.js';
import {
  loadCoordinationConfig,
  type CoordinationConfig,
} from '../../../src/coordination/coordination-config.js';
import { loadPartners } from '../../../src/config/partners.js';
import { CODE_SYSTEM, EXTENSION } from '../../../src/fhir/profiles.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  diagnostics,
  dropPrefix,
  eventually,
  get,
  ingest,
  outcomeOf,
  post,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import {
  adt,
  crisisUpdate,
  evvCsv,
  evvRow,
  fhirMessage,
  fhirTaskMessage,
  hmisZip,
  IDENTIFIER_BASE,
  MESSAGE_PATIENT,
  MEDICAID_SYSTEM,
  newPerson,
  servicePlan,
  type Person,
} from '../../fixtures/ingest/samples.js';
import { REPO_ROOT } from '../../support/test-env.js';

const ZONE = 'America/New_York';
const taskCode = (code: string): string => `${CODE_SYSTEM.taskCode}|${code}`;
const timeliness = (t: Task): string | undefined =>
  t.businessStatus?.coding?.find((c) => c.system === CODE_SYSTEM.taskStatus)?.code;
/** HL7 v2 local time in the clinic's zone. */
const hl7Time = (d: DateTime): string => d.setZone(ZONE).toFormat('yyyyLLddHHmmss');

describe('coordination rules', () => {
  const prefix = testPrefix();
  let hub: RunningHub;
  let config: CoordinationConfig;

  beforeAll(async () => {
    hub = await startTestHub(prefix);
    config = await loadCoordinationConfig(
      path.join(REPO_ROOT, 'config/coordination'),
      path.join(REPO_ROOT, 'profiles'),
      await loadPartners(path.join(REPO_ROOT, 'config/partners'), {}),
    );
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  /** The participant's id, once a record about them is on the server. */
  async function patientOf(person: Person): Promise<string> {
    return eventually(
      async () => {
        const [p] = await hub.fhir.search('Patient', { identifier: `${MEDICAID_SYSTEM}|${person.medicaid}` });
        return p?.id;
      },
      30000,
      `Patient ${person.medicaid}`,
    );
  }

  /** Tasks of a code for a participant, once at least `count` exist (and `ready` holds for all). */
  function tasksOf(
    patientId: string,
    code: string,
    count = 1,
    ready: (t: Task) => boolean = () => true,
  ): Promise<Task[]> {
    return eventually(
      async () => {
        const tasks = await hub.fhir.search<Task>('Task', {
          patient: `Patient/${patientId}`,
          code: taskCode(code),
        });
        return tasks.length >= count && tasks.every(ready) ? tasks : undefined;
      },
      30000,
      `${count} ${code} Task(s) for Patient/${patientId}`,
    );
  }

  /** The escalation notice and review Task about `focus` (notices are found by participant and filtered). */
  async function escalationFor(
    patientId: string,
    focus: string,
  ): Promise<{ task: Task; notice: Communication }> {
    return eventually(
      async () => {
        const notices = await hub.fhir.search<Communication>('Communication', {
          subject: `Patient/${patientId}`,
          category: `${CODE_SYSTEM.communicationCategory}|escalation-notice`,
        });
        const notice = notices.find((c) => c.about?.some((a) => a.reference === focus));
        const [task] = await hub.fhir.search<Task>('Task', { focus, code: taskCode('escalation-review') });
        return notice && task ? { task, notice } : undefined;
      },
      30000,
      `escalation about ${focus}`,
    );
  }

  /** A crisis update at `event` that crossed the ED-visit threshold, its next review five days on. */
  function edVisitUpdate(person: Person, event: DateTime): ReturnType<typeof crisisUpdate> {
    return {
      ...crisisUpdate(person),
      eventDateTime: event.toISO()!,
      nextReviewAt: event.plus({ days: 5 }).toISO()!,
      thresholdsCrossed: ['ed-visit'],
    };
  }

  /** The Task once it is completed. */
  function completed(taskId: string): Promise<Task> {
    return eventually(async () => {
      const t = await hub.fhir.read<Task>('Task', taskId);
      return t.status === 'completed' ? t : undefined;
    });
  }

  async function applied(answer: Awaited<ReturnType<typeof ingest>>): Promise<void> {
    expect(outcomeOf(answer)).toMatchObject({ status: 200 });
  }

  /** A participant on the HCBS provider's and the BH clinic's care team (service plan and an A01). */
  async function sharedParticipant(person: Person): Promise<string> {
    await applied(await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person)));
    await applied(
      await ingest(
        hub,
        'northside-bh',
        'hl7v2-adt',
        adt(person, { trigger: 'A01', controlId: `A01-${person.tag}`, visitNumber: `V-${person.tag}` }),
        'application/hl7-v2',
      ),
    );
    return patientOf(person);
  }

  describe('rule 1: named coordinator of the day', () => {
    it('sets, covers, hands over and looks up the coordinator; nobody named is an alert', async () => {
      const person = newPerson();
      const patientId = await sharedParticipant(person);
      const today = DateTime.now().setZone(ZONE).toISODate()!;
      const tomorrow = DateTime.now().setZone(ZONE).plus({ days: 1 }).toISODate()!;

      const none = await get(hub, `/participants/${patientId}/coordinator`);
      expect(none.status).toBe(404);
      expect(diagnostics(none.body as object).join()).toContain('no-coordinator-today');
      const roster = (await get(hub, '/roster')).body as {
        entries: { patient: string; reasons: { flag: string }[] }[];
      };
      expect(
        roster.entries.find((e) => e.patient === `Patient/${patientId}`)?.reasons.map((r) => r.flag),
      ).toContain('no-coordinator-today');

      expect(
        (
          await post(hub, `/participants/${patientId}/coordinator`, {
            display: 'Alex Rivera',
            organization: 'sunrise-hcbs',
            start: today,
          })
        ).status,
      ).toBe(201);
      expect((await get(hub, `/participants/${patientId}/coordinator`)).body).toMatchObject({
        date: today,
        coordinator: { display: 'Alex Rivera' },
        coverage: false,
      });

      await post(hub, `/participants/${patientId}/coordinator`, {
        display: 'Blake Chen',
        organization: 'northside-bh',
        start: today,
        end: today,
        coverage: true,
      });
      expect((await get(hub, `/participants/${patientId}/coordinator`)).body).toMatchObject({
        coordinator: { display: 'Blake Chen' },
        coverage: true,
      });
      const noEnd = await post(hub, `/participants/${patientId}/coordinator`, {
        display: 'Drew',
        organization: 'northside-bh',
        coverage: true,
      });
      expect(noEnd.status).toBe(422);

      const handover = await post(hub, `/participants/${patientId}/coordinator/handover`, {
        to: { display: 'Casey Morgan', organization: 'northside-bh' },
        on: tomorrow,
        note: 'Alex on leave',
      });
      expect(handover.status).toBe(200);
      expect((await get(hub, `/participants/${patientId}/coordinator?date=${tomorrow}`)).body).toMatchObject({
        coordinator: { display: 'Casey Morgan' },
      });
      const [notice] = await hub.fhir.search<Communication>('Communication', {
        subject: `Patient/${patientId}`,
        category: `${CODE_SYSTEM.communicationCategory}|coordinator-handover`,
      });
      expect(notice?.payload?.[0]?.contentString).toContain('Casey Morgan');
    });
  });

  describe('rule 2: decision rights', () => {
    it('refuses a housing agency reconciling medications, naming the missing right, and records it', async () => {
      const person = newPerson();
      const patientId = await sharedParticipant(person);
      const answer = await ingest(
        hub,
        'harbor-housing',
        'fhir-message',
        fhirTaskMessage(person, 'harbor-housing', 'Encounter/none'),
      );
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(diagnostics(answer.body as object).join('\n')).toMatch(
        /harbor-housing.*medication-reconciliation/,
      );

      const audits = await eventually(
        async () => {
          const found = await hub.fhir.search<AuditEvent>('AuditEvent', {
            agent: 'Organization/harbor-housing',
            _sort: '-date',
            _count: '20',
          });
          return found.filter((a) => a.entity?.some((e) => e.what?.display?.includes(person.tag)) ?? false)
            .length > 0
            ? found
            : undefined;
        },
        10000,
        'rights AuditEvent',
      );
      expect(audits[0]?.outcome).toBe('4');

      // The BH clinic holds the right: the same action from it goes in.
      await applied(
        await ingest(
          hub,
          'northside-bh',
          'fhir-message',
          fhirTaskMessage(person, 'northside-bh', `Patient/${patientId}`, `msg-bh-${person.tag}`),
        ),
      );
    });
  });

  describe('rule 3: escalation tiers', () => {
    it('escalates an ED visit same-day to the coordinator and the chair, and after hours to the on-call contact', async () => {
      const person = newPerson();
      const patientId = await sharedParticipant(person);
      // A Tuesday 10:00 and a Saturday 23:30 in New York.
      for (const [tag, at, afterHours] of [
        ['day', '2026-11-17T10:00:00-05:00', false],
        ['night', '2026-11-21T23:30:00-05:00', true],
      ] as const) {
        const update = {
          ...crisisUpdate(person),
          updateId: `CU-${tag}-${person.tag}`,
          eventDateTime: at,
          nextReviewAt: '2026-12-30T17:00:00-05:00',
          thresholdsCrossed: ['ed-visit'],
        };
        await applied(await ingest(hub, 'sunrise-hcbs', 'crisis-update', update));
        const [communication] = await eventually(async () => {
          const found = await hub.fhir.search<Communication>('Communication', {
            identifier: `${IDENTIFIER_BASE}/sid/sunrise-hcbs/crisis-update|CU-${tag}-${person.tag}`,
          });
          return found.length > 0 ? found : undefined;
        });
        const { task, notice } = await escalationFor(patientId, `Communication/${communication!.id}`);
        expect(task.priority).toBe('urgent');
        expect(task.restriction?.period?.end).toBe(new Date(Date.parse(at) + 8 * 3600_000).toISOString());
        const recipients = (notice.recipient ?? []).map((r) => r.display ?? '');
        const chair = config.tiers.tiers['same-day']!.chair;
        const onCall = calendarOf(config.calendars, chair.organization).onCall.display;
        expect(recipients.some((r) => r.includes(afterHours ? onCall : chair.display))).toBe(true);
        // Saturday night: the chair's office opens Monday 08:00 in New York.
        const text = notice.payload?.[0]?.contentString ?? '';
        if (afterHours) {
          expect(text).toContain("the chair's office opens 2026-11-23T13:00:00.000Z");
        } else {
          expect(text).not.toContain('after hours');
        }
      }
    });
  });

  describe('rule 4: 24-hour documentation', () => {
    it('turns a missed visit never recorded into an overdue Task and a roster alert; the late record closes it as late', async () => {
      const person = newPerson();
      const patientId = await sharedParticipant(person);
      const threeDaysAgo = DateTime.now().setZone(ZONE).minus({ days: 3 }).toISODate()!;
      await applied(
        await ingest(
          hub,
          'sunrise-hcbs',
          'evv-csv',
          evvCsv(evvRow(person, `V1-${person.tag}`, 'NS', threeDaysAgo)),
          'text/csv',
        ),
      );

      const [task] = await tasksOf(patientId, 'documentation-24h', 1, (t) => timeliness(t) === 'overdue');
      expect(task!.owner?.reference).toBe('Organization/sunrise-hcbs');
      expect(Date.parse(task!.restriction!.period!.end!)).toBe(
        DateTime.fromISO(`${threeDaysAgo}T09:00`, { zone: ZONE }).plus({ hours: 24 }).toMillis(),
      );
      await escalationFor(patientId, `Task/${task!.id}`);
      const roster = (await get(hub, '/roster')).body as {
        entries: { patient: string; overdueDocumentation: number; reasons: { flag: string }[] }[];
      };
      const entry = roster.entries.find((e) => e.patient === `Patient/${patientId}`);
      expect(entry?.overdueDocumentation).toBe(1);
      expect(entry?.reasons.map((r) => r.flag)).toContain('overdue-documentation');

      const record = {
        resourceType: 'Communication',
        identifier: [{ system: 'https://sunrise-hcbs.example.org/notes', value: `N-${person.tag}` }],
        status: 'completed',
        category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'service-disruption' }] }],
        subject: { reference: MESSAGE_PATIENT },
        sent: new Date().toISOString(),
        sender: { reference: 'Organization/sunrise-hcbs' },
        payload: [{ contentString: 'Caregiver car broke down; participant safe, visit rescheduled' }],
      };
      await applied(
        await ingest(
          hub,
          'sunrise-hcbs',
          'fhir-message',
          fhirMessage(person, 'sunrise-hcbs', 'communication', [record]),
        ),
      );
      const closed = await completed(task!.id!);
      expect(timeliness(closed)).toBe('late');
    });
  });

  describe('rule 6: post-discharge sprint', () => {
    async function discharge(person: Person, at: DateTime): Promise<{ patientId: string; tasks: Task[] }> {
      const patientId = await sharedParticipant(person);
      await applied(
        await ingest(
          hub,
          'northside-bh',
          'hl7v2-adt',
          adt(person, {
            trigger: 'A03',
            controlId: `A03-${person.tag}`,
            visitNumber: `V-${person.tag}`,
            dischargeAt: hl7Time(at),
          }),
          'application/hl7-v2',
        ),
      );
      const tasks = await eventually(
        async () => {
          const found = await hub.fhir.search<Task>('Task', {
            patient: `Patient/${patientId}`,
            'group-identifier': `${IDENTIFIER_BASE}/sid/hub/sprint|`,
          });
          return found.length >= config.sprint.steps.length ? found : undefined;
        },
        30000,
        'sprint Tasks',
      );
      return { patientId, tasks };
    }
    const step = (tasks: Task[], code: string): Task =>
      tasks.find((t) => t.code?.coding?.[0]?.code === code)!;

    it('opens every step of the 72 hours as a Task with an owning agency and a due time', async () => {
      const dischargedAt = DateTime.now().minus({ hours: 1 }).startOf('second');
      const { tasks } = await discharge(newPerson(), dischargedAt);
      expect(tasks).toHaveLength(config.sprint.steps.length);
      for (const s of config.sprint.steps) {
        const task = step(tasks, s.code);
        expect(task.owner?.reference).toMatch(/^Organization\//);
        expect(task.restriction?.period?.end).toBe(
          new Date(dischargedAt.toMillis() + s.dueAfterMs).toISOString(),
        );
      }
      // The BH clinic holds the medication-reconciliation right and is on the care team.
      expect(step(tasks, 'medication-reconciliation').owner?.reference).toBe('Organization/northside-bh');

      const summary = step(tasks, 'discharge-summary');
      const owner = summary.owner!.reference!.split('/')[1];
      const done = await post(hub, `/tasks/${summary.id}/report`, {
        outcome: 'completed',
        by: owner,
        note: 'Summary received from the unit',
      });
      expect(done.status).toBe(200);
      expect(timeliness(await hub.fhir.read<Task>('Task', summary.id!))).toBe('on-time');
    });

    it('shows Day 0 completed late as late, and records a refusal with how it was handled', async () => {
      const { patientId, tasks } = await discharge(
        newPerson(),
        DateTime.now().minus({ days: 3 }).startOf('second'),
      );
      const summary = step(tasks, 'discharge-summary');
      const owner = summary.owner!.reference!.split('/')[1]!;
      const other = owner === 'harbor-housing' ? 'sunrise-hcbs' : 'harbor-housing';
      expect(
        (await post(hub, `/tasks/${summary.id}/report`, { outcome: 'completed', by: other })).status,
      ).toBe(403);
      await post(hub, `/tasks/${summary.id}/report`, { outcome: 'completed', by: owner });
      const late = await hub.fhir.read<Task>('Task', summary.id!);
      expect(timeliness(late)).toBe('late');
      expect(late.businessStatus?.text).toMatch(/after its due time/);

      const visit = step(tasks, 'first-visit-confirmed');
      const visitOwner = visit.owner!.reference!.split('/')[1]!;
      const refused = await post(hub, `/tasks/${visit.id}/report`, {
        outcome: 'participant-refused',
        by: visitOwner,
        reason: 'Does not want a visit before the weekend',
        handling: 'Phone check-in booked for Friday; coordinator told',
      });
      expect(refused.status).toBe(200);
      const stored = await hub.fhir.read<Task>('Task', visit.id!);
      expect(stored.status).toBe('failed');
      expect(timeliness(stored)).toBe('participant-refused');
      expect(stored.note?.map((n) => n.text).join()).toContain('Phone check-in booked for Friday');
      const records = await hub.fhir.search<Communication>('Communication', {
        subject: `Patient/${patientId}`,
        category: `${CODE_SYSTEM.communicationCategory}|refusal`,
      });
      expect(
        records.find((c) => c.about?.[0]?.reference === `Task/${visit.id}`)?.payload?.[1]?.contentString,
      ).toContain('Phone check-in booked for Friday');

      // Steps nobody did by their due time escalate.
      await escalationFor(patientId, `Task/${step(tasks, 'medication-reconciliation').id}`);
    });

    it('starts the sprint from a FHIR discharge message too', async () => {
      const person = newPerson();
      const end = DateTime.now().minus({ minutes: 30 }).startOf('second');
      const encounter: Encounter = {
        resourceType: 'Encounter',
        identifier: [{ system: 'https://northside-bh.example.org/encounter', value: `E-${person.tag}` }],
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
        subject: { reference: MESSAGE_PATIENT },
        period: { start: end.minus({ days: 4 }).toISO(), end: end.toISO() },
      };
      await applied(
        await ingest(
          hub,
          'northside-bh',
          'fhir-message',
          fhirMessage(person, 'northside-bh', 'encounter-discharge', [
            encounter as unknown as Record<string, unknown>,
          ]),
        ),
      );
      const patientId = await patientOf(person);
      const tasks = await tasksOf(patientId, 'services-active-check');
      expect(tasks[0]!.restriction?.period?.end).toBe(new Date(end.toMillis() + 72 * 3600_000).toISOString());
    });
  });

  describe('rule 7: plan change control', () => {
    it('opens a time-bound review on housing loss and refuses a plan version without its change control', async () => {
      const person = newPerson();
      const patientId = await sharedParticipant(person);
      await applied(await ingest(hub, 'harbor-housing', 'hmis-csv', hmisZip(person), 'application/zip'));

      const [review] = await tasksOf(patientId, 'plan-change-review');
      expect(review!.description).toMatch(/^Review the plan within 1 business day after: Housing loss\./);
      const owner = review!.owner!.reference!.split('/')[1]!;
      const window = config.planChange.triggers['housing-loss']!.review;
      expect(review!.restriction?.period?.end).toBe(
        dueAt(
          calendarOf(config.calendars, owner),
          new Date(review!.restriction!.period!.start!),
          window,
        ).toISOString(),
      );
      await escalationFor(patientId, review!.focus!.reference!);

      const plan = (extension?: unknown[]): Record<string, unknown> => ({
        resourceType: 'CarePlan',
        identifier: [{ system: 'https://sunrise-hcbs.example.org/plan', value: `P-${person.tag}` }],
        status: 'active',
        intent: 'plan',
        title: 'Shared support plan',
        subject: { reference: MESSAGE_PATIENT },
        author: { reference: 'Organization/sunrise-hcbs' },
        activity: [
          {
            detail: {
              status: 'scheduled',
              description: 'Daily check-in at the shelter',
              performer: [{ reference: 'Organization/sunrise-hcbs' }],
            },
          },
        ],
        ...(extension ? { extension } : {}),
      });
      const refused = await ingest(
        hub,
        'sunrise-hcbs',
        'fhir-message',
        fhirMessage(person, 'sunrise-hcbs', 'careplan-update', [plan()]),
      );
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(diagnostics(refused.body as object).join('\n')).toContain(
        `CarePlan.extension('${EXTENSION.planChangeControl}')`,
      );

      const control = [
        {
          url: EXTENSION.planChangeControl,
          extension: [
            { url: 'whatChanged', valueString: 'Visits move to the shelter; daily check-in added' },
            { url: 'risk', valueString: 'Missed medication while unhoused' },
            {
              url: 'control',
              extension: [
                { url: 'description', valueString: 'Daily check-in by the HCBS aide' },
                { url: 'owner', valueReference: { reference: 'Organization/sunrise-hcbs' } },
              ],
            },
          ],
        },
      ];
      await applied(
        await ingest(
          hub,
          'sunrise-hcbs',
          'fhir-message',
          fhirMessage(person, 'sunrise-hcbs', 'careplan-update', [plan(control)]),
        ),
      );
      const closed = await completed(review!.id!);
      expect(closed.note?.map((n) => n.text).join()).toMatch(/Answered by CarePlan\//);
      // The new version is routed and acknowledged like any plan change.
      const [carePlan] = await hub.fhir.search<CarePlan>('CarePlan', {
        identifier: `https://sunrise-hcbs.example.org/plan|P-${person.tag}`,
      });
      await tasksOf(
        patientId,
        'acknowledge-plan-change',
        1,
        (t) => t.basedOn?.[0]?.reference?.startsWith(`CarePlan/${carePlan!.id}`) ?? false,
      );
    });
  });

  describe('rules 8 and 9: crisis stabilization updates and temporary support', () => {
    it('refuses an ED-visit update without the supervisor responsible for the next update', async () => {
      const person = newPerson();
      const update: Record<string, unknown> = { ...crisisUpdate(person), thresholdsCrossed: ['ed-visit'] };
      delete update.nextUpdateSupervisor;
      const answer = await ingest(hub, 'sunrise-hcbs', 'crisis-update', update);
      expect(answer.status).toBe(422);
      expect(diagnostics(answer.body as object).join()).toContain('/nextUpdateSupervisor: is required');
    });

    it('requires the next update to the case manager by a deadline, escalates it when missed, and closes it with the next update', async () => {
      const person = newPerson();
      const patientId = await sharedParticipant(person);
      const event = DateTime.now().minus({ days: 2 }).startOf('second');
      const update = edVisitUpdate(person, event);
      await applied(await ingest(hub, 'sunrise-hcbs', 'crisis-update', update));

      const [task] = await tasksOf(patientId, 'crisis-update', 1, (t) => timeliness(t) === 'overdue');
      expect(task!.owner?.display).toContain('Dana Shiftlead');
      const window = config.crisis.updateWithin['ed-visit']!;
      expect(task!.restriction?.period?.end).toBe(
        dueAt(calendarOf(config.calendars, 'sunrise-hcbs'), event.toJSDate(), window).toISOString(),
      );
      const { task: escalation } = await escalationFor(patientId, `Task/${task!.id}`);
      expect(escalation.requester?.reference).toBe(
        `Organization/${config.tiers.tiers[config.tiers.triggers['missed-crisis-update']!]!.chair.organization}`,
      );
      // The update's own ED-visit escalation was written with the Task, in the rules' transaction;
      // the Task's, known to be due only from that transaction's answer, was left to a job.
      const communication = task!.focus!.reference!;
      await escalationFor(patientId, communication);
      const jobs = await hub.queues.escalations.getJobs([
        'completed',
        'active',
        'waiting',
        'delayed',
        'failed',
      ]);
      const raising = jobs.filter((j) => JSON.stringify(j.data).includes(patientId));
      expect(
        raising.map((j) => ('requests' in j.data ? j.data.requests : [j.data]).map((r) => r.focus)),
      ).toEqual([[`Task/${task!.id}`]]);

      const next = {
        ...update,
        updateId: `CU2-${person.tag}`,
        eventDateTime: new Date().toISOString(),
        nextReviewAt: event.plus({ days: 6 }).toISO(),
        thresholdsCrossed: [],
      };
      await applied(await ingest(hub, 'sunrise-hcbs', 'crisis-update', next));
      const closed = await completed(task!.id!);
      expect(timeliness(closed)).toBe('late');
    });

    it('closes an earlier update’s Task without overwriting a change made to it between the rules’ read and write', async () => {
      const person = newPerson();
      const patientId = await sharedParticipant(person);
      const event = DateTime.now().minus({ hours: 1 }).startOf('second');
      const update = {
        ...crisisUpdate(person),
        eventDateTime: event.toISO(),
        nextReviewAt: event.plus({ days: 5 }).toISO(),
        thresholdsCrossed: ['ed-visit'],
      };
      await applied(await ingest(hub, 'sunrise-hcbs', 'crisis-update', update));
      const [task] = await tasksOf(patientId, 'crisis-update', 1);

      // The case manager notes something on the Task just before the rules write their closing.
      const original = hub.fhir.update.bind(hub.fhir);
      let interfered = false;
      const update$ = jest.spyOn(hub.fhir, 'update').mockImplementation((async (
        resource: Task,
        opts?: { ifMatch?: string },
      ) => {
        if (!interfered && resource.resourceType === 'Task' && resource.id === task!.id) {
          interfered = true;
          const current = await hub.fhir.read<Task>('Task', task!.id!);
          await original({ ...current, note: [...(current.note ?? []), { text: 'Called the family' }] });
        }
        return original(resource, opts);
      }) as typeof hub.fhir.update);
      try {
        const next = {
          ...update,
          updateId: `CU3-${person.tag}`,
          eventDateTime: new Date().toISOString(),
          thresholdsCrossed: [],
        };
        await applied(await ingest(hub, 'sunrise-hcbs', 'crisis-update', next));
        const closed = await eventually(async () => {
          const t = await hub.fhir.read<Task>('Task', task!.id!);
          return t.status === 'completed' ? t : undefined;
        });
        expect(interfered).toBe(true);
        expect(closed.note?.map((n) => n.text)).toContain('Called the family');
      } finally {
        update$.mockRestore();
      }
    });

    it('opens an authorization review for the case manager when temporary support exceeds the authorized scope', async () => {
      const person = newPerson();
      const patientId = await sharedParticipant(person);
      const update = {
        ...crisisUpdate(person),
        updateId: `CU-auth-${person.tag}`,
        thresholdsCrossed: ['temporary-support-increase'],
        temporarySupportIncrease: {
          supportIncrease: 'Second staff member for evening routine',
          reason: 'Repeated escalation at bedtime',
          startDate: '2025-03-15',
          expectedReviewDate: '2025-03-22',
          outcomeIndicators: ['No incidents for 5 nights'],
          staffingImpact: '14 extra staff hours per week',
          caseManagerNotifiedAt: '2025-03-16T09:00:00-05:00',
          stepDownEvidence: ['Settles by 21:30 on 4 of 5 nights'],
          exceedsAuthorizedScope: true,
        },
      };
      await applied(await ingest(hub, 'sunrise-hcbs', 'crisis-update', update));
      // Past its review date with no later update: a second review, for the window.
      const reviews = await tasksOf(patientId, 'authorization-review', 2);
      const caseManager = reviews[0]!.owner!;
      expect(caseManager.reference ?? caseManager.display).toBeTruthy();
      expect(reviews.map((t) => t.description).join('\n')).toMatch(
        /exceeds the authorized scope[\s\S]*past its stabilization window|past its stabilization window[\s\S]*exceeds the authorized scope/,
      );
    });
  });

  describe('rule 5: huddle roster and decisions', () => {
    it('ranks participants by their flags with reasons, stably, and records huddle decisions with closed actions', async () => {
      const risky = newPerson();
      const quiet = newPerson();
      const riskyId = await sharedParticipant(risky);
      const quietId = await sharedParticipant(quiet);
      await applied(
        await ingest(hub, 'sunrise-hcbs', 'crisis-update', {
          ...crisisUpdate(risky),
          nextReviewAt: '2026-12-30T17:00:00-05:00',
        }),
      );
      await tasksOf(riskyId, 'crisis-update');

      const read = async (): Promise<
        { patient: string; rank: number; explanation: string; reasons: { flag: string }[] }[]
      > => ((await get(hub, '/roster?agency=sunrise-hcbs')).body as { entries: never[] }).entries;
      const first = await read();
      const rankOf = (id: string): number => first.find((e) => e.patient === `Patient/${id}`)!.rank;
      expect(rankOf(riskyId)).toBeLessThan(rankOf(quietId));
      const risk = first.find((e) => e.patient === `Patient/${riskyId}`)!;
      expect(risk.reasons.map((r) => r.flag)).toContain('self-harm-risk');
      expect(risk.explanation).toMatch(/self-harm-risk/);
      expect((await read()).map((e) => e.patient)).toEqual(first.map((e) => e.patient));

      const due = DateTime.now().plus({ days: 1 }).toUTC().toISO();
      const huddle = await post(hub, '/huddles', {
        date: DateTime.now().setZone(ZONE).toISODate(),
        attendees: [
          { display: 'Alex Rivera', organization: 'sunrise-hcbs' },
          { display: 'Casey Morgan', organization: 'northside-bh' },
        ],
        decisions: [
          {
            participant: `Patient/${riskyId}`,
            decision: 'Book a psychiatry review this week',
            owner: 'northside-bh',
            due,
          },
        ],
      });
      expect(huddle.status).toBe(201);
      const log = huddle.body as {
        huddle: string;
        attendees: string[];
        actions: { task: string; owner: string; due: string }[];
        actionsClosed: number;
      };
      expect(log.attendees).toHaveLength(2);
      expect(log.actions).toEqual([
        expect.objectContaining({ owner: 'Organization/northside-bh', due: new Date(due).toISOString() }),
      ]);
      expect(log.actionsClosed).toBe(0);

      await post(hub, '/huddles', {
        date: DateTime.now().setZone(ZONE).toISODate(),
        attendees: [],
        decisions: [],
        closedActions: [log.actions[0]!.task],
      });
      const after = (await get(hub, `/huddles/${log.huddle.split('/')[1]}`)).body as {
        actionsClosed: number;
      };
      expect(after.actionsClosed).toBe(1);

      const bad = await post(hub, '/huddles', { date: 'tomorrow', attendees: [], decisions: [] });
      expect(bad.status).toBe(400);
      expect(diagnostics(bad.body as object).join()).toContain('/date');
    });

    it('answers the roster a part at a time, the next part named in Link', async () => {
      await sharedParticipant({ ...newPerson(), family: 'Núñez', given: 'José' });
      for (let i = 0; i < 2; i++) {
        await sharedParticipant(newPerson());
      }
      type Part = { total: number; entries: { rank: number; patient: string }[] };
      const first = await fetch(`${hub.url}/roster?agency=sunrise-hcbs&limit=2`);
      const part = (await first.json()) as Part;
      expect(part.total).toBeGreaterThanOrEqual(3);
      expect(part.entries.map((e) => e.rank)).toEqual([1, 2]);
      const next = /^<([^>]+)>; rel="next"$/.exec(first.headers.get('link') ?? '')?.[1];
      expect(next).toBe('/roster?agency=sunrise-hcbs&limit=2&offset=2');
      const second = (await (await fetch(`${hub.url}${next}`)).json()) as Part;
      expect(second.entries[0]!.rank).toBe(3);

      // The last part names no next one; without a limit, all of it.
      const last = await fetch(`${hub.url}/roster?agency=sunrise-hcbs&limit=2&offset=${part.total - 1}`);
      expect(((await last.json()) as Part).entries).toHaveLength(1);
      expect(last.headers.get('link')).toBeNull();
      expect(((await get(hub, '/roster?agency=sunrise-hcbs')).body as Part).entries).toHaveLength(part.total);
      // The whole roster is written from the ranking's kept JSON: one document, its length exact
      // (names outside ASCII count in bytes), and nothing after the headers for a HEAD.
      const whole = await fetch(`${hub.url}/roster?agency=sunrise-hcbs`);
      const bytes = Buffer.from(await whole.arrayBuffer());
      expect(whole.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Number(whole.headers.get('content-length'))).toBe(bytes.length);
      const all = JSON.parse(bytes.toString('utf8')) as Part & { generatedAt: string };
      expect(all.total).toBe(all.entries.length);
      expect(all.entries.map((e) => e.rank)).toEqual(all.entries.map((_, i) => i + 1));
      expect(bytes.toString('utf8')).toContain('José Núñez');
      expect(Number.isNaN(Date.parse(all.generatedAt))).toBe(false);
      const head = await fetch(`${hub.url}/roster?agency=sunrise-hcbs`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect((await head.arrayBuffer()).byteLength).toBe(0);

      for (const query of ['limit=0', 'limit=1001', 'limit=two', 'offset=-1']) {
        const refused = await get(hub, `/roster?${query}`);
        expect(refused.status).toBe(400);
        expect(JSON.stringify(refused.body)).toContain(query.split('=')[0]!);
      }
    });
  });
});
