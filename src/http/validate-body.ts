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

/**
 * Refuses a request whose fields are missing or wrong, naming each (a 400 OperationOutcome): the
 * staff pages' forms and the admin API's small JSON bodies.
 */
export function refuseFields(
  fields: readonly string[],
  message = `${fields.join(' and ')} must be given`,
  problem: { readonly code: 'required' | 'value'; readonly says: string } = {
    code: 'required',
    says: 'must be given',
  },
): void {
  if (fields.length > 0) {
    throw new InvalidInputError(
      message,
      fields.map((field) => ({
        severity: 'error' as const,
        code: problem.code,
        diagnostics: `${field} ${problem.says}`,
        expression: [field],
      })),
    );
  }
}
