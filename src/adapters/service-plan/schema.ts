import type { SchemaObject } from 'ajv';
import { NON_BLANK } from './json-schema-issues.js';

const text = { type: 'string', pattern: NON_BLANK } as const;
const date = { type: 'string', format: 'date' } as const;
const id = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$',
  description: '1-64 letters, digits or . _ : / - (starting with a letter or digit)',
} as const;
/** Bounds every array: validating a million-item array would hold the event loop for seconds. */
const MAX_ITEMS = 500;
const texts = { type: 'array', maxItems: MAX_ITEMS, items: text } as const;

/** JSON Schema of one {@link ServicePlan} (`additionalProperties: false` throughout). */
export const servicePlanSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: [
    'planId',
    'planEffectiveDate',
    'planReviewDate',
    'person',
    'supportPlanner',
    'goals',
    'services',
  ],
  properties: {
    planId: id,
    planVersion: text,
    planEffectiveDate: date,
    planEndDate: date,
    planReviewDate: date,
    person: {
      type: 'object',
      additionalProperties: false,
      required: ['personIdentifier', 'personName'],
      properties: {
        personIdentifier: id,
        medicaidId: { ...id, description: 'a Medicaid ID: 1-64 letters, digits or . _ : / -' },
        personName: {
          type: 'object',
          additionalProperties: false,
          required: ['family', 'given'],
          properties: { family: text, given: { ...texts, minItems: 1 } },
        },
        personDateOfBirth: date,
      },
    },
    supportPlanner: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: text, phoneNumber: text },
    },
    personSignatureDate: date,
    goals: {
      type: 'array',
      maxItems: MAX_ITEMS,
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['goalId', 'goal'],
        properties: { goalId: id, goal: text, target: text, targetDate: date, stepsOrActions: texts },
      },
    },
    strengths: texts,
    preferences: texts,
    risks: {
      type: 'array',
      maxItems: MAX_ITEMS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['riskId', 'identifiedRisk', 'riskManagementPlan'],
        properties: { riskId: id, identifiedRisk: text, riskManagementPlan: text, riskCode: text },
      },
    },
    services: {
      type: 'array',
      maxItems: MAX_ITEMS,
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: [
          'serviceId',
          'serviceName',
          'serviceStartDate',
          'serviceUnitQuantity',
          'unitOfServiceType',
          'serviceUnitQuantityInterval',
          'serviceProviderName',
          'selfDirectedServiceIndicator',
        ],
        properties: {
          serviceId: id,
          serviceName: text,
          serviceCode: {
            type: 'string',
            pattern: '^[A-Za-z0-9]{1,10}(-[A-Za-z0-9]{1,4}){0,4}$',
            description: 'a HCPCS code with up to four modifiers appended by dashes (e.g. T1019-U3)',
          },
          serviceStartDate: date,
          serviceEndDate: date,
          serviceUnitQuantity: { type: 'number', exclusiveMinimum: 0 },
          unitOfServiceType: text,
          serviceUnitQuantityInterval: text,
          serviceFundingSource: text,
          serviceProviderName: text,
          serviceProviderAgency: text,
          serviceProviderAgencyId: {
            type: 'string',
            pattern: '^[a-z0-9][a-z0-9-]{1,62}$',
            description: 'a hub partner id (lower-case letters, digits and dashes)',
          },
          serviceProviderPhoneNumber: text,
          selfDirectedServiceIndicator: { type: 'boolean' },
          serviceComment: text,
          goalIds: { type: 'array', maxItems: MAX_ITEMS, items: id },
        },
      },
    },
  },
};
