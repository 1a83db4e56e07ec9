import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/load-config.js';

export type { Logger };

/**
 * Field names that may carry PHI or secrets. Log lines name records by id, never by content;
 * these paths are redacted as a second line of defence should a payload slip into a log call.
 */
const REDACTED_PATHS = [
  'name',
  'birthDate',
  'telecom',
  'address',
  'text',
  'note',
  'payload',
  'body',
  'resource',
  'password',
  'secret',
  'authorization',
  '*.name',
  '*.birthDate',
  '*.telecom',
  '*.address',
  '*.text',
  '*.note',
  '*.payload',
  '*.body',
  '*.resource',
  '*.password',
  '*.secret',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** Keys redacted at any depth (the paths above reach two levels; a payload can nest deeper). */
const REDACTED_KEYS = new Set(REDACTED_PATHS.filter((p) => !p.includes('.')));
/** Deeper than this a log object is cut: log lines name records, they do not carry them. */
const MAX_LOG_DEPTH = 6;

/** A copy of a log object with every PHI or secret key redacted, however deep. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Error) {
    return value;
  }
  if (depth >= MAX_LOG_DEPTH) {
    return '[cut]';
  }
  if (Array.isArray(value)) {
    return value.map((v) => redactDeep(v, depth + 1));
  }
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      REDACTED_KEYS.has(k) ? '[redacted]' : redactDeep(v, depth + 1),
    ]),
  );
}

/** Structured JSON logger (one JSON object per line on stdout, or on `destination`). */
export function createLogger(
  level: LogLevel,
  bindings: Record<string, unknown> = {},
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'care-hub', ...bindings },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: { log: (object) => redactDeep(object) as Record<string, unknown> },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
