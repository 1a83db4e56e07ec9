import { describe, expect, it } from '@jest/globals';
import type { Communication, Task } from 'fhir/r4.js';
import { computeEvidence, evidenceCsv } from '../../../src/coordination/evidence.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';

const NOW = new Date('2026-03-20T12:00:00Z');
const ESCALATION_SYSTEM = 'https://carecoord.example.org/sid/hub/escalation-notice';
const Q = { from: '2026-03-01', to: '2026-03-21' };

function task(
  code: string,
  owner: string,
  o: {
    authored?: string;
    due: string;
    closed?: string;
    status?: Task['status'];
    timeliness?: string;
    patient?: string;
  },
): Task {
  return {
    resourceType: 'Task',
    status: o.status ?? (o.closed ? 'completed' : 'requested'),
    intent: 'order',
    code: { coding: [{ system: CODE_SYSTEM.taskCode, code }] },
    for: { reference: o.patient ?? 'Patient/p1' },
    owner: { reference: `Organization/${owner}` },
    authoredOn: o.authored ?? '2026-03-10T08:00:00Z',
    restriction: { period: { end: o.due } },
    ...(o.closed ? { executionPeriod: { end: o.closed } } : {}),
    ...(o.timeliness
      ? { businessStatus: { coding: [{ system: CODE_SYSTEM.taskStatus, code: o.timeliness }] } }
      : {}),
  };
}

function communication(category: string, sent: string, extra: Partial<Communication> = {}): Communication {
  return {
    resourceType: 'Communication',
    status: 'completed',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: category }] }],
    sent,
    ...extra,
  };
}

const tasks: Task[] = [
  // Acknowledgments: one on time (2 h), one late (30 h), one overdue, one not yet due.
  task('acknowledge-plan-change', 'northside-bh', {
    due: '2026-03-11T08:00:00Z',
    closed: '2026-03-10T10:00:00Z',
    timeliness: 'on-time',
  }),
  task('acknowledge-plan-change', 'northside-bh', {
    due: '2026-03-11T08:00:00Z',
    closed: '2026-03-11T14:00:00Z',
    timeliness: 'late',
  }),
  task('acknowledge-plan-change', 'northside-bh', { due: '2026-03-12T08:00:00Z', patient: 'Patient/p2' }),
  task('acknowledge-plan-change', 'harbor-housing', { due: '2026-03-25T08:00:00Z' }),
  // Documentation: one within 24 h, one refused by the participant.
  task('documentation-24h', 'sunrise-hcbs', {
    due: '2026-03-11T08:00:00Z',
    closed: '2026-03-10T20:00:00Z',
    timeliness: 'on-time',
  }),
  task('first-visit-confirmed', 'sunrise-hcbs', {
    due: '2026-03-11T08:00:00Z',
    closed: '2026-03-10T09:00:00Z',
    status: 'failed',
    timeliness: 'participant-refused',
  }),
  // A huddle action closed on time; one outside the period (ignored).
  task('huddle-action', 'sunrise-hcbs', {
    due: '2026-03-15T08:00:00Z',
    closed: '2026-03-14T08:00:00Z',
    timeliness: 'on-time',
  }),
  task('huddle-action', 'sunrise-hcbs', { authored: '2026-02-01T08:00:00Z', due: '2026-02-15T08:00:00Z' }),
];
const communications: Communication[] = [
  communication('huddle-log', '2026-03-10T09:00:00Z', {
    recipient: [{ display: 'Morgan (Northside)' }, { display: 'Sam (Sunrise)' }],
    payload: [
      { contentString: 'Joint caseload huddle' },
      { contentString: 'Attendance: Morgan (northside-bh), Sam (sunrise-hcbs)' },
    ],
  }),
  communication('huddle-log', '2026-03-17T09:00:00Z', {
    recipient: [{ display: 'Sam (Sunrise)' }],
    payload: [
      { contentString: 'Joint caseload huddle' },
      { contentString: 'Attendance: Sam (sunrise-hcbs)' },
    ],
  }),
  communication('escalation-notice', '2026-03-12T09:00:00Z', {
    identifier: [{ system: ESCALATION_SYSTEM, value: 'missed-acknowledgment.Task-1' }],
  }),
  communication('escalation-notice', '2026-03-13T09:00:00Z'),
];

