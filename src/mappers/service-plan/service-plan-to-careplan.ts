import type {
  Annotation,
  CarePlan,
  CarePlanActivity,
  Flag,
  Goal,
  Identifier,
  Patient,
  Reference,
} from 'fhir/r4.js';
import type { PlanGoal, PlanRisk, PlanService, ServicePlan } from '../../adapters/service-plan/types.js';
import { CODE_SYSTEM, PROFILE } from '../../fhir/profiles.js';
import {
  partnerRef,
  resourceWrite,
  sharedIdentifierSystem,
  sourceIdentifier,
  translateCode,
} from '../support.js';
import type { MappedRecord, MappingContext, ResourceWrite } from '../types.js';
import { PARTICIPANT_REF } from '../types.js';

/** HCPCS, the code system eLTSS names for Service Name codes. */
export const HCPCS_SYSTEM = 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets';

/**
 * Maps a person-centred service plan to the shared `CarePlan` (hub CarePlan profile), one `Goal`
 * per goal and one hub risk `Flag` per risk whose local code the partner translates
 * (`codeTranslations.riskFlag`). Every risk, translated or not, is also kept as a plan note with its
 * risk management plan, so none is lost. Services become activities owned by the providing
 * agency. The partner joins the CareTeam as provider coordinator, the support planner as care
 * manager.
 * @see https://hl7.org/fhir/us/eltss/eLTSS_to_FHIR_R4_element.html
 */
export function servicePlanToMapped(plan: ServicePlan, ctx: MappingContext): MappedRecord {
  const goals = new Map(plan.goals.map((g) => [g.goalId, goalWrite(plan, g, ctx)]));
  const flags = (plan.risks ?? []).flatMap((r) => {
    const w = flagWrite(plan, r, ctx);
    return w ? [w] : [];
  });

  const carePlan: CarePlan = {
    resourceType: 'CarePlan',
    meta: { profile: [PROFILE.carePlan] },
    status: 'active',
    intent: 'plan',
    title: 'Person-centred service plan',
    description: `Service plan ${plan.planId}${plan.planVersion ? ` version ${plan.planVersion}` : ''}`,
    subject: { reference: PARTICIPANT_REF },
    period: { start: plan.planEffectiveDate, ...(plan.planEndDate ? { end: plan.planEndDate } : {}) },
    author: partnerRef(ctx),
    ...(flags.length > 0 ? { supportingInfo: flags.map((f) => ({ reference: f.fullUrl })) } : {}),
    goal: [...goals.values()].map((g) => ({ reference: g.fullUrl })),
    activity: plan.services.map((s) => activity(s, goals, ctx)),
    note: planNotes(plan, ctx),
  };
  const planWrite = resourceWrite(carePlan, sourceIdentifier(ctx, 'service-plan', plan.planId));
  const sourceVersion = /^\d{1,9}$/.test(plan.planVersion ?? '') ? Number(plan.planVersion) : undefined;

  return {
    participant: { identifiers: participantIdentifiers(plan, ctx), demographics: demographics(plan) },
    // A plan version numbered by the sender is an order key: version 2 resent after version 3 is stale.
    writes: [planWrite, ...goals.values(), ...flags].map((w) =>
      sourceVersion === undefined ? w : { ...w, sourceVersion },
    ),
    careTeamMembers: [
      { role: 'provider-coordinator', member: partnerRef(ctx) },
      { role: 'care-manager', member: { display: plan.supportPlanner.name } },
    ],
    events: [{ type: 'service-plan', at: plan.planEffectiveDate, carePlan: planWrite.fullUrl }],
    orderedAsOne: true,
  };
}

function goalWrite(plan: ServicePlan, g: PlanGoal, ctx: MappingContext): ResourceWrite {
  const notes = [
    ...(g.target ? [`Target: ${g.target}`] : []),
    ...(g.stepsOrActions ?? []).map((s) => `Step or action: ${s}`),
  ];
  const goal: Goal = {
    resourceType: 'Goal',
    lifecycleStatus: 'active',
    description: { text: g.goal },
    subject: { reference: PARTICIPANT_REF },
    // Person-centred: the goal is the person's own.
    expressedBy: { reference: PARTICIPANT_REF },
    ...(g.targetDate ? { target: [{ dueDate: g.targetDate }] } : {}),
    ...(notes.length > 0 ? { note: notes.map((text) => ({ text })) } : {}),
  };
  return resourceWrite(goal, sourceIdentifier(ctx, 'service-plan-goal', `${plan.planId}/${g.goalId}`));
}

