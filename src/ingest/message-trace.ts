import type { FieldIssue } from '../adapters/types.js';
import type { DeliveryStatusStore, PartnerDeliveryStatus } from '../routing/delivery-status.js';
import type { DeliveryAttempts } from '../routing/deliveries.queue.js';
import type { IngestService } from './ingest-service.js';
import type { LoggedMessage, LoggedRecord, MessageLog } from './message-log.js';
import type { RejectedStore } from './rejected-store.js';

/** Where a record of a message stands now. */
export type RecordState =
  | 'queued'
  | 'applied'
  | 'rejected'
  /** Its job ran out of tries: a dead letter to replay. */
  | 'dead letter'
  | 'skipped'
  /** Rejected, and since replayed or discarded (or its retention ended). */
  | 'rejection gone'
  /** Accepted long ago: its job is no longer kept. */
  | 'no longer kept';

/** A plan version a record wrote, and where each partner entitled to it stands with it. */
export interface PlanLeg {
  readonly carePlan: string;
  readonly version: string;
  readonly deliveries: ReadonlyArray<PartnerDeliveryStatus & { readonly tried?: DeliveryAttempts }>;
}

/** One record across its legs: the door, the FHIR server, the plan change, each partner. */
export interface RecordTrace {
  readonly record: LoggedRecord;
  readonly state: RecordState;
  readonly issues?: readonly FieldIssue[];
  /** The rejection to edit and replay, while it is kept. */
  readonly rejectionId?: string;
  readonly patient?: string;
  /** `Type/id` of each resource it wrote. */
  readonly written?: readonly string[];
  readonly plans: readonly PlanLeg[];
}

export interface MessageTrace {
  readonly message: LoggedMessage;
  readonly records: readonly RecordTrace[];
  /** The message this one replays, and the replays of this one. */
  readonly replayOf?: LoggedMessage;
  readonly replays: readonly LoggedMessage[];
}

export interface TraceDeps {
  readonly ingest: Pick<IngestService, 'recordState'>;
  readonly rejected: Pick<RejectedStore, 'get'>;
  readonly status: Pick<DeliveryStatusStore, 'list'>;
  readonly messages: Pick<MessageLog, 'get' | 'find'>;
  /** A delivery's attempts and the partner's answers, while its job is kept. */
  readonly attempts?: (
    partnerId: string,
    carePlanId: string,
    version: string,
  ) => Promise<DeliveryAttempts | undefined>;
}

/**
 * A message followed across every leg (README, "The engineer's console"): each record's state now
 * (queued, applied, refused, a dead letter), what it wrote, the plan versions it made and each
 * partner's delivery and acknowledgment steps for them, and the replays linked to it. A partner
 * missing from a plan version's deliveries was not entitled to it (not on the care team, no
 * outbound channel); one that was is listed with how its delivery ended (withheld for consent,
 * superseded by a newer version, failed).
 */
export async function traceMessage(deps: TraceDeps, message: LoggedMessage): Promise<MessageTrace> {
  const records = await Promise.all(message.records.map((r) => traceRecord(deps, r)));
  const replayOf = message.replayOf ? await deps.messages.get(message.replayOf) : undefined;
  const replays = (await deps.messages.find({ key: `replay-of:${message.id}`, limit: 20 })).items;
  return { message, records, ...(replayOf ? { replayOf } : {}), replays };
}

async function traceRecord(deps: TraceDeps, record: LoggedRecord): Promise<RecordTrace> {
  if (record.status === 'skipped') {
    return { record, state: 'skipped', plans: [] };
  }
  if (record.status === 'rejected') {
    const rejection = record.rejectionId ? await deps.rejected.get(record.rejectionId) : undefined;
    return rejection
      ? { record, state: 'rejected', issues: rejection.issues, rejectionId: rejection.id, plans: [] }
      : { record, state: 'rejection gone', plans: [] };
  }
  const now = record.jobId ? await deps.ingest.recordState(record.jobId) : undefined;
  if (!now) {
    return { record, state: 'no longer kept', plans: [] };
  }
  const result = now.result;
  if (result.status === 'rejected') {
    return {
      record,
      state: 'rejected',
      issues: result.issues,
      ...(result.rejectionId ? { rejectionId: result.rejectionId } : {}),
      plans: [],
    };
  }
  if (result.status !== 'applied') {
    return { record, state: now.failed ? 'dead letter' : 'queued', plans: [] };
  }
  const { patient, written, versions } = result.outcome;
  const plans = await Promise.all(
    Object.entries(versions)
      .filter(([ref]) => ref.startsWith('CarePlan/'))
      .map(async ([carePlan, version]) => {
        const id = carePlan.slice('CarePlan/'.length);
        const deliveries = await deps.status.list(id, version);
        return {
          carePlan,
          version,
          deliveries: await Promise.all(
            deliveries.map(async (d) => {
              const tried = await deps.attempts?.(d.partnerId, id, version);
              return tried ? { ...d, tried } : d;
            }),
          ),
        };
      }),
  );
  return { record, state: 'applied', patient, written: [...new Set(Object.values(written))], plans };
}
