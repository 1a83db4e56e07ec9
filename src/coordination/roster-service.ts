import type { CareTeam, Flag, Patient, Task } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubSystem } from '../fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import type { CoordinationConfig } from './coordination-config.js';
import { localDate } from './business-calendar.js';
import { coordinatorOn } from './coordinator.rules.js';
import { taskCodeOf } from './obligations.js';
import { rankRoster, type ParticipantSnapshot, type RosterEntry } from './roster.rules.js';

export interface RosterDeps {
  readonly fhir: FhirGateway;
  readonly identifierBase: string;
  readonly config: Pick<CoordinationConfig, 'roster' | 'calendars'>;
  readonly now: () => Date;
}

export interface RosterFilter {
  /** Only participants whose care team includes this partner. */
  readonly agency?: string;
  /** Only participants whose ranking includes this flag. */
  readonly flag?: string;
}

/** Today's roster, ranked, as a page or API reads it (the roster index, in the hub). */
export type RosterReader = (filter: RosterFilter) => Promise<readonly RosterEntry[]>;

const OPEN = 'requested,received,accepted,in-progress';
const PAGE = { _count: '500' };
/** Participants per search of their Tasks, teams, Flags or names. */
const CHUNK = 100;

/**
 * What the roster keeps of one participant between reads (roster-index.ts): today's coordinator and
 * the ranking are worked out when the roster is read, since both change with the day, not the data.
 */
export interface StoredParticipant {
  /** `Patient/<id>` */
  readonly patient: string;
  readonly name?: string;
  readonly flags: ParticipantSnapshot['flags'];
  readonly openTasks: ParticipantSnapshot['openTasks'];
  /** The active hub care team's members, with their roles and periods. */
  readonly team?: CareTeam['participant'];
}

/**
 * Today's huddle roster: every participant with an active shared care team or an open hub Task,
 * ranked by {@link rankRoster} on their active hub risk flags, with the reasons for each place.
 * Reads everything from the FHIR server; the roster index keeps the same between reads.
 */
export async function buildRoster(deps: RosterDeps, filter: RosterFilter = {}): Promise<RosterEntry[]> {
  return rankParticipants(deps, await readParticipants(deps), filter);
}

/** Ranks what was read of the participants for today, as {@link buildRoster} describes. */
export function rankParticipants(
  deps: Pick<RosterDeps, 'config' | 'now'>,
  participants: readonly StoredParticipant[],
  filter: RosterFilter = {},
): RosterEntry[] {
  const now = deps.now();
  // One day for the whole roster: working it out per participant was a tenth of a 10,000 read.
  const today = localDate(deps.config.calendars.timeZone, now);
  const snapshots = participants
    .filter((p) => !filter.agency || agenciesOf(p.team).includes(filter.agency))
    .map(({ team, ...p }): ParticipantSnapshot => {
      const coordinator = coordinatorOn(team ? { participant: team } : undefined, today);
      return {
        ...p,
        ...(coordinator
          ? { coordinator: { display: coordinator.display, reference: coordinator.reference } }
          : {}),
      };
    });
  const ranked = rankRoster(deps.config.roster, snapshots, now);
  return filter.flag ? ranked.filter((e) => e.reasons.some((r) => r.flag === filter.flag)) : ranked;
}

/**
 * What the roster needs of each participant on it: with `patients`, of those only (the ones with
 * neither an active hub care team nor an open hub Task are not on it); without, of everyone.
 */
