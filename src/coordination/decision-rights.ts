import type { CodeableConcept, FhirResource } from 'fhir/r4.js';
import { PARTNER_KINDS, type PartnerConfig, type PartnerRegistry } from '../config/partners.js';
import type { ResourceWrite } from '../mappers/types.js';
import { loadYamlConfig } from './config-file.js';

/**
 * The decision-rights map (DESIGN rule 2): which agencies may authorize or initiate which actions
 * without a meeting, and which agency owns the obligations that exercise each right.
 */
export interface DecisionRight {
  description: string;
  /** Partner kinds or partner ids. */
  holders: string[];
  /** A partner kind or id. */
  owner: string;
}

/** A write of `resourceType` (with `code`, when given) exercises `right`. */
export interface RightAction {
  right: string;
  resourceType: string;
  code?: string;
}

export interface DecisionRightsConfig {
  rights: Record<string, DecisionRight>;
  actions: RightAction[];
}

const name = { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' } as const;
const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['rights', 'actions'],
  properties: {
    rights: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['description', 'holders', 'owner'],
        properties: {
          description: { type: 'string', minLength: 1 },
          holders: { type: 'array', minItems: 1, items: name },
          owner: name,
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
          right: name,
          resourceType: { type: 'string', pattern: '^[A-Z][A-Za-z]+$' },
          code: name,
        },
      },
    },
  },
};

/** Reads the map; every right named must exist and every holder or owner be a partner kind or id. */
export function loadDecisionRights(file: string, partners: PartnerRegistry): Promise<DecisionRightsConfig> {
  const known = (who: string): boolean =>
    (PARTNER_KINDS as readonly string[]).includes(who) || partners.get(who) !== undefined;
  return loadYamlConfig<DecisionRightsConfig>(file, schema, (data, file) => {
    const problems: string[] = [];
    for (const [right, r] of Object.entries(data.rights)) {
      r.holders.forEach((h, i) => {
        if (!known(h)) {
          problems.push(
            `${file}: /rights/${right}/holders/${i} "${h}" is neither a partner kind nor a partner`,
          );
        }
      });
      if (!known(r.owner)) {
        problems.push(`${file}: /rights/${right}/owner "${r.owner}" is neither a partner kind nor a partner`);
      }
    }
    const seen = new Set<string>();
    data.actions.forEach((a, i) => {
      if (!data.rights[a.right]) {
        problems.push(`${file}: /actions/${i}/right "${a.right}" is not defined under rights`);
      }
      const key = `${a.resourceType}|${a.code ?? ''}|${a.right}`;
      if (seen.has(key)) {
        problems.push(`${file}: /actions/${i} repeats an earlier action`);
      }
      seen.add(key);
    });
    return problems;
  });
}

/**
 * The codes a resource is classified by: every coding code (any system) of its code, category
 * and type elements, where it has them (Task.code, CarePlan.category, Communication.category,
 * ServiceRequest.code and .category, Flag.code, EpisodeOfCare.type, Encounter.type, ...).
 */
export function codesOf(resource: FhirResource): string[] {
  const r = resource as unknown as Record<string, CodeableConcept | CodeableConcept[] | undefined>;
  return ['code', 'category', 'type'].flatMap((element) => {
    const value = r[element];
    const concepts = Array.isArray(value) ? value : value ? [value] : [];
    return concepts.flatMap((c) => (c.coding ?? []).flatMap((x) => (x.code ? [x.code] : [])));
  });
}

/** The rights each write exercises. A coded action wins over an uncoded one of the same type. */
export function rightsExercised(
  config: DecisionRightsConfig,
  writes: readonly ResourceWrite[],
): { right: string; index: number; resourceType: string; code?: string }[] {
  return writes.flatMap((w, index) => {
    const type = w.resource.resourceType;
    const codes = codesOf(w.resource);
    const coded = config.actions.filter((a) => a.resourceType === type && a.code && codes.includes(a.code));
    const matched =
      coded.length > 0 ? coded : config.actions.filter((a) => a.resourceType === type && !a.code);
    return matched.map((a) => ({
      right: a.right,
      index,
      resourceType: type,
      ...(a.code ? { code: a.code } : {}),
    }));
  });
}

/** Whether a partner holds a right, by its id or its kind. */
export function holdsRight(
  config: DecisionRightsConfig,
  partner: Pick<PartnerConfig, 'id' | 'kind'>,
  right: string,
): boolean {
  const holders = config.rights[right]?.holders ?? [];
  return holders.includes(partner.id) || holders.includes(partner.kind);
}

/** The rights a record exercises that its sender does not hold, each naming the write and the right. */
export function missingRights(
  config: DecisionRightsConfig,
  partner: Pick<PartnerConfig, 'id' | 'kind'>,
  writes: readonly ResourceWrite[],
): { field: string; message: string; right: string }[] {
  return rightsExercised(config, writes)
    .filter((x) => !holdsRight(config, partner, x.right))
    .map((x) => {
      const right = config.rights[x.right]!;
      return {
        field: `writes[${x.index}] (${x.resourceType}${x.code ? ` ${x.code}` : ''})`,
        message: `partner ${partner.id} (${partner.kind}) does not hold the decision right "${x.right}" (${right.description}); holders: ${right.holders.join(', ')}`,
        right: x.right,
      };
    });
}

/**
 * The agency owning an obligation that exercises `right`: among the agencies on the participant's
 * care team (in order), the first matching the right's owner, else the first holding the right.
 */
export function owningAgency(
  config: DecisionRightsConfig,
  partners: PartnerRegistry,
  right: string,
  careTeamAgencies: readonly string[],
): string | undefined {
  const r = config.rights[right];
  if (!r) {
    return undefined;
  }
  const onTeam = careTeamAgencies.flatMap((id) => {
    const p = partners.get(id);
    return p ? [p] : [];
  });
  return (
    onTeam.find((p) => p.id === r.owner || p.kind === r.owner)?.id ??
    onTeam.find((p) => holdsRight(config, p, right))?.id
  );
}

/** The right a hub Task with this code exercises (the sprint's steps are owned by its holders). */
export function rightOfTaskCode(config: DecisionRightsConfig, code: string): string | undefined {
  return config.actions.find((a) => a.resourceType === 'Task' && a.code === code)?.right;
}
