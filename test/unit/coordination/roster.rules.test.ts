import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CodeSystem } from 'fhir/r4.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadRosterConfig } from '../../../src/coordination/coordination-config.js';
import {
  rankRoster,
  rankingHoldsUntil,
  type ParticipantSnapshot,
  type RosterConfig,
} from '../../../src/coordination/roster.rules.js';
import { ConfigError } from '../../../src/errors/hub-error.js';

const root = path.resolve(import.meta.dirname, '../../..');
const NOW = new Date('2026-03-10T12:00:00Z');

const config: RosterConfig = {
  flags: {
    'self-harm-risk': { weight: 100, label: 'Self-harm risk' },
    'recent-ed-contact': { weight: 80, label: 'Recent ED contact', withinDays: 14 },
    'no-coordinator-today': { weight: 60, label: 'No coordinator today' },
    'missed-visits': { weight: 50, label: 'Missed visits' },
    'housing-instability': { weight: 50, label: 'Housing instability' },
    'overdue-documentation': { weight: 40, label: 'Overdue documentation' },
    'overdue-acknowledgment': { weight: 35, label: 'Overdue plan acknowledgment' },
    'caregiver-stress': { weight: 25, label: 'Caregiver stress' },
  },
};

const COORDINATOR = { display: 'Alex Rivera', reference: 'Practitioner/alex' };

/** A participant with a coordinator today and nothing else, unless `over` says otherwise. */
function participant(id: string, over: Partial<ParticipantSnapshot> = {}): ParticipantSnapshot {
  return { patient: `Patient/${id}`, flags: [], coordinator: COORDINATOR, openTasks: [], ...over };
}

const flag = (code: string, source: string, since?: string): ParticipantSnapshot['flags'][number] => ({
  code,
  source,
  ...(since ? { since } : {}),
});

const task = (id: string, code: string, due?: string): ParticipantSnapshot['openTasks'][number] => ({
  task: `Task/${id}`,
  code,
  status: 'requested',
  owner: 'Organization/sunrise-hcbs',
  ...(due ? { due } : {}),
});

const order = (snapshots: readonly ParticipantSnapshot[]): string[] =>
  rankRoster(config, snapshots, NOW).map((e) => e.patient);

/** Every permutation of `items`, to show the order does not depend on the input's. */
function permutations<T>(items: readonly T[]): T[][] {
  return items.length <= 1
    ? [[...items]]
    : items.flatMap((item, i) =>
        permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
      );
}

