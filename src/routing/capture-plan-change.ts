import { createHash } from 'node:crypto';
import type {
  CarePlan,
  CareTeam,
  Communication,
  Identifier,
  Patient,
  Provenance,
  Reference,
} from 'fhir/r4.js';
import type { PartnerRegistry } from '../config/partners.js';
import { describeChanges, diffCarePlans, type PlanDiff } from '../coordination/plan-diff.js';
import { ResourceNotFoundError } from '../fhir/fhir-errors.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { relativeReference } from '../fhir/references.js';
import { sharedCareTeam } from '../fhir/shared-care-team.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { isOnCareTeam } from '../security/care-team-access.js';
import { isPart2, withPart2Labels } from '../security/part2.js';
import type { PlanContentCache } from './plan-content.js';

/** A captured plan change: what it is, who gets it, and the records to write about it. */
export interface CapturedPlanChange {
  readonly carePlanId: string;
  readonly version: string;
  /** The version itself, as read to capture it (what follows need not read it again). */
  readonly plan: CarePlan;
  readonly patient: string;
  /** The participant's identifiers: what a delivery discloses of them. */
  readonly identifiers: readonly Identifier[];
  readonly diff: PlanDiff;
  /** The partner that made the change, when the hub knows it. */
  readonly changedBy?: string;
  /** Partners entitled to the change, the changing partner excepted. */
  readonly recipients: readonly string[];
  /** The version carries 42 CFR Part 2 content: what is derived from it is labelled and gated too. */
  readonly part2: boolean;
  /** What changed, who, why: written beside the deliveries. */
  readonly provenance: Provenance;
  /** The plan-change notice (Communication), under an id derived from plan and version. */
  readonly notice: Communication;
}

export interface CaptureDeps {
  readonly fhir: FhirGateway;
  readonly partners: PartnerRegistry;
  readonly identifierBase: string;
  readonly content: PlanContentCache;
}

/** The version to capture, and what its job knows already. */
export interface VersionToCapture {
  readonly carePlanId: string;
  readonly version: string;
  /** The Provenance the ingest writer wrote for this change, if it came through the hub. */
  readonly sourceProvenance?: string;
  /** The participant, when the writer knows it: read at once with the plan. */
  readonly patient?: string;
  /** The partners the version was sent to, when an earlier capture decided them. */
  readonly recipients?: readonly string[];
}

/**
 * Captures one new CarePlan version, writing nothing: diffs it against the previous version
 * (from the content cache, read from the server on a miss), works out which partners are entitled
 * to it (those on the participant's care team, the shared CareTeam or the plan's own care teams,
 * whose partner file says they receive plan changes), and builds the Provenance (what changed, who,
 * why) and the plan-change notice. Their ids derive from plan and version, so writing them again
 * changes nothing. A version the hub wrote is captured from what the write kept (no FHIR read when
 * the previous version is cached too); otherwise the reads run at once: one round trip when the
 * writer named the participant, two when the server's rest-hook or a catch-up found the version.
 */
export async function capturePlanChange(
  deps: CaptureDeps,
  at: VersionToCapture,
): Promise<CapturedPlanChange> {
  const { fhir, identifierBase } = deps;
  const { carePlanId, version } = at;
  const [{ plan, source, participant }, previous] = await Promise.all([
    theVersion(deps, at),
    Number(version) > 1 ? previousVersion(deps, carePlanId, String(Number(version) - 1)) : undefined,
  ]);
  const patient = plan.subject.reference ?? '';
  const [person, shared] =
    participant?.subject === patient ? participant.known : await participantOf(deps, patient);
  const diff = diffCarePlans(previous, plan);
  const changedByRef = source?.agent?.[0]?.who;
  const changedBy = /^Organization\/(.+)$/.exec(changedByRef?.reference ?? '')?.[1];
  const versioned = `CarePlan/${carePlanId}/_history/${version}`;
  const summary = describeChanges(diff);
  const part2 = isPart2(plan);
  // Part 2 content in what is derived from the version (the activity text, the notice) is labelled like it.
  const label = <T extends Provenance | Communication>(r: T): T => (part2 ? withPart2Labels(r) : r);

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
  const recipients = at.recipients ?? (await entitledPartners(fhir, deps.partners, plan, changedBy, shared));
  const notice: Communication = {
    resourceType: 'Communication',
    id: noticeIdOf(carePlanId, version),
    identifier: [hubIdentifier(identifierBase, 'plan-change-notice', `${carePlanId}.${version}`)],
    status: 'completed',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'plan-change-notice' }] }],
    subject: { reference: patient },
    about: [{ reference: versioned }],
    sent: plan.meta?.lastUpdated,
    ...(changedByRef ? { sender: changedByRef } : {}),
    recipient: recipients.map((id): Reference => ({ reference: `Organization/${id}` })),
    payload: [{ contentString: `Shared plan version ${version}: ${summary}` }],
  };
  return {
    carePlanId,
    version,
    plan,
    patient,
    identifiers: person?.identifier ?? [],
    diff,
    ...(changedBy ? { changedBy } : {}),
    recipients,
    part2,
    provenance: label(provenance),
    notice: label(notice),
  };
}

