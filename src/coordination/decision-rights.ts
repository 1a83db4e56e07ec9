import type { JSONSchemaType } from 'ajv';
import type { FhirResource } from 'fhir/r4.js';
import { PARTNER_KINDS, type PartnerConfig, type PartnerRegistry } from '../config/partners.js';
import type { ResourceWrite } from '../mappers/types.js';
import { loadYamlConfig } from '../config/yaml-file.js';

/**
 * The decision-rights map (operating rule 2, README): which agencies may authorize or initiate which actions
 * without a meeting, and which agency owns the obligations that exercise each right.
 */
export interface DecisionRight {
  description: string;
  /** Partner kinds or partner ids. */
  holders: string[];
  /** A partner kind or id, itself a holder: it owns the obligations that exercise the right. */
  owner: string;
}

/** A write of `resourceType` (carrying `code`, when given) exercises `right`. */
export interface RightAction {
  right: string;
  resourceType: string;
  code?: string;
}

export interface DecisionRightsConfig {
  rights: Record<string, DecisionRight>;
  actions: RightAction[];
}

/** Right names are referred to from other files (`right:<name>` in documentation.yaml). */
const RIGHT_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** A partner kind or id (ids follow the partner file pattern). */
const AGENCY = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' } as const;

/** The JSON Schema of config/coordination/decision-rights.yaml (published in schemas/). */
export const DECISION_RIGHTS_SCHEMA: JSONSchemaType<DecisionRightsConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['rights', 'actions'],
  properties: {
    rights: {
      type: 'object',
      minProperties: 1,
      required: [],
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['description', 'holders', 'owner'],
        properties: {
          description: { type: 'string', minLength: 1 },
          holders: { type: 'array', minItems: 1, uniqueItems: true, items: AGENCY },
          owner: AGENCY,
        },
      },
    },
    actions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['right', 'resourceType'],
        properties: {
          right: { type: 'string', minLength: 1 },
          resourceType: { type: 'string', pattern: '^[A-Z][A-Za-z]+$' },
          // A FHIR code: no leading, trailing or repeated whitespace.
          code: { type: 'string', nullable: true, pattern: '^[^\\s]+( [^\\s]+)*$' },
        },
      },
    },
  },
};

/**
 * Reads the map and checks what a schema cannot: every right an action names is defined, every
 * holder and owner is a partner kind or a known partner id, each owner holds its own right (or it
 * would own obligations it may not act on), and no action is listed twice.
 * @throws ConfigError listing every problem as `<file>: <pointer> <message>`
 */
export function loadDecisionRights(file: string, partners: PartnerRegistry): Promise<DecisionRightsConfig> {
  const known = (who: string): boolean =>
    (PARTNER_KINDS as readonly string[]).includes(who) || partners.get(who) !== undefined;
  return loadYamlConfig<DecisionRightsConfig>(file, DECISION_RIGHTS_SCHEMA, (data, name) => {
    const problems: string[] = [];
    for (const [right, r] of Object.entries(data.rights)) {
      const at = `${name}: /rights/${right}`;
      if (!RIGHT_NAME.test(right)) {
        problems.push(`${at} is not a valid right name: use lowercase letters, digits and hyphens`);
      }
      r.holders.forEach((h, i) => {
        if (!known(h)) {
          problems.push(`${at}/holders/${i} "${h}" is neither a partner kind nor a partner id`);
        }
      });
      if (!known(r.owner)) {
        problems.push(`${at}/owner "${r.owner}" is neither a partner kind nor a partner id`);
      } else if (!r.holders.includes(r.owner) && !r.holders.includes(partners.get(r.owner)?.kind ?? '')) {
        problems.push(`${at}/owner "${r.owner}" does not hold the right: add it to /rights/${right}/holders`);
      }
    }
    const seen = new Map<string, number>();
    data.actions.forEach((a, i) => {
      if (!Object.hasOwn(data.rights, a.right)) {
        problems.push(`${name}: /actions/${i}/right "${a.right}" is not defined under /rights`);
      }
      const key = JSON.stringify([a.right, a.resourceType, a.code ?? null]);
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, i);
      } else {
        problems.push(`${name}: /actions/${i} repeats /actions/${first}`);
      }
    });
    return problems;
  });
}

/** The elements whose codings classify a resource, where its type has them. */
const CLASSIFYING_ELEMENTS = ['code', 'category', 'type'] as const;

/** One code a resource carries, and the element it carries it in. */
interface CodeAt {
  readonly element: (typeof CLASSIFYING_ELEMENTS)[number];
  readonly code: string;
}

/** Codes of a CodeableConcept's codings, or of a bare Coding (e.g. AuditEvent.type). */
function conceptCodes(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) {
    return [];
  }
  const { coding, code } = value as { coding?: unknown; code?: unknown };
  if (Array.isArray(coding)) {
    return coding.flatMap((c: unknown) => conceptCodes(c));
  }
  return typeof code === 'string' && code !== '' ? [code] : [];
}