describe('rankRoster', () => {
  it('puts the highest score first and numbers the ranks from 1', () => {
    const roster = rankRoster(
      config,
      [
        participant('low', { flags: [flag('caregiver-stress', 'Flag/1')] }),
        participant('high', { flags: [flag('self-harm-risk', 'Flag/2'), flag('missed-visits', 'Flag/3')] }),
        participant('none'),
        participant('mid', { flags: [flag('recent-ed-contact', 'Flag/4')] }),
      ],
      NOW,
    );
    expect(roster.map((e) => [e.rank, e.patient, e.score])).toEqual([
      [1, 'Patient/high', 150],
      [2, 'Patient/mid', 80],
      [3, 'Patient/low', 25],
      [4, 'Patient/none', 0],
    ]);
  });

  describe('ties', () => {
    it('breaks an equal score by the heaviest single flag', () => {
      // 100 both, but one grave flag comes before two lesser ones.
      expect(
        order([
          participant('a', {
            flags: [flag('missed-visits', 'Flag/1'), flag('housing-instability', 'Flag/2')],
          }),
          participant('b', { flags: [flag('self-harm-risk', 'Flag/3')] }),
        ]),
      ).toEqual(['Patient/b', 'Patient/a']);
    });

    it('then by the earliest next-action due time, a missing due time last', () => {
      const same = [flag('missed-visits', 'Flag/1')];
      expect(
        order([
          participant('a', { flags: same, openTasks: [task('1', 'huddle-action')] }),
          participant('b', { flags: same, openTasks: [task('2', 'huddle-action', '2026-03-12T09:00:00Z')] }),
          participant('c', { flags: same, openTasks: [task('3', 'huddle-action', '2026-03-11T09:00:00Z')] }),
        ]),
      ).toEqual(['Patient/c', 'Patient/b', 'Patient/a']);
    });

    it('then by the patient reference', () => {
      const same = {
        flags: [flag('missed-visits', 'Flag/1')],
        openTasks: [task('1', 'x', '2026-03-11T09:00:00Z')],
      };
      expect(order([participant('b', same), participant('c', same), participant('a', same)])).toEqual([
        'Patient/a',
        'Patient/b',
        'Patient/c',
      ]);
    });

    it('compares references by code unit, not by locale', () => {
      expect(order([participant('b'), participant('B'), participant('a')])).toEqual([
        'Patient/B',
        'Patient/a',
        'Patient/b',
      ]);
    });
  });

  it('gives the same roster for the same participants in any input order', () => {
    const snapshots = [
      participant('a', { flags: [flag('self-harm-risk', 'Flag/1')] }),
      participant('b', { flags: [flag('missed-visits', 'Flag/2'), flag('housing-instability', 'Flag/3')] }),
      participant('c', {
        flags: [flag('missed-visits', 'Flag/4')],
        openTasks: [task('1', 'x', '2026-03-11')],
      }),
      participant('d', { flags: [flag('missed-visits', 'Flag/5')] }),
      participant('e', { flags: [flag('housing-instability', 'Flag/6')] }),
      participant('f', {
        flags: [flag('caregiver-stress', 'Flag/7')],
        openTasks: [task('2', 'x'), task('3', 'y')],
      }),
    ];
    const expected = rankRoster(config, snapshots, NOW);
    expect(expected.map((e) => e.patient)).toEqual([
      'Patient/a',
      'Patient/b',
      'Patient/c',
      'Patient/d',
      'Patient/e',
      'Patient/f',
    ]);
    for (const shuffled of permutations(snapshots)) {
      expect(rankRoster(config, shuffled, NOW)).toEqual(expected);
    }
  });

  describe('derived flags', () => {
    it('raises no-coordinator-today, sourced to the participant, when nobody is named', () => {
      const [entry] = rankRoster(config, [participant('a', { coordinator: undefined })], NOW);
      expect(entry!.reasons).toEqual([
        { flag: 'no-coordinator-today', label: 'No coordinator today', weight: 60, sources: ['Patient/a'] },
      ]);
      expect(entry!.coordinator).toBeUndefined();
      expect(rankRoster(config, [participant('b')], NOW)[0]!.coordinator).toEqual(COORDINATOR);
    });

    it('raises overdue-acknowledgment and overdue-documentation once each, sourced to the overdue Tasks', () => {
      const [entry] = rankRoster(
        config,
        [
          participant('a', {
            openTasks: [
              task('ack-late-2', 'acknowledge-plan-change', '2026-03-09T09:00:00Z'),
              task('ack-late-1', 'acknowledge-plan-change', '2026-03-08T09:00:00Z'),
              task('ack-future', 'acknowledge-plan-change', '2026-03-11T09:00:00Z'),
              task('ack-no-due', 'acknowledge-plan-change'),
              task('doc-late', 'documentation-24h', '2026-03-10T11:59:59Z'),
              task('other-late', 'crisis-update', '2026-03-01T09:00:00Z'),
            ],
          }),
        ],
        NOW,
      );
      expect(entry!.overdueAcknowledgments).toBe(2);
      expect(entry!.overdueDocumentation).toBe(1);
      expect(entry!.score).toBe(40 + 35);
      expect(entry!.reasons).toEqual([
        {
          flag: 'overdue-documentation',
          label: 'Overdue documentation',
          weight: 40,
          sources: ['Task/doc-late'],
        },
        {
          flag: 'overdue-acknowledgment',
          label: 'Overdue plan acknowledgment',
          weight: 35,
          sources: ['Task/ack-late-1', 'Task/ack-late-2'],
        },
      ]);
    });

    it('raises no overdue alert for Tasks due now or later', () => {
      const [entry] = rankRoster(
        config,
        [participant('a', { openTasks: [task('1', 'documentation-24h', NOW.toISOString())] })],
        NOW,
      );
      expect(entry!.overdueDocumentation).toBe(0);
      expect(entry!.reasons).toEqual([]);
    });
  });

  describe('withinDays', () => {
    const ed = (since?: string) =>
      rankRoster(
        config,
        [participant('a', { flags: [flag('recent-ed-contact', 'Flag/1', since)] })],
        NOW,
      )[0]!;

    it('counts a flag raised within the window, the last day included', () => {
      expect(ed('2026-03-01T00:00:00Z').score).toBe(80);
      expect(ed('2026-02-24T12:00:00Z').score).toBe(80);
    });

    it('drops a flag raised before the window', () => {
      const entry = ed('2026-02-24T11:59:59Z');
      expect(entry.score).toBe(0);
      expect(entry.reasons).toEqual([]);
    });

    it('counts a flag with no start date', () => {
      expect(ed().score).toBe(80);
    });

    it('ignores the start date of a flag whose rule has no window', () => {
      const [entry] = rankRoster(
        config,
        [participant('a', { flags: [flag('self-harm-risk', 'Flag/1', '2020-01-01')] })],
        NOW,
      );
      expect(entry!.score).toBe(100);
    });

    it('keeps the recent sources of a flag raised several times', () => {
      const [entry] = rankRoster(
        config,
        [
          participant('a', {
            flags: [
              flag('recent-ed-contact', 'Flag/old', '2026-01-01'),
              flag('recent-ed-contact', 'Flag/new', '2026-03-09'),
            ],
          }),
        ],
        NOW,
      );
      expect(entry!.reasons).toEqual([
        { flag: 'recent-ed-contact', label: 'Recent ED contact', weight: 80, sources: ['Flag/new'] },
      ]);
    });
  });

  it('counts a flag present several times once, with all its sources', () => {
    const [entry] = rankRoster(
      config,
      [
        participant('a', {
          flags: [
            flag('missed-visits', 'Flag/9'),
            flag('missed-visits', 'Flag/10'),
            flag('missed-visits', 'Flag/9'),
          ],
        }),
      ],
      NOW,
    );
    expect(entry!.score).toBe(50);
    expect(entry!.reasons).toEqual([
      { flag: 'missed-visits', label: 'Missed visits', weight: 50, sources: ['Flag/10', 'Flag/9'] },
    ]);
  });

  it('lists a flag the config does not weigh with weight 0', () => {
    const [entry] = rankRoster(
      config,
      [
        participant('a', {
          flags: [flag('medication-change', 'Flag/1'), flag('caregiver-stress', 'Flag/2')],
        }),
      ],
      NOW,
    );
    expect(entry!.score).toBe(25);
    expect(entry!.reasons).toEqual([
      { flag: 'caregiver-stress', label: 'Caregiver stress', weight: 25, sources: ['Flag/2'] },
      { flag: 'medication-change', label: 'medication-change', weight: 0, sources: ['Flag/1'] },
    ]);
  });

  it('orders reasons by weight, then flag code', () => {
    const [entry] = rankRoster(
      config,
      [
        participant('a', {
          flags: [
            flag('caregiver-stress', 'Flag/1'),
            flag('missed-visits', 'Flag/2'),
            flag('self-harm-risk', 'Flag/3'),
            flag('housing-instability', 'Flag/4'),
          ],
        }),
      ],
      NOW,
    );
    expect(entry!.reasons.map((r) => r.flag)).toEqual([
      'self-harm-risk',
      'housing-instability',
      'missed-visits',
      'caregiver-stress',
    ]);
  });

  describe('explanation', () => {
    it('names each flag with its weight and sources, heaviest first', () => {
      const [entry] = rankRoster(
        config,
        [
          participant('a', {
            flags: [
              flag('recent-ed-contact', 'Flag/9', '2026-03-08'),
              flag('self-harm-risk', 'Flag/12'),
              flag('missed-visits', 'Flag/3'),
              flag('missed-visits', 'Flag/4'),
            ],
          }),
        ],
        NOW,
      );
      expect(entry!.explanation).toBe(
        'score 230: self-harm-risk (100, Flag/12), recent-ed-contact (80, Flag/9), missed-visits (50, Flag/3, Flag/4)',
      );
    });

    it('says so when there are no flags', () => {
      expect(rankRoster(config, [participant('a')], NOW)[0]!.explanation).toBe('score 0: no risk flags');
    });
  });

  describe('next action', () => {
    it('is the open Task due first, overdue when past due', () => {
      const [entry] = rankRoster(
        config,
        [
          participant('a', {
            openTasks: [
              task('later', 'huddle-action', '2026-03-12T09:00:00Z'),
              task('none', 'huddle-action'),
              task('late', 'crisis-update', '2026-03-09T09:00:00Z'),
            ],
          }),
        ],
        NOW,
      );
      expect(entry!.nextAction).toEqual({
        task: 'Task/late',
        code: 'crisis-update',
        owner: 'Organization/sunrise-hcbs',
        due: '2026-03-09T09:00:00Z',
        overdue: true,
      });
    });

    it('falls back to a Task with no due time, not overdue', () => {
      const [entry] = rankRoster(
        config,
        [participant('a', { openTasks: [task('b', 'x'), task('a', 'y')] })],
        NOW,
      );
      expect(entry!.nextAction).toEqual({
        task: 'Task/a',
        code: 'y',
        owner: 'Organization/sunrise-hcbs',
        overdue: false,
      });
    });

    it('treats an unreadable due time like none: last, and never overdue', () => {
      const [entry] = rankRoster(
        config,
        [
          participant('a', {
            openTasks: [task('bad', 'documentation-24h', 'soon'), task('ok', 'huddle-action', '2026-03-12')],
          }),
        ],
        NOW,
      );
      expect(entry!.nextAction?.task).toBe('Task/ok');
      expect(entry!.overdueDocumentation).toBe(0);
    });

    it('is absent when nothing is open', () => {
      expect(rankRoster(config, [participant('a')], NOW)[0]!.nextAction).toBeUndefined();
    });
  });

  it('carries the name through', () => {
    expect(rankRoster(config, [participant('a', { name: 'Jordan Lee' })], NOW)[0]!.name).toBe('Jordan Lee');
  });
});

