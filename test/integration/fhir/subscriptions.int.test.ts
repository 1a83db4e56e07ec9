import { describe, expect, it } from '@jest/globals';
import type { Subscription } from 'fhir/r4.js';
import { ensureSubscriptions, removeSubscriptions } from '../../../src/fhir/subscriptions.js';
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

  it('registers the same new subscriptions from replicas starting at the same moment, each start succeeding', async () => {
    const fhir = testGateway();
    // HAPI refuses one of two creates of one client-assigned id at once (HAPI-0825, a 409): the
    // replicas of a deployment starting together, or a retried PUT racing the first on a slow server.
    for (let round = 0; round < 5; round++) {
      const prefix = testPrefix();
      const starts = await Promise.allSettled(
        ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'].map((url) =>
          ensureSubscriptions(fhir, url, prefix, 'a-secret', { waitForActivation: false }),
        ),
      );
      expect(starts.map((s) => (s.status === 'rejected' ? String(s.reason) : s.status))).toEqual([
        'fulfilled',
        'fulfilled',
        'fulfilled',
      ]);
      await removeSubscriptions(fhir, prefix);
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
