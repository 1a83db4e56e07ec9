/**
 * Issue 5 acceptance: the rules are configuration. A hub started on a copy of the shipped rules
 * with other windows behaves by them, with no code change; a broken rules folder stops start-up
 * naming each problem.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Task } from 'fhir/r4.js';
import { DateTime } from 'luxon';
import { ConfigError } from '../../../src/errors/hub-error.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  dropPrefix,
  eventually,
  ingest,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import { adt, MEDICAID_SYSTEM, newPerson, servicePlan } from '../../fixtures/ingest/samples.js';
import { coordinationDir } from '../../support/config-dirs.js';

describe('coordination rules as configuration', () => {
  const prefix = testPrefix();
  let hub: RunningHub;

  beforeAll(async () => {
    // Day 0 of the sprint in 6 hours instead of 24; first contact after discharge recorded within 2 hours.
    const dir = coordinationDir({
      'post-discharge-sprint.json': (pd: { action: { prefix: string; timingDuration: unknown }[] }) => {
        for (const action of pd.action.filter((a) => a.prefix === 'Day 0')) {
          action.timingDuration = { value: 6, unit: 'h', system: 'http://unitsofmeasure.org', code: 'h' };
        }
      },
      'documentation.yaml': (doc) => {
        doc.window = { hours: 2 };
      },
    });
    hub = await startTestHub(prefix, { COORDINATION_CONFIG_DIR: dir });
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  it('opens the sprint and the documentation obligation with the configured windows', async () => {
    const person = newPerson();
    const dischargedAt = DateTime.now().setZone('America/New_York').minus({ minutes: 10 }).startOf('second');
    expect((await ingest(hub, 'sunrise-hcbs', 'service-plan', servicePlan(person))).status).toBe(200);
    const a03 = adt(person, {
      trigger: 'A03',
      controlId: `A03-${person.tag}`,
      visitNumber: `V-${person.tag}`,
      dischargeAt: dischargedAt.toFormat('yyyyLLddHHmmss'),
    });
    expect((await ingest(hub, 'northside-bh', 'hl7v2-adt', a03, 'application/hl7-v2')).status).toBe(200);

    const [patient] = await hub.fhir.search('Patient', {
      identifier: `${MEDICAID_SYSTEM}|${person.medicaid}`,
    });
    const dueOf = (code: string): Promise<number> =>
      eventually(async () => {
        const [task] = await hub.fhir.search<Task>('Task', {
          patient: `Patient/${patient!.id}`,
          code: `${CODE_SYSTEM.taskCode}|${code}`,
        });
        return task ? Date.parse(task.restriction!.period!.end!) : undefined;
      });
    const hours = (ms: number): number => (ms - dischargedAt.toMillis()) / 3600_000;
    expect(hours(await dueOf('medication-reconciliation'))).toBe(6);
    expect(hours(await dueOf('first-visit-confirmed'))).toBe(48);
    expect(hours(await dueOf('documentation-24h'))).toBe(2);
  });

  it('refuses to start on rules that contradict each other, naming every problem', async () => {
    const dir = coordinationDir({
      'escalation-tiers.yaml': (tiers) => {
        delete tiers.triggers['missed-documentation'];
        tiers.tiers['same-day'].chair.organization = 'nobody';
      },
      'documentation.yaml': (doc) => {
        doc.requirements[0].owner = 'right:no-such-right';
      },
    });
    const err = await startTestHub(testPrefix(), { COORDINATION_CONFIG_DIR: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(
      expect.arrayContaining([
        'COORDINATION_CONFIG_DIR escalation-tiers.yaml: /tiers/same-day/chair/organization "nobody" is not a partner',
        'COORDINATION_CONFIG_DIR escalation-tiers.yaml: /triggers/missed-documentation is missing: the coordination rules raise it',
        'COORDINATION_CONFIG_DIR documentation.yaml: /requirements/0/owner names decision right "no-such-right", which decision-rights.yaml does not define',
      ]),
    );

    const files = coordinationDir({
      'calendars.yaml': (calendars) => {
        calendars.agencies['unknown-agency'] = calendars.default;
      },
      'roster.yaml': (roster) => {
        roster.flags['not-a-flag'] = { weight: 5, label: 'Typo' };
      },
    });
    const fileErr = await startTestHub(testPrefix(), { COORDINATION_CONFIG_DIR: files }).catch(
      (e: unknown) => e,
    );
    expect((fileErr as ConfigError).problems).toEqual([
      'COORDINATION_CONFIG_DIR calendars.yaml: /agencies/unknown-agency is not a partner',
      'COORDINATION_CONFIG_DIR roster.yaml: /flags/not-a-flag is not a hub risk flag code',
    ]);
  });
});
