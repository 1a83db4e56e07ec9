import type { CarePlan, Extension, Reference, Task } from 'fhir/r4.js';
import type { FieldIssue } from '../adapters/types.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { hubTask } from '../fhir/hub-task.js';
import { EXTENSION } from '../fhir/profiles.js';
import type { HubEvent } from '../mappers/types.js';
import { DEADLINE_WINDOW_SCHEMA, describeWindow, type DeadlineWindow } from './business-calendar.js';
import { loadYamlConfig } from '../config/yaml-file.js';

/**
 * Plan change control (operating rule 7, README): triggers open a time-bound review of the participant's plan,
 * and the CarePlan version answering it must say what changed, the risks, the controls added and
 * the agency owning each control.
 */
export interface PlanChangeControlConfig {
  /** The decision right whose holder on the care team owns the review. */
  readonly reviewRight: string;
  /** Escalation trigger of a review still open at its due time. */
  readonly escalateAs: string;
  readonly triggers: Readonly<Record<string, { readonly title: string; readonly review: DeadlineWindow }>>;
  readonly repeatedMissedVisits: { readonly count: number; readonly withinDays: number };
  readonly behavioralRiskThresholds: readonly string[];
  readonly caregiverBurnoutFlags: readonly string[];
}

/** The JSON Schema of config/coordination/plan-change-control.yaml (published in schemas/). */
export const PLAN_CHANGE_CONTROL_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [
    'reviewRight',
    'escalateAs',
    'triggers',
    'repeatedMissedVisits',
    'behavioralRiskThresholds',
    'caregiverBurnoutFlags',
  ],
  properties: {
    reviewRight: { type: 'string', minLength: 1 },
    escalateAs: { type: 'string', minLength: 1 },
    triggers: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'review'],
        properties: { title: { type: 'string', minLength: 1 }, review: DEADLINE_WINDOW_SCHEMA },
      },
    },
    repeatedMissedVisits: {
      type: 'object',
      additionalProperties: false,
      required: ['count', 'withinDays'],
      properties: {
        count: { type: 'integer', minimum: 2 },
        withinDays: { type: 'integer', minimum: 1, maximum: 90 },
      },
    },
    behavioralRiskThresholds: { type: 'array', items: { type: 'string' } },
    caregiverBurnoutFlags: { type: 'array', items: { type: 'string' } },
  },
};

export function loadPlanChangeControl(file: string): Promise<PlanChangeControlConfig> {
  return loadYamlConfig<PlanChangeControlConfig>(file, PLAN_CHANGE_CONTROL_SCHEMA);
}

/**
 * The plan-change triggers an event amounts to. `missedVisitsInWindow` counts the participant's
 * missed visits within the configured window, this one included.
 */
export function planChangeTriggers(
  config: PlanChangeControlConfig,
  event: HubEvent,
  missedVisitsInWindow = 0,
): string[] {
  const triggers: string[] = [];
  if (event.type === 'plan-change-trigger') {
    triggers.push(event.trigger);
  }
  if (
    event.type === 'crisis-update' &&
    event.thresholds.some((t) => config.behavioralRiskThresholds.includes(t))
  ) {
    triggers.push('new-behavioral-risk');
  }
  if (event.type === 'missed-visit' && missedVisitsInWindow >= config.repeatedMissedVisits.count) {
    triggers.push('repeated-missed-visits');
  }
  return triggers.filter((t) => config.triggers[t]);
}

/** A `plan-change-review` Task, idempotent on trigger and focus. */
export function reviewTask(
  config: PlanChangeControlConfig,
  trigger: string,
  r: { identifierBase: string; patient: string; focus: string; at: Date; owner: Reference; due: Date },
): Task {
  const window = config.triggers[trigger]?.review;
  return hubTask({
    identifier: hubIdentifier(
      r.identifierBase,
      'plan-review-task',
      `${trigger}.${r.focus.replace('/', '-')}`,
    ),
    code: 'plan-change-review',
    description: `Review the plan within ${window ? describeWindow(window) : 'the review window'} after: ${config.triggers[trigger]?.title ?? trigger}. The new plan version must state what changed, the risks, the controls added and the agency owning each control.`,
    focus: r.focus,
    for: r.patient,
    owner: r.owner,
    authoredOn: r.at.toISOString(),
    start: r.at.toISOString(),
    due: r.due.toISOString(),
    priority: 'urgent',
  });
}

/** What a plan version says about its change, read from the plan-change-control extension. */
export interface ChangeControl {
  readonly whatChanged?: string;
  readonly risks: string[];
  readonly controls: { description?: string; owner?: Reference }[];
}

export function changeControlOf(plan: CarePlan): ChangeControl | undefined {
  const ext = plan.extension?.find((e) => e.url === EXTENSION.planChangeControl);
  if (!ext) {
    return undefined;
  }
  const parts = (url: string): Extension[] => ext.extension?.filter((e) => e.url === url) ?? [];
  return {
    whatChanged: parts('whatChanged')[0]?.valueString,
    risks: parts('risk').flatMap((e) => (e.valueString?.trim() ? [e.valueString] : [])),
    controls: parts('control').map((c) => ({
      description: c.extension?.find((e) => e.url === 'description')?.valueString,
      owner: c.extension?.find((e) => e.url === 'owner')?.valueReference,
    })),
  };
}

/**
 * What a plan version answering a review lacks, each naming the element. Control owners must be
 * partner agencies (`Organization/<partner id>`), so each control has someone to hold to it.
 */
export function changeControlIssues(plan: CarePlan, partnerIds: ReadonlySet<string>): FieldIssue[] {
  const base = `CarePlan.extension('${EXTENSION.planChangeControl}')`;
  const control = changeControlOf(plan);
  if (!control) {
    return [
      {
        field: base,
        message:
          'is required: a plan-change review is open, so this version must state what changed, the risks, the controls added and the agency owning each control',
      },
    ];
  }
  const issues: FieldIssue[] = [];
  if (!control.whatChanged?.trim()) {
    issues.push({ field: `${base}.whatChanged`, message: 'is required: say what changed in this version' });
  }
  if (control.risks.length === 0) {
    issues.push({ field: `${base}.risk`, message: 'is required: name at least one risk' });
  }
  if (control.controls.length === 0) {
    issues.push({ field: `${base}.control`, message: 'is required: name at least one control added' });
  }
  control.controls.forEach((c, i) => {
    if (!c.description?.trim()) {
      issues.push({ field: `${base}.control[${i}].description`, message: 'is required' });
    }
    const owner = /^Organization\/(.+)$/.exec(c.owner?.reference ?? '')?.[1];
    if (!owner || !partnerIds.has(owner)) {
      issues.push({
        field: `${base}.control[${i}].owner`,
        message: `must name the owning agency as Organization/<partner id>${c.owner?.reference ? ` (${c.owner.reference} is not a partner)` : ''}`,
      });
    }
  });
  return issues;
}