describe('coordination evidence', () => {
  const report = computeEvidence(
    { tasks, communications, escalationNoticeSystem: ESCALATION_SYSTEM },
    Q,
    NOW,
  );

  it('counts huddles, attendance and their actions in the period', () => {
    expect(report.huddles).toEqual({
      held: 2,
      meanAttendance: 1.5,
      actionsOpened: 1,
      actionsClosed: 1,
      actionsClosedOnTime: 1,
    });
  });

  it('counts each obligation as on time, late, overdue, refused or open, with latency', () => {
    const ack = report.timeliness.find((t) => t.id === 'acknowledgment')!;
    expect(ack).toMatchObject({ total: 4, onTime: 1, late: 1, overdue: 1, refused: 0, open: 1 });
    expect(ack.latencyHours).toEqual({ p50: 2, p90: 30, max: 30 });
    expect(ack.histogram).toEqual([
      { bucket: 'under 4 h', count: 1 },
      { bucket: '4-24 h', count: 0 },
      { bucket: '1-3 days', count: 1 },
      { bucket: 'over 3 days', count: 0 },
    ]);
    expect(report.timeliness.find((t) => t.id === 'first-contact')).toMatchObject({ total: 1, refused: 1 });
    expect(report.documentation).toEqual({ due: 1, within24h: 1, late: 0, overdue: 0 });
  });

  it('tells escalations raised by a configured trigger from ad hoc ones', () => {
    expect(report.escalations).toEqual({
      asDesigned: 1,
      adHoc: 1,
      byTrigger: [
        { trigger: 'ad hoc', count: 1 },
        { trigger: 'missed-acknowledgment', count: 1 },
      ],
    });
  });

  it('names an agency that missed the same kind of obligation twice', () => {
    expect(report.recurringFailures).toEqual([
      { kind: 'acknowledge-plan-change', agency: 'northside-bh', count: 2, participants: 2 },
    ]);
    expect(report.byAgency.find((a) => a.agency === 'northside-bh')).toEqual({
      agency: 'northside-bh',
      obligations: 3,
      onTime: 1,
      late: 1,
      overdue: 1,
    });
  });

  it('keeps to one agency when asked: its obligations and the huddles it attended', () => {
    const harbor = computeEvidence(
      { tasks, communications, escalationNoticeSystem: ESCALATION_SYSTEM },
      { ...Q, agency: 'northside-bh' },
      NOW,
    );
    expect(harbor.huddles.held).toBe(1);
    expect(harbor.byAgency.map((a) => a.agency)).toEqual(['northside-bh']);
  });

  it('writes CSV a spreadsheet cannot mistake for formulas', () => {
    const csv = evidenceCsv({
      ...report,
      recurringFailures: [{ kind: '=HYPERLINK("x")', agency: 'a,b', count: 2, participants: 1 }],
    });
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('section,metric,agency,period,value');
    expect(lines[1]).toBe('huddles,held,all,2026-03-01/2026-03-21,2');
    expect(csv).toContain(`recurring failures,"'=HYPERLINK(""x"") by a,b",all,2026-03-01/2026-03-21,2`);
  });

  it("counts a period's days in the hub's time zone: an evening in New York is that day, not the next", () => {
    // 23:30 in New York on 20 March is 03:30 UTC on the 21st.
    const evening = communication('huddle-log', '2026-03-21T03:30:00Z');
    const lateNight = communication('huddle-log', '2026-03-22T04:30:00Z'); // 00:30 on the 22nd there
    const records = {
      tasks: [],
      communications: [evening, lateNight],
      escalationNoticeSystem: ESCALATION_SYSTEM,
    };
    const q = { from: '2026-03-20', to: '2026-03-22', timeZone: 'America/New_York' };
    expect(computeEvidence(records, q, NOW).huddles.held).toBe(1);
    expect(computeEvidence(records, { ...q, from: '2026-03-21', to: '2026-03-23' }, NOW).huddles.held).toBe(
      1,
    );
  });
});
