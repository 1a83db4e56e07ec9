/**
 * A person-centred HCBS service plan as a partner sends it. Names follow the eLTSS data elements
 * (Plan Effective Date, Support Planner, Goal, Step or Action, Identified Risk, Risk Management
 * Plan, Service Name, Self-Directed Service Indicator, Service Funding Source, ...) in camelCase.
 * Dates are `YYYY-MM-DD`.
 * @see https://hl7.org/fhir/us/eltss/eLTSS_to_FHIR_R4_element.html
 */
export interface ServicePlan {
  /** The partner's stable id of the plan; the same across versions. */
  readonly planId: string;
  readonly planVersion?: string;
  /** eLTSS Plan Effective Date (start). */
  readonly planEffectiveDate: string;
  readonly planEndDate?: string;
  /** When the plan must next be reviewed with the person. */
  readonly planReviewDate: string;
  readonly person: PlanPerson;
  /** eLTSS Support Planner: the case manager or plan coordinator who developed the plan. */
  readonly supportPlanner: { readonly name: string; readonly phoneNumber?: string };
  /** eLTSS Person Signature Date; absent while the plan awaits the person's signature. */
  readonly personSignatureDate?: string;
  readonly goals: readonly PlanGoal[];
  readonly strengths?: readonly string[];
  readonly preferences?: readonly string[];
  readonly risks?: readonly PlanRisk[];
  readonly services: readonly PlanService[];
}

/** eLTSS Beneficiary Demographics. */
export interface PlanPerson {
  /** The partner's own id of the person (eLTSS Person Identifier). */
  readonly personIdentifier: string;
  readonly medicaidId?: string;
  readonly personName: { readonly family: string; readonly given: readonly string[] };
  readonly personDateOfBirth?: string;
}

/** eLTSS Goal, with its Steps or Actions. */
export interface PlanGoal {
  readonly goalId: string;
  /** The goal in the person's words. */
  readonly goal: string;
  /** What achieving it looks like, e.g. "walks to the mailbox unaided three days a week". */
  readonly target?: string;
  readonly targetDate?: string;
  readonly stepsOrActions?: readonly string[];
}

/** eLTSS Identified Risk and Risk Management Plan. */
export interface PlanRisk {
  readonly riskId: string;
  readonly identifiedRisk: string;
  readonly riskManagementPlan: string;
  /** The partner's local risk code, translated through `codeTranslations.riskFlag`. */
  readonly riskCode?: string;
}

/** eLTSS Service Information and Service Provider Information. */
export interface PlanService {
  readonly serviceId: string;
  readonly serviceName: string;
  /** HCPCS code, modifiers appended with dashes (`T1019-U3`), as eLTSS advises. */
  readonly serviceCode?: string;
  readonly serviceStartDate: string;
  readonly serviceEndDate?: string;
  /** eLTSS Service Unit Quantity, Unit of Service Type and Service Unit Quantity Interval. */
  readonly serviceUnitQuantity: number;
  readonly unitOfServiceType: string;
  readonly serviceUnitQuantityInterval: string;
  readonly serviceFundingSource?: string;
  /** Who provides it: the worker, or for a non-paid support the person's name. */
  readonly serviceProviderName: string;
  /** The agency the provider works for, if any. */
  readonly serviceProviderAgency?: string;
  /** The agency's hub partner id, when it is a hub partner (tells the hub who owns the activity). */
  readonly serviceProviderAgencyId?: string;
  readonly serviceProviderPhoneNumber?: string;
  readonly selfDirectedServiceIndicator: boolean;
  readonly serviceComment?: string;
  /** Goals of this plan the service supports. */
  readonly goalIds?: readonly string[];
}