export async function readParticipants(
  deps: Pick<RosterDeps, 'fhir' | 'identifierBase'>,
  patients?: readonly string[],
): Promise<StoredParticipant[]> {
  const teamQuery = { status: 'active', identifier: `${hubSystem(deps.identifierBase, 'care-team')}|` };
  const taskQuery = { status: OPEN, code: `${CODE_SYSTEM.taskCode}|` };
  const [tasks, teams] = patients
    ? await Promise.all([
        inChunks(patients, (some) =>
          deps.fhir.search<Task>('Task', { ...taskQuery, subject: some.join(','), ...PAGE }),
        ),
        inChunks(patients, (some) =>
          deps.fhir.search<CareTeam>('CareTeam', { ...teamQuery, subject: some.join(','), ...PAGE }),
        ),
      ])
    : await Promise.all([
        deps.fhir.search<Task>('Task', { ...taskQuery, ...PAGE }),
        deps.fhir.search<CareTeam>('CareTeam', { ...teamQuery, ...PAGE }),
      ]);
  const teamOf = new Map(
    teams.flatMap((t) => (t.subject?.reference ? [[t.subject.reference, t] as const] : [])),
  );
  const tasksOf = groupBy(tasks, (t) => t.for?.reference);
  const selected = [...new Set([...teamOf.keys(), ...tasksOf.keys()])];
  const [names, flags] = await Promise.all([
    patientNames(deps.fhir, selected),
    activeRiskFlags(deps.fhir, selected),
  ]);
  const flagsOf = groupBy(flags, (f) => f.subject.reference);
  return selected.map((patient): StoredParticipant => {
    const team = teamOf.get(patient)?.participant;
    return {
      patient,
      ...(names.get(patient) ? { name: names.get(patient) } : {}),
      flags: (flagsOf.get(patient) ?? []).flatMap((f) => {
        const code = f.code.coding?.find((c) => c.system === CODE_SYSTEM.riskFlag)?.code;
        return code
          ? [
              {
                code,
                source: `Flag/${f.id}`,
                ...(f.period?.start ? { since: f.period.start } : {}),
                ...(f.code.text ? { detail: f.code.text } : {}),
              },
            ]
          : [];
      }),
      openTasks: (tasksOf.get(patient) ?? []).map((t) => ({
        task: `Task/${t.id}`,
        code: taskCodeOf(t) ?? '',
        status: t.status,
        ...(t.owner?.display || t.owner?.reference ? { owner: t.owner.display ?? t.owner.reference } : {}),
        ...(t.restriction?.period?.end ? { due: t.restriction.period.end } : {}),
      })),
      ...(team ? { team } : {}),
    };
  });
}

function groupBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = k === undefined ? undefined : (groups.get(k) ?? groups.set(k, []).get(k));
    group?.push(item);
  }
  return groups;
}

/** One search per CHUNK participants, one after another (the server's URL and page limits). */
async function inChunks<T>(
  patients: readonly string[],
  search: (some: readonly string[]) => Promise<T[]>,
): Promise<T[]> {
  const found: T[] = [];
  for (let i = 0; i < patients.length; i += CHUNK) {
    found.push(...(await search(patients.slice(i, i + CHUNK))));
  }
  return found;
}

function agenciesOf(team: CareTeam['participant']): string[] {
  return (team ?? []).flatMap((p) =>
    [p.member?.reference, p.onBehalfOf?.reference].flatMap((r) => {
      const id = /^Organization\/(.+)$/.exec(r ?? '')?.[1];
      return id ? [id] : [];
    }),
  );
}

/** R4 defines no status or code search on Flag: read the participants' Flags and keep the active hub ones. */
async function activeRiskFlags(fhir: FhirGateway, patients: readonly string[]): Promise<Flag[]> {
  const found = await inChunks(patients, (some) =>
    fhir.search<Flag>('Flag', { subject: some.join(','), ...PAGE }),
  );
  return found.filter(
    (f) => f.status === 'active' && f.code.coding?.some((c) => c.system === CODE_SYSTEM.riskFlag),
  );
}

async function patientNames(fhir: FhirGateway, patients: readonly string[]): Promise<Map<string, string>> {
  const found = await inChunks(patients, (some) =>
    fhir.search<Patient>('Patient', { _id: some.map((p) => p.split('/')[1]).join(','), ...PAGE }),
  );
  const names = new Map<string, string>();
  for (const p of found) {
    const n = p.name?.[0];
    const text = n?.text ?? [n?.given?.join(' '), n?.family].filter(Boolean).join(' ');
    if (text) {
      names.set(`Patient/${p.id}`, text);
    }
  }
  return names;
}
