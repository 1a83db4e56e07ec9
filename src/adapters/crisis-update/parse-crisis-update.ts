import type { SchemaObject } from 'ajv';
import { parseJsonBatch } from '../service-plan/json-batch.js';
import { compileSchema, NON_BLANK } from '../service-plan/json-schema-issues.js';
import type { FieldIssue, ParseResult } from '../types.js';
import { CRISIS_THRESHOLDS, type CrisisUpdate } from './types.js';

const text = { type: 'string', pattern: NON_BLANK } as const;
const texts = { type: 'array', minItems: 1, maxItems: 100, items: text } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const date = { type: 'string', format: 'date' } as const;
const id = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$',
  description: '1-64 letters, digits or . _ : / - (starting with a letter or digit)',
} as const;
const person = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role'],
  properties: { name: text, role: text, contact: text, staffId: id },
} as const;

/** The fields operating rule 8, README requires of every update, with the ids the hub needs. */
export const REQUIRED_FIELDS = [
  'updateId',
  'participant',
  'author',
  'eventDateTime',
  'presentingRisk',
  'immediateResponse',
  'currentPresentation',
  'temporarySupportChanges',
  'familyContact',
  'nextReviewAt',
  'nextUpdateSupervisor',
] as const;

/** The JSON Schema of one crisis update (published in schemas/). */
export const crisisUpdateSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: [...REQUIRED_FIELDS],
  // Rule 9: a temporary support increase comes with its details.
  if: {
    required: ['thresholdsCrossed'],
    properties: { thresholdsCrossed: { type: 'array', contains: { const: 'temporary-support-increase' } } },
  },
  then: {
    description: 'when thresholdsCrossed holds temporary-support-increase',
    required: ['temporarySupportIncrease'],
  },
  properties: {
    updateId: id,
    participant: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      description: 'medicaidId or memberId to identify the participant',
      properties: { medicaidId: id, memberId: id },
    },
    author: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: text, role: text },
    },
    eventDateTime: dateTime,
    presentingRisk: text,
    immediateResponse: text,
    currentPresentation: text,
    temporarySupportChanges: text,
    familyContact: text,
    nextReviewAt: dateTime,
    nextUpdateSupervisor: person,
    thresholdsCrossed: {
      type: 'array',
      maxItems: CRISIS_THRESHOLDS.length,
      uniqueItems: true,
      items: { type: 'string', enum: [...CRISIS_THRESHOLDS] },
    },
    temporarySupportIncrease: {
      type: 'object',
      additionalProperties: false,
      required: [
        'supportIncrease',
        'reason',
        'startDate',
        'expectedReviewDate',
        'outcomeIndicators',
        'staffingImpact',
        'caseManagerNotifiedAt',
        'stepDownEvidence',
        'exceedsAuthorizedScope',
      ],
      properties: {
        supportIncrease: text,
        reason: text,
        startDate: date,
        expectedReviewDate: date,
        outcomeIndicators: texts,
        staffingImpact: text,
        caseManagerNotifiedAt: dateTime,
        stepDownEvidence: texts,
        exceedsAuthorizedScope: { type: 'boolean' },
      },
    },
  },
};

const validate = compileSchema<CrisisUpdate>(crisisUpdateSchema);

/**
 * Reads crisis stabilization updates (`format: crisis-update`): one update, or
 * `{ "updates": [...] }`. An update missing any required field is refused with every missing
 * field named (`/updates/0/familyContact is required`).
 */
export function parseCrisisUpdate(body: Buffer | string): ParseResult<CrisisUpdate> {
  return parseJsonBatch(body, {
    batchKey: 'updates',
    noun: 'update',
    idKey: 'updateId',
    validate,
    crossCheck,
  });
}

function crossCheck(u: CrisisUpdate): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (Date.parse(u.nextReviewAt) <= Date.parse(u.eventDateTime)) {
    issues.push({ field: '/nextReviewAt', message: 'must be after eventDateTime' });
  }
  const increase = u.temporarySupportIncrease;
  if (increase && increase.expectedReviewDate < increase.startDate) {
    issues.push({ field: '/temporarySupportIncrease/expectedReviewDate', message: 'is before startDate' });
  }
  return issues;
}
