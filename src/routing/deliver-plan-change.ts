import type { CarePlan, Communication, Patient, Task } from 'fhir/r4.js';
import { createHash } from 'node:crypto';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier, tokenOf } from '../fhir/hub-identifiers.js';
import { ackTaskIdentifier } from './acknowledge.js';
import { hubTask } from '../fhir/hub-task.js';
import type { PlanChangeDelivery } from '../outbound/types.js';
import { isPart2, REDISCLOSURE_NOTICE, withPart2Labels } from '../security/part2.js';

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
 * What leaves the hub: the plan version (carrying the hub's plan identifier so the partner can
 * match versions of one plan), the notice, and the participant's identifiers only.
 */
export async function buildDelivery(
  fhir: FhirGateway,
  identifierBase: string,
  req: DeliveryRequest,
  part2Programs: readonly string[] = [],
): Promise<PlanChangeDelivery> {
  const [plan, notice, patient] = await Promise.all([
    fhir.vread<CarePlan>('CarePlan', req.carePlanId, req.version),
    fhir.read<Communication>('Communication', req.notice.split('/')[1]!),
    fhir.read<Patient>('Patient', req.patient.split('/')[1]!),
  ]);
  const planIdentifier = hubIdentifier(identifierBase, 'careplan', req.carePlanId);
  const identifiers = plan.identifier ?? [];
  const hasHubId = identifiers.some((i) => i.system === planIdentifier.system);
  return {
    messageId: messageIdFor(req),
    partnerId: req.partnerId,
    // Identifiers a Part 2 program issued (its MRN) say the person is its patient: never disclosed.
    participant: {
      identifiers: (patient.identifier ?? []).filter(
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
 * the fan-out grow with it). Each is created only if its identifier is new, so running this again
 * for the same version returns the Tasks already there. Returns them in the order of `reqs`.
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
  const tasks = reqs.map((req): Task => {
    const identifier = ackTaskIdentifier(identifierBase, req.partnerId, req.carePlanId, req.version);
    // An acknowledgment of a Part 2 version points at its notice: labelled like it.
    const label = part2 ? withPart2Labels<Task> : (t: Task): Task => t;
    return label({
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
  });
  const response = await fhir.transaction({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: tasks.map((task) => ({
      resource: task,
      request: {
        method: 'POST' as const,
        url: 'Task',
        ifNoneExist: `identifier=${tokenOf(task.identifier![0]!)}`,
      },
    })),
  });
  return tasks.map((task, i) => {
    const location = response.entry?.[i]?.response?.location ?? '';
    const id = /Task\/([^/]+)/.exec(location)?.[1];
    if (!id) {
      throw new Error(
        `The FHIR server did not say where acknowledgment Task ${i + 1} is (location "${location}")`,
      );
    }
    return { ...task, id };
  });
}
