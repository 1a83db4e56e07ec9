import { describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import type { RosterEntry } from '../../../src/coordination/roster.rules.js';
import {
  coordinationRoutes,
  type CoordinationRouteDeps,
} from '../../../src/http/routes/coordination.routes.js';

const entry = (rank: number, patient: string, score: number): RosterEntry => ({
  rank,
  patient,
  score,
  reasons: [],
  explanation: `score ${score}: no risk flags`,
  overdueAcknowledgments: 0,
  overdueDocumentation: 0,
});

/** The roster route alone, over a roster reader answering each ranking in turn. */
function app(rankings: readonly (readonly RosterEntry[])[]): express.Express {
  let read = 0;
  const deps = {
    now: () => new Date('2026-12-07T09:00:00Z'),
    roster: async () => rankings[Math.min(read++, rankings.length - 1)]!,
  } as unknown as CoordinationRouteDeps;
  return express().use(coordinationRoutes(deps));
}

describe('GET /roster', () => {
  it('answers the whole roster as JSON, the same ranking twice alike and a new ranking anew', async () => {
    const first = [entry(1, 'Patient/a', 100), entry(2, 'Patient/b', 0)];
    const next = [entry(1, 'Patient/b', 80), entry(2, 'Patient/a', 0)];
    const served = app([first, first, next]);
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(served).get('/roster');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      answers.push(res.body as { generatedAt: string; total: number; entries: RosterEntry[] });
    }
    const answer = (entries: RosterEntry[]): object => ({
      generatedAt: '2026-12-07T09:00:00.000Z',
      total: 2,
      entries,
    });
    expect(answers).toEqual([answer(first), answer(first), answer(next)]);
  });

  it('answers a part as before, with the link to the next', async () => {
    const res = await request(app([[entry(1, 'Patient/a', 100), entry(2, 'Patient/b', 0)]])).get(
      '/roster?limit=1',
    );
    expect(res.body).toMatchObject({ total: 2, entries: [{ patient: 'Patient/a' }] });
    expect(res.headers.link).toBe('</roster?limit=1&offset=1>; rel="next"');
  });
});
