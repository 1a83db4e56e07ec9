import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors/hub-error.js';

/** Log levels accepted by `LOG_LEVEL` (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The hub's whole configuration: read once from the environment, validated, frozen. */
/** When the engineers' alerts hold and when they are raised (see src/alerts/alert.rules.ts). */
export interface AlertSettings {
  /** How long a condition must hold before it is raised (the debounce). */
  readonly afterMs: number;
  /** A queue with more jobs than this waiting or retrying. */
  readonly queueDepth: number;
  /** A queue whose oldest waiting job is older than this. */
  readonly queueAgeMs: number;
  /** A partner whose share of rejected records in the window is above this (0 to 1)... */
  readonly rejectionRate: number;
  /** ...out of at least this many records. */
  readonly rejectionMinRecords: number;
  /** The window for rejection rates and dead-letter growth. */
  readonly windowMs: number;
}

export interface HubConfig {
  readonly fhir: {
    /** FHIR R4 base URL, e.g. `http://127.0.0.1:8080/fhir`. */
    readonly baseUrl: string;
    /** Start the local HAPI server from `fhir-server/` when nothing answers at `baseUrl`. */
    readonly autostart: boolean;
    /** Port of the local HAPI server when the hub starts it. */
    readonly localPort: number;
    /** Per-request timeout. @defaultValue 30000 */
    readonly timeoutMs: number;
    /** Retries after the first attempt on network errors and 5xx. @defaultValue 4 */
    readonly retries: number;
    /** Reads issued together sent as one FHIR `batch` (`FHIR_BATCH_READS`). @defaultValue true */
    readonly batchReads: boolean;
  };
  readonly redis: {
    /** One server's URL; with `cluster`, comma-separated seed nodes of a Redis Cluster. */
    readonly url: string;
    /** A Redis Cluster: each queue gets a hash tag of its own (README "Redis Cluster"). @defaultValue false */
    readonly cluster: boolean;
    /**
     * Key prefix of the hub in Redis, a `{hash tag}`. On one server every queue is under it; on a
     * cluster the hub's own keys share its slot and each queue gets one of its own. @defaultValue `{hub}`
     */
    readonly queuePrefix: string;
    /**
     * How long a worker's hold on a job lasts without renewal: a worker that dies (crash, SIGKILL)
     * has its jobs taken up by another after at most twice this. @defaultValue 30000
     */
    readonly jobLockMs: number;
  };
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** URL at which the FHIR server and partners reach the hub (rest-hook callbacks); unset: http://127.0.0.1:<port>. */
    readonly publicUrl: string | undefined;
    /** Partner routes require SMART Backend Services tokens and staff routes the admin token. */
    readonly authRequired: boolean;
    /** YAML file of staff accounts (user name, name, role, password hash); none without it. */
    readonly staffFile: string | undefined;
    /** Delete this deployment's FHIR subscriptions at shutdown (ephemeral test/preview deployments). */
    readonly removeSubscriptionsOnShutdown: boolean;
    /**
     * `TRUST_PROXY`: which proxies' `X-Forwarded-*` headers count (Express's `trust proxy`: a hop
     * count, `loopback`, or addresses and CIDR ranges); unset, none do.
     */
    readonly trustProxy: string | undefined;
    /**
     * `ADMIN_TOKEN`: the Bearer token `/admin/*` requires; unset, `/admin/*` is served to loopback
     * clients only. Not enumerable, so logging or serialising the config never prints it.
     */
    readonly adminToken: string | undefined;
  };
  /** Base of identifier systems: `<identifierBase>/sid/<partnerId>/<recordType>`. */
  readonly identifierBase: string;
  readonly partnerConfigDir: string;
  /** Serve the demo partners' stand-in inbox (the demo partner files deliver to it). */
  readonly demoInbox: boolean;
  readonly coordinationConfigDir: string;
  readonly profilesDir: string;
  readonly logLevel: LogLevel;
  /** Where OpenTelemetry spans go (README, "Traces"). */
  readonly tracing: { readonly exporter: TraceExporter; readonly serviceName: string };
  /** How long shutdown waits for in-flight requests and jobs before it gives up. */
  readonly shutdownTimeoutMs: number;
  /**
   * What this process does (README, "Roles"): `all` (the default), `front` (the HTTP and MLLP doors:
   * takes records and serves pages and APIs, runs no job) or `worker` (runs every job, serves
   * only health, readiness and metrics).
   */
  readonly role: HubRole;
  readonly ingest: {
    readonly concurrency: number;
    readonly maxBodyBytes: number;
    readonly mllpPort: number;
    /** Tries of a record before it is a dead letter; a resend of it is applied again. */
    readonly attempts: number;
    /** MLLP connections open at once, in all and from one address; idle ones close after `mllpIdleMs`. */
    readonly mllpMaxConnections: number;
    readonly mllpMaxConnectionsPerAddress: number;
    readonly mllpIdleMs: number;
    /** Requests one partner may make per minute on its ingest and partner routes. */
    readonly rateLimitPerMinute: number;
    /** Days a rejected record is kept for replay before it expires. */
    readonly rejectedRetentionDays: number;
    /** Days the message log keeps each message's metadata and business keys. */
    readonly messageLogDays: number;
  };
  /** The engineers' alerts (README, "Alerts"). */
  readonly alerts: {
    readonly checkMs: number;
    readonly settings: AlertSettings;
  };
  /**
   * Every `*_SECRET` variable (e.g. partner webhook signing secrets named by `outbound.secretEnv`).
   * Kept apart so that logging the rest of the config can never print a secret.
   */
  readonly secrets: Readonly<Record<string, string>>;
}

