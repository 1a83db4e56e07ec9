import { Ajv, type JSONSchemaType } from 'ajv';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { ConfigError } from '../errors/hub-error.js';
import { describeAjvError } from '../config/partners.js';

/** Who chairs a tier: a role from the hub care-team-role CodeSystem, a name, and their agency. */
export interface TierChair {
  role: string;
  display: string;
  organization: string;
}

export interface EscalationTier {
  title: string;
  /** How long the escalation review Task has: its due time is this many hours after the trigger. */
  respondWithinHours: number;
  chair: TierChair;
}

/** Escalation tiers and the trigger -> tier map. */
export interface EscalationConfig {
  tiers: Record<string, EscalationTier>;
  triggers: Record<string, string>;
}

const schema: JSONSchemaType<EscalationConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['tiers', 'triggers'],
  properties: {
    tiers: {
      type: 'object',
      required: [],
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'respondWithinHours', 'chair'],
        properties: {
          title: { type: 'string' },
          respondWithinHours: { type: 'number', exclusiveMinimum: 0, maximum: 720 },
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
    triggers: { type: 'object', required: [], additionalProperties: { type: 'string' } },
  },
};

const validate = new Ajv({ allErrors: true }).compile(schema);

/** Reads and validates the tiers file; every trigger must name a defined tier. */
export async function loadEscalationConfig(file: string): Promise<EscalationConfig> {
  const name = file.split('/').pop()!;
  const data: unknown = parse(await readFile(file, 'utf8'));
  if (!validate(data)) {
    throw new ConfigError((validate.errors ?? []).map((e) => `${name}: ${describeAjvError(e)}`));
  }
  const problems = Object.entries(data.triggers)
    .filter(([, tier]) => !data.tiers[tier])
    .map(([trigger, tier]) => `${name}: /triggers/${trigger} names tier "${tier}", which is not defined`);
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return data;
}

/**
 * The tier a trigger escalates to and when its review is due. Pure: `at` is when the trigger
 * happened. An unknown trigger falls back to the slowest tier rather than being dropped.
 */
export function escalationFor(
  config: EscalationConfig,
  trigger: string,
  at: Date,
): { tierId: string; tier: EscalationTier; dueAt: Date } {
  const tierId =
    config.triggers[trigger] ??
    Object.entries(config.tiers).sort(([, a], [, b]) => b.respondWithinHours - a.respondWithinHours)[0]![0];
  const tier = config.tiers[tierId]!;
  return { tierId, tier, dueAt: new Date(at.getTime() + tier.respondWithinHours * 3600_000) };
}
