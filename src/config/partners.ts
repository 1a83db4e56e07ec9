import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { INBOUND_FORMATS, type InboundFormat } from '../adapters/types.js';
import { ConfigError } from '../errors/hub-error.js';

/** What kind of agency a partner is. */
export const PARTNER_KINDS = [
  'hcbs-provider',
  'behavioral-health',
  'housing',
  'hie',
  'county',
  'other',
] as const;
export type PartnerKind = (typeof PARTNER_KINDS)[number];

/**
 * Shared identifier kinds: identifiers that more than one agency holds for the same person, and
 * that link an agency's records to the one shared Patient.
 */
export const SHARED_IDENTIFIER_KINDS = ['medicaid', 'mrn', 'ssn', 'hmis-personal-id'] as const;
export type SharedIdentifierKind = (typeof SHARED_IDENTIFIER_KINDS)[number];

/** One partner agency, from `<PARTNER_CONFIG_DIR>/<id>.yaml`. */
export interface PartnerConfig {
  /** Stable id: used in URLs, identifier systems and `Organization/<id>`. */
  id: string;
  name: string;
  kind: PartnerKind;
  inbound: {
    /** Formats this partner may send; anything else is refused. */
    formats: InboundFormat[];
  };
  identifiers?: {
    /**
     * HL7 v2 assigning authorities (PID-3.4) or identifier type codes (PID-3.5) and what they mean,
     * e.g. `{ MCD: medicaid, GHH: mrn }`.
     */
    assigningAuthorities?: Record<string, SharedIdentifierKind>;
  };
  /** Local code -> hub code, per table (e.g. `riskFlag: { FALL: safeguarding-concern }`). */
  codeTranslations?: Record<string, Record<string, string>>;
  /** Per-partner mapping switches (e.g. `evv.timezone: America/Chicago`). */
  fieldOverrides?: Record<string, string | number | boolean>;
}

const ID_PATTERN = '^[a-z0-9][a-z0-9-]{1,62}$';

const schema: JSONSchemaType<PartnerConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'kind', 'inbound'],
  properties: {
    id: { type: 'string', pattern: ID_PATTERN },
    name: { type: 'string', minLength: 1 },
    kind: { type: 'string', enum: [...PARTNER_KINDS] },
    inbound: {
      type: 'object',
      additionalProperties: false,
      required: ['formats'],
      properties: {
        formats: { type: 'array', items: { type: 'string', enum: [...INBOUND_FORMATS] }, uniqueItems: true },
      },
    },
    identifiers: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      properties: {
        assigningAuthorities: {
          type: 'object',
          nullable: true,
          required: [],
          additionalProperties: { type: 'string', enum: [...SHARED_IDENTIFIER_KINDS] },
        },
      },
    },
    codeTranslations: {
      type: 'object',
      nullable: true,
      required: [],
      additionalProperties: {
        type: 'object',
        required: [],
        additionalProperties: { type: 'string', minLength: 1 },
      },
    },
    fieldOverrides: {
      type: 'object',
      nullable: true,
      required: [],
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
  },
};

const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema);

/** The partners the hub knows, by id. */
export class PartnerRegistry {
  private readonly byId: ReadonlyMap<string, PartnerConfig>;

  constructor(partners: readonly PartnerConfig[]) {
    this.byId = new Map(partners.map((p) => [p.id, p]));
  }

  get(id: string): PartnerConfig | undefined {
    return this.byId.get(id);
  }

  all(): PartnerConfig[] {
    return [...this.byId.values()];
  }
}

/**
 * Parses and validates one partner file. Every problem names the file and the field.
 * @returns the partner, or the list of problems
 */
export function parsePartner(fileName: string, text: string): PartnerConfig | string[] {
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    return [`${fileName}: not valid YAML: ${(err as Error).message.split('\n')[0]}`];
  }
  if (!validate(data)) {
    return (validate.errors ?? []).map((e) => `${fileName}: ${describeAjvError(e)}`);
  }
  const expectedName = `${data.id}.yaml`;
  if (fileName !== expectedName && fileName !== `${data.id}.yml`) {
    return [`${fileName}: /id is "${data.id}", so the file must be named ${expectedName}`];
  }
  return data;
}

/** Loads every `*.yaml`/`*.yml` in `dir`; throws a {@link ConfigError} listing every problem. */
export async function loadPartners(dir: string): Promise<PartnerRegistry> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const problems: string[] = [];
  const partners: PartnerConfig[] = [];
  for (const file of files) {
    const result = parsePartner(file, await readFile(path.join(dir, file), 'utf8'));
    if (Array.isArray(result)) {
      problems.push(...result);
    } else {
      partners.push(result);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(problems.map((p) => `PARTNER_CONFIG_DIR ${p}`));
  }
  return new PartnerRegistry(partners);
}

/** "/inbound/formats/0: must be one of fhir-message, ..." — field first, in the file's own terms. */
export function describeAjvError(e: ErrorObject): string {
  const field = e.instancePath || '/';
  switch (e.keyword) {
    case 'required':
      return `${field === '/' ? '' : field}/${(e.params as { missingProperty: string }).missingProperty} is required`;
    case 'additionalProperties':
      return `${field === '/' ? '' : field}/${(e.params as { additionalProperty: string }).additionalProperty} is not a known field`;
    case 'enum':
      return `${field} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    default:
      return `${field} ${e.message ?? 'is invalid'}`;
  }
}
