/**
 * Issue 6: the staff pages in a real browser (Debian's Chromium driven by playwright-core) against
 * a hub on real HAPI and Redis, with data seeded through the hub's own ingest. Screenshots of each
 * page go to test-output/screenshots/ for a reviewer to look at.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEvent } from 'fhir/r4.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { buildEvidence } from '../../../src/coordination/evidence-service.js';
import { createLogger } from '../../../src/logging/logger.js';
import { hashPassword } from '../../../src/security/staff.js';
import { startHub, type RunningHub } from '../../../src/startup/start-hub.js';
import {
  adt,
  crisisUpdate,
  evvCsv,
  evvRow,
  hmisZip,
  IDENTIFIER_BASE,
  newPerson,
  servicePlan,
  type Person,
} from '../../fixtures/ingest/samples.js';
import { partnerDir } from '../../support/config-dirs.js';
import { PartnerServer } from '../../support/partner-server.js';
import { REPO_ROOT, testConfig, testGateway, testRedis, unique } from '../../support/test-env.js';
import type { Communication, Patient } from 'fhir/r4.js';
import { CircuitBreaker } from '../../../src/outbound/circuit-breaker.js';

// Set by the global setup: CHROMIUM_PATH, or the npm package's binary (test/support/chromium.mjs).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '';
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
  const prefix = `{${unique('ui')}}`;
  let partners = '';

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
      throw new Error(`No Chromium at '${CHROMIUM}': run npm ci, or set CHROMIUM_PATH`);
    }
    mkdirSync(SHOTS, { recursive: true });
    harbor.script = () => (refuse ? { status: 422, body: '{"error":"not today"}' } : undefined);
    const outbound = (url: string) => (p: { outbound: Record<string, unknown> }) => {
      p.outbound = { ...p.outbound, url, maxAttempts: 2, backoffMs: 100 };
    };
    partners = partnerDir({
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
      testConfig({
        PARTNER_CONFIG_DIR: partners,
        STAFF_FILE: staffFile,
        QUEUE_PREFIX: prefix,
        // Alerts checked every second, raised after holding for two.
        ALERT_CHECK_SECONDS: '1',
        ALERT_AFTER_SECONDS: '2',
      }),
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
        timeZone: 'America/New_York', // the hub's day (config/coordination/calendars.yaml)
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

  it('lets an engineer find a message by its MSH-10 and follow a plan change to each partner', async () => {
    const person = people.crisis;
    const page = await signIn('eli', '/ui/messages');
    // The ADT by its MSH-10: one message, opened to its record and the participant it landed on.
    await page.getByLabel(/^Business key/).fill(`C${person.tag}`);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/key=/);
    const rows = page.locator('#messages tbody tr');
    await expect(rows.count()).resolves.toBe(1);
    // Saved for later, by name: a link back to the same search.
    await page.getByLabel('Save this search as').fill('Crisis admission');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.goto(`${hub.url}/ui/messages`);
    await page.locator('#saved-searches').getByRole('link', { name: 'Crisis admission' }).click();
    await page.waitForURL(/key=/);
    await expect(rows.count()).resolves.toBe(1);
    await rows.first().getByRole('link', { name: 'northside-bh hl7v2-adt' }).click();
    await page.waitForURL(/\/ui\/messages\/[0-9a-f-]{36}$/);
    const adtLeg = (await page.locator('#legs tbody tr').first().textContent())!;
    expect(adtLeg).toContain(`MSH-10 C${person.tag}`);
    expect(adtLeg).toContain('applied');
    expect(adtLeg).toContain(`Patient/${patientIds.crisis}`);

    // Every message about the participant, by their Medicaid ID: the plan change among them, and
    // from it each partner's delivery of the version it made (harbor-housing refuses deliveries).
    await page.goto(`${hub.url}/ui/messages?key=${encodeURIComponent(person.medicaid)}&format=service-plan`);
    await expect(rows.count()).resolves.toBe(2);
    await page.screenshot({ path: path.join(SHOTS, 'messages.png'), fullPage: true });
    await rows.first().getByRole('link').click();
    await page.waitForURL(/\/ui\/messages\/[0-9a-f-]{36}$/);
    const planLeg = (await page.locator('#legs tbody tr').first().textContent())!;
    expect(planLeg).toMatch(/CarePlan\/\S+\s+version \d+/);
    expect(planLeg).toMatch(/northside-bh:\s*(delivered|received|accepted|completed)/);
    expect(planLeg).toMatch(/harbor-housing:\s*failed/);
    // With the attempts and the partner's own answer to them.
    expect(planLeg).toMatch(/harbor-housing:\s*failed[^]*1 attempt[^]*HTTP 422[^]*not today/);
    await page.screenshot({ path: path.join(SHOTS, 'message.png'), fullPage: true });
    await page.context().close();
  });

  it('lets an engineer edit a rejected record, replay it, and see the edit kept with the replay', async () => {
    const person = people.plain;
    const visit = `EV-${person.tag}`;
    const sent = await fetch(`${hub.url}/ingest/sunrise-hcbs/evv-csv`, {
      method: 'POST',
      body: evvCsv(evvRow(person, visit, 'NOT-A-STATUS')),
      headers: { 'content-type': 'text/csv' },
    });
    expect(sent.status).toBe(422);
    const startedAt = new Date().toISOString();
    const page = await signIn('eli', `/ui/messages?key=${visit}`);
    await page.locator('#messages tbody tr').first().getByRole('link').click();
    await page.getByRole('link', { name: 'Edit and replay' }).click();
    await page.waitForURL(/\/ui\/rejected\//);
    const record = page.getByLabel('The record (edit it, then replay)');
    const raw = await record.inputValue();
    expect(raw).toContain('NOT-A-STATUS');
    await record.fill(raw.replace('NOT-A-STATUS', 'Scheduled'));
    await page.getByLabel(/^Why/).fill('Status code typed by hand at the agency; confirmed by phone');
    await page.screenshot({ path: path.join(SHOTS, 'rejected-edit.png'), fullPage: true });
    await page.getByRole('button', { name: 'Replay the edited record' }).click();
    // The replay's own message: the edit, who made it and why, the diff, the original it replays.
    await page.waitForURL(/\/ui\/messages\/[0-9a-f-]{36}$/);
    await expect(page.locator('#edit-diff tr.removed').textContent()).resolves.toContain('NOT-A-STATUS');
    await expect(page.locator('#edit-diff tr.added').textContent()).resolves.toContain('Scheduled');
    const body = (await page.locator('main').textContent())!;
    expect(body).toContain('By eli (engineer): Status code typed by hand');
    expect(body).toContain('A replay of sunrise-hcbs evv-csv');
    await page.screenshot({ path: path.join(SHOTS, 'replay-edited.png'), fullPage: true });
    const audits = await fhir.search<AuditEvent>('AuditEvent', {
      type: 'http://dicom.nema.org/resources/ontology/DCM|110110',
      date: `ge${startedAt}`,
    });
    expect(audits.map((a) => a.entity?.[0]?.description)).toContain(
      'Status code typed by hand at the agency; confirmed by phone',
    );
    await page.context().close();
  });

  it('lets an engineer resolve identity conflicts both ways, each decision audited', async () => {
    const sendAdt = async (person: Person, controlId: string): Promise<number> =>
      (
        await fetch(`${hub.url}/ingest/northside-bh/hl7v2-adt?wait=30`, {
          method: 'POST',
          body: adt(person, { trigger: 'A01', controlId, visitNumber: `V${controlId}` }),
          headers: { 'content-type': 'application/hl7-v2' },
        })
      ).status;
    const patientsOf = (identifier: string): Promise<Patient[]> =>
      fhir.search<Patient>('Patient', { identifier });
    // Same person: an admission with a known Medicaid ID and another birth date.
    const a = newPerson();
    await post('/ingest/sunrise-hcbs/service-plan', JSON.stringify(servicePlan(a)), 'application/json');
    const [patientA] = await patientsOf(a.medicaid);
    expect(await sendAdt({ ...a, birthDate: '1971-07-04' }, `IA${a.tag}`)).toBe(422);
    // Different person: an admission with another patient's MRN and SSN, under a Medicaid ID of its own.
    const b = newPerson();
    expect(await sendAdt(b, `IB${b.tag}`)).toBe(200);
    const [patientB] = await patientsOf(b.medicaid);
    const c = { ...newPerson(), mrn: b.mrn, ssn: b.ssn };
    expect(await sendAdt(c, `IC${c.tag}`)).toBe(422);

    const page = await signIn('eli', '/ui/identities');
    const caseA = page.locator('section.identity-case', { hasText: `MSH-10 IA${a.tag}` });
    await expect(caseA.textContent()).resolves.toContain('1971-07-04');
    await page.screenshot({ path: path.join(SHOTS, 'identities.png'), fullPage: true });
    // Only a participant the record points at may be chosen, whatever a crafted form says.
    const heldId = (await caseA.getAttribute('aria-labelledby'))!.slice('case-'.length);
    const forged = await page.request.post(`${hub.url}/ui/identities/${encodeURIComponent(heldId)}`, {
      form: { decision: `same:${patientB!.id}`, reason: 'not this one' },
      headers: { origin: hub.url },
    });
    expect(forged.status()).toBe(400);
    await caseA.getByLabel(`The same person as Patient/${patientA!.id}`).check();
    await caseA
      .getByLabel('Why (audited)')
      .fill('Birth year mistyped at admission; confirmed with the clinic');
    await caseA.getByRole('button', { name: 'Decide' }).click();
    await page.waitForURL(/\/ui\/messages\//);
    await expect(page.locator('#identity-decision').textContent()).resolves.toContain(
      `the same person as Patient/${patientA!.id}`,
    );
    // Applied to the participant: it now holds the clinic's MRN, and no second Patient was made.
    const byMrn = await eventuallyFound(() => patientsOf(a.mrn));
    expect(byMrn.map((p) => p.id)).toEqual([patientA!.id]);

    await page.goto(`${hub.url}/ui/identities`);
    const caseC = page.locator('section.identity-case', { hasText: `MSH-10 IC${c.tag}` });
    await caseC.getByLabel('A different person: apply as a new participant').check();
    await caseC.getByLabel(/^Corrected mrn/).fill(`${c.mrn}-2`);
    await caseC.getByLabel('Why (audited)').fill('Two people shared a registration at the front desk');
    await caseC.getByRole('button', { name: 'Decide' }).click();
    await page.waitForURL(/\/ui\/messages\//);
    const [patientC] = await eventuallyFound(() => patientsOf(c.medicaid));
    expect(patientC!.id).not.toBe(patientB!.id);
    const values = (patientC!.identifier ?? []).map((i) => `${i.system}|${i.value}`);
    expect(values.some((v) => v.endsWith(`|${c.mrn}-2`))).toBe(true);
    expect(values.some((v) => v.includes('/sid/hub/disputed-identifier|') && v.endsWith(b.ssn))).toBe(true);
    expect((await patientsOf(b.mrn)).map((p) => p.id)).toEqual([patientB!.id]);
    const decisions = await fhir.search<AuditEvent>('AuditEvent', {
      type: 'http://dicom.nema.org/resources/ontology/DCM|110110',
    });
    const reasons = decisions.map((e) => e.entity?.[0]?.description);
    expect(reasons).toContain('Birth year mistyped at admission; confirmed with the clinic');
    expect(reasons).toContain('Two people shared a registration at the front desk');
    await page.context().close();
  });

  it('charts throughput per partner and format, counted once each', async () => {
    const page = await signIn('eli', '/ui/throughput?days=1');
    const valueOf = async (kind: string, label: string): Promise<number> => {
      const row = page.locator(`figure[aria-labelledby="chart-${kind}-title"] tbody tr`, { hasText: label });
      return (await row.count()) === 0 ? 0 : Number(await row.locator('td').nth(1).textContent());
    };
    // What this file sent: a service plan for each of the three participants, the changed plan,
    // and one for the identity review; one EVV row refused at the door, then replayed fixed.
    await expect(valueOf('received', 'sunrise-hcbs service-plan')).resolves.toBe(5);
    await expect(valueOf('rejected', 'sunrise-hcbs evv-csv')).resolves.toBe(1);
    await expect(valueOf('received', 'sunrise-hcbs evv-csv')).resolves.toBe(1);
    // The two admissions held for identity conflicts failed once each, then were applied.
    await expect(valueOf('failed', 'northside-bh hl7v2-adt')).resolves.toBe(2);
    await expect(valueOf('delivered', 'northside-bh delivery')).resolves.toBeGreaterThan(0);
    await expect(page.locator('#hourly tbody tr').count()).resolves.toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, 'throughput.png'), fullPage: true });
    await page.context().close();
  });

  it('lets an engineer try a mapping change on a sample before activating it', async () => {
    const person = newPerson();
    const sample = evvCsv(evvRow(person, `MB-${person.tag}`, 'PCAN'));
    // The candidate: sunrise-hcbs's file with the agency's new code PCAN (cancelled by the provider).
    const file = parse(readFileSync(path.join(partners, 'sunrise-hcbs.yaml'), 'utf8')) as {
      mappingVersion?: string;
      codeTranslations: { visitStatus: Record<string, string> };
    };
    file.mappingVersion = '2026-12-bench';
    file.codeTranslations.visitStatus.PCAN = 'cancelled';
    const page = await signIn('eli', '/ui/mapping-bench');
    await page.getByLabel('Partner', { exact: true }).selectOption('sunrise-hcbs');
    await page.getByLabel('Format', { exact: true }).selectOption('evv-csv');
    await page.getByLabel('Sample, as the partner sends it').fill(sample);
    await page.getByLabel(/^Candidate partner file/).fill(stringify(file));
    await page.locator('input[name="validate"]').check();
    await page.getByRole('button', { name: 'Try it' }).click();
    const row = page.locator('#bench-results tbody tr').first();
    await row.waitFor();
    const [active, candidate, difference] = await row.locator('td').allTextContents();
    expect(active).toMatch(/rejected[\s\S]*VisitStatus[\s\S]*PCAN/);
    expect(candidate).toMatch(/accepted: writes [^\n]*Encounter/);
    expect(difference).toContain('newly accepted');
    await expect(page.locator('#bench-results caption').textContent()).resolves.toContain(
      'and 2026-12-bench (candidate)',
    );
    await page.screenshot({ path: path.join(SHOTS, 'mapping-bench.png'), fullPage: true });
    // Nothing was written: no Patient holds the sample's Medicaid ID.
    await expect(fhir.search('Patient', { identifier: person.medicaid })).resolves.toEqual([]);
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

  it('shows an alert once its condition held for the debounce, and clears it when it recovers', async () => {
    // Last: northside-bh's circuit is opened for eight seconds, holding its deliveries.
    const redis = testRedis();
    const opened = Date.now();
    try {
      const settings = { failureThreshold: 1, windowMs: 60_000, cooldownMs: 8000 };
      await new CircuitBreaker(redis, prefix).recordFailure('northside-bh', settings, opened, false);
    } finally {
      redis.disconnect();
    }
    const page = await signIn('eli', '/ui/operations');
    const alert = page.locator('#alerts tbody tr', { hasText: 'circuit-open:northside-bh' }).first();
    const stateOf = async (): Promise<string> => {
      await page.reload();
      return (await alert.count()) > 0
        ? ((await alert.locator('td').first().textContent()) ?? '').trim()
        : '';
    };
    const waitFor = async (state: string): Promise<number> => {
      for (let i = 0; i < 80; i++) {
        if ((await stateOf()) === state) {
          return Date.now();
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`the alert was never ${state}`);
    };
    const raisedAt = await waitFor('raised');
    // Not before the condition held for the debounce (two seconds).
    expect(raisedAt - opened).toBeGreaterThanOrEqual(2000);
    await page.screenshot({ path: path.join(SHOTS, 'alerts.png'), fullPage: true });
    await waitFor('cleared');
    // Raised once, as one Communication to the engineers, completed when it cleared.
    const notices = await fhir.search<Communication>('Communication', {
      identifier: `${IDENTIFIER_BASE}/sid/hub/engineer-alert|`,
    });
    // (The FHIR server is shared: only this run's.)
    const mine = notices.filter(
      (c) =>
        c.payload?.[0]?.contentString?.startsWith('northside-bh: circuit open') &&
        Date.parse(c.sent ?? '') >= opened,
    );
    expect(mine.map((c) => c.status)).toEqual(['completed']);
    await page.context().close();
  });
});

/** Waits for a search the worker's write will satisfy. */
async function eventuallyFound<T>(search: () => Promise<T[]>): Promise<T[]> {
  for (let i = 0; i < 60; i++) {
    const found = await search();
    if (found.length > 0) {
      return found;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('not found in time');
}
