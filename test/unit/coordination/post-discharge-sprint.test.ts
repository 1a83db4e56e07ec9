import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodeSystem } from 'fhir/r4.js';
import { ConfigError } from '../../../src/errors/hub-error.js';
import { loadSprintTemplate, sprintTasks } from '../../../src/coordination/post-discharge-sprint.js';

const root = path.resolve(import.meta.dirname, '../../..');
const shipped = path.join(root, 'config/coordination/post-discharge-sprint.json');
const taskCodes = (
  JSON.parse(readFileSync(path.join(root, 'profiles/CodeSystem-hub-task-code.json'), 'utf8')) as CodeSystem
).concept!.map((c) => c.code);

function variant(edit: (pd: { action: Record<string, unknown>[] }) => void): string {
  const pd = JSON.parse(readFileSync(shipped, 'utf8')) as { action: Record<string, unknown>[] };
  edit(pd);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'sprint-')), 'post-discharge-sprint.json');
  writeFileSync(file, JSON.stringify(pd));
  return file;
}

describe('post-discharge sprint template', () => {
  it('reads the shipped PlanDefinition: Day 0 due in 24 h, Day 1 in 48 h, Day 2-3 in 72 h', async () => {
    const template = await loadSprintTemplate(shipped, taskCodes);
    expect(template.canonical).toBe(
      'https://carecoord.example.org/fhir/PlanDefinition/post-discharge-sprint|1',
    );
    expect(template.steps.map((s) => [s.prefix, s.code, s.dueAfterMs / 3600_000])).toEqual([
      ['Day 0', 'discharge-summary', 24],
      ['Day 0', 'medication-reconciliation', 24],
      ['Day 0', 'immediate-risk-review', 24],
      ['Day 1', 'first-visit-confirmed', 48],
      ['Day 1', 'home-environment-check', 48],
      ['Day 2-3', 'services-active-check', 72],
    ]);
  });

  it('turns each step into a Task owned per its code and due after the discharge', async () => {
    const template = await loadSprintTemplate(shipped, taskCodes);
    const tasks = sprintTasks(template, {
      identifierBase: 'https://hub.example.org',
      patient: 'Patient/7',
      encounter: 'Encounter/9',
      dischargeAt: new Date('2026-11-20T15:00:00Z'),
      ownerOf: (code) => ({
        reference: code === 'medication-reconciliation' ? 'Organization/bh' : 'Organization/hcbs',
      }),
      requester: { reference: 'Organization/bh' },
    });
    expect(
      tasks.map((t) => [t.code?.coding?.[0]?.code, t.owner?.reference, t.restriction?.period?.end]),
    ).toEqual([
      ['discharge-summary', 'Organization/hcbs', '2026-11-21T15:00:00.000Z'],
      ['medication-reconciliation', 'Organization/bh', '2026-11-21T15:00:00.000Z'],
      ['immediate-risk-review', 'Organization/hcbs', '2026-11-21T15:00:00.000Z'],
      ['first-visit-confirmed', 'Organization/hcbs', '2026-11-22T15:00:00.000Z'],
      ['home-environment-check', 'Organization/hcbs', '2026-11-22T15:00:00.000Z'],
      ['services-active-check', 'Organization/hcbs', '2026-11-23T15:00:00.000Z'],
    ]);
    expect(new Set(tasks.map((t) => t.groupIdentifier?.value))).toEqual(new Set(['Encounter-9']));
    expect(new Set(tasks.map((t) => t.identifier?.[0]?.value)).size).toBe(6);
  });

  it('follows a changed window in the file', async () => {
    const file = variant((pd) => {
      pd.action[0]!.timingDuration = { value: 6, unit: 'h', system: 'http://unitsofmeasure.org', code: 'h' };
    });
    expect((await loadSprintTemplate(file, taskCodes)).steps[0]!.dueAfterMs).toBe(6 * 3600_000);
  });

  it('refuses actions without timing, without a hub task code, or with a repeated id', async () => {
    const file = variant((pd) => {
      delete pd.action[2]!.timingDuration;
    });
    const err = (await loadSprintTemplate(file, taskCodes).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems.join('\n')).toContain(
      'post-discharge-sprint.json: /action/2/timingDuration is required',
    );

    const semantic = variant((pd) => {
      pd.action[1]!.code = [{ coding: [{ system: 'http://example.org/other', code: 'x' }] }];
      pd.action[4]!.id = pd.action[3]!.id;
    });
    const second = (await loadSprintTemplate(semantic, taskCodes).catch((e: unknown) => e)) as ConfigError;
    expect(second.problems).toEqual([
      'post-discharge-sprint.json: /action/1/code needs a code from https://carecoord.example.org/fhir/CodeSystem/hub-task-code',
      'post-discharge-sprint.json: /action/4/id "day1-first-visit" is used twice',
    ]);
  });
});
