/**
 * Issue 13: request limits and refusal audits come after authentication. A stranger naming a
 * partner in URLs cannot use up that partner's limit, and a flood of refused requests writes a
 * bounded number of AuditEvents. Real HAPI and Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEvent } from 'fhir/r4.js';
import { request } from 'node:http';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import { dropPrefix, eventually, startTestHub, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { smartPartners } from '../../support/smart-partners.js';

const LIMIT = 5;

/** A GET from another loopback address (a stranger on the network), answering the status. */
function getFrom(localAddress: string, url: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { localAddress, headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('request limits and refusal audits after authentication', () => {
  const prefix = testPrefix();
  let hub: RunningHub;
  let sunrise: string;

  beforeAll(async () => {
    const smart = await smartPartners(['sunrise-hcbs']);
    hub = await startTestHub(prefix, {
      AUTH_REQUIRED: 'true',
      PARTNER_CONFIG_DIR: smart.dir,
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
      ADMIN_TOKEN: 'rate-limits-admin-token-0123456789',
    });
    sunrise = await smart.token(hub.url, 'sunrise-hcbs');
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  it("a stranger using a partner's id cannot lock the partner out, and is itself throttled by address", async () => {
    const started = new Date();
    const url = `${hub.url}/partners/sunrise-hcbs/tasks`;
    const stranger: number[] = [];
    for (let i = 0; i < LIMIT * 5 + 3; i++) {
      stranger.push(await getFrom('127.0.0.2', url));
    }
    expect(stranger.slice(0, LIMIT * 5).every((s) => s === 401)).toBe(true);
    expect(stranger.at(-1)).toBe(429);
    // The partner, with its token, from its own address: untouched by the stranger's requests.
    expect(await getFrom('127.0.0.1', url, sunrise)).toBe(200);

    // One AuditEvent for the first refusal; the rest are counted into one summary at the minute's end.
    const refusals = (): Promise<AuditEvent[]> =>
      hub.fhir.search<AuditEvent>('AuditEvent', { type: '110113', date: `ge${started.toISOString()}` });
    await eventually(async () => (await refusals()).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // writes are not awaited by the answer
    expect((await refusals()).length).toBeLessThanOrEqual(2);
  });

  it('counts a partner by its token: over its own limit it gets 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) {
      statuses.push(await getFrom('127.0.0.1', `${hub.url}/partners/sunrise-hcbs/tasks`, sunrise));
    }
    expect(statuses.at(-1)).toBe(429);
  });
});
