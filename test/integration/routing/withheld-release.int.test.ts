/**
 * Issue 15, item 11: a Consent releases what was withheld without losing any of it. A held
 * delivery is forgotten only once it is queued: a failure (or a crash) in between leaves it held,
 * to be released again. Real Redis.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import type { DeliveryRequest } from '../../../src/routing/deliver-plan-change.js';
import { WithheldDeliveries } from '../../../src/routing/withheld-deliveries.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { testRedis } from '../../support/test-env.js';

describe('releasing withheld deliveries', () => {
  const prefix = testPrefix();
  const redis = testRedis();

  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  const req = (version: string): DeliveryRequest => ({
    partnerId: 'sunrise-hcbs',
    carePlanId: '7',
    version,
    notice: 'Communication/n',
    patient: 'Patient/1',
    altersDelivery: true,
  });

  it('keeps what could not be queued, and releases it in version order the next time', async () => {
    const withheld = new WithheldDeliveries(redis, prefix);
    for (const v of ['3', '1', '2']) {
      await withheld.withhold(req(v));
    }
    const sent: string[] = [];
    await expect(
      withheld.release('Patient/1', 'sunrise-hcbs', async (r) => {
        if (r.version === '2') {
          throw new Error('Redis went away while queueing');
        }
        sent.push(r.version);
      }),
    ).rejects.toThrow(/went away/);
    expect(sent).toEqual(['1']);
    const released = await withheld.release('Patient/1', 'sunrise-hcbs', async (r) => {
      sent.push(r.version);
    });
    expect(released).toBe(2);
    expect(sent).toEqual(['1', '2', '3']);
    expect(await withheld.release('Patient/1', 'sunrise-hcbs', async () => undefined)).toBe(0);
  });
});