/** The id of a `Patient/<id>` reference; undefined for any other subject. */
export function patientIdOf(reference: string): string | undefined {
  const named = relativeReference(reference);
  return named?.type === 'Patient' ? named.id : undefined;
}

/**
 * The notice's id, derived from plan and version so deliveries can name it before it is written.
 * A FHIR id is at most 64 characters: a longer one is a digest.
 */
export function noticeIdOf(carePlanId: string, version: string): string {
  const id = `notice-${carePlanId}-v${version}`;
  return id.length <= 64
    ? id
    : `notice-${createHash('sha256').update(`${carePlanId}|${version}`).digest('hex').slice(0, 40)}`;
}

/** The version, its source Provenance and its participant (identifiers, shared team). */
interface TheVersion {
  readonly plan: CarePlan;
  readonly source?: Provenance;
  /** The participant as known for `subject`; the capture reads it again for another subject. */
  readonly participant?: { readonly subject: string; readonly known: Participant };
}

/** A participant's identifiers (as a Patient) and shared care team, either absent when unknown. */
type Participant = readonly [Patient?, CareTeam?];

/**
 * The version to capture and what surrounds it: as the hub's own write kept it (nothing read),
 * else read from the server at once (one batch).
 */
async function theVersion(deps: CaptureDeps, at: VersionToCapture): Promise<TheVersion> {
  const { fhir } = deps;
  const { carePlanId, version, sourceProvenance } = at;
  // Kept by the hub's write of the version, whichever discovery's job this is.
  const written = await deps.content.written(carePlanId, version);
  if (written) {
    const person: Patient = { resourceType: 'Patient', identifier: [...written.identifiers] };
    return {
      plan: written.plan,
      source: written.source,
      participant: {
        subject: written.plan.subject.reference ?? '',
        known: [person, written.careTeam ?? undefined],
      },
    };
  }
  const [plan, source, known] = await Promise.all([
    fhir.vread<CarePlan>('CarePlan', carePlanId, version),
    sourceProvenance ? readProvenance(fhir, sourceProvenance) : undefined,
    at.patient ? participantOf(deps, at.patient) : undefined,
  ]);
  return { plan, source, ...(at.patient && known ? { participant: { subject: at.patient, known } } : {}) };
}

/** A participant's Patient and shared team; a plan's subject may also be a Group: nothing then. */
async function participantOf(deps: CaptureDeps, subject: string): Promise<Participant> {
  const id = patientIdOf(subject);
  return id
    ? Promise.all([
        deps.fhir.readIfPresent<Patient>('Patient', id),
        sharedCareTeam(deps.fhir, deps.identifierBase, id),
      ])
    : [];
}

async function previousVersion(
  deps: CaptureDeps,
  carePlanId: string,
  version: string,
): Promise<CarePlan | undefined> {
  return (
    (await deps.content.get(carePlanId, version))?.plan ?? vreadOrUndefined(deps.fhir, carePlanId, version)
  );
}

async function entitledPartners(
  fhir: FhirGateway,
  partners: PartnerRegistry,
  plan: CarePlan,
  changedBy: string | undefined,
  shared: CareTeam | undefined,
): Promise<string[]> {
  const others = (plan.careTeam ?? [])
    .map((ref) => /^CareTeam\/([^/]+)$/.exec(ref.reference ?? '')?.[1])
    .filter((id): id is string => id !== undefined && id !== shared?.id);
  const teams = [
    ...(shared ? [shared] : []),
    ...(await Promise.all([...new Set(others)].map((id) => fhir.read<CareTeam>('CareTeam', id)))),
  ];
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
