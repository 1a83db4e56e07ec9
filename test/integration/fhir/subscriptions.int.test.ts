import { describe, expect, it } from '@jest/globals';
import type { Subscription } from 'fhir/r4.js';
import { ensureSubscriptions } from '../../../src/fhir/subscriptions.js';
import { createLogger } from '../../../src/logging/logger.js';
import { sharedHookSecret } from '../../../src/security/hook-secret.js';
import { startHub } from '../../../src/startup/start-hub.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { testConfig, testGateway, testRedis } from '../../support/test-env.js';

describe('hub subscriptions', () => {
  it('registers its rest-hooks at start and, when it goes away for good, removes them', async () => {
    const fhir = testGateway();
    const hub = await startHub(
      testConfig({ REMOVE_SUBSCRIPTIONS_ON_SHUTDOWN: 'true' }),
      createLogger('silent'),
    );
    const ids = (await fhir.search<Subscription>('Subscription', { _count: '1000' })).flatMap((s) =>
      s.channel.endpoint === `${hub.url}/hooks/fhir` ? [s.id!] : [],
    );
    expect(ids).toHaveLength(2);
    await hub.close();
    for (const id of ids) {
      await expect(fhir.read('Subscription', id)).rejects.toMatchObject({ httpStatus: expect.any(Number) });
    }
  });

  it('leaves the subscriptions with a live replica at another address, and takes them over once it is gone', async () => {
    const fhir = testGateway();
    const prefix = testPrefix();
    const endpoints = async (): Promise<string[]> =>
      (await fhir.search<Subscription>('Subscription', { _count: '1000' }))
        .filter((s) => s.id?.endsWith(subscriptionSuffix) ?? false)
        .map((s) => s.channel.endpoint ?? '');
    let subscriptionSuffix = '';
    const first = await startHub(testConfig({ QUEUE_PREFIX: prefix }), createLogger('silent'));
    const second = await startHub(
      testConfig({ QUEUE_PREFIX: prefix, REMOVE_SUBSCRIPTIONS_ON_SHUTDOWN: 'true' }),
      createLogger('silent'),
    );
    try {
      const mine = (await fhir.search<Subscription>('Subscription', { _count: '1000' })).filter(
        (s) => s.channel.endpoint === `${first.url}/hooks/fhir`,
      );
      expect(mine).toHaveLength(2);
      subscriptionSuffix = mine[0]!.id!.split('-').at(-1)!;
      // The second replica, with its own address, did not take them from the first, which answers.
      expect(await endpoints()).toEqual([`${first.url}/hooks/fhir`, `${first.url}/hooks/fhir`]);

      await first.close();
      const redis = testRedis();
      const secret = await sharedHookSecret(redis, prefix);
      redis.disconnect();
      await ensureSubscriptions(fhir, second.url, prefix, secret);
      expect(await endpoints()).toEqual([`${second.url}/hooks/fhir`, `${second.url}/hooks/fhir`]);
    } finally {
      await first.close();
      await second.close();
      await dropPrefix(prefix);
    }
  });
});
