/**
 * Issue 7: MLLP carries no tokens, so with authentication required a partner is heard only from
 * the networks in its `inbound.mllpAllowFrom`; anything else gets AR and an AuditEvent.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type Socket } from 'node:net';
import { sendMllp } from '../../../src/mllp/mllp-server.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import { dropPrefix, startTestHub, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { adt, newPerson } from '../../fixtures/ingest/samples.js';
import { partnerDir } from '../../support/config-dirs.js';

/** A raw TCP connection to the hub's MLLP port from `localAddress` (another loopback address is another peer). */
function connectFrom(hub: RunningHub, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: hub.mllpPort, localAddress });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Whether the hub closes the connection within `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed || socket.readyState === 'closed') {
      resolve(true);
      return;
    }
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

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
      expect(ack).toMatch(/are not accepted from 127\.0\.0\.1/);
      // Which partner owns an MSH-4 value is not the sender's to learn.
      expect(ack).not.toMatch(/sunrise-hcbs|harbor-housing/);
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

  it('closes a connection from an address on no allow-list before reading anything', async () => {
    const socket = await connectFrom(hub, '127.0.0.2');
    socket.write('\x0bMSH|^~\\&|X|NORTHSIDE');
    expect(await closedWithin(socket, 2000)).toBe(true);
    const allowed = await connectFrom(hub, '127.0.0.1');
    expect(await closedWithin(allowed, 300)).toBe(false);
    allowed.destroy();
  });
});

describe('MLLP connection limits', () => {
  const prefix = testPrefix();
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(prefix, {
      MLLP_MAX_CONNECTIONS_PER_ADDRESS: '3',
      MLLP_MAX_CONNECTIONS: '5',
      MLLP_IDLE_TIMEOUT_MS: '400',
    });
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  const open = (localAddress: string): Promise<Socket> => connectFrom(hub, localAddress);

  it('caps connections per address and in all', async () => {
    const first = await Promise.all([1, 2, 3].map(() => open('127.0.0.1')));
    const fourth = await open('127.0.0.1');
    expect(await closedWithin(fourth, 1000)).toBe(true);
    expect(first.every((s) => !s.destroyed && s.readyState === 'open')).toBe(true);
    const others = await Promise.all([open('127.0.0.3'), open('127.0.0.3')]);
    const sixth = await open('127.0.0.4');
    expect(await closedWithin(sixth, 1000)).toBe(true);
    expect(others.every((s) => !s.destroyed)).toBe(true);
    for (const s of [...first, ...others]) {
      s.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // the hub sees them close
  });

  it('closes an idle connection instead of holding it open', async () => {
    const idle = await open('127.0.0.5');
    const started = Date.now();
    expect(await closedWithin(idle, 5000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300); // by the idle timeout, not at once
  });
});
