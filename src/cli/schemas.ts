import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crisisUpdateSchema } from '../adapters/crisis-update/parse-crisis-update.js';
import { servicePlanSchema } from '../adapters/service-plan/schema.js';
import { PARTNER_FILE_SCHEMA } from '../config/partners.js';
import { CALENDARS_SCHEMA } from '../coordination/business-calendar.js';
import { CRISIS_SCHEMA } from '../coordination/crisis.rules.js';
import { DECISION_RIGHTS_SCHEMA } from '../coordination/decision-rights.js';
import { DOCUMENTATION_SCHEMA } from '../coordination/documentation.rules.js';
import { ESCALATION_TIERS_SCHEMA } from '../coordination/escalation-tiers.js';
import { PLAN_CHANGE_CONTROL_SCHEMA } from '../coordination/plan-change-control.js';
import { ROSTER_SCHEMA } from '../coordination/roster.rules.js';
import { STAFF_FILE_SCHEMA } from '../security/staff.js';

/**
 * The JSON Schemas the hub publishes in `schemas/` (README, "Published schemas"), each the very
 * object the code validates with, so an editor checks a file as the hub will. `hub schemas`
 * writes them; a test fails when a file differs from what the code validates with.
 */
export const PUBLISHED_SCHEMAS: Readonly<
  Record<string, { readonly title: string; readonly schema: object }>
> = {
  'partner.schema.json': { title: 'Partner file (config/partners/<id>.yaml)', schema: PARTNER_FILE_SCHEMA },
  'staff.schema.json': { title: 'Staff accounts file (STAFF_FILE)', schema: STAFF_FILE_SCHEMA },
  'calendars.schema.json': { title: 'config/coordination/calendars.yaml', schema: CALENDARS_SCHEMA },
  'crisis.schema.json': { title: 'config/coordination/crisis.yaml', schema: CRISIS_SCHEMA },
  'decision-rights.schema.json': {
    title: 'config/coordination/decision-rights.yaml',
    schema: DECISION_RIGHTS_SCHEMA,
  },
  'documentation.schema.json': {
    title: 'config/coordination/documentation.yaml',
    schema: DOCUMENTATION_SCHEMA,
  },
  'escalation-tiers.schema.json': {
    title: 'config/coordination/escalation-tiers.yaml',
    schema: ESCALATION_TIERS_SCHEMA,
  },
  'plan-change-control.schema.json': {
    title: 'config/coordination/plan-change-control.yaml',
    schema: PLAN_CHANGE_CONTROL_SCHEMA,
  },
  'roster.schema.json': { title: 'config/coordination/roster.yaml', schema: ROSTER_SCHEMA },
  'service-plan.schema.json': { title: 'One service plan (service-plan format)', schema: servicePlanSchema },
  'crisis-update.schema.json': {
    title: 'One crisis update (crisis-update format)',
    schema: crisisUpdateSchema,
  },
};

/** A published file's text: the schema with its draft, id and title, as written to `schemas/`. */
export function publishedText(file: string): string {
  const { title, schema } = PUBLISHED_SCHEMAS[file]!;
  const document = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://carecoord.example.org/schemas/${file}`,
    title,
    ...schema,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** `hub schemas [<folder>]`: writes every published schema (default `schemas/`). */
export async function writeSchemas(folder: string): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const files = Object.keys(PUBLISHED_SCHEMAS);
  for (const file of files) {
    await writeFile(path.join(folder, file), publishedText(file));
  }
  return files;
}
