import type { Task } from 'fhir/r4.js';
import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';
import type { Throughput } from '../metrics/throughput.js';
import { ackStepOf } from './acknowledge.js';

/**
 * The closed loop of one plan version at one partner. The hub sends it, the partner's endpoint
 * takes it (delivered), and the partner's acknowledgment Task moves through the FHIR Task states
 * received -> accepted -> completed. `failed` (dead-lettered) and `superseded` (a newer version
 * reached the partner first) end the loop early; `withheld` (42 CFR Part 2 data without the
 * participant's consent for this partner) holds it until a Consent releases it.
 */
export const DELIVERY_STEPS = ['sent', 'delivered', 'received', 'accepted', 'completed'] as const;
export type DeliveryStep = (typeof DELIVERY_STEPS)[number];
export type DeliveryOutcome = 'failed' | 'superseded' | 'withheld';

/** Where one partner stands with one plan version. */
export interface PartnerDeliveryStatus {
  readonly partnerId: string;
  /** The furthest step reached, or how the loop ended. */
  readonly state: DeliveryStep | DeliveryOutcome;
  /** When each step was first reached. */
  readonly at: Partial<Record<DeliveryStep | DeliveryOutcome, string>>;
  /** When the current state was reached: how long the partner has been there. */
  readonly since: string;
}

const ORDER: ReadonlyArray<DeliveryStep | DeliveryOutcome> = [
  'withheld',
  ...DELIVERY_STEPS,
  'superseded',
  'failed',
];

/**
 * How long a plan version's status is kept after its last step (the FHIR server keeps the lasting
 * record: acknowledgment Tasks, disclosure AuditEvents). Bounded, so Redis does not grow for ever.
 */
export const DELIVERY_STATUS_RETENTION_DAYS = 180;

/**
 * Step times in Redis, one hash per plan version: field `<partnerId>|<step>` = ISO time, written
 * with HSETNX so the first time a step is reached is kept whatever order the reports arrive in
 * (a Task update seen by the rest-hook can race the delivery worker).
 */
export class DeliveryStatusStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    /** Counts deliveries and acknowledgments per hour (the throughput page), each step once. */
    private readonly throughput?: Pick<Throughput, 'count'>,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'delivery-status');
  }

  private key(carePlanId: string, version: string): string {
    return `${this.prefix}:delivery-status:${carePlanId}:${version}`;
  }

  async mark(
    carePlanId: string,
    version: string,
    partnerId: string,
    step: DeliveryStep | DeliveryOutcome,
    at: Date,
  ): Promise<void> {
    const key = this.key(carePlanId, version);
    const [[, first] = [null, 0]] =
      (await this.redis
        .multi()
        .hsetnx(key, `${partnerId}|${step}`, at.toISOString())
        .expire(key, DELIVERY_STATUS_RETENTION_DAYS * 24 * 3600)
        .exec()) ?? [];
    const counted = step === 'delivered' ? 'delivered' : step === 'received' ? 'acknowledged' : undefined;
    if (first === 1 && counted) {
      this.throughput?.count(partnerId, 'delivery', counted, at.getTime());
    }
  }

  /** Records the step an acknowledgment Task has reached (received, accepted, completed). */
  async markFromTask(task: Task, at: Date): Promise<void> {
    const step = ackStepOf(task);
    if (step) {
      await this.mark(step.carePlanId, step.version, step.partnerId, step.step, at);
    }
  }

  /** Every partner's status for a plan version, sorted by partner id. */
  async list(carePlanId: string, version: string): Promise<PartnerDeliveryStatus[]> {
    const fields = await this.redis.hgetall(this.key(carePlanId, version));
    const byPartner = new Map<string, Partial<Record<DeliveryStep | DeliveryOutcome, string>>>();
    for (const [field, time] of Object.entries(fields)) {
      const [partnerId, step] = field.split('|') as [string, DeliveryStep | DeliveryOutcome];
      byPartner.set(partnerId, { ...byPartner.get(partnerId), [step]: time });
    }
    return [...byPartner.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([partnerId, at]) => {
        const state = [...ORDER].reverse().find((s) => at[s] && (s !== 'failed' || !at.delivered)) ?? 'sent';
        return { partnerId, state, at, since: at[state] ?? '' };
      });
  }

  /**
   * Partners that have not reached `step` for a plan version (and did not end as superseded), with
   * the time they have been waiting since: "who has not yet accepted version N, and since when".
   */
  async notYet(carePlanId: string, version: string, step: DeliveryStep): Promise<PartnerDeliveryStatus[]> {
    const rank = DELIVERY_STEPS.indexOf(step);
    return (await this.list(carePlanId, version)).filter(
      (s) =>
        s.state !== 'superseded' &&
        (s.state === 'failed' || s.state === 'withheld' || DELIVERY_STEPS.indexOf(s.state) < rank),
    );
  }
}
