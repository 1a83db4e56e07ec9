import type { Reference, Task } from 'fhir/r4.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { hubTask } from '../fhir/hub-task.js';
import type { HubEvent } from '../mappers/types.js';
import { DEADLINE_WINDOW_SCHEMA, type DeadlineWindow } from './business-calendar.js';

/**
 * The minimum documentation standard (operating rule 4, README): events that call for a record within a
 * window (a missed visit is a service disruption to record, a discharge a first contact). Each
 * becomes a `documentation-24h` Task for the owning agency; the record that answers it is a
 * Communication of the record kind about the participant from that agency.
 */
export const RECORD_KINDS = [
  'contact',
  'refusal',
  'risk-change',
  'service-disruption',
  'safeguarding-concern',
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export interface DocumentationRequirement {
  /** The hub event type that calls for the record. */
  readonly on: HubEvent['type'];
  /** Narrows `on`: the plan-change trigger, or a crisis threshold crossed. */
  readonly when?: string;
  readonly record: RecordKind;
  /** `sender` or `right:<decision right>`. */
  readonly owner: string;
  readonly description: string;
}

export interface DocumentationConfig {
  readonly window: DeadlineWindow;
  /** Escalation trigger of a record still missing at its due time. */
  readonly escalateAs: string;
  readonly requirements: readonly DocumentationRequirement[];
}

const EVENT_TYPES: readonly HubEvent['type'][] = [
  'admission',
  'discharge',
  'admission-cancelled',
  'discharge-cancelled',
  'missed-visit',
  'plan-change-trigger',
  'crisis-update',
  'service-plan',
];

/** documentation.yaml, as coordination-config.ts validates it. */
export const DOCUMENTATION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['window', 'escalateAs', 'requirements'],
  properties: {
    window: DEADLINE_WINDOW_SCHEMA,
    escalateAs: { type: 'string', minLength: 1 },
    requirements: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['on', 'record', 'owner', 'description'],
        properties: {
          on: { type: 'string', enum: EVENT_TYPES },
          when: { type: 'string', minLength: 1 },
          record: { type: 'string', enum: RECORD_KINDS },
          owner: { type: 'string', pattern: '^(sender|right:[a-z0-9-]+)$' },
          description: { type: 'string', minLength: 1 },
        },
      },
    },
  },
};

/** The requirements an event triggers. */
export function requirementsFor(config: DocumentationConfig, event: HubEvent): DocumentationRequirement[] {
  const qualifiers =
    event.type === 'plan-change-trigger'
      ? [event.trigger]
      : event.type === 'crisis-update'
        ? event.thresholds
        : [];
  return config.requirements.filter(
    (r) => r.on === event.type && (r.when === undefined || qualifiers.includes(r.when)),
  );
}

/** What one documentation obligation is about. */
export interface DocumentationObligation {
  readonly identifierBase: string;
  readonly patient: string;
  /** What the record must document (an Encounter, the missed visit's Task, a crisis Communication). */
  readonly focus: string;
  readonly eventAt: Date;
  readonly owner: Reference;
  readonly due: Date;
}

/** The `documentation-24h` Task, idempotent on requirement and focus. */
export function documentationTask(req: DocumentationRequirement, o: DocumentationObligation): Task {
  return {
    ...hubTask({
      identifier: hubIdentifier(
        o.identifierBase,
        'documentation-task',
        `${req.record}.${o.focus.replace('/', '-')}`,
      ),
      code: 'documentation-24h',
      description: req.description,
      focus: o.focus,
      for: o.patient,
      owner: o.owner,
      authoredOn: o.eventAt.toISOString(),
      start: o.eventAt.toISOString(),
      due: o.due.toISOString(),
    }),
    input: [{ type: { text: 'record-kind' }, valueCode: req.record }],
  };
}

/** The record kind a documentation Task waits for. */
export function recordKindOf(task: Task): RecordKind | undefined {
  return task.input?.find((i) => i.type.text === 'record-kind')?.valueCode as RecordKind | undefined;
}
