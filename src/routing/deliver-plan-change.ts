import type { Bundle, BundleEntry, CarePlan, Communication, Patient, Task } from 'fhir/r4.js';
import { createHash } from 'node:crypto';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier, tokenOf } from '../fhir/hub-identifiers.js';
import { ackTaskIdentifier } from './acknowledge.js';
import { hubTask } from '../fhir/hub-task.js';
import type { PlanChangeDelivery } from '../outbound/types.js';
import { isPart2, REDISCLOSURE_NOTICE, withPart2Labels } from '../security/part2.js';
import type { CapturedVersion, PlanContentCache } from './plan-content.js';
import { patientIdOf } from './capture-plan-change.js';

/** One plan version to one partner. */
export interface DeliveryRequest {
  readonly partnerId: string;
  readonly carePlanId: string;
  readonly version: string;
  readonly notice: string;
  readonly patient: string;
  readonly altersDelivery: boolean;
  /** Set when a Consent released a withheld delivery: a job of its own, the same message id. */
  readonly release?: string;
}

/** The same partner, plan and version always give the same message id (a UUID), so redeliveries de-duplicate. */
export function messageIdFor(req: Pick<DeliveryRequest, 'partnerId' | 'carePlanId' | 'version'>): string {
  const h = createHash('sha256').update(`${req.partnerId}|${req.carePlanId}|${req.version}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The content of a delivery: as the plan-change job captured it, or, when the cache no longer
 * holds it (a delivery retried long after), read from the FHIR server.
 */
export async function contentOf(
  fhir: FhirGateway,
  cache: PlanContentCache,
  req: DeliveryRequest,
): Promise<CapturedVersion> {
  const cached = await cache.get(req.carePlanId, req.version);
  if (cached) {
    return cached;
  }
  const patientId = patientIdOf(req.patient);
  const [plan, notice, patient] = await Promise.all([
    fhir.vread<CarePlan>('CarePlan', req.carePlanId, req.version),
    fhir.read<Communication>('Communication', req.notice.split('/')[1]!),
    patientId ? fhir.readIfPresent<Patient>('Patient', patientId) : undefined,
  ]);
  return { plan, notice, identifiers: patient?.identifier ?? [] };
}

/**
 * What leaves the hub: the plan version (carrying the hub's plan identifier so the partner can
 * match versions of one plan), the notice, and the participant's identifiers only.
 */
export function buildDelivery(
  identifierBase: string,
  req: DeliveryRequest,
  { plan, notice, identifiers: participantIds }: CapturedVersion,
  part2Programs: readonly string[] = [],
): PlanChangeDelivery {
  const planIdentifier = hubIdentifier(identifierBase, 'careplan', req.carePlanId);
  const identifiers = plan.identifier ?? [];
  const hasHubId = identifiers.some((i) => i.system === planIdentifier.system);
  return {
    messageId: messageIdFor(req),
    partnerId: req.partnerId,
    // Identifiers a Part 2 program issued (its MRN) say the person is its patient: never disclosed.
    participant: {
      identifiers: participantIds.filter(
        (i) =>
          !part2Programs.some(
            (p) => p !== req.partnerId && (i.system ?? '').startsWith(`${identifierBase}/sid/${p}/`),
          ),
      ),
    },
    carePlan: { ...plan, identifier: hasHubId ? identifiers : [planIdentifier, ...identifiers] },
    // Part 2 data travels with its labels and the prohibition on redisclosure.
    // Each recipient sees itself as the recipient: the list would tell who else is on the team.
    notice: isPart2(plan)
      ? withPart2Labels({
          ...ownCopy(notice, req.partnerId),
          payload: [...(notice.payload ?? []), { contentString: REDISCLOSURE_NOTICE }],
        })
      : ownCopy(notice, req.partnerId),
  };
}

function ownCopy(notice: Communication, partnerId: string): Communication {
  return { ...notice, recipient: [{ reference: `Organization/${partnerId}` }] };
}

/**
 * Opens the acknowledgment Task of each recipient of a plan version, all in one transaction (one
 * round trip and one database transaction however many partners, where one call per partner made
 * the fan-out grow with it). Returns them in the order of `reqs`.
 */
export async function openAckTasks(
  fhir: FhirGateway,
  identifierBase: string,
  reqs: readonly DeliveryRequest[],
  deliveredAt: Date,
  dueAt: (partnerId: string) => Date,
  part2 = false,
): Promise<Task[]> {
  if (reqs.length === 0) {
    return [];
  }
  const entries = ackTaskEntries(identifierBase, reqs, deliveredAt, dueAt, part2);
  const response = await fhir.transaction({ resourceType: 'Bundle', type: 'transaction', entry: entries });
  return openedTasks(entries, response);
}

/**
 * The transaction entries that open the acknowledgment Tasks of `reqs`: each created only if its
 * identifier is new, so writing them again for the same version returns the Tasks already there.
 */
export function ackTaskEntries(
  identifierBase: string,
  reqs: readonly DeliveryRequest[],
  deliveredAt: Date,
  dueAt: (partnerId: string) => Date,
  part2: boolean,
): BundleEntry<Task>[] {
  return reqs.map((req) => {
    const identifier = ackTaskIdentifier(identifierBase, req.partnerId, req.carePlanId, req.version);
    // An acknowledgment of a Part 2 version points at its notice: labelled like it.
    const label = part2 ? withPart2Labels<Task> : (t: Task): Task => t;
    const task = label({
      ...hubTask({
        identifier,
        priority: 'routine',
        code: 'acknowledge-plan-change',
        display: 'Acknowledge plan change',
        description: `Acknowledge version ${req.version} of the shared plan`,
        focus: `CarePlan/${req.carePlanId}/_history/${req.version}`,
        basedOn: `CarePlan/${req.carePlanId}`,
        for: req.patient,
        owner: { reference: `Organization/${req.partnerId}` },
        authoredOn: deliveredAt.toISOString(),
        start: deliveredAt.toISOString(),
        due: dueAt(req.partnerId).toISOString(),
      }),
      input: [{ type: { text: 'plan-change-notice' }, valueReference: { reference: req.notice } }],
    });
    return {
      resource: task,
      request: { method: 'POST' as const, url: 'Task', ifNoneExist: `identifier=${tokenOf(identifier)}` },
    };
  });
}

/**
 * The Tasks `entries` opened, with their ids from the transaction's `response`; `from` is where
 * they start in the transaction.
 */
export function openedTasks(entries: readonly BundleEntry<Task>[], response: Bundle, from = 0): Task[] {
  return entries.map((entry, i) => {
    const location = response.entry?.[from + i]?.response?.location ?? '';
    const id = /Task\/([^/]+)/.exec(location)?.[1];
    if (!id) {
      throw new Error(
        `The FHIR server did not say where acknowledgment Task ${i + 1} is (location "${location}")`,
      );
    }
    return { ...entry.resource!, id };
  });
}
