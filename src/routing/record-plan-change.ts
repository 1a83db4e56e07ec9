import type { CarePlan, CareTeam, Communication, Provenance, Reference } from 'fhir/r4.js';
import type { PartnerRegistry } from '../config/partners.js';
import { describeChanges, diffCarePlans, type PlanDiff } from '../coordination/plan-diff.js';
import { ResourceNotFoundError } from '../fhir/fhir-errors.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { sharedCareTeam } from '../fhir/shared-care-team.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { isOnCareTeam } from '../security/care-team-access.js';
import { isPart2, withPart2Labels } from '../security/part2.js';

/** A recorded plan change: the notice that describes it and the partners it goes to. */
export interface RecordedPlanChange {
  readonly carePlan: string;
  /** The version itself, as read to record it (what follows need not read it again). */
  readonly plan: CarePlan;
  readonly version: string;
  readonly patient: string;
  readonly notice: string;
  readonly diff: PlanDiff;
  /** The partner that made the change, when the hub knows it. */
  readonly changedBy?: string;
  /** Partners entitled to the change, the changing partner excepted. */
  readonly recipients: readonly string[];
  /** The version carries 42 CFR Part 2 content: what is derived from it is labelled and gated too. */
  readonly part2: boolean;
}

/**
 * Records one new CarePlan version: diffs it against the previous version, writes a Provenance for
 * the version (what changed, who, why) and a plan-change notice (Communication), and works out
 * which partners are entitled to it: those on the participant's care team (the shared CareTeam or
 * the plan's own care teams) whose partner file says they receive plan changes. Idempotent: the
 * Provenance and notice ids derive from plan and version.
 * @param sourceProvenance - the Provenance the ingest writer wrote for this change, if it came through the hub
 */
export async function recordPlanChange(
  fhir: FhirGateway,
  partners: PartnerRegistry,
  identifierBase: string,
  carePlanId: string,
  version: string,
  sourceProvenance?: string,
): Promise<RecordedPlanChange> {
  // Independent reads at once: the job's time is its round trips one after another.
  const [plan, previous, source] = await Promise.all([
    fhir.vread<CarePlan>('CarePlan', carePlanId, version),
    Number(version) > 1 ? vreadOrUndefined(fhir, carePlanId, String(Number(version) - 1)) : undefined,
    sourceProvenance ? readProvenance(fhir, sourceProvenance) : undefined,
  ]);
  const diff = diffCarePlans(previous, plan);
  const patient = plan.subject.reference ?? '';
  const changedByRef = source?.agent?.[0]?.who;
  const changedBy = /^Organization\/(.+)$/.exec(changedByRef?.reference ?? '')?.[1];
  const versioned = `CarePlan/${carePlanId}/_history/${version}`;
  const summary = describeChanges(diff);

  const provenance: Provenance = {
    resourceType: 'Provenance',
    id: `plan-${carePlanId}-v${version}`.slice(0, 64),
    target: [{ reference: versioned }],
    recorded: plan.meta?.lastUpdated ?? new Date().toISOString(),
    activity: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation',
          code: previous ? 'UPDATE' : 'CREATE',
        },
      ],
      text: summary,
    },
    reason: source?.reason ?? [
      { text: source ? 'Applied from a partner record' : 'Changed directly on the FHIR server' },
    ],
    agent: [
      {
        type: {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' },
          ],
        },
        who: changedByRef ?? {
          display: plan.meta?.source ?? 'Unknown (changed directly on the FHIR server)',
        },
      },
    ],
    ...(previous
      ? {
          entity: [
            {
              role: 'revision',
              what: { reference: `CarePlan/${carePlanId}/_history/${previous.meta?.versionId}` },
            },
          ],
        }
      : {}),
  };
  const part2 = isPart2(plan);
  // The Provenance's activity text summarises the change: Part 2 content like the plan itself.
  const [, recipients] = await Promise.all([
    fhir.update(part2 ? withPart2Labels(provenance) : provenance),
    entitledPartners(fhir, partners, identifierBase, plan, changedBy),
  ]);
  const noticeId = hubIdentifier(identifierBase, 'plan-change-notice', `${carePlanId}.${version}`);
  const notice: Communication = {
    resourceType: 'Communication',
    identifier: [noticeId],
    status: 'completed',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'plan-change-notice' }] }],
    subject: { reference: patient },
    about: [{ reference: versioned }],
    sent: plan.meta?.lastUpdated,
    ...(changedByRef ? { sender: changedByRef } : {}),
    recipient: recipients.map((id): Reference => ({ reference: `Organization/${id}` })),
    payload: [{ contentString: `Shared plan version ${version}: ${summary}` }],
  };
  const stored = await fhir.upsertByIdentifier(part2 ? withPart2Labels(notice) : notice, noticeId);
  return {
    carePlan: `CarePlan/${carePlanId}`,
    plan,
    version,
    patient,
    notice: `Communication/${stored.resource.id}`,
    diff,
    ...(changedBy ? { changedBy } : {}),
    recipients,
    part2,
  };
}

async function entitledPartners(
  fhir: FhirGateway,
  partners: PartnerRegistry,
  identifierBase: string,
  plan: CarePlan,
  changedBy: string | undefined,
): Promise<string[]> {
  const teams: CareTeam[] = [];
  const shared = await sharedCareTeam(
    fhir,
    identifierBase,
    (plan.subject.reference ?? '').split('/')[1] ?? '',
  );
  if (shared) {
    teams.push(shared);
  }
  for (const ref of plan.careTeam ?? []) {
    const id = /^CareTeam\/([^/]+)$/.exec(ref.reference ?? '')?.[1];
    if (id && id !== shared?.id) {
      teams.push(await fhir.read<CareTeam>('CareTeam', id));
    }
  }
  // Members as of the version: an inactive team or an ended membership receives nothing more.
  const at = new Date(plan.meta?.lastUpdated ?? Date.now());
  const onTeam = new Set(
    partners
      .all()
      .map((p) => p.id)
      .filter((id) => teams.some((t) => isOnCareTeam(t, id, at))),
  );
  const author = /^Organization\/(.+)$/.exec(plan.author?.reference ?? '')?.[1];
  if (author) {
    onTeam.add(author);
  }
  return partners
    .all()
    .filter((p) => p.id !== changedBy && onTeam.has(p.id) && p.outbound?.receives.includes('plan-change'))
    .map((p) => p.id)
    .sort();
}

async function vreadOrUndefined(
  fhir: FhirGateway,
  id: string,
  version: string,
): Promise<CarePlan | undefined> {
  try {
    return await fhir.vread<CarePlan>('CarePlan', id, version);
  } catch (err) {
    if (err instanceof ResourceNotFoundError) {
      return undefined;
    }
    throw err;
  }
}

async function readProvenance(fhir: FhirGateway, reference: string): Promise<Provenance | undefined> {
  const id = reference.split('/')[1];
  return id ? fhir.read<Provenance>('Provenance', id) : undefined;
}
