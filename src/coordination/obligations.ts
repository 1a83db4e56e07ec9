import type { Annotation, CodeableConcept, Reference, Task } from 'fhir/r4.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';

/**
 * Obligations are hub Tasks with an owner and a due time (`restriction.period.end`). These pure
 * functions say whether one is still owed and record how it ended: on time, late, overdue, or
 * refused by the participant with how the refusal was handled.
 */

/** Task states in which nothing is owed any more. */
const CLOSED: ReadonlySet<Task['status']> = new Set([
  'completed',
  'cancelled',
  'rejected',
  'failed',
  'entered-in-error',
]);

export function isOpen(task: Task): boolean {
  return !CLOSED.has(task.status);
}

export function dueOf(task: Task): Date | undefined {
  const end = task.restriction?.period?.end;
  return end ? new Date(end) : undefined;
}

export type Timeliness = 'on-time' | 'late' | 'overdue' | 'participant-refused';

export function timelinessOf(task: Pick<Task, 'businessStatus'>): Timeliness | undefined {
  return task.businessStatus?.coding?.find((c) => c.system === CODE_SYSTEM.taskStatus)?.code as
    Timeliness | undefined;
}

function businessStatus(code: Timeliness, text: string): CodeableConcept {
  return { coding: [{ system: CODE_SYSTEM.taskStatus, code }], text };
}

/** How long after its due time `at` is, in words ("3 h 20 min"). */
function lateness(due: Date, at: Date): string {
  const minutes = Math.round((at.getTime() - due.getTime()) / 60000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h${m > 0 ? ` ${m} min` : ''}` : `${m} min`;
}

/** What closing an obligation says. */
export type Closure =
  | { readonly outcome: 'completed'; readonly at: Date; readonly by: Reference; readonly note?: string }
  | {
      readonly outcome: 'participant-refused';
      readonly at: Date;
      readonly by: Reference;
      /** What the participant refused and why, as far as known. */
      readonly reason: string;
      /** How the refusal was handled (who was told, what happens instead). */
      readonly handling: string;
    };

/**
 * The Task once closed: `completed` stamped on time or late against its due time, or `failed` with
 * the participant's refusal as status reason and its handling as a note. The execution period ends
 * at `at`, so timeliness can be measured later from the Task alone.
 */
export function closeObligation(task: Task, closure: Closure): Task {
  const due = dueOf(task);
  const at = closure.at.toISOString();
  const notes: Annotation[] = [...(task.note ?? [])];
  let status: Task['status'];
  let timeliness: CodeableConcept;
  if (closure.outcome === 'participant-refused') {
    status = 'failed';
    timeliness = businessStatus('participant-refused', `Refused by the participant: ${closure.reason}`);
    notes.push({ time: at, authorReference: closure.by, text: `Refusal handled: ${closure.handling}` });
  } else {
    status = 'completed';
    timeliness =
      due && closure.at > due
        ? businessStatus('late', `Done ${lateness(due, closure.at)} after its due time`)
        : businessStatus('on-time', 'Done on time');
    if (closure.note) {
      notes.push({ time: at, authorReference: closure.by, text: closure.note });
    }
  }
  return {
    ...task,
    status,
    ...(closure.outcome === 'participant-refused' ? { statusReason: { text: closure.reason } } : {}),
    businessStatus: timeliness,
    lastModified: at,
    executionPeriod: { ...task.executionPeriod, end: at },
    ...(notes.length > 0 ? { note: notes } : {}),
  };
}

/** The Task marked overdue at `at` (it stays open: the owner still owes it). */
export function markOverdue(task: Task, at: Date): Task {
  const due = dueOf(task);
  return {
    ...task,
    businessStatus: businessStatus(
      'overdue',
      due ? `Overdue: due ${due.toISOString()}, still open ${lateness(due, at)} later` : 'Overdue',
    ),
    lastModified: at.toISOString(),
  };
}

/** The hub task code of a Task. */
export function taskCodeOf(task: Pick<Task, 'code'>): string | undefined {
  return task.code?.coding?.find((c) => c.system === CODE_SYSTEM.taskCode)?.code;
}