describe('rankingHoldsUntil', () => {
  const at = (ms: number): string => new Date(NOW.getTime() + ms).toISOString();
  const DAY = 86_400_000;
  const snapshots = [
    participant('a', { openTasks: [task('late', 'documentation-24h', at(-60_000))] }),
    participant('b', { openTasks: [task('soon', 'acknowledge-plan-change', at(90_000))] }),
    participant('c', { flags: [flag('recent-ed-contact', 'Flag/1', at(-14 * DAY + 30_000))] }),
    participant('d', { flags: [flag('self-harm-risk', 'Flag/2', at(-400 * DAY))] }),
    participant('e', { openTasks: [task('later', 'documentation-24h', at(DAY))] }),
  ];

  it('is the first time a Task falls overdue or a flag ages out, and the ranking holds through it', () => {
    const until = rankingHoldsUntil(config, snapshots, NOW);
    // c's flag counts through 30 s from now; b's Task is due in 90 s.
    expect(until).toBe(NOW.getTime() + 30_000);
    expect(rankRoster(config, snapshots, new Date(until))).toEqual(rankRoster(config, snapshots, NOW));
    expect(rankRoster(config, snapshots, new Date(until + 1))).not.toEqual(
      rankRoster(config, snapshots, NOW),
    );
    const later = new Date(until + 1);
    const next = rankingHoldsUntil(config, snapshots, later);
    expect(next).toBe(NOW.getTime() + 90_000);
    expect(rankRoster(config, snapshots, new Date(next))).toEqual(rankRoster(config, snapshots, later));
    expect(rankRoster(config, snapshots, new Date(next + 1))).not.toEqual(
      rankRoster(config, snapshots, later),
    );
  });

  it('is Infinity when nothing the clock can change remains', () => {
    const settled = [
      participant('a', { openTasks: [task('late', 'documentation-24h', at(-1)), task('x', 'other')] }),
      participant('d', {
        flags: [flag('self-harm-risk', 'Flag/2', at(-DAY)), flag('missed-visits', 'Flag/3')],
      }),
    ];
    expect(rankingHoldsUntil(config, settled, NOW)).toBe(Infinity);
  });
});