/** A hub risk Flag, or undefined when the risk has no code the partner translates. */
function flagWrite(plan: ServicePlan, r: PlanRisk, ctx: MappingContext): ResourceWrite | undefined {
  const code = r.riskCode ? translateCode(ctx, 'riskFlag', r.riskCode) : undefined;
  if (!code) {
    return undefined;
  }
  const flag: Flag = {
    resourceType: 'Flag',
    status: 'active',
    code: { coding: [{ system: CODE_SYSTEM.riskFlag, code }], text: r.identifiedRisk },
    subject: { reference: PARTICIPANT_REF },
    period: { start: plan.planEffectiveDate },
    author: partnerRef(ctx),
  };
  return resourceWrite(flag, sourceIdentifier(ctx, 'service-plan-risk', `${plan.planId}/${r.riskId}`));
}

function activity(
  s: PlanService,
  goals: ReadonlyMap<string, ResourceWrite>,
  ctx: MappingContext,
): CarePlanActivity {
  const goalRefs = (s.goalIds ?? []).map((id) => ({ reference: goals.get(id)!.fullUrl }));
  return {
    detail: {
      kind: 'ServiceRequest',
      code: {
        ...(s.serviceCode ? { coding: [{ system: HCPCS_SYSTEM, code: s.serviceCode }] } : {}),
        text: s.serviceName,
      },
      ...(goalRefs.length > 0 ? { goal: goalRefs } : {}),
      status: 'scheduled',
      scheduledString: schedule(s),
      performer: [performer(s, ctx)],
      description: serviceDescription(s),
    },
  };
}

/** The owning agency: this partner by reference, any other provider by name only. */
function performer(s: PlanService, ctx: MappingContext): Reference {
  if (s.serviceProviderAgencyId === ctx.partner.id) {
    return partnerRef(ctx);
  }
  return { display: s.serviceProviderAgency ?? s.serviceProviderName };
}

/** "20 hour per week, from 2025-03-01 to 2026-02-28": eLTSS quantity, unit type and interval. */
function schedule(s: PlanService): string {
  const dates = s.serviceEndDate
    ? `from ${s.serviceStartDate} to ${s.serviceEndDate}`
    : `from ${s.serviceStartDate}`;
  return `${s.serviceUnitQuantity} ${s.unitOfServiceType} ${s.serviceUnitQuantityInterval}, ${dates}`;
}

function serviceDescription(s: PlanService): string {
  const provider = s.serviceProviderAgency
    ? `${s.serviceProviderName} (${s.serviceProviderAgency})`
    : s.serviceProviderName;
  return [
    `Service ${s.serviceId}: ${s.serviceName}${s.serviceCode ? ` (${s.serviceCode})` : ''}`,
    `Provider: ${provider}${s.serviceProviderPhoneNumber ? `, tel ${s.serviceProviderPhoneNumber}` : ''}`,
    ...(s.serviceFundingSource ? [`Funding source: ${s.serviceFundingSource}`] : []),
    s.selfDirectedServiceIndicator ? 'Self-directed by the person' : 'Agency-directed',
    ...(s.serviceComment ? [s.serviceComment] : []),
  ].join('. ');
}

function planNotes(plan: ServicePlan, ctx: MappingContext): Annotation[] {
  const planner = plan.supportPlanner;
  const notes = [
    `Support planner: ${planner.name}${planner.phoneNumber ? `, tel ${planner.phoneNumber}` : ''}`,
    `Plan review date: ${plan.planReviewDate}`,
    plan.personSignatureDate
      ? `Signed by the person on ${plan.personSignatureDate}`
      : 'Not yet signed by the person',
    ...(plan.preferences ?? []).map((p) => `Preference: ${p}`),
    ...(plan.strengths ?? []).map((s) => `Strength: ${s}`),
    ...(plan.risks ?? []).map((r) => riskNote(r, ctx)),
  ];
  return notes.map((text) => ({ text }));
}

function riskNote(r: PlanRisk, ctx: MappingContext): string {
  const untranslated = r.riskCode && !translateCode(ctx, 'riskFlag', r.riskCode);
  return [
    `Risk ${r.riskId}: ${r.identifiedRisk}`,
    `Risk management plan: ${r.riskManagementPlan}`,
    ...(untranslated ? [`Local risk code ${r.riskCode} has no hub risk flag`] : []),
  ].join('. ');
}

function participantIdentifiers(plan: ServicePlan, ctx: MappingContext): Identifier[] {
  return [
    sourceIdentifier(ctx, 'member', plan.person.personIdentifier),
    ...(plan.person.medicaidId
      ? [{ system: sharedIdentifierSystem(ctx, 'medicaid'), value: plan.person.medicaidId }]
      : []),
  ];
}

function demographics(plan: ServicePlan): Patient {
  const { personName, personDateOfBirth } = plan.person;
  return {
    resourceType: 'Patient',
    name: [{ family: personName.family, given: [...personName.given] }],
    ...(personDateOfBirth ? { birthDate: personDateOfBirth } : {}),
  };
}
