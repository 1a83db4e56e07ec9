import { describe, expect, it } from '@jest/globals';
import type { Subscription } from 'fhir/r4.js';
import { createLogger } from '../../../src/logging/logger.js';
import { startHub } from '../../../src/startup/start-hub.js';
import { testConfig, testGateway } from '../../support/test-env.js';

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
});
