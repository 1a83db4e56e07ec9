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

/** Structured JSON logger (one JSON object per line on stdout). */
export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'care-hub', ...bindings },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
