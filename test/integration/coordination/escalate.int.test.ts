import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Communication, Patient, Task } from 'fhir/r4.js';
import path from 'node:path';
import { loadPartners } from '../../../src/config/partners.js';
import {
  loadCoordinationConfig,
  type CoordinationConfig,
} from '../../../src/coordination/coordination-config.js';
import { escalate, escalateAll, type EscalationRequest } from '../../../src/coordination/escalate.js';
import { processEscalationJob, type EscalationJobData } from '../../../src/coordination/escalations.queue.js';
import type { Logger } from '../../../src/logging/logger.js';
import type { Job } from 'bullmq';
import { hubIdentifier } from '../../../src/fhir/hub-identifiers.js';
import { ensurePartnerOrganizations } from '../../../src/fhir/partner-organizations.js';
import { REPO_ROOT, testGateway, unique } from '../../support/test-env.js';

/** One escalation against real HAPI: what it writes, in how many calls, and what a repeat leaves alone. */
describe('escalate', () => {
  const fhir = testGateway();
  const identifierBase = `https://escalate-${unique('t').slice(-8)}.example`;
  let config: CoordinationConfig;
  let request: EscalationRequest;
  let partnerIds: string[];

  beforeAll(async () => {
    const partners = await loadPartners(path.join(REPO_ROOT, 'config/partners'), {});
    config = await loadCoordinationConfig(
      path.join(REPO_ROOT, 'config/coordination'),
      path.join(REPO_ROOT, 'profiles'),
      partners,
    );
    // The tier chairs are partner Organizations, which a hub writes at start-up: no hub runs here.
    await ensurePartnerOrganizations(fhir, partners.all(), identifierBase);
    partnerIds = partners.all().map((p) => p.id);
    const patient = await fhir.create<Patient>({
      resourceType: 'Patient',
      name: [{ text: 'Esme Escalated' }],
    });
    request = {
      trigger: 'ed-visit',
      patient: `Patient/${patient.id}`,
      focus: `Patient/${patient.id}`,
      detail: 'Seen in the ED overnight',
      at: new Date('2026-11-17T15:00:00Z'),
    };
  });

  it('writes the notice and the review Task pointing at it in one transaction, and never reopens a closed review', async () => {
    const transactions = jest.spyOn(fhir, 'transaction');
    const first = await escalate(fhir, identifierBase, config.tiers, config.calendars, request);
    // The care team read, then one transaction: no search and no write of its own per resource.
    expect(transactions).toHaveBeenCalledTimes(1);
    transactions.mockRestore();

    const task = await fhir.read<Task>('Task', first.task.split('/')[1]!);
    expect(task.input?.[0]?.valueReference?.reference).toBe(first.notice);
    expect((await fhir.read<Communication>('Communication', first.notice.split('/')[1]!)).about).toEqual([
      { reference: request.focus },
    ]);

    // The coordinator closes the review; the same escalation again changes nothing of it.
    await fhir.update<Task>({ ...task, status: 'completed' });
    const again = await escalate(fhir, identifierBase, config.tiers, config.calendars, request);
    expect(again).toMatchObject({ task: first.task, notice: first.notice });
    expect((await fhir.read<Task>('Task', task.id!)).status).toBe('completed');
  });

  it('takes the coordinator of the day from the request when the rules that raised it had read the team', async () => {
    const search = jest.spyOn(fhir, 'search');
    const coordinator = { reference: `Organization/${partnerIds[0]}`, display: 'Named by the rules' };
    const named = await escalate(fhir, identifierBase, config.tiers, config.calendars, {
      ...request,
      trigger: 'missed-documentation',
      coordinator,
    });
    const nobody = await escalate(fhir, identifierBase, config.tiers, config.calendars, {
      ...request,
      trigger: 'missed-sprint-step',
      coordinator: null,
    });
    expect(search).not.toHaveBeenCalled();
    search.mockRestore();
    expect(named.coordinator).toEqual(coordinator);
    expect((await fhir.read<Task>('Task', named.task.split('/')[1]!)).owner).toEqual(coordinator);
    expect(nobody.coordinator).toBeUndefined();
    expect((await fhir.read<Task>('Task', nobody.task.split('/')[1]!)).owner).toEqual(nobody.chair);
  });

  it('writes a rules run’s escalations in one transaction, reading the care team once, and a repeated one once', async () => {
    const transactions = jest.spyOn(fhir, 'transaction');
    const search = jest.spyOn(fhir, 'search');
    const selfHarm = { ...request, trigger: 'self-harm-risk' };
    const results = await escalateAll(fhir, identifierBase, config.tiers, config.calendars, [
      selfHarm,
      { ...request, trigger: 'injury' },
      selfHarm,
    ]);
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(search).toHaveBeenCalledTimes(1);
    transactions.mockRestore();
    search.mockRestore();
    expect(results).toHaveLength(2);
    expect(new Set(results.map((r) => r.task)).size).toBe(2);
    for (const r of results) {
      const task = await fhir.read<Task>('Task', r.task.split('/')[1]!);
      expect(task.input?.[0]?.valueReference?.reference).toBe(r.notice);
    }
  });

  it('writes the rest of a set when the server refuses one of its escalations, and still fails the job for it', async () => {
    const good = { ...request, trigger: 'police-ems' };
    const refused = { ...request, trigger: 'mobile-crisis', focus: 'Communication/never-written' };
    const run = processEscalationJob({
      fhir,
      identifierBase,
      coordination: config,
      logger: { info: () => undefined } as unknown as Logger,
    });
    const job = { data: { requests: [good, refused].map((r) => ({ ...r, at: r.at.toISOString() })) } };
    await expect(run(job as unknown as Job<EscalationJobData>)).rejects.toThrow(/never-written/);
    const id = hubIdentifier(
      identifierBase,
      'escalation-task',
      `police-ems.${request.focus.replace('/', '-')}`,
    );
    const written = await fhir.search<Task>('Task', { identifier: `${id.system}|${id.value}` });
    expect(written).toHaveLength(1);
  });
});
