import type { CareTeam, Flag, Patient, Task } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubSystem } from '../fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import type { CoordinationConfig } from './coordination-config.js';
import { coordinatorOfTheDay } from './coordinator.rules.js';
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

const OPEN = 'requested,received,accepted,in-progress';
const PAGE = { _count: '500' };

/**
 * Today's huddle roster: every participant with an active shared care team or an open hub Task,
 * ranked by {@link rankRoster} on their active hub risk flags, with the reasons for each place.
 */
export async function buildRoster(deps: RosterDeps, filter: RosterFilter = {}): Promise<RosterEntry[]> {
  const now = deps.now();
  const [tasks, teams] = await Promise.all([
    deps.fhir.search<Task>('Task', { status: OPEN, code: `${CODE_SYSTEM.taskCode}|`, ...PAGE }),
    deps.fhir.search<CareTeam>('CareTeam', {
      status: 'active',
      identifier: `${hubSystem(deps.identifierBase, 'care-team')}|`,
      ...PAGE,
    }),
  ]);
  const teamOf = new Map(
    teams.flatMap((t) => (t.subject?.reference ? [[t.subject.reference, t] as const] : [])),
  );
  const patients = new Set<string>([
    ...teamOf.keys(),
    ...tasks.flatMap((t) => (t.for?.reference ? [t.for.reference] : [])),
  ]);
  const selected = [...patients].filter(
    (p) => !filter.agency || agenciesOf(teamOf.get(p)).includes(filter.agency),
  );
  const [names, flags] = await Promise.all([
    patientNames(deps.fhir, selected),
    activeRiskFlags(deps.fhir, selected),
  ]);

  const snapshots = selected.map((patient): ParticipantSnapshot => {
    const coordinator = coordinatorOfTheDay(teamOf.get(patient), now, deps.config.calendars.timeZone);
    return {
      patient,
      ...(names.get(patient) ? { name: names.get(patient) } : {}),
      flags: flags
        .filter((f) => f.subject.reference === patient)
        .flatMap((f) => {
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
      ...(coordinator
        ? { coordinator: { display: coordinator.display, reference: coordinator.reference } }
        : {}),
      openTasks: tasks
        .filter((t) => t.for?.reference === patient)
        .map((t) => ({
          task: `Task/${t.id}`,
          code: taskCodeOf(t) ?? '',
          status: t.status,
          ...(t.owner?.display || t.owner?.reference ? { owner: t.owner.display ?? t.owner.reference } : {}),
          ...(t.restriction?.period?.end ? { due: t.restriction.period.end } : {}),
        })),
    };
  });
  const ranked = rankRoster(deps.config.roster, snapshots, now);
  return filter.flag ? ranked.filter((e) => e.reasons.some((r) => r.flag === filter.flag)) : ranked;
}

function agenciesOf(team: CareTeam | undefined): string[] {
  return (team?.participant ?? []).flatMap((p) =>
    [p.member?.reference, p.onBehalfOf?.reference].flatMap((r) => {
      const id = /^Organization\/(.+)$/.exec(r ?? '')?.[1];
      return id ? [id] : [];
    }),
  );
}

/** R4 defines no status or code search on Flag: read the participants' Flags and keep the active hub ones. */
async function activeRiskFlags(fhir: FhirGateway, patients: readonly string[]): Promise<Flag[]> {
  const flags: Flag[] = [];
  for (let i = 0; i < patients.length; i += 100) {
    const found = await fhir.search<Flag>('Flag', { subject: patients.slice(i, i + 100).join(','), ...PAGE });
    flags.push(
      ...found.filter(
        (f) => f.status === 'active' && f.code.coding?.some((c) => c.system === CODE_SYSTEM.riskFlag),
      ),
    );
  }
  return flags;
}

async function patientNames(fhir: FhirGateway, patients: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (let i = 0; i < patients.length; i += 100) {
    const ids = patients.slice(i, i + 100).map((p) => p.split('/')[1]);
    const found = await fhir.search<Patient>('Patient', { _id: ids.join(','), ...PAGE });
    for (const p of found) {
      const n = p.name?.[0];
      const text = n?.text ?? [n?.given?.join(' '), n?.family].filter(Boolean).join(' ');
      if (text) {
        names.set(`Patient/${p.id}`, text);
      }
    }
  }
  return names;
}
