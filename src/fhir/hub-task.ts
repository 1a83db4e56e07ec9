import type { Identifier, Reference, Task } from 'fhir/r4.js';
import { CODE_SYSTEM, PROFILE } from './profiles.js';

/** What every hub Task must say, plus what some add. */
export interface HubTaskFields {
  /** Code from the hub task CodeSystem. */
  readonly code: string;
  readonly display?: string;
  readonly description: string;
  /** What it is about (reference or fullUrl). */
  readonly focus: string;
  /** The participant (reference, fullUrl or placeholder). */
  readonly for: string;
  /** Who is accountable. */
  readonly owner: Reference;
  /** Due time (`restriction.period.end`). */
  readonly due: string;
  /** Start of the window, when it matters. */
  readonly start?: string;
  readonly requester?: Reference;
  readonly authoredOn?: string;
  readonly priority?: Task['priority'];
  readonly identifier?: Identifier;
  readonly basedOn?: string;
}

/**
 * A requested Task meeting the hub Task profile (code, focus, for, owner, due time). Every rule of
 * the operating model that creates an obligation builds it here, so the shape stays one.
 */
export function hubTask(t: HubTaskFields): Task {
  return {
    resourceType: 'Task',
    meta: { profile: [PROFILE.task] },
    ...(t.identifier ? { identifier: [t.identifier] } : {}),
    status: 'requested',
    intent: 'order',
    ...(t.priority ? { priority: t.priority } : {}),
    code: {
      coding: [{ system: CODE_SYSTEM.taskCode, code: t.code, ...(t.display ? { display: t.display } : {}) }],
    },
    description: t.description,
    focus: { reference: t.focus },
    ...(t.basedOn ? { basedOn: [{ reference: t.basedOn }] } : {}),
    for: { reference: t.for },
    ...(t.authoredOn ? { authoredOn: t.authoredOn } : {}),
    ...(t.requester ? { requester: t.requester } : {}),
    owner: t.owner,
    restriction: { period: { ...(t.start ? { start: t.start } : {}), end: t.due } },
  };
}
