import { describe, expect, it } from '@jest/globals';
import type { Task } from 'fhir/r4.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';
import { filterCriteria, filterTakes, readFilters } from '../../../src/subscriptions/filters.js';
import { TOPIC_INFO, TOPICS } from '../../../src/subscriptions/topics.js';

const taskTopic = TOPIC_INFO[TOPICS.agencyTaskChanged]!;
const planTopic = TOPIC_INFO[TOPICS.carePlanChanged]!;

describe('subscription filters', () => {
  it('reads each parameter a topic filters by, and states them back the same way', () => {
    const read = readFilters(
      ['Task?patient=Patient/7&code=urn:sys%7Cintake', 'Task?patient:identifier=urn:mcd%7CQX1'],
      taskTopic,
    );
    expect(read).toEqual({
      filter: { patient: 'Patient/7', code: 'urn:sys|intake', patientIdentifier: 'urn:mcd|QX1' },
    });
    const text = filterCriteria((read as { filter: object }).filter, 'Task')!;
    expect(readFilters([text], taskTopic)).toEqual(read);
  });

  it.each([
    ['CarePlan?code=x', planTopic, 'filters by patient, patient:identifier'],
    ['Task?patient=Patient/1', planTopic, 'is not CarePlan?'],
    ['Task?patient=Organization/1', taskTopic, 'patient must be Patient/<id>'],
    ['Task?patient:identifier=nopipe', taskTopic, 'patient:identifier must be <system>|<value>'],
    ['Task?code=a&code=b', taskTopic, 'code is given twice'],
    ['Task?status=ready', taskTopic, 'not "status=ready"'],
    ['Task?code=%E0%A4%A', taskTopic, 'code must be'],
  ])('refuses %s, saying why', (criteria, topic, why) => {
    const read = readFilters([criteria], topic);
    expect('problems' in read && read.problems.join('\n')).toContain(why);
  });

  const facts = (code?: string) => ({
    patient: 'Patient/7',
    identifiers: async () => [{ system: 'urn:mcd', value: 'QX1' }],
    ...(code ? { code: { coding: [{ system: 'urn:sys', code }] } } : {}),
  });

  it('takes an event only when every filter matches', async () => {
    expect(await filterTakes({}, facts())).toBe(true);
    expect(await filterTakes({ patient: 'Patient/7', code: 'intake' }, facts('intake'))).toBe(true);
    expect(await filterTakes({ code: 'urn:sys|intake' }, facts('intake'))).toBe(true);
    expect(await filterTakes({ code: 'urn:other|intake' }, facts('intake'))).toBe(false);
    expect(await filterTakes({ code: 'intake' }, facts())).toBe(false);
    expect(await filterTakes({ patient: 'Patient/8' }, facts())).toBe(false);
    expect(await filterTakes({ patientIdentifier: 'urn:mcd|QX1' }, facts())).toBe(true);
    expect(await filterTakes({ patientIdentifier: 'urn:mcd|QX2' }, facts())).toBe(false);
  });
});

describe('topics', () => {
  const task = (code: string | undefined, requester: string, owner: string): Task => ({
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    ...(code ? { code: { coding: [{ system: CODE_SYSTEM.taskCode, code }] } } : {}),
    requester: { reference: requester },
    owner: { reference: owner },
  });
  const topicsOf = (t: Task): string[] =>
    Object.entries(TOPIC_INFO)
      .filter(([, info]) => info.takes(t))
      .map(([url]) => url.split('/').pop()!);

  it('sorts Tasks into topics by their code and parties', () => {
    expect(topicsOf(task('acknowledge-plan-change', 'Organization/hub', 'Organization/a'))).toEqual([
      'agency-task-changed',
      'acknowledgment-changed',
    ]);
    expect(topicsOf(task('escalation-review', 'Organization/chair', 'Organization/a'))).toEqual([
      'agency-task-changed',
      'escalation-raised',
    ]);
    // A referral: one agency asks another, under a code of its own.
    expect(topicsOf(task(undefined, 'Organization/a', 'Organization/b'))).toEqual([
      'agency-task-changed',
      'referral-changed',
    ]);
    expect(topicsOf(task(undefined, 'Organization/a', 'Organization/a'))).toEqual(['agency-task-changed']);
    const plan = { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: {} } as const;
    expect(Object.values(TOPIC_INFO).filter((i) => i.takes(plan)).length).toBe(1);
  });
});
