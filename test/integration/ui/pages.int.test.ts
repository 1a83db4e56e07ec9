/**
 * Issue 6: the staff pages in a real browser (Debian's Chromium driven by playwright-core) against
 * a hub on real HAPI and Redis, with data seeded through the hub's own ingest. Screenshots of each
 * page go to test-output/screenshots/ for a reviewer to look at.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEvent } from 'fhir/r4.js';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { stringify } from 'yaml';
import { buildEvidence } from '../../../src/coordination/evidence-service.js';
import { createLogger } from '../../../src/logging/logger.js';
import { hashPassword } from '../../../src/security/staff.js';
import { startHub, type RunningHub } from '../../../src/startup/start-hub.js';
import {
  adt,
  crisisUpdate,
  hmisZip,
  IDENTIFIER_BASE,
  newPerson,
  servicePlan,
  type Person,
} from '../../fixtures/ingest/samples.js';
import { partnerDir } from '../../support/config-dirs.js';
import { PartnerServer } from '../../support/partner-server.js';
import { REPO_ROOT, testConfig, testGateway, unique } from '../../support/test-env.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(REPO_ROOT, 'test-output', 'screenshots');
const PASSWORD = 'correct horse battery staple';

describe('staff pages in a browser', () => {
  const fhir = testGateway();
  const northside = new PartnerServer('fhir-message');
  const harbor = new PartnerServer('fhir-message');
  let refuse = true;
  let hub: RunningHub;
  let browser: Browser;
  const people: Record<'crisis' | 'falls' | 'plain', Person> = {
    crisis: newPerson(),
    falls: newPerson(),
    plain: newPerson(),
  };
  const patientIds: Record<string, string> = {};

  async function post(pathname: string, body: string | Buffer, contentType: string): Promise<void> {
    const res = await fetch(`${hub.url}${pathname}?wait=30`, {
      method: 'POST',
      body,
      headers: { 'content-type': contentType },
    });
    if (res.status !== 200) {
      throw new Error(`${pathname}: ${res.status} ${await res.text()}`);
    }
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `No Chromium at ${CHROMIUM}: apt-get install chromium (the CI script does) or set CHROMIUM_PATH`,
      );
    }
    mkdirSync(SHOTS, { recursive: true });
    harbor.script = () => (refuse ? { status: 422, body: '{"error":"not today"}' } : undefined);
    const outbound = (url: string) => (p: { outbound: Record<string, unknown> }) => {
      p.outbound = { ...p.outbound, url, maxAttempts: 2, backoffMs: 100 };
    };
    const partners = partnerDir({
      'northside-bh': outbound(await northside.start()),
      'harbor-housing': outbound(await harbor.start()),
      'sunrise-hcbs': (p: Record<string, unknown>) => delete p.outbound,
    });
    const staffFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'ui-staff-')), 'staff.yaml');
    const account = (username: string, role: string): object => ({
      username,
      name: username,
      role,
      passwordHash: hashPassword(PASSWORD),
    });
    writeFileSync(
      staffFile,
      stringify({
        accounts: [account('casey', 'coordinator'), account('eli', 'engineer'), account('ana', 'auditor')],
      }),
    );
    hub = await startHub(
      testConfig({ PARTNER_CONFIG_DIR: partners, STAFF_FILE: staffFile, QUEUE_PREFIX: `{${unique('ui')}}` }),
      createLogger('silent'),
    );

    // Three participants: a crisis (self-harm risk), a falls risk (safeguarding), and one with
    // neither; all three agencies on each care team.
    for (const [key, person] of Object.entries(people)) {
      const plan = servicePlan(person);
      if (key !== 'falls') {
        (plan.risks as unknown[]).length = 0;
      }
      await post('/ingest/sunrise-hcbs/service-plan', JSON.stringify(plan), 'application/json');
      await post(
        '/ingest/northside-bh/hl7v2-adt',
        adt(person, { trigger: 'A01', controlId: `C${person.tag}`, visitNumber: `V${person.tag}` }),
        'application/hl7-v2',
      );
      await post('/ingest/harbor-housing/hmis-csv', hmisZip(person, '410'), 'application/zip');
      const [patient] = await fhir.search<{ resourceType: 'Patient'; id?: string }>('Patient', {
        identifier: person.medicaid,
      });
      patientIds[key] = patient!.id!;
    }
    await post(
      '/ingest/northside-bh/crisis-update',
      JSON.stringify(crisisUpdate(people.crisis)),
      'application/json',
    );
    // A plan change for the crisis participant: fewer hours of personal care.
    const changed = servicePlan(people.crisis);
    (changed.risks as unknown[]).length = 0;
    (changed.services as Array<Record<string, unknown>>)[0]!.serviceUnitQuantity = 12;
    await post('/ingest/sunrise-hcbs/service-plan', JSON.stringify(changed), 'application/json');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    await northside.stop();
    await harbor.stop();
  });

  async function signIn(username: string, next = '/ui/roster'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${hub.url}${next}`);
    expect(page.url()).toContain('/ui/login');
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/ui/login'));
    return page;
  }

  it('shows the roster in risk order with each participant’s flags, labelled and usable by keyboard', async () => {
    // Everyone: on a long-lived development server other tests' participants may outrank these.
    const page = await signIn('casey', '/ui/roster?show=all');
    // Rows link to the participant by id.
    // (One evaluation: the shared development server may list a thousand participants.)
    const hrefs = await page.evaluate<string[]>(
      'Array.from(document.querySelectorAll("#roster tbody tr th a")).map((a) => a.getAttribute("href"))',
    );
    const rowOf = (key: string): number => hrefs.indexOf(`/ui/participants/${patientIds[key]}`);
    const [crisis, falls, plain] = [rowOf('crisis'), rowOf('falls'), rowOf('plain')];
    expect(crisis).toBeGreaterThanOrEqual(0);
    expect(crisis).toBeLessThan(falls);
    expect(falls).toBeLessThan(plain);
    const crisisText = await page.locator('#roster tbody tr').nth(crisis).textContent();
    expect(crisisText).toMatch(/Self-harm risk \(100\)/);
    const fallsText = await page.locator('#roster tbody tr').nth(falls).textContent();
    expect(fallsText).toMatch(/Safeguarding concern \(90\)/);

    await page.screenshot({ path: path.join(SHOTS, 'roster.png') });
    // Every visible form control has a label.
    const controls = await page.locator('input:not([type=hidden]), select, textarea').all();
    for (const control of controls) {
      const id = await control.getAttribute('id');
      expect(id).toBeTruthy();
      expect(await page.locator(`label[for="${id!}"]`).count()).toBeGreaterThan(0);
    }
    // The first Tab reaches the skip link, and the decision box can be reached by keyboard.
    const focused = (): Promise<unknown> =>
      page.evaluate(
        'document.activeElement ? (document.activeElement.id || document.activeElement.textContent) : ""',
      );
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to content');
    // A link near the top takes keyboard users past the long table to the huddle form.
    const tabTo = async (target: (f: unknown) => boolean, most: number): Promise<boolean> => {
      for (let i = 0; i < most; i++) {
        await page.keyboard.press('Tab');
        if (target(await focused())) {
          return true;
        }
      }
      return false;
    };
    expect(await tabTo((f) => f === 'Go to recording the huddle', 10)).toBe(true);
    await page.keyboard.press('Enter');
    expect(await tabTo((f) => typeof f === 'string' && f.startsWith('attended-'), 1)).toBe(true);
    expect(await tabTo((f) => f === 'decision', 20)).toBe(true);
    await page.context().close();
  });

  it('records a huddle decision on the roster page that then shows on the participant’s timeline', async () => {
    const page = await signIn('casey', '/ui/roster?show=all');
    await page.getByLabel('Northside Behavioral Health').check();
    await page.locator('#attendee-northside-bh').fill('Morgan Carer');
    await page.getByLabel('Participant').selectOption(`Patient/${patientIds.crisis}`);
    await page.getByLabel('Decision').fill('Call the clinic about the crisis plan before Friday');
    await page.getByLabel('Owning agency').selectOption('northside-bh');
    await page.getByLabel('Due').fill('2030-01-10T12:00');
    await page.getByRole('button', { name: 'Record huddle and decision' }).click();
    await page.waitForURL(/recorded=/);
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/Huddle recorded/);

    await page.goto(`${hub.url}/ui/participants/${patientIds.crisis}`);
    const decisions = page.locator('table', {
      has: page.locator('caption', { hasText: 'Huddle decisions' }),
    });
    await expect(decisions.textContent()).resolves.toMatch(
      /Call the clinic about the crisis plan before Friday/,
    );
    await page.screenshot({ path: path.join(SHOTS, 'timeline.png'), fullPage: true });
    await page.context().close();
  });

  it('shows a plan change with its diff and where each partner stands with it', async () => {
    const page = await signIn('casey', `/ui/participants/${patientIds.crisis}`);
    const versions = page.locator('table.versions tbody tr');
    const newest = await versions.first().textContent();
    expect(newest).toMatch(/^\s*2/);
    expect(newest).toMatch(/12 hours per week/);
    expect(newest).toMatch(/northside-bh: (delivered|received|accepted|completed)/);
    expect(newest).toMatch(/harbor-housing: failed/);
    await page.context().close();
  });

  it('renders the evidence charts with the numbers the hub computes, and logs the CSV download', async () => {
    const page = await signIn('ana', '/ui/evidence');
    expect(await page.locator('figure svg[role=img]').count()).toBeGreaterThanOrEqual(4);
    const report = await buildEvidence(
      { fhir, identifierBase: IDENTIFIER_BASE, now: () => new Date() },
      {
        from: await page.locator('#from').inputValue(),
        to: await page.locator('#to').inputValue(),
      },
    );
    expect(report.huddles.held).toBeGreaterThanOrEqual(1);
    const huddleTable = page.locator('figure', {
      has: page.locator('figcaption', { hasText: 'Huddles and their actions' }),
    });
    await expect(
      huddleTable.locator('tr', { hasText: 'Huddles held' }).locator('td').nth(1).textContent(),
    ).resolves.toBe(String(report.huddles.held));
    await page.screenshot({ path: path.join(SHOTS, 'evidence.png'), fullPage: true });

    const csv = await page.request.get(
      `${hub.url}/ui/evidence.csv?from=${report.period.from}&to=${report.period.to}`,
    );
    expect(csv.status()).toBe(200);
    expect(await csv.text()).toMatch(/^section,metric,agency,period,value\r\nhuddles,held,all,/);
    const audits = await fhir.search<AuditEvent>('AuditEvent', { _sort: '-_lastUpdated', _count: 20 });
    expect(
      audits.some(
        (a) =>
          a.entity?.some((e) => e.what?.display?.startsWith('Coordination evidence CSV')) &&
          a.agent[0]?.who?.display === 'ana (auditor)',
      ),
    ).toBe(true);
    await page.context().close();
  });

  it('gives a participant a complete copy of their record, and logs it', async () => {
    const page = await signIn('casey', `/ui/participants/${patientIds.crisis}/copy`);
    await expect(page.locator('h2', { hasText: 'CarePlan' }).count()).resolves.toBe(1);
    await expect(page.locator('h2', { hasText: 'Patient' }).count()).resolves.toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'participant-copy.png'), fullPage: true });
    const audits = await fhir.search<AuditEvent>('AuditEvent', { entity: `Patient/${patientIds.crisis}` });
    expect(audits.some((a) => a.entity?.some((e) => e.what?.display?.startsWith('Participant copy')))).toBe(
      true,
    );
    await page.context().close();
  });

  it('lets an engineer replay a dead letter from the operations page', async () => {
    const page = await signIn('eli', '/ui/operations');
    const row = page.locator('#dead-letters tbody tr', { hasText: 'delivery.harbor-housing' }).first();
    const jobId = (await row.locator('code').textContent())!;
    expect(jobId).toMatch(/^delivery\.harbor-housing\./);
    await page.screenshot({ path: path.join(SHOTS, 'operations.png'), fullPage: true });
    refuse = false;
    const received = harbor.applied.length;
    await row.getByRole('button', { name: `Replay ${jobId}` }).click();
    await page.waitForURL(/replayed=/);
    for (let i = 0; i < 40 && harbor.applied.length === received; i++) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(harbor.applied.length).toBeGreaterThan(received);
    await page.reload();
    await expect(page.locator('#dead-letters code', { hasText: jobId }).count()).resolves.toBe(0);
    await page.context().close();
  });

  it('answers a bad form with a page naming the field, checked as the API checks it', async () => {
    const page = await signIn('casey');
    const res = await page.request.post(`${hub.url}/ui/huddles`, {
      headers: { origin: hub.url, accept: 'text/html' },
      form: {
        participant: `Patient/${patientIds.plain}`,
        decision: 'Call',
        owner: 'nobody-here',
        due: '2030-01-10T12:00',
        date: '2030-01-09',
      },
    });
    expect(res.status()).toBe(422);
    expect(res.headers()['content-type']).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/decisions\[0\]\.owner.*nobody-here/s);
    const empty = await page.request.post(`${hub.url}/ui/huddles`, {
      headers: { origin: hub.url, accept: 'text/html' },
      form: { participant: 'Robert; DROP', decision: ' ', owner: 'sunrise-hcbs', due: '2030-01-10T12:00' },
    });
    expect(empty.status()).toBe(400);
    const text = await empty.text();
    expect(text).toMatch(/participant/);
    expect(text).toMatch(/decision/);
    await page.context().close();
  });

  it('refuses a page to a role without it, and forms from another origin', async () => {
    const page = await signIn('eli', '/ui/operations');
    const roster = await page.request.get(`${hub.url}/ui/roster`);
    expect(roster.status()).toBe(403);
    const forged = await page.request.post(`${hub.url}/ui/operations/dead-letters/x/y/replay`, {
      headers: { origin: 'https://elsewhere.example' },
    });
    expect(forged.status()).toBe(403);
    await page.context().close();
  });
});
