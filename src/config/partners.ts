import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { INBOUND_FORMATS, type InboundFormat } from './inbound-formats.js';
import { ConfigError } from '../errors/hub-error.js';
import { isTimeZone } from '../time/wall-time.js';
import { parseAllowList } from './network-allow-list.js';

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
  /**
   * Version of the partner's mapping (`codeTranslations`, `fieldOverrides`, `identifiers`), e.g.
   * `"3"` or `"2026-11-20"`. Bump it with every change to them; `npm run hub -- mapping activate`
   * refuses a file whose version is missing or unchanged, and keeps the replaced file under
   * `.versions/<id>.<version>.yaml` for `mapping rollback` (see src/cli/mapping-gate.ts).
   */
  mappingVersion?: string;
  inbound: {
    /** Formats this partner may send; anything else is refused. */
    formats: InboundFormat[];
    /** MSH-4 sending facilities that identify this partner's HL7 v2 messages on the MLLP listener. */
    hl7SendingFacilities?: string[];
    /**
     * A 42 CFR Part 2 program (substance-use disorder treatment): everything it sends is labelled
     * `42CFRPart2` and disclosed only where the participant's Consent allows.
     */
    part2Program?: boolean;
    /** Addresses or CIDR ranges its MLLP connections come from; required for MLLP when AUTH_REQUIRED. */
    mllpAllowFrom?: string[];
    /**
     * The record kinds through which the partner joins a participant's care team (an admission,
     * an enrolment, a service plan), e.g. `[hl7v2-adt]`. A record of another kind is applied
     * without the join. Absent: none; staff put the partner on the team.
     */
    careTeamJoins?: InboundFormat[];
    /**
     * What becomes of FHIR resources the hub does not coordinate (Claim, Immunization,
     * DiagnosticReport, ...): `skip` (the default) reports each and writes none; `store` writes
     * them to the shared server as sent, under the sender's identity. Either way the bundle is not
     * refused for them, and what only the hub writes (CareTeam, Consent, ...) is never stored.
     */
    uncoordinated?: 'skip' | 'store';
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
  /** How the partner receives plan changes; a partner without it receives nothing. */
  outbound?: OutboundConfig;
  /**
   * SMART Backend Services registration: the public keys the partner signs its client assertions
   * with (a JWKS URL it publishes, or the keys inline) and the scopes it may be granted. A partner
   * without it cannot get an access token.
   */
  auth?: PartnerAuthConfig;
}

export interface PartnerAuthConfig {
  /** `https` URL of the partner's JWKS (fetched and cached; `http` only for loopback). */
  jwksUrl?: string;
  /** The partner's public keys as a JWKS. */
  jwks?: { keys: Array<Record<string, unknown>> };
  /** SMART v2 system scopes it may be granted, e.g. `system/*.cu`, `system/Task.rus`. */
  scopes: string[];
}

/** A SMART v2 system scope: `system/<Type or *>.<c r u d s, in that order>`. */
export const SCOPE_PATTERN = '^system/(\\*|[A-Z][A-Za-z]+)\\.(c?r?u?d?s?)$';

/** What a partner may receive. */
export const OUTBOUND_KINDS = ['plan-change'] as const;

/** A partner's outbound transport, entitlements and limits. */
export interface OutboundConfig {
  transport: 'webhook' | 'fhir-rest' | 'fhir-message';
  /** Webhook URL, the partner's FHIR base (fhir-rest), or the base its `$process-message` is under. */
  url: string;
  /** Environment variable (ending in `_SECRET`) holding the webhook signing secret, never the secret itself. */
  secretEnv?: string;
  /** What it is entitled to receive. */
  receives: Array<(typeof OUTBOUND_KINDS)[number]>;
  /** @defaultValue 10000 */
  timeoutMs?: number;
  /** Deliveries to this partner at once. @defaultValue 1 */
  concurrency?: number;
  /** At most `max` deliveries per `durationMs`. */
  rateLimit?: { max: number; durationMs: number };
  /** Hours the partner has to acknowledge a change that alters delivery. @defaultValue 24 */
  ackWithinHours?: number;
  /** Attempts before a delivery is dead-lettered. @defaultValue 10 */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt, with jitter. @defaultValue 2000 */
  backoffMs?: number;
  /** When repeated failures open the partner's circuit (see routing/circuit-breaker.ts). */
  circuit?: { failureThreshold: number; windowMs: number; cooldownMs: number };
}

