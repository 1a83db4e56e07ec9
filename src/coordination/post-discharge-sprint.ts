import { Ajv, type JSONSchemaType } from 'ajv';
import type { Identifier, Reference, Task } from 'fhir/r4.js';
import { readFile } from 'node:fs/promises';
import { describeAjvError } from '../config/partners.js';
import { ConfigError } from '../errors/hub-error.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { hubTask } from '../fhir/hub-task.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';

/**
 * The 72-hour post-discharge sprint (operating rule 6, README). Its steps are data: a FHIR PlanDefinition
 * (config/coordination/post-discharge-sprint.json) whose actions each carry a hub task code and a
 * `timingDuration` after the discharge by which the step is due. Who owns a step follows from the
 * decision-rights map, not from the template.
 */
export interface SprintStep {
  readonly id: string;
  /** "Day 0", "Day 1", "Day 2-3". */
  readonly prefix: string;
  readonly title: string;
  readonly description: string;
  /** Hub task code of the step's Task. */
  readonly code: string;
  /** Due this long after the discharge. */
  readonly dueAfterMs: number;
}

export interface SprintTemplate {
  /** `url|version` of the PlanDefinition. */
  readonly canonical: string;
  readonly title: string;
  readonly steps: readonly SprintStep[];
}

interface ActionShape {
  id: string;
  prefix: string;
  title: string;
  description: string;
  code: { coding: { system: string; code: string }[] }[];
  timingDuration: { value: number; code: 'min' | 'h' | 'd' };
}

interface PlanDefinitionShape {
  resourceType: 'PlanDefinition';
  url: string;
  version: string;
  title: string;
  status: 'draft' | 'active' | 'retired' | 'unknown';
  action: ActionShape[];
}

/** Only the elements the hub reads are constrained; the rest of the PlanDefinition is free. */
const schema: JSONSchemaType<PlanDefinitionShape> = {
  type: 'object',
  required: ['resourceType', 'url', 'version', 'title', 'status', 'action'],
  properties: {
    resourceType: { type: 'string', const: 'PlanDefinition' },
    url: { type: 'string', pattern: '^https?://' },
    version: { type: 'string', minLength: 1 },
    title: { type: 'string', minLength: 1 },
    status: { type: 'string', enum: ['draft', 'active', 'retired', 'unknown'] },
    action: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'prefix', 'title', 'description', 'code', 'timingDuration'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' },
          prefix: { type: 'string', minLength: 1 },
          title: { type: 'string', minLength: 1 },
          description: { type: 'string', minLength: 1 },
          code: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['coding'],
              properties: {
                coding: {
                  type: 'array',
                  minItems: 1,
                  items: {
                    type: 'object',
                    required: ['system', 'code'],
                    properties: { system: { type: 'string' }, code: { type: 'string' } },
                  },
                },
              },
            },
          },
          timingDuration: {
            type: 'object',
            required: ['value', 'code'],
            properties: {
              value: { type: 'number', exclusiveMinimum: 0 },
              code: { type: 'string', enum: ['min', 'h', 'd'] },
            },
          },
        },
      },
    },
  },
};

const validate = new Ajv({ allErrors: true }).compile(schema);
const UNIT_MS = { min: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Reads and validates the sprint PlanDefinition. Every action needs a hub task code, a unique id
 * and a due duration; `knownTaskCodes` are the codes of the hub task CodeSystem.
 */
export async function loadSprintTemplate(
  file: string,
  knownTaskCodes: readonly string[],
): Promise<SprintTemplate> {
  const name = file.split('/').pop()!;
  const data: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!validate(data)) {
    throw new ConfigError((validate.errors ?? []).map((e) => `${name}: ${describeAjvError(e)}`));
  }
  const problems: string[] = [];
  const steps = data.action.map((a, i): SprintStep => {
    const code = a.code.flatMap((c) => c.coding).find((c) => c.system === CODE_SYSTEM.taskCode)?.code;
    if (!code || !knownTaskCodes.includes(code)) {
      problems.push(`${name}: /action/${i}/code needs a code from ${CODE_SYSTEM.taskCode}`);
    }
    return {
      id: a.id,
      prefix: a.prefix,
      title: a.title,
      description: a.description,
      code: code ?? '',
      dueAfterMs: a.timingDuration.value * UNIT_MS[a.timingDuration.code],
    };
  });
  const ids = steps.map((s) => s.id);
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) {
      problems.push(`${name}: /action/${i}/id "${id}" is used twice`);
    }
  });
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return { canonical: `${data.url}|${data.version}`, title: data.title, steps };
}

/** What the sprint of one discharge is built from. */
export interface SprintContext {
  readonly identifierBase: string;
  readonly patient: string;
  /** `Encounter/<id>` of the discharge. */
  readonly encounter: string;
  readonly dischargeAt: Date;
  /** Who owns a step with this task code (from the decision-rights map and the care team). */
  readonly ownerOf: (code: string) => Reference;
  /** The agency that reported the discharge. */
  readonly requester: Reference;
}

/** The sprint's group identifier: every step Task of one discharge shares it. */
export function sprintIdentifier(identifierBase: string, encounter: string): Identifier {
  return hubIdentifier(identifierBase, 'sprint', encounter.replace('/', '-'));
}

/** One Task per step, due its duration after the discharge. Pure; ids derive from the encounter. */
export function sprintTasks(template: SprintTemplate, ctx: SprintContext): Task[] {
  const group = sprintIdentifier(ctx.identifierBase, ctx.encounter);
  return template.steps.map((step) => ({
    ...hubTask({
      identifier: hubIdentifier(ctx.identifierBase, 'sprint-task', `${group.value}.${step.id}`),
      code: step.code,
      display: `${step.prefix}: ${step.title}`,
      description: `${template.title}, ${step.prefix}: ${step.description}`,
      focus: ctx.encounter,
      for: ctx.patient,
      owner: ctx.ownerOf(step.code),
      requester: ctx.requester,
      authoredOn: ctx.dischargeAt.toISOString(),
      start: ctx.dischargeAt.toISOString(),
      due: new Date(ctx.dischargeAt.getTime() + step.dueAfterMs).toISOString(),
      priority: 'urgent',
    }),
    groupIdentifier: group,
    input: [{ type: { text: 'sprint-step' }, valueCanonical: `${template.canonical}#${step.id}` }],
  }));
}
