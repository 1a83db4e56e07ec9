import type { Reference } from 'fhir/r4.js';
import {
  calendarOf,
  DEADLINE_WINDOW_SCHEMA,
  dueAt,
  isOpen,
  nextOpening,
  type CalendarsConfig,
  type DeadlineWindow,
} from './business-calendar.js';
import { loadYamlConfig } from '../config/yaml-file.js';

/** Who chairs a tier: a role from the hub care-team-role CodeSystem, a name, and their agency. */
export interface TierChair {
  role: string;
  display: string;
  organization: string;
}

export interface EscalationTier {
  title: string;
  /** How long the escalation review has, on the chair agency's calendar. */
  respondWithin: DeadlineWindow;
  /** `on-call`: outside the chair agency's office hours, the escalation goes to its on-call contact. */
  afterHours?: 'on-call';
  chair: TierChair;
}

/** Escalation tiers and the trigger -> tier map. */
export interface EscalationConfig {
  tiers: Record<string, EscalationTier>;
  triggers: Record<string, string>;
}

/** The JSON Schema of config/coordination/escalation-tiers.yaml (published in schemas/). */
export const ESCALATION_TIERS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['tiers', 'triggers'],
  properties: {
    tiers: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'respondWithin', 'chair'],
        properties: {
          title: { type: 'string' },
          respondWithin: DEADLINE_WINDOW_SCHEMA,
          afterHours: { type: 'string', enum: ['on-call'] },
          chair: {
            type: 'object',
            additionalProperties: false,
            required: ['role', 'display', 'organization'],
            properties: {
              role: { type: 'string' },
              display: { type: 'string' },
              organization: { type: 'string' },
            },
          },
        },
      },
    },
    triggers: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/** Reads and validates the tiers file; every trigger must name a defined tier. */
export function loadEscalationConfig(file: string): Promise<EscalationConfig> {
  return loadYamlConfig<EscalationConfig>(file, ESCALATION_TIERS_SCHEMA, (data, name) =>
    Object.entries(data.triggers)
      .filter(([, tier]) => !data.tiers[tier])
      .map(([trigger, tier]) => `${name}: /triggers/${trigger} names tier "${tier}", which is not defined`),
  );
}

/** Where an escalation goes and by when it must be answered. */
export interface EscalationRoute {
  readonly tierId: string;
  readonly tier: EscalationTier;
  readonly dueAt: Date;
  /** The tier chair, or the chair agency's on-call contact after hours. */
  readonly chair: Reference;
  /** When the chair's office next opens, if the escalation came after hours. */
  readonly afterHours: Date | undefined;
}

/**
 * The tier a trigger escalates to, who answers it and by when. Pure: `at` is when the trigger
 * happened. An unknown trigger falls back to the first tier listed rather than being dropped.
 */
export function escalationFor(
  config: EscalationConfig,
  calendars: CalendarsConfig,
  trigger: string,
  at: Date,
): EscalationRoute {
  const tierId = config.triggers[trigger] ?? Object.keys(config.tiers)[0]!;
  const tier = config.tiers[tierId]!;
  const calendar = calendarOf(calendars, tier.chair.organization);
  const afterHours =
    tier.afterHours === 'on-call' && !isOpen(calendar, at) ? nextOpening(calendar, at) : undefined;
  const onCall = calendar.onCall;
  const chair: Reference = afterHours
    ? {
        reference: `Organization/${onCall.organization ?? tier.chair.organization}`,
        display: `${onCall.display}${onCall.telecom ? ` (${onCall.telecom})` : ''}, on call for the ${tier.title} chair`,
      }
    : {
        reference: `Organization/${tier.chair.organization}`,
        display: `${tier.chair.display} (${tier.title} chair)`,
      };
  return { tierId, tier, dueAt: dueAt(calendar, at, tier.respondWithin), chair, afterHours };
}