describe('loadRosterConfig', () => {
  let dir: string;
  let knownCodes: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'roster-'));
    const cs = JSON.parse(
      await readFile(path.join(root, 'profiles/CodeSystem-hub-risk-flag.json'), 'utf8'),
    ) as CodeSystem;
    knownCodes = [
      ...new Set([
        ...(cs.concept ?? []).map((c) => c.code),
        'overdue-acknowledgment',
        'overdue-documentation',
      ]),
    ];
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes `text` as `roster.yaml` in its own folder and loads it. */
  async function load(text: string, name: string): Promise<RosterConfig> {
    const file = path.join(await mkdtemp(path.join(dir, `${name}-`)), 'roster.yaml');
    await writeFile(file, text);
    return loadRosterConfig(file, knownCodes);
  }

  async function problemsOf(text: string, name: string): Promise<string[]> {
    const err = await load(text, name).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }

  it('loads the shipped roster.yaml, which weighs every hub risk flag', async () => {
    const shipped = await loadRosterConfig(path.join(root, 'config/coordination/roster.yaml'), knownCodes);
    expect(Object.keys(shipped.flags).sort()).toEqual([...knownCodes].sort());
    for (const rule of Object.values(shipped.flags)) {
      expect(rule.weight).toBeGreaterThan(0);
    }
    expect(shipped.flags['self-harm-risk']!.weight).toBe(
      Math.max(...Object.values(shipped.flags).map((r) => r.weight)),
    );
  });

  it('loads a valid file, withinDays optional', async () => {
    await expect(
      load(
        'flags:\n  self-harm-risk: { weight: 100, label: Self-harm risk }\n  recent-ed-contact: { weight: 80, label: ED, withinDays: 14 }\n',
        'ok',
      ),
    ).resolves.toEqual({
      flags: {
        'self-harm-risk': { weight: 100, label: 'Self-harm risk' },
        'recent-ed-contact': { weight: 80, label: 'ED', withinDays: 14 },
      },
    });
  });

  it('rejects a code that is not a hub risk flag, naming file and pointer', async () => {
    expect(
      await problemsOf(
        'flags:\n  self-harm-risk: { weight: 100, label: S }\n  bogus-flag: { weight: 5, label: B }\n',
        'unknown',
      ),
    ).toEqual(['roster.yaml: /flags/bogus-flag is not a hub risk flag code']);
  });

  it.each([
    ['negative', '-5', 'must be >= 0'],
    ['fractional', '2.5', 'must be integer'],
    ['text', 'high', 'must be integer'],
    ['too large', '5000', 'must be <= 1000'],
  ])('rejects a %s weight', async (_what, weight, message) => {
    expect(await problemsOf(`flags:\n  self-harm-risk: { weight: ${weight}, label: S }\n`, 'weight')).toEqual(
      [`roster.yaml: /flags/self-harm-risk/weight ${message}`],
    );
  });

  it('rejects a missing weight, an unknown field and a bad window', async () => {
    expect(
      await problemsOf(
        'flags:\n  self-harm-risk: { label: S }\n  missed-visits: { weight: 5, label: M, withinDays: 0, colour: red }\n',
        'fields',
      ),
    ).toEqual(
      expect.arrayContaining([
        'roster.yaml: /flags/self-harm-risk/weight is required',
        'roster.yaml: /flags/missed-visits/colour is not a known field',
        'roster.yaml: /flags/missed-visits/withinDays must be >= 1',
      ]),
    );
  });

  it('rejects an empty flag map', async () => {
    expect(await problemsOf('flags: {}\n', 'empty')).toEqual([
      'roster.yaml: /flags must NOT have fewer than 1 properties',
    ]);
  });
});
