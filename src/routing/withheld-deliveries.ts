import type { Redis } from 'ioredis';
import type { DeliveryRequest } from './deliver-plan-change.js';

/**
 * Deliveries held back because the plan carries 42 CFR Part 2 data and the participant has not
 * consented to disclosure to that partner: one Redis hash per participant, so a Consent recorded
 * later releases exactly that partner's held versions.
 */
export class WithheldDeliveries {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

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

  /** Takes the partner's held deliveries for the participant, oldest version first. */
  async release(patient: string, partnerId: string): Promise<DeliveryRequest[]> {
    const held = await this.redis.hgetall(this.key(patient));
    const mine = Object.entries(held).filter(([field]) => field.startsWith(`${partnerId}|`));
    if (mine.length > 0) {
      await this.redis.hdel(this.key(patient), ...mine.map(([field]) => field));
    }
    return mine
      .map(([, json]) => JSON.parse(json) as DeliveryRequest)
      .sort((a, b) => Number(a.version) - Number(b.version));
  }
}
