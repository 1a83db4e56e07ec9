import { Ajv, type AnySchema } from 'ajv';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { describeAjvError } from './partners.js';
import { ConfigError } from '../errors/hub-error.js';

const ajv = new Ajv({ allErrors: true });

/**
 * Reads one coordination YAML file and validates it against `schema`, naming every problem as
 * `<file>: <pointer> <message>`; `check` adds the cross-field problems a schema cannot express.
 */
export async function loadYamlConfig<T>(
  file: string,
  schema: AnySchema,
  check: (data: T, name: string) => string[] = () => [],
): Promise<T> {
  const name = path.basename(file);
  const text = await readFile(file, 'utf8');
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw new ConfigError([`${name}: ${(err as Error).message}`]);
  }
  const validate = ajv.compile(schema);
  if (!validate(data)) {
    throw new ConfigError((validate.errors ?? []).map((e) => `${name}: ${describeAjvError(e)}`));
  }
  // The schema is what makes `data` a T.
  const config = data as T;
  const problems = check(config, name);
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return config;
}