type Env = Record<string, string | undefined>;

const TRACE_EXPORTERS = ['otlp', 'console', 'none'] as const;
const HUB_ROLES = ['all', 'front', 'worker'] as const;
export type HubRole = (typeof HUB_ROLES)[number];
export type TraceExporter = (typeof TRACE_EXPORTERS)[number];

/** Every environment variable the hub reads, with what it means; the README's table mirrors this. */
export const CONFIG_VARIABLES = {
  FHIR_BASE_URL:
    'FHIR R4 base URL. Unset: the local HAPI server at http://127.0.0.1:FHIR_PORT/fhir, started when needed',
  FHIR_PORT: 'Port of the local HAPI server (default 8080)',
  FHIR_AUTOSTART:
    'Start the local HAPI server when nothing answers (default: true when FHIR_BASE_URL is unset)',
  FHIR_TIMEOUT_MS: 'Timeout of one FHIR request (default 30000)',
  FHIR_RETRIES: 'Retries on network errors and 5xx from the FHIR server (default 4)',
  FHIR_BATCH_READS: 'Send reads issued together as one FHIR batch (default true)',
  REDIS_URL:
    'Redis for the queues (default redis://127.0.0.1:6379); with REDIS_CLUSTER, comma-separated seed nodes of the cluster',
  REDIS_CLUSTER:
    'true: REDIS_URL names nodes of a Redis Cluster, and each queue gets a slot of its own (default false)',
  QUEUE_PREFIX:
    "Key prefix of the hub in Redis, a {hash tag}; on a cluster the hub's own keys share its slot and each queue gets {prefix:queue} (default {hub})",
  QUEUE_JOB_LOCK_MS:
    "How long a worker's hold on a job lasts between renewals; a job whose hub process died is taken up by another after about this (default 30000)",
  HOST: 'Address the hub listens on (default 127.0.0.1; 0.0.0.0 in a container)',
  PORT: 'HTTP port of the hub (default 3000; 0 picks a free port)',
  HUB_PUBLIC_URL: 'URL at which the FHIR server and partners reach the hub (default http://127.0.0.1:PORT)',
  IDENTIFIER_BASE:
    'Base of identifier systems <base>/sid/<partner>/<record> (default https://carecoord.example.org)',
  PARTNER_CONFIG_DIR: 'Folder of partner YAML files (default config/partners)',
  PROFILES_DIR: 'Folder of the hub profiles loaded into the FHIR server (default profiles)',
  COORDINATION_CONFIG_DIR:
    'Folder of the coordination rules: escalation tiers, calendars, decision rights, documentation, plan change control, crisis updates, the post-discharge sprint, the roster (default config/coordination)',
  LOG_LEVEL: 'fatal, error, warn, info, debug, trace or silent (default info)',
  SHUTDOWN_TIMEOUT_MS: 'How long shutdown waits for requests and jobs to finish (default 30000)',
  INGEST_CONCURRENCY: 'Records applied to the FHIR server at once per hub process (default 4)',
  MAX_BODY_MB: 'Largest request body accepted, in MiB (default 20)',
  RATE_LIMIT_PER_MINUTE:
    'Requests one partner may make per minute on its ingest and partner routes, across hub replicas (default 600)',
  DEMO_INBOX:
    'Serve /demo/inbox/<partner>, the stand-in endpoint of the demo partners (default: true when PARTNER_CONFIG_DIR is unset)',
  INGEST_ATTEMPTS:
    'Tries of a record against the FHIR server before it is a dead letter (default 12: about 68 minutes at 1 s doubling)',
  REJECTED_RETENTION_DAYS:
    'Days a rejected record (with its PHI) is kept for an engineer to replay or discard (default 30)',
  HUB_ROLE:
    'What this process does: all (default), front (HTTP and MLLP: takes records, serves pages and APIs, runs no job) or worker (runs the jobs; serves health, readiness and metrics only; needs HUB_PUBLIC_URL)',
  ALERT_CHECK_SECONDS: 'How often the alerts are checked, once per deployment (default 30)',
  ALERT_AFTER_SECONDS:
    'How long a condition must hold before its alert is raised: the debounce (default 300)',
  ALERT_QUEUE_DEPTH: 'Alert when a queue has more jobs waiting or retrying than this (default 1000)',
  ALERT_QUEUE_AGE_SECONDS: "Alert when a queue's oldest waiting job is older than this (default 900)",
  ALERT_REJECTION_PERCENT:
    "Alert when more than this share of a partner's records (at least 20) is rejected within the window (default 20)",
  ALERT_WINDOW_MINUTES: 'The window of rejection rates and dead-letter growth (default 15)',
  MESSAGE_LOG_DAYS:
    "Days the message log keeps each inbound message's metadata and business keys (participant identifiers among them; no bodies) (default 30)",
  MLLP_PORT: 'Port of the HL7 v2 MLLP listener, on HOST (default 2575; 0 picks a free port)',
  MLLP_MAX_CONNECTIONS: 'MLLP connections open at once (default 200); more are closed unread',
  MLLP_MAX_CONNECTIONS_PER_ADDRESS: 'MLLP connections open at once from one address (default 20)',
  MLLP_IDLE_TIMEOUT_MS: 'An MLLP connection that sends nothing this long is closed (default 300000)',
  AUTH_REQUIRED:
    'Partner routes need a SMART Backend Services access token and staff routes a staff session (default: true with PARTNER_CONFIG_DIR set, false for the built-in demo partners)',
  REMOVE_SUBSCRIPTIONS_ON_SHUTDOWN:
    'Delete the FHIR subscriptions of this QUEUE_PREFIX at shutdown, for a deployment that goes away for good (tests, previews); never for one of several replicas (default false)',
  STAFF_FILE:
    'YAML file of staff accounts (username, name, role coordinator|supervisor|engineer|auditor, passwordHash from `npm run hub -- staff hash`); unset: no staff accounts, only ADMIN_TOKEN',
  TRUST_PROXY:
    'Proxies whose X-Forwarded-* headers count (a hop count, loopback, or addresses/CIDRs); unset: none. Sets the client address for rate limits and HTTPS for Secure cookies',
  OTEL_TRACES_EXPORTER:
    'otlp (to OTEL_EXPORTER_OTLP_ENDPOINT), console or none: where OpenTelemetry traces go (default: otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set, else none)',
  OTEL_EXPORTER_OTLP_ENDPOINT:
    'OTLP/HTTP endpoint of a collector, Jaeger or Tempo (for example http://127.0.0.1:4318); the OpenTelemetry exporter reads it and its OTEL_EXPORTER_OTLP_* companions',
  OTEL_SERVICE_NAME: 'Service name on the traces (default care-coordination-hub)',
  ADMIN_TOKEN:
    'Bearer token required for /admin/* (dead letters, rejected records, queue dashboard); unset: /admin/* answers loopback clients only',
} as const;

