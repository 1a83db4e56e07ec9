import type { FieldIssue, ParseResult } from '../types.js';
import { parseJsonBatch } from './json-batch.js';
import { compileSchema } from './json-schema-issues.js';
import { servicePlanSchema } from './schema.js';
import type { ServicePlan } from './types.js';

const validate = compileSchema<ServicePlan>(servicePlanSchema);

/**
 * Reads HCBS person-centred service plans (`format: service-plan`): one plan, or
 * `{ "plans": [...] }`. Each plan is validated on its own against the JSON Schema and a few
 * cross-field rules; problems name the JSON pointer from the document root
 * (`/plans/1/goals/0/goal`).
 */
export function parseServicePlan(body: Buffer | string): ParseResult<ServicePlan> {
  return parseJsonBatch(body, { batchKey: 'plans', noun: 'plan', idKey: 'planId', validate, crossCheck });
}

/** Rules across fields: date order, unique ids (they become identifiers), goal links that resolve. */
function crossCheck(plan: ServicePlan): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (plan.planEndDate && plan.planEndDate < plan.planEffectiveDate) {
    issues.push({ field: '/planEndDate', message: 'is before planEffectiveDate' });
  }
  if (plan.planReviewDate < plan.planEffectiveDate) {
    issues.push({ field: '/planReviewDate', message: 'is before planEffectiveDate' });
  }
  issues.push(
    ...duplicates(
      plan.goals.map((g) => g.goalId),
      '/goals',
      'goalId',
    ),
  );
  issues.push(
    ...duplicates(
      plan.services.map((s) => s.serviceId),
      '/services',
      'serviceId',
    ),
  );
  issues.push(
    ...duplicates(
      (plan.risks ?? []).map((r) => r.riskId),
      '/risks',
      'riskId',
    ),
  );
  const goalIds = new Set(plan.goals.map((g) => g.goalId));
  plan.services.forEach((s, i) => {
    if (s.serviceEndDate && s.serviceEndDate < s.serviceStartDate) {
      issues.push({ field: `/services/${i}/serviceEndDate`, message: 'is before serviceStartDate' });
    }
    (s.goalIds ?? []).forEach((g, j) => {
      if (!goalIds.has(g)) {
        issues.push({
          field: `/services/${i}/goalIds/${j}`,
          message: `names goal "${g}", which is not in /goals`,
        });
      }
    });
  });
  return issues;
}

function duplicates(ids: readonly string[], array: string, key: string): FieldIssue[] {
  return ids.flatMap((id, i) =>
    ids.indexOf(id) < i
      ? [{ field: `${array}/${i}/${key}`, message: `"${id}" is already used by ${array}/${ids.indexOf(id)}` }]
      : [],
  );
}