const ID_PATTERN = '^[a-z0-9][a-z0-9-]{1,62}$';

/** The JSON Schema of a partner file (published as schemas/partner.schema.json). */
export const PARTNER_FILE_SCHEMA: JSONSchemaType<PartnerConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'kind', 'inbound'],
  properties: {
    id: { type: 'string', pattern: ID_PATTERN },
    name: { type: 'string', minLength: 1 },
    kind: { type: 'string', enum: [...PARTNER_KINDS] },
    // Also a file name part (.versions/<id>.<version>.yaml).
    mappingVersion: { type: 'string', nullable: true, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    inbound: {
      type: 'object',
      additionalProperties: false,
      required: ['formats'],
      properties: {
        formats: { type: 'array', items: { type: 'string', enum: [...INBOUND_FORMATS] }, uniqueItems: true },
        hl7SendingFacilities: {
          type: 'array',
          nullable: true,
          items: { type: 'string', minLength: 1 },
          uniqueItems: true,
        },
        part2Program: { type: 'boolean', nullable: true },
        mllpAllowFrom: {
          type: 'array',
          nullable: true,
          items: { type: 'string', minLength: 1 },
          uniqueItems: true,
        },
        careTeamJoins: {
          type: 'array',
          nullable: true,
          items: { type: 'string', enum: [...INBOUND_FORMATS] },
          uniqueItems: true,
        },
        uncoordinated: { type: 'string', nullable: true, enum: ['skip', 'store'] },
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
    auth: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['scopes'],
      properties: {
        jwksUrl: {
          type: 'string',
          nullable: true,
          pattern: '^(https://|http://(127\\.0\\.0\\.1|localhost)[:/])',
        },
        jwks: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['keys'],
          properties: {
            keys: {
              type: 'array',
              minItems: 1,
              items: { type: 'object', required: [], additionalProperties: true },
            },
          },
        },
        scopes: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', pattern: SCOPE_PATTERN },
          uniqueItems: true,
        },
      },
    },
    outbound: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['transport', 'url', 'receives'],
      properties: {
        transport: { type: 'string', enum: ['webhook', 'fhir-rest', 'fhir-message'] },
        url: { type: 'string', pattern: '^https?://' },
        secretEnv: { type: 'string', nullable: true, pattern: '^[A-Z][A-Z0-9_]*_SECRET$' },
        receives: { type: 'array', items: { type: 'string', enum: [...OUTBOUND_KINDS] }, uniqueItems: true },
        timeoutMs: { type: 'integer', nullable: true, minimum: 100, maximum: 120000 },
        concurrency: { type: 'integer', nullable: true, minimum: 1, maximum: 64 },
        rateLimit: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['max', 'durationMs'],
          properties: { max: { type: 'integer', minimum: 1 }, durationMs: { type: 'integer', minimum: 1 } },
        },
        ackWithinHours: { type: 'number', nullable: true, exclusiveMinimum: 0, maximum: 720 },
        maxAttempts: { type: 'integer', nullable: true, minimum: 1, maximum: 50 },
        backoffMs: { type: 'integer', nullable: true, minimum: 10, maximum: 3600000 },
        circuit: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['failureThreshold', 'windowMs', 'cooldownMs'],
          properties: {
            failureThreshold: { type: 'integer', minimum: 1 },
            windowMs: { type: 'integer', minimum: 100 },
            cooldownMs: { type: 'integer', minimum: 100 },
          },
        },
      },
    },
  },
};

const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(PARTNER_FILE_SCHEMA);

/** The partners the hub knows, by id. */
export class PartnerRegistry {
  private readonly byId: ReadonlyMap<string, PartnerConfig>;

