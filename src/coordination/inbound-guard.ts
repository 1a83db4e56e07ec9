import type { CarePlan, Identifier, Task } from 'fhir/r4.js';
import type { PartnerConfig, PartnerRegistry } from '../config/partners.js';
import { HubError } from '../errors/hub-error.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { anyOfIdentifiers } from '../fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import type { MappedRecord } from '../mappers/types.js';
import type { CoordinationConfig } from './coordination-config.js';
import { missingRights } from './decision-rights.js';
import { changeControlIssues } from './plan-change-control.js';
import { referralRegressions } from './referrals.js';
import { accessRefusal } from '../security/audit.js';

export interface GuardDeps {
  readonly fhir: FhirGateway;
  readonly partners: PartnerRegistry;
  readonly config: Pick<CoordinationConfig, 'rights'>;
  readonly now: () => Date;
}

/** Where a record came from, to name it in the refusal and its AuditEvent. */
export interface GuardedSource {
  readonly partnerId: string;
  readonly format: string;
  readonly sourceId: string;
  readonly location: string;
}

/** The participant a record is about, as the checks are told of it while the write resolves it. */
export interface GuardedParticipant {
  /** The record's identifiers of the participant, when they are what finds it (not an adoption or a merge). */
  readonly identifiers?: readonly Identifier[];
  /** The participant's `Patient/<id>`, once resolved. */
  readonly patient: Promise<string>;
}

/**
 * The operating model's checks on an inbound record, before anything is written:
 * - decision rights: every action the record takes must be one the sender's agency holds; an action
 *   outside its rights is refused (403) naming the right, and recorded as an AuditEvent;
 * - plan change control: while a plan-change review is open for the participant, a CarePlan version
 *   must state its change control (422 naming each missing element);
 * - referrals: a referrer's record does not change a referral its owner has moved on (409).
 * Returns the checks that read the server, started with the write's first reads (one batch): they
 * look up what they need by the participant's identifiers, not waiting for the participant.
 */
export async function guardInbound(
  deps: GuardDeps,
  partner: PartnerConfig,
  mapped: MappedRecord,
  source: GuardedSource,
): Promise<(participant: GuardedParticipant) => Promise<void>> {
  const missing = missingRights(deps.config.rights, partner, mapped.writes);
  if (missing.length > 0) {
    const refused = {
      partnerId: partner.id,
      method: 'INGEST',
      path: `${source.format} record ${source.sourceId} (${source.location})`,
      reason: missing.map((m) => m.message).join('; '),
    };
    await deps.fhir.create(accessRefusal(refused, deps.now()));
    throw new HubError(
      'COORDINATION.RIGHT_MISSING',
      `${source.location}: ${missing.map((m) => m.message).join('; ')}`,
      {
        status: 403,
        issues: missing.map((m) => ({
          severity: 'error',
          code: 'forbidden',
          diagnostics: `${source.location} ${m.field}: ${m.message}`,
          expression: [m.field],
        })),
      },
    );
  }
  const plans = mapped.writes.flatMap((w) => (w.resource.resourceType === 'CarePlan' ? [w.resource] : []));
  return async (participant) => {
    const partnerIds = new Set(deps.partners.all().map((p) => p.id));
    const issues = plans.flatMap((plan: CarePlan) => changeControlIssues(plan, partnerIds));
    // No plan, or plans that state their change control: no review to look up.
    const [, reviews] = await Promise.all([
      referralRegressions(deps, partner.id, mapped),
      issues.length === 0 ? [] : openReviews(deps.fhir, participant),
    ]);
    if (reviews.length > 0) {
      throw new HubError(
        'COORDINATION.CHANGE_CONTROL_MISSING',
        `${source.location}: a plan-change review is open (${reviews.map((t) => `Task/${t.id}`).join(', ')}); ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
        {
          status: 422,
          issues: issues.map((i) => ({
            severity: 'error',
            code: 'required',
            diagnostics: `${source.location} ${i.field} ${i.message}`,
            expression: [i.field],
          })),
        },
      );
    }
  };
}

const REVIEW = {
  code: `${CODE_SYSTEM.taskCode}|plan-change-review`,
  status: 'requested,received,accepted,in-progress',
};

/**
 * The participant's open plan-change reviews: searched by the participant's identifiers at once
 * (a chained search), kept to the participant once resolved; a server that refuses the chained
 * search, or a participant not found by the record's identifiers, is searched by its reference.
 */
async function openReviews(fhir: FhirGateway, { identifiers, patient }: GuardedParticipant): Promise<Task[]> {
  const usable = identifiers?.filter((i) => i.system && i.value) ?? [];
  const held =
    usable.length > 0
      ? fhir
          .search<Task>('Task', { ...REVIEW, 'patient:Patient.identifier': anyOfIdentifiers(usable) })
          .catch(() => undefined)
      : undefined;
  const [found, reference] = await Promise.all([held, patient]);
  return found
    ? found.filter((t) => t.for?.reference === reference)
    : fhir.search<Task>('Task', { ...REVIEW, patient: reference });
}
