import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FieldIssue } from '../types.js';

// ajv-formats is CommonJS: under NodeNext its default export arrives as `module.exports`.
const addFormats = addFormatsModule.default;

/** A non-blank string: `minLength` alone lets "   " through. */
export const NON_BLANK = '\\S';

/**
 * Compiles a JSON Schema for record validation: every error reported (not just the first), and
 * `verbose` so a schema's `description` can explain a failed `pattern` in the sender's terms.
 */
export function compileSchema<T>(schema: SchemaObject): ValidateFunction<T> {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
  addFormats(ajv, ['date', 'date-time']);
  return ajv.compile<T>(schema);
}

/**
 * Turns ajv errors into field issues, field first in the format's own terms.
 * @param field - names the field from a JSON pointer into the validated value (`/goals/0`)
 */
export function schemaIssues(
  errors: readonly ErrorObject[] | null | undefined,
  field: (pointer: string) => string,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    if (e.keyword === 'if') {
      continue; // the failing `then` keyword says what is wrong
    }
    const { pointer, message } = describe(e);
    const issue = { field: field(pointer), message };
    const key = `${issue.field}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

function describe(e: ErrorObject): { pointer: string; message: string } {
  const description = (e.parentSchema as { description?: string } | undefined)?.description;
  switch (e.keyword) {
    case 'required':
      return {
        pointer: `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`,
        message: description ? `is required ${description}` : 'is required',
      };
    case 'additionalProperties':
      return {
        pointer: `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`,
        message: 'is not a known field',
      };
    case 'pattern':
      return {
        pointer: e.instancePath,
        message:
          e.schema === NON_BLANK
            ? 'must not be blank'
            : `must be ${description ?? `like ${String(e.schema)}`}`,
      };
    case 'format':
      return { pointer: e.instancePath, message: formatMessage((e.params as { format: string }).format) };
    case 'enum':
      return {
        pointer: e.instancePath,
        message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`,
      };
    case 'minProperties':
      return {
        pointer: e.instancePath,
        message: description ? `needs ${description}` : (e.message ?? 'is invalid'),
      };
    case 'minItems':
      return {
        pointer: e.instancePath,
        message: `must hold at least ${(e.params as { limit: number }).limit} item(s)`,
      };
    default:
      return { pointer: e.instancePath, message: e.message ?? 'is invalid' };
  }
}

function formatMessage(format: string): string {
  switch (format) {
    case 'date':
      return 'must be a date (YYYY-MM-DD)';
    case 'date-time':
      return 'must be a date-time with a UTC offset (e.g. 2025-03-04T19:40:00-05:00)';
    default:
      return `must be a valid ${format}`;
  }
}
