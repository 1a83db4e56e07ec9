/**
 * Issue 15, item 3 over MLLP: a message whose job failed for good (the FHIR server away longer than
 * the retry budget, shortened here to one attempt) is applied when the interface engine resends
 * it. The listener remembered the first ACK for that control id and content; before, it answered
 * the resend with it and never queued the message again.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Encounter } from 'fhir/r4.js';
import { sendMllp } from '../../../src/mllp/mllp-server.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  byIdentifier,
  dropPrefix,
  eventually,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import { adt, IDENTIFIER_BASE, newPerson } from '../../fixtures/ingest/samples.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { fhirBaseUrl } from '../../support/test-env.js';

describe('an MLLP resend after the retry budget ran out', () => {
  const prefix = testPrefix();
  const proxy = new FaultProxy(fhirBaseUrl());
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(prefix, {
      FHIR_BASE_URL: await proxy.start(),
      FHIR_AUTOSTART: 'false',
      FHIR_RETRIES: '0',
      INGEST_ATTEMPTS: '1',
    });
  });

  afterAll(async () => {
    await hub?.close();
    await proxy.stop();
    await dropPrefix(prefix);
  });

  it('applies the resent message', async () => {
    const person = newPerson();
    const visit = `MR-${person.tag}`;
    const message = adt(person, { trigger: 'A01', controlId: `MR-${person.tag}`, visitNumber: visit });
    const send = (): Promise<string> => sendMllp('127.0.0.1', hub.mllpPort, message, 10000);

    await proxy.pause();
    try {
      expect(await send()).toContain('|AA|');
      await eventually(async () => (await hub.queues.ingest.getFailedCount()) > 0, 30000, 'dead letter');
    } finally {
      await proxy.resume();
    }
    expect(await send()).toContain('|AA|');
    const [encounter] = await eventually(async () => {
      const found = await byIdentifier<Encounter>(
        hub.fhir,
        'Encounter',
        `${IDENTIFIER_BASE}/sid/northside-bh/visit`,
        visit,
      );
      return found.length > 0 ? found : undefined;
    }, 30000);
    expect(encounter?.status).toBe('in-progress');
  });
});
