import type { SchemaObject, ValidateFunction } from 'ajv';
import { compileSchema } from '../adapters/service-plan/json-schema-issues.js';
import { describeAjvError } from '../config/partners.js';
import { InvalidInputError } from '../errors/hub-error.js';

const compiled = new WeakMap<SchemaObject, ValidateFunction>();

/**
 * Checks a request body against a JSON schema; a mismatch is a 400 OperationOutcome with one issue
 * per problem, each naming its field.
 */
export function validBody<T>(schema: SchemaObject, body: unknown): T {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = compileSchema<T>(schema);
    compiled.set(schema, validate);
  }
  if (validate(body)) {
    return body as T;
  }
  const problems = (validate.errors ?? []).map((e) => describeAjvError(e));
  throw new InvalidInputError(
    `Invalid request body: ${problems.join('; ')}`,
    problems.map((p) => ({
      severity: 'error',
      code: 'invalid',
      diagnostics: p,
      expression: [p.split(' ')[0]!],
    })),
  );
}
