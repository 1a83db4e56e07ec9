import type { CodeSystem } from 'fhir/r4.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PartnerRegistry } from '../config/partners.js';
import { ConfigError } from '../errors/hub-error.js';
import { loadCalendars, type CalendarsConfig } from './business-calendar.js';
import { CRISIS_SCHEMA, type CrisisConfig } from './crisis.rules.js';
import { loadDecisionRights, rightOfTaskCode, type DecisionRightsConfig } from './decision-rights.js';
import { DOCUMENTATION_SCHEMA, type DocumentationConfig } from './documentation.rules.js';
import { loadEscalationConfig, type EscalationConfig } from './escalation-tiers.js';
import { loadPlanChangeControl, type PlanChangeControlConfig } from './plan-change-control.js';
import { loadSprintTemplate, type SprintTemplate } from './post-discharge-sprint.js';
import { ROSTER_SCHEMA, unknownFlagCodes, type RosterConfig } from './roster.rules.js';
import { loadYamlConfig } from '../config/yaml-file.js';

/** The operating model as configuration: every file of COORDINATION_CONFIG_DIR, validated together. */
export interface CoordinationConfig {
  readonly tiers: EscalationConfig;
  readonly calendars: CalendarsConfig;
  readonly rights: DecisionRightsConfig;
  readonly documentation: DocumentationConfig;
  readonly planChange: PlanChangeControlConfig;
  readonly crisis: CrisisConfig;
  readonly sprint: SprintTemplate;
  readonly roster: RosterConfig;
}

/** Escalation triggers the hub raises itself; each must be mapped to a tier. */
const HUB_TRIGGERS = ['missed-acknowledgment', 'missed-sprint-step', 'missed-huddle-action'];

/** The codes of one of the hub's CodeSystems in `profiles/` (e.g. `hub-risk-flag`). */
export async function codesOf(profilesDir: string, id: string): Promise<string[]> {
  const cs = JSON.parse(
    await readFile(path.join(profilesDir, `CodeSystem-${id}.json`), 'utf8'),
  ) as CodeSystem;
  return (cs.concept ?? []).map((c) => c.code);
}

/**
 * Loads every coordination file and checks they agree with each other and with the partners: tier
 * chairs are partners, every trigger the rules raise has a tier, every right named exists, and every
 * sprint step exercises a decision right (so it has an owning agency). Throws a ConfigError listing
 * every problem.
 */
export async function loadCoordinationConfig(
  dir: string,
  profilesDir: string,
  partners: PartnerRegistry,
): Promise<CoordinationConfig> {
  const file = (name: string): string => path.join(dir, name);
  const partnerIds = partners.all().map((p) => p.id);
  const riskFlags = await codesOf(profilesDir, 'hub-risk-flag');
  const taskCodes = await codesOf(profilesDir, 'hub-task-code');
  const loaded = await Promise.allSettled([
    loadEscalationConfig(file('escalation-tiers.yaml')),
    loadCalendars(file('calendars.yaml'), partnerIds),
    loadDecisionRights(file('decision-rights.yaml'), partners),
    loadYamlConfig<DocumentationConfig>(file('documentation.yaml'), DOCUMENTATION_SCHEMA),
    loadPlanChangeControl(file('plan-change-control.yaml')),
    loadYamlConfig<CrisisConfig>(file('crisis.yaml'), CRISIS_SCHEMA),
    loadSprintTemplate(file('post-discharge-sprint.json'), taskCodes),
    loadRosterConfig(file('roster.yaml'), riskFlags),
  ] as const);
  const failures = loaded.flatMap((r) =>
    r.status === 'rejected'
      ? r.reason instanceof ConfigError
        ? r.reason.problems
        : [`${(r.reason as Error).message}`]
      : [],
  );
  if (failures.length > 0) {
    throw new ConfigError(failures.map((p) => `COORDINATION_CONFIG_DIR ${p}`));
  }
  const [tiers, calendars, rights, documentation, planChange, crisis, sprint, roster] = loaded.map(
    (r) => (r as PromiseFulfilledResult<unknown>).value,
  ) as [
    EscalationConfig,
    CalendarsConfig,
    DecisionRightsConfig,
    DocumentationConfig,
    PlanChangeControlConfig,
    CrisisConfig,
    SprintTemplate,
    RosterConfig,
  ];
  const config = { tiers, calendars, rights, documentation, planChange, crisis, sprint, roster };
  const problems = crossCheck(config, partners);
  if (problems.length > 0) {
    throw new ConfigError(problems.map((p) => `COORDINATION_CONFIG_DIR ${p}`));
  }
  return config;
}

function crossCheck(c: CoordinationConfig, partners: PartnerRegistry): string[] {
  const problems: string[] = [];
  for (const [id, tier] of Object.entries(c.tiers.tiers)) {
    if (!partners.get(tier.chair.organization)) {
      problems.push(
        `escalation-tiers.yaml: /tiers/${id}/chair/organization "${tier.chair.organization}" is not a partner`,
      );
    }
  }
  const raised = [
    ...HUB_TRIGGERS,
    c.documentation.escalateAs,
    c.planChange.escalateAs,
    c.crisis.escalateAs,
    ...Object.keys(c.planChange.triggers),
    ...Object.keys(c.crisis.updateWithin),
  ];
  for (const trigger of new Set(raised)) {
    if (!c.tiers.triggers[trigger]) {
      problems.push(
        `escalation-tiers.yaml: /triggers/${trigger} is missing: the coordination rules raise it`,
      );
    }
  }
  const rightNamed = (right: string, where: string): void => {
    if (!c.rights.rights[right]) {
      problems.push(`${where} names decision right "${right}", which decision-rights.yaml does not define`);
    }
  };
  rightNamed(c.planChange.reviewRight, 'plan-change-control.yaml: /reviewRight');
  rightNamed(c.crisis.caseManagerRight, 'crisis.yaml: /caseManagerRight');
  c.documentation.requirements.forEach((r, i) => {
    if (r.owner.startsWith('right:')) {
      rightNamed(r.owner.slice('right:'.length), `documentation.yaml: /requirements/${i}/owner`);
    }
  });
  c.sprint.steps.forEach((step, i) => {
    if (!rightOfTaskCode(c.rights, step.code)) {
      problems.push(
        `post-discharge-sprint.json: /action/${i} (task code ${step.code}) exercises no decision right, so it would have no owning agency; add an action for it to decision-rights.yaml`,
      );
    }
  });
  return problems;
}

/** roster.yaml, whose flag codes must be the hub's risk flags. */
export function loadRosterConfig(file: string, knownFlagCodes: readonly string[]): Promise<RosterConfig> {
  return loadYamlConfig<RosterConfig>(file, ROSTER_SCHEMA, (data, name) =>
    unknownFlagCodes(data, name, knownFlagCodes),
  );
}
