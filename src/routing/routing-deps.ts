import type { CarePlan } from 'fhir/r4.js';
import type { RedisClient } from '../queues/connection.js';
import type { PartnerRegistry } from '../config/partners.js';
import type { CoordinationConfig } from '../coordination/coordination-config.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { Logger } from '../logging/logger.js';
import type { CircuitBreaker } from '../outbound/circuit-breaker.js';
import type { DeliveryRequest } from './deliver-plan-change.js';
import type { VersionToCapture } from './capture-plan-change.js';
import type { DeliveryStatusStore } from './delivery-status.js';
import type { EscalationRequest } from '../coordination/escalate.js';
import type { WithheldDeliveries } from './withheld-deliveries.js';
import type { PlanContentCache } from './plan-content.js';
import type { DisclosureBacklog, DisclosureRecord } from '../security/disclosures.queue.js';

/** A captured plan version whose record is still to be written, and the partners it went to. */
export interface PlanRecordRequest extends VersionToCapture {
  readonly recipients: readonly string[];
}

/** What the routing workers share. Enqueue functions are passed in so queue modules do not import each other. */
export interface RoutingDeps {
  readonly fhir: FhirGateway;
  readonly partners: PartnerRegistry;
  readonly identifierBase: string;
  /** Escalation tiers, and the calendars their deadlines and after-hours routing follow. */
  readonly coordination: Pick<CoordinationConfig, 'tiers' | 'calendars'>;
  readonly logger: Logger;
  /** For delivery ordering state and locks. */
  readonly redis: RedisClient;
  readonly prefix: string;
  /** Each (plan version, partner) pair's step times. */
  readonly status: DeliveryStatusStore;
  readonly circuit: CircuitBreaker;
  /** Plan versions as captured: what deliveries are built from. */
  readonly content: PlanContentCache;
  /** Disclosure AuditEvents waiting to be written (security/disclosures.queue.ts). */
  readonly disclosures: DisclosureBacklog;
  /** Part 2 deliveries waiting for the participant's consent. */
  readonly withheld: WithheldDeliveries;
  /** The clock; tests pass their own. */
  readonly now: () => Date;
  enqueueDelivery(req: DeliveryRequest): Promise<void>;
  /** Queues the writing of a captured plan version's record (routing/plan-changes.queue.ts). */
  enqueuePlanRecord(data: PlanRecordRequest): Promise<void>;
  scheduleAckDeadline(taskId: string, dueAt: Date): Promise<void>;
  enqueueEscalation(req: EscalationRequest): Promise<void>;
  /** Queues disclosure AuditEvents to be written (security/disclosures.queue.ts); `jobId` de-duplicates. */
  queueDisclosures(jobId: string, disclosed: readonly DisclosureRecord[]): Promise<void>;
  /** Tells partners' subscriptions of a new plan version (subscriptions/publish.ts); absent: none. */
  publishPlanChange?(plan: CarePlan, version: string, patient: string): Promise<void>;
}
