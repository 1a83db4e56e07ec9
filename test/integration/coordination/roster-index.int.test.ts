import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { CareTeam, Flag, Patient, Task } from 'fhir/r4.js';
import { localDate } from '../../../src/coordination/business-calendar.js';
import { RosterIndex } from '../../../src/coordination/roster-index.js';
import { buildRoster, type RosterDeps } from '../../../src/coordination/roster-service.js';
import type { RosterEntry } from '../../../src/coordination/roster.rules.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';
import { hubSystem } from '../../../src/fhir/hub-identifiers.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { testGateway, testRedis } from '../../support/test-env.js';

/**
 * The roster index against real HAPI and Redis: what another system writes straight to the FHIR
 * server shows on the next read, and what is kept ranks as a full read does.
 */
describe('the roster index', () => {
  const fhir = testGateway();
  const redis = testRedis();
  const prefix = testPrefix();
  // An identifier base of this test's own: only its care teams are on its roster (Tasks are shared).
  const identifierBase = `https://roster-${randomUUID().slice(0, 8)}.example`;
  const agency = `roster-${randomUUID().slice(0, 8)}`;
  const deps: RosterDeps = {
    fhir,
    identifierBase,
    now: () => new Date(),
    config: {
      roster: {
        flags: {
          'self-harm-risk': { weight: 100, label: 'Self-harm risk' },
          'recent-ed-contact': { weight: 80, label: 'Recent ED contact', withinDays: 14 },
          'no-coordinator-today': { weight: 60, label: 'No coordinator today' },
        },
      },
      calendars: { timeZone: 'America/New_York' },
    } as unknown as RosterDeps['config'],
  };
  const index = (): RosterIndex => new RosterIndex({ ...deps, fhir, redis, prefix });
  beforeAll(async () => {
    await fhir.update({ resourceType: 'Organization', id: agency, name: 'Roster test agency' });
  });
  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  const participant = async (name: string): Promise<string> => {
    const patient = await fhir.create<Patient>({ resourceType: 'Patient', name: [{ text: name }] });
    const team: CareTeam = {
      resourceType: 'CareTeam',
      status: 'active',
      identifier: [{ system: hubSystem(identifierBase, 'care-team'), value: randomUUID() }],
      subject: { reference: `Patient/${patient.id}` },
      participant: [{ member: { reference: `Organization/${agency}` } }],
    };
    await fhir.create(team);
    return `Patient/${patient.id}`;
  };
  const flag = (patient: string, code: string): Promise<Flag> =>
    fhir.create<Flag>({
      resourceType: 'Flag',
      status: 'active',
      code: { coding: [{ system: CODE_SYSTEM.riskFlag, code }] },
      subject: { reference: patient },
      period: { start: new Date().toISOString() },
    });
  // Ranks count other tests' participants too (open Tasks are shared): compared without them.
  const ours = (entries: readonly RosterEntry[], patients: string[]): Omit<RosterEntry, 'rank'>[] =>
    entries.filter((e) => patients.includes(e.patient)).map(({ rank: _, ...e }) => e);

  it('shows on the next read what was written straight to the FHIR server, and drops who left', async () => {
    const roster = index();
    const quiet = await participant('Quinn Quiet');
    expect(ours(await roster.entries(), [quiet]).map((e) => e.score)).toEqual([60]);

    // Written after the index was built: a new participant, a flag on the first, an open Task.
    const risky = await participant('Riley Risk');
    await flag(risky, 'self-harm-risk');
    await flag(quiet, 'recent-ed-contact');
    const task = await fhir.create<Task>({
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: CODE_SYSTEM.taskCode, code: 'documentation-24h' }] },
      for: { reference: quiet },
      restriction: { period: { end: new Date(Date.now() + 3_600_000).toISOString() } },
    });
    const after = ours(await roster.entries(), [quiet, risky]);
    expect(after.map((e) => [e.patient, e.score, e.name])).toEqual([
      [risky, 160, 'Riley Risk'],
      [quiet, 140, 'Quinn Quiet'],
    ]);
    expect(after[1]!.nextAction?.task).toBe(`Task/${task.id}`);

    // Another replica keeps the same (one hash, one set of checkpoints).
    expect(ours(await index().entries(), [quiet, risky])).toEqual(after);

    // The care team ends and the Task is done: off the roster.
    const [team] = await fhir.search<CareTeam>('CareTeam', { subject: risky });
    await fhir.update({ ...team!, status: 'inactive' });
    await fhir.update({ ...task, status: 'completed' });
    const later = ours(await roster.entries(), [quiet, risky]);
    expect(later.map((e) => e.patient)).toEqual([quiet]);
    expect(later[0]!.nextAction).toBeUndefined();
  });

  it('ranks what it keeps exactly as a full read of the server does, filters included', async () => {
    const a = await participant('Avery Able');
    const b = await participant('Blake Bold');
    await flag(b, 'self-harm-risk');
    const roster = index();
    for (const filter of [{}, { agency }, { flag: 'self-harm-risk' }, { agency: 'nobody' }]) {
      const [kept, read] = await Promise.all([roster.entries(filter), buildRoster(deps, filter)]);
      expect(ours(kept, [a, b])).toEqual(ours(read, [a, b]));
    }
  });

  it('ranks again when the clock passes a due time or the day changes, though nothing was written', async () => {
    let clock = Date.now();
    const roster = new RosterIndex({ ...deps, now: () => new Date(clock), fhir, redis, prefix });
    const today = localDate('America/New_York', new Date(clock));
    const patient = await fhir.create<Patient>({ resourceType: 'Patient', name: [{ text: 'Tate Timely' }] });
    const subject = `Patient/${patient.id}`;
    await fhir.create<CareTeam>({
      resourceType: 'CareTeam',
      status: 'active',
      identifier: [{ system: hubSystem(identifierBase, 'care-team'), value: randomUUID() }],
      subject: { reference: subject },
      participant: [
        {
          member: { display: 'Casey Today' },
          role: [{ coding: [{ system: CODE_SYSTEM.careTeamRole, code: 'coordinator-of-the-day' }] }],
          period: { start: today, end: today },
        },
      ],
    });
    const due = clock + 60_000;
    await fhir.create<Task>({
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: CODE_SYSTEM.taskCode, code: 'documentation-24h' }] },
      for: { reference: subject },
      restriction: { period: { end: new Date(due).toISOString() } },
    });
    const read = async (): Promise<[number, boolean | undefined, string | undefined]> => {
      const [entry] = ours(await roster.entries(), [subject]);
      return [entry!.overdueDocumentation, entry!.nextAction?.overdue, entry!.coordinator?.display];
    };
    expect(await read()).toEqual([0, false, 'Casey Today']);
    clock = due;
    expect(await read()).toEqual([0, false, 'Casey Today']);
    clock = due + 1;
    expect(await read()).toEqual([1, true, 'Casey Today']);
    clock += 86_400_000;
    expect(await read()).toEqual([1, true, undefined]);
  });

  it('reads nobody again when nothing changed since the last catch-up, even right after a burst', async () => {
    const roster = index();
    await participant('Dana Done');
    await roster.catchUp();
    const searches = jest.spyOn(fhir, 'search');
    try {
      await roster.catchUp();
      await roster.entries();
      expect(searches).not.toHaveBeenCalled();
    } finally {
      searches.mockRestore();
    }
  });

  it('parses what is kept again only after a change, made by this replica or another', async () => {
    const [mine, other] = [index(), index()];
    const patient = await participant('Morgan Mended');
    const kept = `${prefix}:roster:participants`;
    expect(ours(await mine.entries(), [patient]).map((e) => e.name)).toEqual(['Morgan Mended']);
    const stored = JSON.parse((await redis.hget(kept, patient))!) as Record<string, unknown>;

    // Changed behind the index's back, with no new revision: what was parsed is ranked again.
    await redis.hset(kept, patient, JSON.stringify({ ...stored, name: 'Not read again' }));
    expect(ours(await mine.entries(), [patient]).map((e) => e.name)).toEqual(['Morgan Mended']);

    // Another replica catches up with a new flag: this one's own catch-up then finds nothing new,
    // and only the revision says that what it parsed is old.
    await flag(patient, 'self-harm-risk');
    await other.catchUp();
    expect(ours(await mine.entries(), [patient]).map((e) => [e.name, e.score])).toEqual([
      ['Morgan Mended', 160],
    ]);
  });

  it('a catch-up asked for while another runs sees what was written before it was asked', async () => {
    const roster = index();
    await roster.catchUp();
    const original = fhir.historyAsOf.bind(fhir);
    let release = (): void => undefined;
    let reads = 0;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The running catch-up has read history and is held there until the write below is made.
    const history = jest
      .spyOn(fhir, 'historyAsOf')
      .mockImplementation(async (...args: Parameters<typeof original>) => {
        const read = await original(...args);
        reads += 1;
        await gate;
        return read;
      });
    try {
      const running = roster.catchUp();
      while (reads < 4) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const late = await participant('Lee Late');
      const asked = roster.catchUp();
      release();
      await Promise.all([running, asked]);
      expect(await redis.hexists(`${prefix}:roster:participants`, late)).toBe(1);
    } finally {
      history.mockRestore();
    }
  });

  it('leaves the periodic work undone until a read has built the roster', async () => {
    const other = `{ingest-test-${randomUUID().slice(0, 8)}}`;
    const unread = new RosterIndex({ ...deps, fhir, redis, prefix: other });
    const searches = jest.spyOn(fhir, 'search');
    try {
      await unread.maintain('catch-up');
      await unread.maintain('rebuild');
      expect(searches).not.toHaveBeenCalled();
      expect(await redis.exists(`${other}:roster:built`)).toBe(0);
    } finally {
      searches.mockRestore();
      await dropPrefix(other);
    }
  });

  it('mends on a rebuild what history cannot say: a deleted flag', async () => {
    const roster = index();
    const c = await participant('Cameron Clear');
    const raised = await flag(c, 'self-harm-risk');
    expect(ours(await roster.entries(), [c]).map((e) => e.score)).toEqual([160]);
    await fhir.delete('Flag', raised.id!);
    await roster.rebuild();
    expect(ours(await roster.entries(), [c]).map((e) => e.score)).toEqual([60]);
  });
});
