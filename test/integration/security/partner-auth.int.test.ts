/**
 * Issue 7 (partner authentication): SMART Backend Services against a started hub with real HAPI
 * and Redis. Partners sign client assertions with their own keys (ES384, RS384); the hub verifies
 * them, refuses bad ones, issues short-lived scoped tokens and requires them on partner routes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEvent, CapabilityStatement } from 'fhir/r4.js';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { randomUUID } from 'node:crypto';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  diagnostics,
  dropPrefix,
  eventually,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import { MEDICAID_SYSTEM, newPerson, servicePlan } from '../../fixtures/ingest/samples.js';
import { TokenStore } from '../../../src/security/token-store.js';
import { partnerDir } from '../../support/config-dirs.js';
import { testRedis } from '../../support/test-env.js';

const ADMIN_TOKEN = 'staff-test-token-0123456789';

interface Signer {
  readonly alg: 'ES384' | 'RS384';
  readonly kid: string;
  readonly privateKey: CryptoKey;
}

describe('partner authentication (SMART Backend Services)', () => {
  const prefix = testPrefix();
  let hub: RunningHub;
  let sunrise: Signer;
  let northside: Signer;
  let rogue: Signer;
  let harbor: Signer;

  async function signer(
    alg: Signer['alg'],
    kid: string,
  ): Promise<{ signer: Signer; jwk: Record<string, unknown> }> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    return { signer: { alg, kid, privateKey }, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
  }

  beforeAll(async () => {
    const es = await signer('ES384', 'sunrise-1');
    const rs = await signer('RS384', 'northside-1');
    rogue = (await signer('ES384', 'sunrise-1')).signer; // same kid, other key
    sunrise = es.signer;
    northside = rs.signer;
    const hh = await signer('ES384', 'harbor-1');
    harbor = hh.signer;
    const readWrite = ['system/*.cu', 'system/*.rs', 'system/Task.rus'];
    const dir = partnerDir({
      'sunrise-hcbs': (p) => {
        p.auth = { jwks: { keys: [es.jwk] }, scopes: readWrite };
      },
      'northside-bh': (p) => {
        p.auth = { jwks: { keys: [rs.jwk] }, scopes: readWrite };
      },
      'harbor-housing': (p) => {
        p.auth = { jwks: { keys: [hh.jwk] }, scopes: ['system/Task.rs'] };
      },
    });
    hub = await startTestHub(prefix, { AUTH_REQUIRED: 'true', PARTNER_CONFIG_DIR: dir, ADMIN_TOKEN });
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  function assertion(
    partnerId: string,
    key: Signer,
    claims: { aud?: string; exp?: number; jti?: string } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(partnerId)
      .setSubject(partnerId)
      .setAudience(claims.aud ?? `${hub.url}/auth/token`)
      .setJti(claims.jti ?? randomUUID())
      .setExpirationTime(claims.exp ?? now + 240)
      .sign(key.privateKey);
  }

  async function requestToken(
    clientAssertion: string,
    scope?: string,
  ): Promise<{ status: number; body: Record<string, string> }> {
    const res = await fetch(`${hub.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: clientAssertion,
        ...(scope ? { scope } : {}),
      }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }

  async function tokenFor(partnerId: string, key: Signer, scope?: string): Promise<string> {
    const answer = await requestToken(await assertion(partnerId, key), scope);
    expect(answer.status).toBe(200);
    return answer.body.access_token!;
  }

  async function call(
    method: string,
    urlPath: string,
    token: string | undefined,
    body?: object,
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const res = await fetch(`${hub.url}${urlPath}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as unknown) : undefined,
      headers: res.headers,
    };
  }

  it('publishes its SMART configuration, at the root and under the FHIR base, and its CapabilityStatement', async () => {
    for (const where of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
      const config = (await call('GET', where, undefined)).body;
      expect(config).toMatchObject({
        token_endpoint: `${hub.url}/auth/token`,
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      });
    }
    const metadata = await call('GET', '/fhir/metadata', undefined);
    expect(metadata.status).toBe(200);
    const rest = (metadata.body as CapabilityStatement).rest![0]!;
    expect(rest.security?.extension?.[0]?.extension).toEqual([
      { url: 'token', valueUri: `${hub.url}/auth/token` },
    ]);
    expect(rest.resource?.map((r) => r.type)).toContain('CarePlan');
  });

  it('issues scoped, short-lived tokens for ES384 and RS384 assertions, which open the partner routes', async () => {
    const answer = await requestToken(
      await assertion('sunrise-hcbs', sunrise),
      'system/*.cu system/Observation.d',
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'bearer', expires_in: 300, scope: 'system/*.cu' });

    const ingest = await call(
      'POST',
      '/ingest/sunrise-hcbs/service-plan?wait=30',
      answer.body.access_token,
      servicePlan(newPerson()),
    );
    expect(ingest.status).toBe(200);
    const tasks = await call(
      'GET',
      '/partners/northside-bh/tasks',
      await tokenFor('northside-bh', northside),
    );
    expect(tasks.status).toBe(200);
  });

  it.each([
    [
      'an expired assertion',
      async () => assertion('sunrise-hcbs', sunrise, { exp: Math.floor(Date.now() / 1000) - 120 }),
      /expired/,
    ],
    ['a wrong signature', async () => assertion('sunrise-hcbs', rogue), /signature does not verify/],
    [
      'a wrong audience',
      async () => assertion('sunrise-hcbs', sunrise, { aud: 'https://other.example.org/token' }),
      /"aud"/,
    ],
    [
      'an assertion valid for too long',
      async () => assertion('sunrise-hcbs', sunrise, { exp: Math.floor(Date.now() / 1000) + 3600 }),
      /at most 300 s/,
    ],
    ['an unregistered client', async () => assertion('nobody', sunrise), /no partner "nobody"/],
  ])('refuses %s with invalid_client', async (_what, make, reason) => {
    const answer = await requestToken(await make());
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_client');
    expect(answer.body.error_description).toMatch(reason);
  });

  it('refuses a replayed assertion (same jti)', async () => {
    const once = await assertion('northside-bh', northside, { jti: `jti-${randomUUID()}` });
    expect((await requestToken(once)).status).toBe(200);
    const again = await requestToken(once);
    expect(again.status).toBe(401);
    expect(again.body.error_description).toMatch(/replayed/);
  });

  it('refuses a replay after the assertion expired but while the clock tolerance still accepts it', async () => {
    const once = await assertion('northside-bh', northside, {
      jti: `jti-${randomUUID()}`,
      exp: Math.floor(Date.now() / 1000) + 2,
    });
    expect((await requestToken(once)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const again = await requestToken(once);
    expect(again.status).toBe(401);
    expect(again.body.error_description).toMatch(/replayed/);
  });

  it('refuses partner routes without a token, or with an unknown one', async () => {
    for (const token of [undefined, 'not-a-token']) {
      const answer = await call('POST', '/ingest/sunrise-hcbs/service-plan', token, servicePlan(newPerson()));
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(diagnostics(answer.body as object).join()).toMatch(/access token/);
    }
  });

  it('takes the sender of a Bundle at the FHIR base from the token, never from a header', async () => {
    const batch = { resourceType: 'Bundle', type: 'batch', entry: [] };
    expect((await call('POST', '/fhir', undefined, batch)).status).toBe(401);
    const res = await fetch(`${hub.url}/fhir`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await tokenFor('sunrise-hcbs', sunrise)}`,
        'content-type': 'application/fhir+json',
        'x-partner-id': 'northside-bh',
      },
      body: JSON.stringify(batch),
    });
    // Sent as sunrise-hcbs, whose file does not list fhir-transaction; northside-bh's does.
    expect(res.status).toBe(403);
    expect(diagnostics((await res.json()) as object).join()).toContain('"sunrise-hcbs" is not configured');
  });

  it('refuses an access token once it has expired', async () => {
    const redis = testRedis();
    try {
      // Expiry is kept in whole seconds: a 1 s token could lapse before a busy machine's first call.
      const token = await new TokenStore(redis, prefix).issue('sunrise-hcbs', ['system/*.cu'], 3, new Date());
      expect((await call('GET', '/partners/sunrise-hcbs/tasks', token)).status).toBe(403); // live: lacks Task.s
      await new Promise((r) => setTimeout(r, 3100));
      const expired = await call('GET', '/partners/sunrise-hcbs/tasks', token);
      expect(expired.status).toBe(401);
      expect(diagnostics(expired.body as object).join()).toContain('invalid or expired');
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a partner acting as another, or beyond its scopes, and audits the refusal', async () => {
    const sunriseToken = await tokenFor('sunrise-hcbs', sunrise);
    const asOther = await call('POST', '/ingest/northside-bh/crisis-update', sunriseToken, {});
    expect(asOther.status).toBe(403);
    expect(diagnostics(asOther.body as object).join()).toContain(
      "sunrise-hcbs's; it cannot act as northside-bh",
    );

    const harborToken = await tokenFor('harbor-housing', harbor);
    const beyond = await call('POST', '/ingest/harbor-housing/hmis-csv', harborToken, {});
    expect(beyond.status).toBe(403);
    expect(diagnostics(beyond.body as object).join()).toContain('lacks scope system/*.c');
    expect((await call('GET', '/partners/harbor-housing/tasks', harborToken)).status).toBe(200);
  });

  it('audits refused access on the FHIR server', async () => {
    const sunriseToken = await tokenFor('sunrise-hcbs', sunrise);
    // Other test files' refusals share the server: only this one's, recorded from now, count.
    const since = Date.now() - 1000;
    await call('GET', '/partners/harbor-housing/tasks', sunriseToken);
    const audits = await eventually(async () => {
      const found = await hub.fhir.search<AuditEvent>('AuditEvent', {
        agent: 'Organization/sunrise-hcbs',
        _sort: '-date',
        _count: '10',
      });
      return found.find(
        (a) => a.outcomeDesc?.includes('cannot act as harbor-housing') && Date.parse(a.recorded) >= since,
      );
    }, 10000);
    expect(audits.entity?.[0]?.what?.display).toBe('GET /partners/harbor-housing/tasks');
  });

  it('lets a partner read a participant only when it is on the care team, auditing both', async () => {
    const person = newPerson();
    const sunriseToken = await tokenFor('sunrise-hcbs', sunrise);
    expect(
      (await call('POST', '/ingest/sunrise-hcbs/service-plan?wait=30', sunriseToken, servicePlan(person)))
        .status,
    ).toBe(200);
    const [patient] = await hub.fhir.search('Patient', {
      identifier: `${MEDICAID_SYSTEM}|${person.medicaid}`,
    });
    const read = await call('GET', `/fhir/Patient/${patient!.id}`, sunriseToken);
    expect(read.status).toBe(200);
    expect((read.body as { id: string }).id).toBe(patient!.id);
    expect(read.headers.get('etag')).toBe(`W/"${patient!.meta!.versionId}"`);
    expect(read.headers.get('last-modified')).toBe(new Date(patient!.meta!.lastUpdated!).toUTCString());

    const outsider = await call(
      'GET',
      `/fhir/Patient/${patient!.id}`,
      await tokenFor('northside-bh', northside),
    );
    expect(outsider.status).toBe(403);
    expect(diagnostics(outsider.body as object).join()).toContain('northside-bh is not on the care team');
    const audits = await eventually(async () => {
      const found = await hub.fhir.search<AuditEvent>('AuditEvent', {
        agent: 'Organization/northside-bh',
        _sort: '-date',
        _count: '10',
      });
      return found.find((a) => a.entity?.[0]?.what?.display === `GET /fhir/Patient/${patient!.id}`);
    }, 10000);
    expect(audits.outcome).toBe('4');
    const disclosures = await hub.fhir.search<AuditEvent>('AuditEvent', {
      entity: `Patient/${patient!.id}`,
      type: '110106',
    });
    expect(
      disclosures.some((a) => a.agent.some((g) => g.who?.reference === 'Organization/sunrise-hcbs')),
    ).toBe(true);

    const noScope = await call(
      'GET',
      `/fhir/Patient/${patient!.id}`,
      await tokenFor('harbor-housing', harbor),
    );
    expect(noScope.status).toBe(403);
    expect(diagnostics(noScope.body as object).join()).toContain('lacks scope system/Patient.r');
  });

  it('keeps staff routes behind the admin token', async () => {
    expect((await call('GET', '/roster', await tokenFor('sunrise-hcbs', sunrise))).status).toBe(401);
    expect((await call('GET', '/roster', ADMIN_TOKEN)).status).toBe(200);
  });
});
