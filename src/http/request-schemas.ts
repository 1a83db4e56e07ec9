import type { SchemaObject } from 'ajv';
import { REFERRAL_STATUSES } from '../coordination/referrals.js';
import { ACK_STEPS } from '../routing/acknowledge.js';

// The JSON bodies the hub's own API takes: each route validates with the schema here, and the
// OpenAPI document (openapi.ts) publishes the same object, so the two cannot drift apart.

const text = { type: 'string', pattern: '\\S', maxLength: 2000 } as const;
const id = { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' } as const;
const day = { type: 'string', format: 'date' } as const;
const person = {
  type: 'object',
  additionalProperties: false,
  required: ['display', 'organization'],
  properties: {
    display: text,
    organization: id,
    identifier: {
      type: 'object',
      additionalProperties: false,
      required: ['system', 'value'],
      properties: { system: text, value: text },
    },
  },
} as const;

export const assignmentSchema: SchemaObject = {
  ...person,
  properties: { ...person.properties, start: day, end: day, coverage: { type: 'boolean' } },
};
export const handoverSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['to', 'on'],
  properties: { to: person, on: day, note: text },
};
export const referralMoveSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'string', enum: [...REFERRAL_STATUSES] }, reason: text },
};
export const reportSchema: SchemaObject = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['outcome', 'by'],
      properties: { outcome: { const: 'completed' }, by: id, note: text },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['outcome', 'by', 'reason', 'handling'],
      properties: { outcome: { const: 'participant-refused' }, by: id, reason: text, handling: text },
    },
  ],
};
/** A huddle as the API and the roster page take it. */
export const huddleSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['date', 'attendees', 'decisions'],
  properties: {
    date: day,
    attendees: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['display', 'organization'],
        properties: { display: text, organization: id },
      },
    },
    decisions: {
      type: 'array',
      maxItems: 500,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['participant', 'decision', 'owner', 'due'],
        properties: {
          participant: { type: 'string', pattern: '^Patient/[A-Za-z0-9.-]{1,64}$' },
          decision: text,
          owner: id,
          due: { type: 'string', format: 'date-time' },
        },
      },
    },
    closedActions: {
      type: 'array',
      maxItems: 500,
      items: { type: 'string', pattern: '^(Task/)?[A-Za-z0-9.-]{1,64}$' },
    },
  },
};

export const endMembershipSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: text },
};

export const consentSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['recipient'],
  properties: { recipient: id, until: { type: 'string', format: 'date-time' } },
};

/** A staff member's sign-in. */
export const loginSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: { username: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 256 } },
};

/** A partner's acknowledgment of a plan version it received. */
export const acknowledgmentSchema: SchemaObject = {
  type: 'object',
  required: ['carePlan', 'version'],
  properties: {
    carePlan: { type: 'string', pattern: '^CarePlan/[A-Za-z0-9.-]{1,64}$' },
    version: {
      anyOf: [
        { type: 'string', pattern: '^[0-9]{1,9}$' },
        { type: 'integer', minimum: 1 },
      ],
    },
    status: { type: 'string', enum: [...ACK_STEPS] },
  },
};
