/**
 * Issue 7: MLLP carries no tokens, so with authentication required a partner is heard only from
 * the networks in its `inbound.mllpAllowFrom`; anything else gets AR and an AuditEvent.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sendMllp } from '../../../src/adapters/mllp/mllp-server.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import { dropPrefix, startTestHub, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { adt, newPerson } from '../../fixtures/ingest/samples.js';
import { partnerDir } from '../../support/config-dirs.js';

describe('MLLP allow-list', () => {
  const prefix = testPrefix();
  let hub: RunningHub;

  beforeAll(async () => {
    const dir = partnerDir({
      'northside-bh': (p) => {
        p.inbound.mllpAllowFrom = ['127.0.0.1', '10.20.0.0/16'];
      },
      'sunrise-hcbs': (p) => {
        Object.assign(p.inbound, { formats: ['hl7v2-adt'], hl7SendingFacilities: ['SUNRISE'] });
      },
      'harbor-housing': (p) => {
        Object.assign(p.inbound, {
          formats: ['hl7v2-adt'],
          hl7SendingFacilities: ['HARBOR'],
          mllpAllowFrom: ['10.9.0.0/16'],
        });
      },
    });
    hub = await startTestHub(prefix, { AUTH_REQUIRED: 'true', PARTNER_CONFIG_DIR: dir });
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  const msa = (ack: string): string[] =>
    ack
      .split('\r')
      .find((s) => s.startsWith('MSA|'))
      ?.split('|')
      .slice(0, 2) ?? [];

  it('hears a partner from its own network, and refuses one without an allow-list or from elsewhere', async () => {
    const person = newPerson();
    const send = (facility: string): Promise<string> =>
      sendMllp(
        '127.0.0.1',
        hub.mllpPort,
        adt(person, {
          trigger: 'A01',
          controlId: `${facility}-${person.tag}`,
          visitNumber: `V-${person.tag}`,
          facility,
        }),
        10000,
      );
    expect(msa(await send('NORTHSIDE'))).toEqual(['MSA', 'AA']);
    for (const facility of ['SUNRISE', 'HARBOR']) {
      const ack = await send(facility);
      expect(msa(ack)).toEqual(['MSA', 'AR']);
      expect(ack).toMatch(/is not on (sunrise-hcbs|harbor-housing)'s allow-list/);
    }
  });

  it('refuses a partner file whose allow-list is not addresses', async () => {
    const dir = partnerDir({
      'northside-bh': (p) => {
        p.inbound.mllpAllowFrom = ['10.0.0.0/33', 'clinic.example.org'];
      },
    });
    await expect(startTestHub(testPrefix(), { PARTNER_CONFIG_DIR: dir })).rejects.toMatchObject({
      problems: [
        'PARTNER_CONFIG_DIR northside-bh.yaml: /inbound/mllpAllowFrom/0 "10.0.0.0/33" is not an IP address or CIDR range',
        'PARTNER_CONFIG_DIR northside-bh.yaml: /inbound/mllpAllowFrom/1 "clinic.example.org" is not an IP address or CIDR range',
      ],
    });
  });
});