function codesAt(resource: FhirResource): CodeAt[] {
  const elements = resource as unknown as Readonly<Record<string, unknown>>;
  return CLASSIFYING_ELEMENTS.flatMap((element) => {
    const value = elements[element];
    return (Array.isArray(value) ? value : [value]).flatMap((v: unknown) =>
      conceptCodes(v).map((code) => ({ element, code })),
    );
  });
}

/**
 * The codes a resource is classified by: the code of every coding in its `code`, `category` and
 * `type` elements, where its type has them (Task.code, CarePlan.category, Communication.category,
 * ServiceRequest.code and .category, Flag.code, EpisodeOfCare.type, Encounter.type, ...), each once.
 * System-agnostic on purpose: partners code the same act from their own systems, and an action's
 * code is matched however it is sent.
 */
export function codesOf(resource: FhirResource): string[] {
  return [...new Set(codesAt(resource).map((c) => c.code))];
}

/**
 * The rights each write exercises. An action matches a write on resourceType and, when it has one,
 * on a code the write carries; a write carrying a code of some coded action of its type is
 * classified by those (each right it names), otherwise by its type's uncoded actions. So an uncoded
 * action is the default for its type (a CarePlan without a kind category changes the whole plan),
 * and a coded one scopes it (a `housing` CarePlan changes only the housing part).
 */
export function rightsExercised(
  config: DecisionRightsConfig,
  writes: readonly ResourceWrite[],
): { right: string; index: number; resourceType: string; code?: string }[] {
  return writes.flatMap((w, index) => {
    const resourceType = w.resource.resourceType;
    const codes = codesOf(w.resource);
    const ofType = config.actions.filter((a) => a.resourceType === resourceType);
    const coded = ofType.filter((a) => a.code !== undefined && codes.includes(a.code));
    const matched = coded.length > 0 ? coded : ofType.filter((a) => a.code === undefined);
    return matched.map((a) => ({
      right: a.right,
      index,
      resourceType,
      ...(a.code !== undefined ? { code: a.code } : {}),
    }));
  });
}

/** Whether a partner holds a right, by its id or its kind. An undefined right is held by no one. */
export function holdsRight(
  config: DecisionRightsConfig,
  partner: Pick<PartnerConfig, 'id' | 'kind'>,
  right: string,
): boolean {
  const holders = Object.hasOwn(config.rights, right) ? config.rights[right]!.holders : [];
  return holders.includes(partner.id) || holders.includes(partner.kind);
}

/**
 * The rights a record exercises that its sender does not hold, each naming the write, where its
 * code sits and the right, e.g. `writes[2] (Task.code medication-reconciliation)`. Empty: allowed.
 */
export function missingRights(
  config: DecisionRightsConfig,
  partner: Pick<PartnerConfig, 'id' | 'kind'>,
  writes: readonly ResourceWrite[],
): { field: string; message: string; right: string }[] {
  return rightsExercised(config, writes)
    .filter((x) => !holdsRight(config, partner, x.right))
    .map((x) => {
      const right = config.rights[x.right]!;
      const element = codesAt(writes[x.index]!.resource).find((c) => c.code === x.code)?.element;
      const what = x.code === undefined ? x.resourceType : `${x.resourceType}.${element} ${x.code}`;
      return {
        field: `writes[${x.index}] (${what})`,
        message: `partner ${partner.id} (${partner.kind}) does not hold the decision right "${x.right}" (${right.description}); holders: ${right.holders.join(', ')}`,
        right: x.right,
      };
    });
}

/**
 * The agency that owns an obligation exercising `right` for a participant: among the agencies on
 * the participant's care team (partner ids, in CareTeam order), the first that is the right's
 * owner (by id or kind), else the first that holds the right, else none. Ids the registry does not
 * know are skipped: their kind, and so their rights, are unknown.
 */
export function owningAgency(
  config: DecisionRightsConfig,
  partners: PartnerRegistry,
  right: string,
  careTeamAgencies: readonly string[],
): string | undefined {
  if (!Object.hasOwn(config.rights, right)) {
    return undefined;
  }
  const owner = config.rights[right]!.owner;
  const onTeam = careTeamAgencies.flatMap((id) => partners.get(id) ?? []);
  return (
    onTeam.find((p) => p.id === owner || p.kind === owner)?.id ??
    onTeam.find((p) => holdsRight(config, p, right))?.id
  );
}

/** The right a hub Task with this code exercises, so its owner can be chosen among the holders. */
export function rightOfTaskCode(config: DecisionRightsConfig, code: string): string | undefined {
  return config.actions.find((a) => a.resourceType === 'Task' && a.code === code)?.right;
}