  /** @param secrets - webhook signing secrets by partner id, resolved from the environment */
  constructor(
    partners: readonly PartnerConfig[],
    private readonly secrets: ReadonlyMap<string, string> = new Map(),
  ) {
    this.byId = new Map(partners.map((p) => [p.id, p]));
  }

  /** The partner's webhook signing secret (kept out of the config object so it is never logged). */
  secretOf(id: string): string | undefined {
    return this.secrets.get(id);
  }

  get(id: string): PartnerConfig | undefined {
    return this.byId.get(id);
  }

  all(): PartnerConfig[] {
    return [...this.byId.values()];
  }

  /** Ids of the 42 CFR Part 2 programs (whose records, and place on a care team, need consent). */
  part2Programs(): string[] {
    return this.all()
      .filter((p) => p.inbound.part2Program)
      .map((p) => p.id);
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
  const zones = timeZoneProblems(data.fieldOverrides ?? {});
  return zones.length > 0 ? zones.map((p) => `${fileName}: ${p}`) : data;
}

/**
 * Every `<format>.timezone` setting must name an IANA zone. Checked when the file loads: found
 * only while mapping, a wrong zone would fail every record of the partner and look transient.
 */
function timeZoneProblems(overrides: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(overrides)
    .filter(([key, value]) => key.endsWith('.timezone') && !(typeof value === 'string' && isTimeZone(value)))
    .map(
      ([key, value]) =>
        `/fieldOverrides/${key} "${String(value)}" is not an IANA time zone (for example America/Chicago)`,
    );
}

/**
 * Loads every `*.yaml`/`*.yml` in `dir`; throws a {@link ConfigError} listing every problem. A
 * webhook partner's signing secret must be present in `env` under the variable its file names.
 */
export async function loadPartners(
  dir: string,
  env: Record<string, string | undefined> = {},
): Promise<PartnerRegistry> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const problems: string[] = [];
  const partners: PartnerConfig[] = [];
  const secrets = new Map<string, string>();
  for (const file of files) {
    const result = parsePartner(file, await readFile(path.join(dir, file), 'utf8'));
    if (Array.isArray(result)) {
      problems.push(...result);
      continue;
    }
    const allowList = parseAllowList(result.inbound.mllpAllowFrom ?? []).problems;
    if (allowList.length > 0) {
      problems.push(...allowList.map((p) => `${file}: ${p}`));
      continue;
    }
    if (result.auth && !result.auth.jwks === !result.auth.jwksUrl) {
      problems.push(`${file}: /auth needs exactly one of jwksUrl and jwks (the partner's public keys)`);
      continue;
    }
    const out = result.outbound;
    if (out && !securedOrLocal(out.url)) {
      problems.push(
        `${file}: /outbound/url must be https:// (plain http only to this machine): participant data travels on it`,
      );
      continue;
    }
    if (out?.transport === 'webhook' && (!out.secretEnv || !env[out.secretEnv])) {
      problems.push(
        out.secretEnv
          ? `${file}: /outbound/secretEnv names ${out.secretEnv}, which is not set in the environment`
          : `${file}: /outbound/secretEnv is required for a webhook (the variable holding the signing secret)`,
      );
      continue;
    }
    if (out?.secretEnv && env[out.secretEnv]) {
      secrets.set(result.id, env[out.secretEnv]!);
    }
    partners.push(result);
  }
  if (problems.length > 0) {
    throw new ConfigError(problems.map((p) => `PARTNER_CONFIG_DIR ${p}`));
  }
  return new PartnerRegistry(partners, secrets);
}

/** An `https:` URL, or `http:` to a loopback host (the demo inbox, a local test partner). */
function securedOrLocal(url: string): boolean {
  try {
    const { protocol, hostname } = new URL(url);
    const host = hostname.replace(/^\[|\]$/g, '');
    return (
      protocol === 'https:' ||
      (protocol === 'http:' && (host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)))
    );
  } catch {
    return false;
  }
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
