import type { CarePlan, Communication, Flag, Identifier, Provenance, Resource, Task } from 'fhir/r4.js';
import type { AppliedRecord, SentFacts } from '../coordination/apply-rules.js';
import type { PlanChangeJobData } from './plan-changes.queue.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { findOpenAckTasks, isAckTask } from './acknowledge.js';
import { ackTaskFor, recordAcknowledgment, recordTaskStep } from './record-acknowledgment.js';
import type { DeliveryStatusStore } from './delivery-status.js';
import type { PlanContentCache, WrittenVersion } from './plan-content.js';

export interface OnAppliedDeps {
  readonly fhir: FhirGateway;
  readonly status: DeliveryStatusStore;
  readonly identifierBase: string;
  readonly now: () => Date;
  /** Where what the write knows of a plan version is kept for its capture. */
  readonly content?: PlanContentCache;
  enqueuePlanChange(data: PlanChangeJobData): Promise<void>;
  /** Hands the written record to the coordination rules; `key` makes a redelivery a no-op. */
  enqueueCoordination(key: string, record: AppliedRecord): Promise<void>;
}

/**
 * What follows a partner record landing on the FHIR server: every CarePlan version it wrote becomes
 * a plan change to route, an acknowledgment it carried (a completed acknowledgment Task, or an
 * acknowledgment Communication about a plan version) completes the partner's Task, and the record
 * goes to the coordination rules (its events, and the obligations it answers). `sent` holds the
 * resources as the record sent them, by `Type/id`, so what it wrote need not be read back.
 */
export async function onRecordApplied(
  deps: OnAppliedDeps,
  outcome: Omit<AppliedRecord, 'partnerId'> & WrittenContext,
  partnerId: string,
  sent: ReadonlyMap<string, Resource> = new Map(),
): Promise<void> {
  for (const [reference, version] of Object.entries(outcome.versions)) {
    const [type, id] = reference.split('/');
    if (type === 'CarePlan' && id && version) {
      const written = writtenVersion(outcome, reference, version);
      if (written) {
        await deps.content?.putWritten(id, version, written);
      }
      await deps.enqueuePlanChange({
        carePlanId: id,
        version,
        sourceProvenance: outcome.provenance,
        detectedBy: 'hub-write',
        patient: outcome.patient,
      });
    }
    // Only an acknowledgment answers a Task: a Task or Communication the record sent as something
    // else (a housing task, a crisis notice, a referral message) is not read back. What the record
    // sent is what is stored: the writer replaces a resource whole.
    const sentAs = sent.get(reference);
    if (type === 'Task' && id && (!sentAs || isAckTask(sentAs as Task))) {
      await recordTaskStep(deps, id, partnerId);
    }
    if (type === 'Communication' && id && (!sentAs || isAcknowledgment(sentAs as Communication))) {
      const tasks = await ackTasksOf(
        deps,
        await deps.fhir.read<Communication>('Communication', id),
        partnerId,
      );
      for (const task of tasks) {
        await recordAcknowledgment(deps, task, partnerId);
      }
    }
  }
  await deps.enqueueCoordination(outcome.provenance, {
    partnerId: partnerId,
    patient: outcome.patient,
    written: outcome.written,
    versions: outcome.versions,
    events: outcome.events,
    ...(outcome.careTeam !== undefined ? { careTeam: outcome.careTeam } : {}),
    ...(outcome.answered ? { answered: outcome.answered } : {}),
    asSent: factsOf(sent),
  });
}

/** What the rules look at of the Communications, Flags and Tasks the record sent (apply-rules.ts). */
function factsOf(sent: ReadonlyMap<string, Resource>): Record<string, SentFacts> {
  const facts: Record<string, SentFacts> = {};
  for (const [reference, resource] of sent) {
    if (resource.resourceType === 'Communication') {
      facts[reference] = {
        resourceType: 'Communication',
        category: (resource as Communication).category ?? [],
      };
    } else if (resource.resourceType === 'Flag') {
      facts[reference] = { resourceType: 'Flag', code: (resource as Flag).code };
    } else if (resource.resourceType === 'Task') {
      const { status, businessStatus, restriction, code } = resource as Task;
      facts[reference] = { resourceType: 'Task', status, businessStatus, restriction, code };
    }
  }
  return facts;
}

/** What the write tells routing beyond the record itself (ingest/write-mapped-record.ts). */
interface WrittenContext {
  readonly provenance: string;
  readonly stored?: Readonly<Record<string, Resource>>;
  readonly participantIdentifiers?: readonly Identifier[];
}

/**
 * What the write knows of a plan version, when it knows all the capture needs: the version as
 * stored, the Provenance, and the participant's identifiers and team (the plan being theirs).
 */
function writtenVersion(
  outcome: Omit<AppliedRecord, 'partnerId'> & WrittenContext,
  reference: string,
  version: string,
): WrittenVersion | undefined {
  const plan = outcome.stored?.[reference] as CarePlan | undefined;
  const source = outcome.stored?.[outcome.provenance] as Provenance | undefined;
  const { participantIdentifiers: identifiers, careTeam } = outcome;
  return plan?.meta?.versionId === version &&
    plan.subject.reference === outcome.patient &&
    source &&
    identifiers &&
    careTeam !== undefined
    ? { plan, source, identifiers, careTeam }
    : undefined;
}

/**
 * The acknowledgment Tasks an acknowledgment Communication answers: the Task it is `basedOn`, the
 * Task of the plan version it is `about`, or, when it names the plan without a version, every
 * open acknowledgment of that plan owned by the partner.
 */
function isAcknowledgment(c: Communication): boolean {
  return (
    c.category?.some((cat) =>
      cat.coding?.some((x) => x.system === CODE_SYSTEM.communicationCategory && x.code === 'acknowledgment'),
    ) ?? false
  );
}

async function ackTasksOf(deps: OnAppliedDeps, c: Communication, partnerId: string): Promise<Task[]> {
  if (!isAcknowledgment(c)) {
    return [];
  }
  const taskId = c.basedOn?.map((b) => /^Task\/([^/]+)$/.exec(b.reference ?? '')?.[1]).find(Boolean);
  if (taskId) {
    // Only the sender's own Task: naming another agency's is not an acknowledgment of anything.
    const task = await deps.fhir.readIfPresent<Task>('Task', taskId);
    return task?.owner?.reference === `Organization/${partnerId}` ? [task] : [];
  }
  const plan = c.about
    ?.map((a) => /^CarePlan\/([^/]+)(?:\/_history\/([^/]+))?$/.exec(a.reference ?? ''))
    .find(Boolean);
  if (!plan) {
    return [];
  }
  if (plan[2]) {
    const task = await ackTaskFor(deps, partnerId, plan[1]!, plan[2]);
    return task ? [task] : [];
  }
  return findOpenAckTasks(deps.fhir, partnerId, plan[1]!);
}
