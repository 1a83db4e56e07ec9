import type { ValidateFunction } from 'ajv';
import type { FieldIssue, ParsedRecord, ParseResult, RejectedRecord } from '../types.js';
import { schemaIssues } from './json-schema-issues.js';

/** Records one JSON batch may hold. */
export const MAX_BATCH_RECORDS = 5000;

/** How to read one kind of JSON record that comes alone or as `{ "<batchKey>": [...] }`. */
export interface JsonBatchFormat<T> {
  /** Property holding the array in a batch: `plans`, `updates`. */
  readonly batchKey: string;
  /** What one record is called in locations: `plan`, `update`. */
  readonly noun: string;
  readonly validate: ValidateFunction<T>;
  /** The record's own id property, used for `sourceId` (read even when the record is invalid). */
  readonly idKey: string;
  /** Checks across fields that a JSON Schema cannot express; pointers relative to the record. */
  readonly crossCheck?: (record: T) => FieldIssue[];
}

/**
 * Reads one JSON record, or a batch `{ "<batchKey>": [...] }`, validating each record on its own:
 * a bad record is rejected with JSON pointers from the document root (`/plans/1/goals/0/goal`)
 * while the others go on.
 */
export function parseJsonBatch<T>(body: Buffer | string, format: JsonBatchFormat<T>): ParseResult<T> {
  const text = (typeof body === 'string' ? body : body.toString('utf8')).replace(/^\uFEFF/, '');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return documentRejected(`not valid JSON: ${(err as Error).message}`, text);
  }
  if (!isObject(doc)) {
    return documentRejected(
      `must be a JSON object: one ${format.noun}, or { "${format.batchKey}": [...] }`,
      text,
    );
  }
  if (!(format.batchKey in doc)) {
    return collect([readRecord(doc, '', format.noun, format)]);
  }
  const extra = Object.keys(doc).filter((k) => k !== format.batchKey);
  const items = doc[format.batchKey];
  if (Array.isArray(items) && items.length > MAX_BATCH_RECORDS) {
    // Each record is validated on the request thread: a bound keeps one request from stalling it.
    return documentRejected(
      `holds ${items.length} ${format.noun}s; send at most ${MAX_BATCH_RECORDS} per request`,
      text,
      `/${format.batchKey}`,
    );
  }
  if (!Array.isArray(items) || items.length === 0 || extra.length > 0) {
    const issues: FieldIssue[] = [];
    if (!Array.isArray(items) || items.length === 0) {
      issues.push({ field: `/${format.batchKey}`, message: `must be a non-empty array of ${format.noun}s` });
    }
    for (const key of extra) {
      issues.push({
        field: `/${key}`,
        message: `is not a known field (a batch holds only "${format.batchKey}")`,
      });
    }
    return { accepted: [], rejected: [{ location: 'document', issues, raw: text }] };
  }
  return collect(
    items.map((item, i) => {
      const id = idOf(item, format.idKey);
      const location = `${format.noun} ${i + 1}${id ? ` (${id})` : ''}`;
      return readRecord(item, `/${format.batchKey}/${i}`, location, format);
    }),
  );
}

type Outcome<T> = { ok: ParsedRecord<T> } | { rejected: RejectedRecord };

function readRecord<T>(
  value: unknown,
  base: string,
  location: string,
  format: JsonBatchFormat<T>,
): Outcome<T> {
  const sourceId = idOf(value, format.idKey);
  const where = base === '' && sourceId ? `${location} ${sourceId}` : location;
  const oversized = oversizedArray(value);
  if (oversized !== undefined) {
    const issues = [{ field: `${base}${oversized}`, message: `holds more than ${MAX_ARRAY_ITEMS} items` }];
    return { rejected: { location: where, ...(sourceId ? { sourceId } : {}), issues } };
  }
  const valid = format.validate(value);
  const issues = valid
    ? (format.crossCheck?.(value) ?? []).map((i) => ({ ...i, field: `${base}${i.field}` }))
    : schemaIssues(format.validate.errors, (pointer) => `${base}${pointer}` || '/');
  if (issues.length > 0) {
    return {
      rejected: { location: where, ...(sourceId ? { sourceId } : {}), issues, raw: JSON.stringify(value) },
    };
  }
  return { ok: { location: where, sourceId: sourceId!, record: value as T } };
}

/** No array in a record is longer than this (the schemas' own bounds are lower). */
const MAX_ARRAY_ITEMS = 1000;

/**
 * The pointer of the first array longer than {@link MAX_ARRAY_ITEMS}, found in one pass before the
 * schema runs: with every error collected, a validator walks all of a million-item array.
 */
function oversizedArray(value: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[value, '']];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, pointer] = next;
    if (Array.isArray(node)) {
      if (node.length > MAX_ARRAY_ITEMS) {
        return pointer || '/';
      }
      node.forEach((item, i) => stack.push([item, `${pointer}/${i}`]));
    } else if (isObject(node)) {
      for (const [key, item] of Object.entries(node)) {
        stack.push([item, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`]);
      }
    }
  }
  return undefined;
}

function collect<T>(outcomes: ReadonlyArray<Outcome<T>>): ParseResult<T> {
  const accepted: Array<ParsedRecord<T>> = [];
  const rejected: RejectedRecord[] = [];
  for (const o of outcomes) {
    if ('ok' in o) {
      accepted.push(o.ok);
    } else {
      rejected.push(o.rejected);
    }
  }
  return { accepted, rejected };
}

function documentRejected<T>(message: string, raw: string, field = '/'): ParseResult<T> {
  return { accepted: [], rejected: [{ location: 'document', issues: [{ field, message }], raw }] };
}

/** The record's id when it has a usable one (read before validation, for locations). */
function idOf(value: unknown, key: string): string | undefined {
  const id = isObject(value) ? value[key] : undefined;
  return typeof id === 'string' && id.trim() !== '' ? id : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
