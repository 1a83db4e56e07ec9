import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';
import type { DeliveryRequest } from './deliver-plan-change.js';

/**
 * Deliveries held back because the plan carries 42 CFR Part 2 data and the participant has not
 * consented to disclosure to that partner: one Redis hash per participant, so a Consent recorded
 * later releases exactly that partner's held versions.
 */
export class WithheldDeliveries {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'withheld');
  }

  private key(patient: string): string {
    return `${this.prefix}:withheld:${patient}`;
  }

  async withhold(req: DeliveryRequest): Promise<void> {
    await this.redis.hset(
      this.key(req.patient),
      `${req.partnerId}|${req.carePlanId}|${req.version}`,
      JSON.stringify(req),
    );
  }

  /**
   * Releases the partner's held deliveries for the participant, oldest version first: each is
   * handed to `send` (which queues it durably) and only then forgotten, so a crash or a failure in
   * between leaves it held, to be released again, rather than lost. Returns how many went.
   */
  async release(
    patient: string,
    partnerId: string,
    send: (req: DeliveryRequest) => Promise<void>,
  ): Promise<number> {
    const held = await this.redis.hgetall(this.key(patient));
    const mine = Object.entries(held)
      .filter(([field]) => field.startsWith(`${partnerId}|`))
      .map(([field, json]) => ({ field, req: JSON.parse(json) as DeliveryRequest }))
      .sort((a, b) => Number(a.req.version) - Number(b.req.version));
    for (const { field, req } of mine) {
      await send(req);
      await this.redis.hdel(this.key(patient), field);
    }
    return mine.length;
  }
}
