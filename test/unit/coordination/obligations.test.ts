import { describe, expect, it } from '@jest/globals';
import type { Task } from 'fhir/r4.js';
import { closeObligation, isOpen, markOverdue, timelinessOf } from '../../../src/coordination/obligations.js';
import { hubTask } from '../../../src/fhir/hub-task.js';

const task: Task = hubTask({
  code: 'discharge-summary',
  description: 'Day 0: discharge summary received',
  focus: 'Encounter/1',
  for: 'Patient/1',
  owner: { reference: 'Organization/northside-bh' },
  due: '2026-11-20T10:00:00.000Z',
});
const by = { reference: 'Organization/northside-bh' };

describe('obligations', () => {
  it('stamps a completion on time, at or before the due time', () => {
    const done = closeObligation(task, { outcome: 'completed', at: new Date('2026-11-20T10:00:00Z'), by });
    expect(done.status).toBe('completed');
    expect(timelinessOf(done)).toBe('on-time');
    expect(done.executionPeriod?.end).toBe('2026-11-20T10:00:00.000Z');
    expect(isOpen(done)).toBe(false);
  });

  it('stamps a completion after the due time late, saying by how much', () => {
    const done = closeObligation(task, {
      outcome: 'completed',
      at: new Date('2026-11-20T13:20:00Z'),
      by,
      note: 'Faxed',
    });
    expect(timelinessOf(done)).toBe('late');
    expect(done.businessStatus?.text).toBe('Done 3 h 20 min after its due time');
    expect(done.note?.[0]?.text).toBe('Faxed');
  });

  it('records a participant refusal as failed, with the reason and how it was handled', () => {
    const refused = closeObligation(task, {
      outcome: 'participant-refused',
      at: new Date('2026-11-20T09:00:00Z'),
      by,
      reason: 'Declined the visit',
      handling: 'Phone check-in booked',
    });
    expect(refused.status).toBe('failed');
    expect(refused.statusReason?.text).toBe('Declined the visit');
    expect(timelinessOf(refused)).toBe('participant-refused');
    expect(refused.note?.[0]?.text).toBe('Refusal handled: Phone check-in booked');
  });

  it('marks an open obligation overdue without closing it', () => {
    const overdue = markOverdue(task, new Date('2026-11-21T10:45:00Z'));
    expect(isOpen(overdue)).toBe(true);
    expect(timelinessOf(overdue)).toBe('overdue');
    expect(overdue.businessStatus?.text).toContain('still open 24 h 45 min later');
  });
});
