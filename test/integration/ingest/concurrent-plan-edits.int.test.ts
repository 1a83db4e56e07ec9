/**
 * Issue 4, item 8: two agencies editing the same version of the shared CarePlan through FHIR
 * messages never lose an update. Each message states the hub version it edited in the CarePlan's
 * `meta.versionId`; non-overlapping edits are merged, overlapping ones refuse the second edit with
 * the conflicting element named. Real HAPI and Redis, demo partners sunrise-hcbs and northside-bh.
 *
 * Both agencies write the plan under the same identifier (the one sunrise-hcbs created it with):
 * the hub does not tie identifier systems to partners, so the clinic's edit addresses the same
 * CarePlan, as an agency editing a shared plan it received would.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bundle, CarePlan, CarePlanActivity, MessageHeader, OperationOutcome } from 'fhir/r4.js';
import type { StoredRejection } from '../../../src/ingest/rejected-store.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';
import { createLogger } from '../../../src/logging/logger.js';
import { startHub, type RunningHub } from '../../../src/startup/start-hub.js';
import { testConfig, unique } from '../../support/test-env.js';

const IDENTIFIER_BASE = 'https://carecoord.example.org';
const PLAN_SYSTEM = `${IDENTIFIER_BASE}/sid/sunrise-hcbs/careplan`;
const PATIENT_URL = 'urn:uuid:0d6f3c52-5b1e-4c55-9a0e-000000000001';

type Partner = 'sunrise-hcbs' | 'northside-bh';

const activity = (description: string, performer: Partner, scheduledString: string): CarePlanActivity => ({
  detail: {
    status: 'scheduled',
    description,
    scheduledString,
    performer: [{ reference: `Organization/${performer}` }],
  },
});

describe('concurrent plan edits by two agencies', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startHub(testConfig(), createLogger('silent'));
  });

  afterAll(async () => {
    await hub?.close();
  });

  /** One participant and one plan identifier per test, so runs never meet earlier data. */
  function newCase(): { medicaid: string; planId: string } {
    return { medicaid: unique('MCD'), planId: unique('plan') };
  }

  /** The plan as an agency sends it: `baseVersion` is the hub version it edited (`meta.versionId`). */
  function plan(
    c: { planId: string },
    description: string,
    activities: CarePlanActivity[],
    baseVersion?: string,
  ): CarePlan {
    return {
      resourceType: 'CarePlan',
      ...(baseVersion ? { meta: { versionId: baseVersion } } : {}),
      identifier: [{ system: PLAN_SYSTEM, value: c.planId }],
      status: 'active',
      intent: 'plan',
      title: 'Shared support plan',
      description,
      subject: { reference: PATIENT_URL },
      author: { reference: 'Organization/sunrise-hcbs' },
      activity: activities,
    };
  }

  function message(sender: Partner, c: { medicaid: string }, carePlan: CarePlan): Bundle {
    return {
      resourceType: 'Bundle',
      type: 'message',
      entry: [
        {
          resource: {
            resourceType: 'MessageHeader',
            id: unique('msg'),
            eventCoding: { system: CODE_SYSTEM.messageEvent, code: 'careplan-update' },
            source: { endpoint: `https://${sender}.example.org/fhir` },
            sender: { reference: `Organization/${sender}` },
          },
        },
        {
          fullUrl: PATIENT_URL,
          resource: {
            resourceType: 'Patient',
            identifier: [{ system: `${IDENTIFIER_BASE}/sid/medicaid`, value: c.medicaid }],
          },
        },
        { fullUrl: 'urn:uuid:0d6f3c52-5b1e-4c55-9a0e-000000000002', resource: carePlan },
      ],
    };
  }

  interface Answer {
    readonly status: number;
    readonly code: string | undefined;
    readonly messageId: string;
    readonly outcome: OperationOutcome | undefined;
  }

  /** POSTs a message to `$process-message` and reads the response message. */
  async function send(bundle: Bundle): Promise<Answer> {
    const res = await fetch(`${hub.url}/fhir/$process-message`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(bundle),
    });
    const answer = (await res.json()) as Bundle;
    const header = answer.entry?.[0]?.resource as MessageHeader;
    const outcome = answer.entry?.find((e) => e.fullUrl === header.response?.details?.reference)?.resource as
      OperationOutcome | undefined;
    return {
      status: res.status,
      code: header.response?.code,
      messageId: (bundle.entry![0]!.resource as MessageHeader).id!,
      outcome,
    };
  }

  const diagnostics = (a: Answer): string[] => (a.outcome?.issue ?? []).map((i) => i.diagnostics ?? '');

  async function storedPlan(c: { planId: string }): Promise<CarePlan> {
    const found = await hub.fhir.search<CarePlan>('CarePlan', { identifier: `${PLAN_SYSTEM}|${c.planId}` });
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  const personalCare = activity('Personal care', 'sunrise-hcbs', 'daily');

  /** Version 1 of the plan, created by the HCBS provider. */
  async function createPlan(c: { medicaid: string; planId: string }): Promise<CarePlan> {
    const created = await send(message('sunrise-hcbs', c, plan(c, 'Stay at home safely', [personalCare])));
    expect({ status: created.status, code: created.code, diagnostics: diagnostics(created) }).toMatchObject({
      status: 200,
      code: 'ok',
    });
    const v1 = await storedPlan(c);
    expect(v1.meta?.versionId).toBe('1');
    return v1;
  }

  it('merges non-overlapping edits of the same version: both changes land', async () => {
    const c = newCase();
    await createPlan(c);

    const medication = activity('Medication review', 'northside-bh', 'monthly');
    const [clinic, provider] = await Promise.all([
      // the clinic adds an activity
      send(message('northside-bh', c, plan(c, 'Stay at home safely', [personalCare, medication], '1'))),
      // the HCBS provider rewrites the description
      send(
        message('sunrise-hcbs', c, plan(c, 'Stay at home safely, with family support', [personalCare], '1')),
      ),
    ]);
    for (const answer of [clinic, provider]) {
      expect({ status: answer.status, code: answer.code, diagnostics: diagnostics(answer) }).toMatchObject({
        status: 200,
        code: 'ok',
      });
    }

    const merged = await storedPlan(c);
    expect(merged.meta?.versionId).toBe('3');
    expect(merged.description).toBe('Stay at home safely, with family support');
    expect(merged.activity?.map((a) => a.detail?.description).sort()).toEqual([
      'Medication review',
      'Personal care',
    ]);
    expect(merged.activity?.find((a) => a.detail?.description === 'Medication review')).toEqual(medication);
    expect(merged.subject?.reference).toMatch(/^Patient\//);
  });

  it('refuses the second of two overlapping edits, naming the activity; the first edit stays', async () => {
    const c = newCase();
    await createPlan(c);

    // the clinic moves personal care to twice daily ...
    const first = await send(
      message(
        'northside-bh',
        c,
        plan(c, 'Stay at home safely', [activity('Personal care', 'sunrise-hcbs', 'twice daily')], '1'),
      ),
    );
    expect({ status: first.status, code: first.code, diagnostics: diagnostics(first) }).toMatchObject({
      status: 200,
      code: 'ok',
    });

    // ... while the HCBS provider, also editing version 1, moves it to mornings only
    const second = await send(
      message(
        'sunrise-hcbs',
        c,
        plan(c, 'Stay at home safely', [activity('Personal care', 'sunrise-hcbs', 'mornings only')], '1'),
      ),
    );
    expect({ status: second.status, code: second.code }).toEqual({ status: 422, code: 'fatal-error' });
    expect(diagnostics(second)).toEqual([
      expect.stringMatching(
        /CarePlan\.activity: CarePlan changed since version 1 by another edit \(now version 2\): activity "Personal care" was changed by both edits$/,
      ),
    ]);

    // kept for review in the rejected list, with the conflict named
    const res = await fetch(`${hub.url}/admin/rejected?partner=sunrise-hcbs`);
    expect(res.status).toBe(200);
    const rejection = ((await res.json()) as StoredRejection[]).find((r) => r.sourceId === second.messageId);
    expect(rejection).toMatchObject({
      partnerId: 'sunrise-hcbs',
      format: 'fhir-message',
      stage: 'write',
      issues: [
        {
          field: 'CarePlan.activity',
          message: expect.stringContaining('activity "Personal care" was changed by both'),
        },
      ],
    });

    // the plan keeps the clinic's change; nothing was overwritten
    const stored = await storedPlan(c);
    expect(stored.meta?.versionId).toBe('2');
    expect(stored.activity).toEqual([activity('Personal care', 'sunrise-hcbs', 'twice daily')]);
  });

  it('writes an edit of the current version as sent, and merges a stale one that changed something else', async () => {
    const c = newCase();
    await createPlan(c);

    const onHold = await send(
      message('sunrise-hcbs', c, {
        ...plan(c, 'Stay at home safely', [personalCare], '1'),
        status: 'on-hold',
      }),
    );
    expect(onHold.code).toBe('ok');
    expect((await storedPlan(c)).status).toBe('on-hold');

    // the clinic still edits version 1 (it has not seen the hold): its note is merged in, the hold stays
    const noted = await send(
      message('northside-bh', c, {
        ...plan(c, 'Stay at home safely', [personalCare], '1'),
        note: [{ text: 'Clinic follow-up booked' }],
      }),
    );
    expect(noted.code).toBe('ok');
    const stored = await storedPlan(c);
    expect(stored).toMatchObject({ status: 'on-hold', note: [{ text: 'Clinic follow-up booked' }] });
    expect(stored.meta?.versionId).toBe('3');
  });
});
