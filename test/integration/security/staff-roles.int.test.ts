/**
 * Issue 7 (staff roles): staff sign in with their own accounts; each role reaches its own routes
 * (coordinators the roster, engineers the admin routes, auditors the audit trail) and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Consent, Patient } from 'fhir/r4.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { disclosure } from '../../../src/security/audit.js';
import { hashPassword } from '../../../src/security/staff.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import { diagnostics, dropPrefix, startTestHub, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { unique } from '../../support/test-env.js';

const PASSWORD = 'correct horse battery staple';

describe('staff sign-in and roles', () => {
  const prefix = testPrefix();
  let hub: RunningHub;

  beforeAll(async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'staff-')), 'staff.yaml');
    const account = (username: string, role: string): object => ({
      username,
      name: `${username} (${role})`,
      role,
      passwordHash: hashPassword(PASSWORD),
    });
    writeFileSync(
      file,
      stringify({
        accounts: [
          account('casey', 'coordinator'),
          account('sam', 'supervisor'),
          account('eli', 'engineer'),
          account('ana', 'auditor'),
        ],
      }),
    );
    hub = await startTestHub(prefix, {
      AUTH_REQUIRED: 'true',
      STAFF_FILE: file,
      ADMIN_TOKEN: 'break-glass-0123456789',
      TRUST_PROXY: 'loopback',
    });
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  async function login(
    username: string,
    password = PASSWORD,
  ): Promise<{ status: number; token?: string; role?: string }> {
    const res = await fetch(`${hub.url}/staff/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const body = (await res.json()) as { access_token?: string; role?: string };
    return {
      status: res.status,
      ...(body.access_token ? { token: body.access_token, role: body.role } : {}),
    };
  }

  async function status(urlPath: string, token?: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${hub.url}${urlPath}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: await res.json() };
  }

  it('refuses a wrong password and an unknown user alike', async () => {
    expect((await login('casey', 'wrong password!')).status).toBe(401);
    expect((await login('nobody')).status).toBe(401);
  });

  it('gives each role its own routes and refuses the others', async () => {
    const coordinator = (await login('casey')).token!;
    const supervisor = (await login('sam')).token!;
    const engineer = (await login('eli')).token!;
    const auditor = (await login('ana')).token!;

    expect((await status('/roster', coordinator)).status).toBe(200);
    expect((await status('/roster', supervisor)).status).toBe(200);
    expect((await status('/admin/dead-letters', engineer)).status).toBe(200);
    expect((await status('/audit/participants/none', auditor)).status).toBe(200);

    const refused = await status('/roster', auditor);
    expect(refused.status).toBe(403);
    expect(diagnostics(refused.body as object).join()).toContain('ana (auditor) may not use /roster');
    expect((await status('/admin/dead-letters', coordinator)).status).toBe(403);
    expect((await status('/audit/participants/none', engineer)).status).toBe(403);
    expect((await status('/roster')).status).toBe(401);
  });

  it('marks the page session cookie Secure when a trusted proxy says the browser used HTTPS', async () => {
    const signIn = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${hub.url}/ui/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: hub.url, ...headers },
        body: new URLSearchParams({ username: 'casey', password: PASSWORD, next: '/ui/roster' }),
      });
    const viaProxy = await signIn({
      'x-forwarded-proto': 'https',
      'x-forwarded-host': new URL(hub.url).host,
    });
    expect(viaProxy.status).toBe(303);
    expect(viaProxy.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
    const direct = await signIn({});
    expect(direct.headers.get('set-cookie')).not.toMatch(/;\s*Secure/i);
  });

  it('records which staff member recorded a Part 2 consent', async () => {
    const coordinator = (await login('casey')).token!;
    const patient = await hub.fhir.create<Patient>({ resourceType: 'Patient' });
    const res = await fetch(`${hub.url}/participants/${patient.id}/consents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${coordinator}` },
      body: JSON.stringify({ recipient: 'sunrise-hcbs' }),
    });
    expect(res.status).toBe(201);
    const { consent } = (await res.json()) as { consent: Consent };
    const stored = await hub.fhir.read<Consent>('Consent', consent.id!);
    expect(stored.verification?.[0]?.verifiedWith?.display).toBe('casey (coordinator)');
  });

  it('lets an auditor list what was disclosed about a participant', async () => {
    const patient = await hub.fhir.create<Patient>({
      resourceType: 'Patient',
      identifier: [{ system: 'https://carecoord.example.org/sid/medicaid', value: unique('MCD') }],
    });
    await hub.fhir.create(
      disclosure(
        { partnerId: 'sunrise-hcbs', patient: `Patient/${patient.id}`, what: `Patient/${patient.id}` },
        new Date(),
      ),
    );
    const auditor = (await login('ana')).token!;
    const trail = (await status(`/audit/participants/${patient.id}`, auditor)).body as {
      who: string;
      outcome: string;
    }[];
    expect(trail).toEqual([expect.objectContaining({ who: 'Organization/sunrise-hcbs', outcome: '0' })]);
  });
});