/** Name of a variable the hub reads. */
export type ConfigVariable = keyof typeof CONFIG_VARIABLES;

/**
 * Reads the hub's configuration from environment variables. Every problem is collected and
 * reported together, each naming its variable, so one failed start shows everything to fix.
 * @param env - the environment, `process.env` in production
 * @param cwd - folder that relative paths are resolved against
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): HubConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const fhirLocalPort = read.port('FHIR_PORT', 8080);
  const explicitFhirUrl = read.optionalUrl('FHIR_BASE_URL', ['http:', 'https:']);
  const redisCluster = read.bool('REDIS_CLUSTER', false);
  const port = read.int('PORT', 3000, 0, 65535); // 0: any free port (tests)
  // The built-in demo partners (no PARTNER_CONFIG_DIR) have no keys: the demo runs open.
  const demoPartners = env.PARTNER_CONFIG_DIR === undefined || env.PARTNER_CONFIG_DIR === '';
  const config: HubConfig = {
    fhir: {
      baseUrl: stripSlash(explicitFhirUrl ?? `http://127.0.0.1:${fhirLocalPort}/fhir`),
      autostart: read.bool('FHIR_AUTOSTART', explicitFhirUrl === undefined),
      localPort: fhirLocalPort,
      timeoutMs: read.int('FHIR_TIMEOUT_MS', 30000, 100, 600000),
      retries: read.int('FHIR_RETRIES', 4, 0, 20),
      batchReads: read.bool('FHIR_BATCH_READS', true),
    },
    redis: {
      url: read.urlList('REDIS_URL', ['redis:', 'rediss:'], redisCluster) ?? 'redis://127.0.0.1:6379',
      cluster: redisCluster,
      queuePrefix: read.string(
        'QUEUE_PREFIX',
        '{hub}',
        // On a cluster the hub's own keys share one slot through the prefix's hash tag.
        redisCluster ? /^\{[A-Za-z0-9_:-]+\}$/ : /^[A-Za-z0-9{}_:-]+$/,
      ),
      jobLockMs: read.int('QUEUE_JOB_LOCK_MS', 30000, 1000, 600000),
    },
    http: withHidden(
      {
        host: read.string('HOST', '127.0.0.1', /^[A-Za-z0-9.:-]+$/),
        port,
        publicUrl: optional(read.optionalUrl('HUB_PUBLIC_URL', ['http:', 'https:']), stripSlash),
        authRequired: read.bool('AUTH_REQUIRED', !demoPartners),
        staffFile: env.STAFF_FILE ? path.resolve(cwd, env.STAFF_FILE) : undefined,
        removeSubscriptionsOnShutdown: read.bool('REMOVE_SUBSCRIPTIONS_ON_SHUTDOWN', false),
        trustProxy: env.TRUST_PROXY ? read.string('TRUST_PROXY', '', /^[A-Za-z0-9.:/, ]+$/) : undefined,
      },
      'adminToken',
      read.token('ADMIN_TOKEN'),
    ),
    identifierBase: stripSlash(
      read.optionalUrl('IDENTIFIER_BASE', ['http:', 'https:']) ?? 'https://carecoord.example.org',
    ),
    partnerConfigDir: read.directory('PARTNER_CONFIG_DIR', path.resolve(cwd, 'config/partners'), cwd),
    demoInbox: read.bool('DEMO_INBOX', demoPartners),
    coordinationConfigDir: read.directory(
      'COORDINATION_CONFIG_DIR',
      path.resolve(cwd, 'config/coordination'),
      cwd,
    ),
    profilesDir: read.directory('PROFILES_DIR', path.resolve(cwd, 'profiles'), cwd),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    tracing: {
      exporter: read.oneOf(
        'OTEL_TRACES_EXPORTER',
        TRACE_EXPORTERS,
        env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none',
      ),
      serviceName: read.string('OTEL_SERVICE_NAME', 'care-coordination-hub', /^[A-Za-z0-9._-]{1,100}$/),
    },
    shutdownTimeoutMs: read.int('SHUTDOWN_TIMEOUT_MS', 30000, 0, 600000),
    ingest: {
      concurrency: read.int('INGEST_CONCURRENCY', 4, 1, 256),
      maxBodyBytes: read.int('MAX_BODY_MB', 20, 1, 1024) * 1024 * 1024,
      mllpPort: read.int('MLLP_PORT', 2575, 0, 65535),
      mllpMaxConnections: read.int('MLLP_MAX_CONNECTIONS', 200, 1, 100_000),
      mllpMaxConnectionsPerAddress: read.int('MLLP_MAX_CONNECTIONS_PER_ADDRESS', 20, 1, 100_000),
      mllpIdleMs: read.int('MLLP_IDLE_TIMEOUT_MS', 300_000, 100, 86_400_000),
      rateLimitPerMinute: read.int('RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
      rejectedRetentionDays: read.int('REJECTED_RETENTION_DAYS', 30, 1, 3650),
      messageLogDays: read.int('MESSAGE_LOG_DAYS', 30, 1, 3650),
      attempts: read.int('INGEST_ATTEMPTS', 12, 1, 30),
    },
    role: read.oneOf('HUB_ROLE', HUB_ROLES, 'all'),
    alerts: {
      checkMs: read.int('ALERT_CHECK_SECONDS', 30, 1, 3600) * 1000,
      settings: {
        afterMs: read.int('ALERT_AFTER_SECONDS', 300, 0, 86_400) * 1000,
        queueDepth: read.int('ALERT_QUEUE_DEPTH', 1000, 1, 100_000_000),
        queueAgeMs: read.int('ALERT_QUEUE_AGE_SECONDS', 900, 1, 604_800) * 1000,
        rejectionRate: read.int('ALERT_REJECTION_PERCENT', 20, 1, 100) / 100,
        rejectionMinRecords: 20,
        windowMs: read.int('ALERT_WINDOW_MINUTES', 15, 1, 1440) * 60_000,
      },
    },
    secrets: Object.fromEntries(
      Object.entries(env).filter(
        (e): e is [string, string] => /^[A-Z][A-Z0-9_]*_SECRET$/.test(e[0]) && !!e[1],
      ),
    ),
  };

  if (config.role === 'worker' && !config.http.publicUrl) {
    // A worker tells HAPI and subscribers where the hub is: the front ends, not itself.
    problems.push('HUB_ROLE=worker needs HUB_PUBLIC_URL: the address of the front ends');
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return deepFreeze(config);
}

/** Typed readers that record a problem (naming the variable) instead of throwing. */
class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: ConfigVariable): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: ConfigVariable, fallback: string, pattern: RegExp): string {
    const value = this.raw(name);
    if (value === undefined) {
      return fallback;
    }
    if (!pattern.test(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)} is not valid (expected ${pattern.source})`);
    }
    return value;
  }

  int(name: ConfigVariable, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) {
      return fallback;
    }
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name}=${JSON.stringify(value)} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }

  /** A credential: visible ASCII without spaces (it travels in a header); a problem never shows it. */
  token(name: ConfigVariable): string | undefined {
    const value = this.raw(name);
    if (value !== undefined && !/^[\x21-\x7e]+$/.test(value)) {
      this.problems.push(`${name} must be printable ASCII without spaces (the value is not shown)`);
      return undefined;
    }
    return value;
  }

  port(name: ConfigVariable, fallback: number): number {
    return this.int(name, fallback, 1, 65535);
  }

  bool(name: ConfigVariable, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) {
      return fallback;
    }
    if (['true', '1', 'yes'].includes(value)) {
      return true;
    }
    if (['false', '0', 'no'].includes(value)) {
      return false;
    }
    this.problems.push(`${name}=${JSON.stringify(value)} must be true or false`);
    return fallback;
  }

  oneOf<T extends string>(name: ConfigVariable, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) {
      return fallback;
    }
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)} must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  /** One URL, or when `several` one or more separated by commas (a cluster's seed nodes), each checked. */
  urlList(name: ConfigVariable, protocols: string[], several: boolean): string | undefined {
    const value = this.raw(name);
    const parts = value?.split(',').map((u) => u.trim());
    if (parts && parts.length > 1 && !several) {
      this.problems.push(
        `${name} names ${parts.length} servers: only a cluster has several (set REDIS_CLUSTER=true)`,
      );
      return undefined;
    }
    return parts?.every((u) => this.url(name, u, protocols) !== undefined) ? value : undefined;
  }

  optionalUrl(name: ConfigVariable, protocols: string[]): string | undefined {
    const value = this.raw(name);
    return value === undefined ? undefined : this.url(name, value, protocols);
  }

  private url(name: ConfigVariable, value: string, protocols: string[]): string | undefined {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.problems.push(`${name}=${JSON.stringify(redactUrl(value))} is not a URL`);
      return undefined;
    }
    if (!protocols.includes(url.protocol)) {
      this.problems.push(
        `${name}=${JSON.stringify(redactUrl(value))} must use ${protocols.map((p) => p + '//').join(' or ')}`,
      );
      return undefined;
    }
    return value;
  }

  directory(name: ConfigVariable, fallback: string, cwd: string): string {
    const value = this.raw(name);
    const dir = value === undefined ? fallback : path.resolve(cwd, value);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      this.problems.push(`${name}: folder ${dir} does not exist`);
    }
    return dir;
  }
}

/** Hides a password in a URL (e.g. `redis://:secret@host`) before it is shown. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) {
      url.password = '***';
    }
    return url.toString();
  } catch {
    return value.replace(/\/\/[^@/]*@/, '//***@');
  }
}

function optional<T, R>(value: T | undefined, f: (v: T) => R): R | undefined {
  return value === undefined ? undefined : f(value);
}

/** Adds a property that the code can read but that JSON, log lines and spreads leave out. */
function withHidden<T extends object, K extends string, V>(
  obj: T,
  key: K,
  value: V,
): T & Readonly<Record<K, V>> {
  return Object.defineProperty(obj, key, { value, enumerable: false }) as T & Readonly<Record<K, V>>;
}

function stripSlash(url: string): string {
  let end = url.length;
  while (end > 0 && url.charAt(end - 1) === '/') {
    end--;
  }
  return url.slice(0, end);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
    Object.freeze(value);
  }
  return value;
}
