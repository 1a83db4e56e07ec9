import { describe, expect, it } from '@jest/globals';
import {
  checkActivation,
  formatGateReport,
  gateExitCode,
  parseMappingArgs,
  partnerPaths,
} from '../../../src/cli/mapping-gate.js';
import { compareTraffic, jsonDiff, parseCandidate } from '../../../src/ingest/mapping-compare.js';
import type { PartnerConfig } from '../../../src/config/partners.js';
import { defaultFormats } from '../../../src/ingest/format-registry.js';
import type { RecordedBatch } from '../../../src/ingest/traffic-recorder.js';

const BASE = 'https://carecoord.example.org';
const HEADER = 'VisitID,MedicaidID,ServiceCode,ScheduledStart,ScheduledEnd,ActualStart,ActualEnd,VisitStatus';
const current: PartnerConfig = {
  id: 'acme-hcbs',
  name: 'Acme Home Care',
  kind: 'hcbs-provider',
  mappingVersion: '3',
  inbound: { formats: ['evv-csv'] },
  codeTranslations: { visitStatus: { NS: 'missed' } },
};

function batch(...rows: string[]): RecordedBatch {
  return {
    format: 'evv-csv',
    receivedAt: '2026-11-20T10:00:00.000Z',
    body: Buffer.from([HEADER, ...rows].join('\n')),
  };
}

const traffic = [
  batch(
    'V-1,QX7781234,T1019,2025-03-03T09:00,2025-03-03T11:00,2025-03-03T09:04,2025-03-03T11:02,COMPLETED',
    'V-2,QX7781234,T1019,2025-03-04T09:00,2025-03-04T11:00,,,NS',
  ),
  batch('V-3,QX7781234,T1019,2025-03-05T09:00,2025-03-05T11:00,,,PCAN'),
];

describe('parseMappingArgs', () => {
  it('reads the three commands', () => {
    expect(parseMappingArgs(['diff', '--partner', 'a-b', '--candidate', 'x.yaml', '--limit', '5'])).toEqual({
      command: 'diff',
      partner: 'a-b',
      candidate: 'x.yaml',
      limit: 5,
    });
    expect(parseMappingArgs(['diff', '-p', 'a-b', '-c', 'x.yaml', '--json'])).toEqual({
      command: 'diff',
      partner: 'a-b',
      candidate: 'x.yaml',
      json: true,
    });
    expect(parseMappingArgs(['activate', '-p', 'a-b', '-c', 'x.yaml'])).toEqual({
      command: 'activate',
      partner: 'a-b',
      candidate: 'x.yaml',
    });
    expect(parseMappingArgs(['rollback', '--partner', 'a-b', '--to', '2'])).toEqual({
      command: 'rollback',
      partner: 'a-b',
      to: '2',
    });
  });

  it('explains a wrong command line', () => {
    expect(parseMappingArgs([])).toEqual({ error: 'a mapping command is required' });
    expect(parseMappingArgs(['promote'])).toEqual({ error: 'unknown mapping command "promote"' });
    expect(parseMappingArgs(['diff'])).toEqual({
      error: '--partner <id> is required; --candidate <file> is required',
    });
    expect(parseMappingArgs(['rollback', '--partner', 'a-b'])).toEqual({
      error: '--to <version> is required',
    });
    expect(parseMappingArgs(['diff', '-p', 'a', '-c', 'x', '--limit', '0'])).toEqual({
      error: '--limit must be a positive whole number',
    });
    expect(parseMappingArgs(['diff', '--nope'])).toHaveProperty('error');
  });
});

describe('jsonDiff', () => {
  it('finds nothing between equal values', () => {
    expect(jsonDiff({ a: [1, { b: 'x' }], c: null }, { c: null, a: [1, { b: 'x' }] })).toEqual([]);
  });

  it('names each added, removed and changed path', () => {
    expect(
      jsonDiff(
        { entry: [{ resource: { status: 'active', code: 'a' } }, { x: 1 }], gone: true },
        { entry: [{ resource: { status: 'inactive', note: 'n' } }], added: [1] },
      ),
    ).toEqual([
      { kind: 'changed', path: 'entry[0].resource.status', before: 'active', after: 'inactive' },
      { kind: 'removed', path: 'entry[0].resource.code', before: 'a' },
      { kind: 'added', path: 'entry[0].resource.note', after: 'n' },
      { kind: 'removed', path: 'entry[1]', before: { x: 1 } },
      { kind: 'removed', path: 'gone', before: true },
      { kind: 'added', path: 'added', after: [1] },
    ]);
  });

  it('reports a change of type as one change, and compares roots', () => {
    expect(jsonDiff({ a: [1] }, { a: { 0: 1 } })).toEqual([
      { kind: 'changed', path: 'a', before: [1], after: { 0: 1 } },
    ]);
    const flag = { resourceType: 'Flag', status: 'active' };
    const encounter = { resourceType: 'Encounter', status: 'cancelled' };
    expect(jsonDiff([flag], [encounter])).toEqual([
      { kind: 'changed', path: '[0]', before: flag, after: encounter },
    ]);
    expect(jsonDiff(1, 2)).toEqual([{ kind: 'changed', path: '(root)', before: 1, after: 2 }]);
    expect(jsonDiff({ a: undefined }, {})).toEqual([]);
  });
});

describe('compareTraffic', () => {
  const formats = defaultFormats();

  it('finds nothing when the candidate maps alike (mappers are deterministic)', () => {
    const report = compareTraffic(traffic, current, { ...current, mappingVersion: '4' }, formats, BASE);
    expect(report.records.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(report.warnings).toEqual([]);
    expect(gateExitCode(report)).toBe(0);
    expect(formatGateReport(report)).toContain('3 record(s): 3 unchanged, 0 changed');
  });

  it('diffs the FHIR output record by record and names newly accepted records', () => {
    const candidate: PartnerConfig = {
      ...current,
      mappingVersion: '4',
      codeTranslations: { visitStatus: { NS: 'cancelled', PCAN: 'cancelled' } },
    };
    const report = compareTraffic(traffic, current, candidate, formats, BASE);
    expect(report).toMatchObject({
      partner: 'acme-hcbs',
      currentVersion: '3',
      candidateVersion: '4',
      batches: 2,
    });
    expect(report.records.map((r) => [r.batch, r.sourceId, r.outcome])).toEqual([
      [1, 'V-1', 'unchanged'],
      [1, 'V-2', 'changed'],
      [2, 'V-3', 'newly-accepted'],
    ]);
    const changed = report.records[1]!;
    expect(changed.outcome === 'changed' && changed.changes.length).toBeGreaterThan(0);
    expect(report.records[2]).toMatchObject({ writes: ['Encounter'] });
    expect(gateExitCode(report)).toBe(1);
    const text = formatGateReport(report);
    expect(text).toContain('1 unchanged, 1 changed, 0 newly rejected, 1 newly accepted');
    expect(text).toMatch(/== batch 1 \(evv-csv, 2026-11-20T10:00:00.000Z\) .*V-2.*: CHANGED\n {3}[~+-] /);
    expect(text).toMatch(/V-3.*: NEWLY ACCEPTED, writes Encounter; was rejected for:\n {3}.*VisitStatus/);
  });

  it('names newly rejected records with their issues, and a format the candidate refuses', () => {
    const candidate: PartnerConfig = {
      ...current,
      mappingVersion: undefined,
      inbound: { formats: ['service-plan'] },
      codeTranslations: { visitStatus: { NS: 'completed' } },
    };
    const report = compareTraffic(traffic.slice(0, 1), current, candidate, formats, BASE);
    expect(report.records[1]).toMatchObject({ sourceId: 'V-2', outcome: 'newly-rejected' });
    expect(report.warnings).toEqual([expect.stringContaining('the candidate does not allow evv-csv')]);
    expect(report.candidateVersion).toBe('unversioned');
    expect(formatGateReport(report)).toMatch(/V-2.*: NEWLY REJECTED\n {3}\S/);
  });
});

describe('activation', () => {
  it('needs a new mappingVersion', () => {
    expect(checkActivation(current, { ...current, mappingVersion: undefined })).toEqual({
      error: expect.stringContaining('no mappingVersion'),
    });
    expect(checkActivation(current, { ...current })).toEqual({
      error: expect.stringContaining('is the current one'),
    });
    expect(checkActivation(current, { ...current, mappingVersion: '4' })).toEqual({ keepAs: '3' });
    expect(checkActivation({ ...current, mappingVersion: undefined }, current)).toEqual({
      keepAs: 'unversioned',
    });
  });

  it('keeps versions beside the partner files, out of what the hub loads', () => {
    expect(partnerPaths('/p', 'acme-hcbs', '3')).toEqual({
      file: '/p/acme-hcbs.yaml',
      kept: '/p/.versions/acme-hcbs.3.yaml',
    });
  });

  it('validates a candidate file, naming it', () => {
    const yaml = (id: string, extra = ''): string =>
      `id: ${id}\nname: Acme\nkind: hcbs-provider\nmappingVersion: "4"\ninbound:\n  formats: [evv-csv]\n${extra}`;
    expect(parseCandidate('acme-hcbs', 'new.yaml', yaml('acme-hcbs'))).toMatchObject({ mappingVersion: '4' });
    expect(parseCandidate('acme-hcbs', 'new.yaml', yaml('other-one'))).toEqual([
      expect.stringMatching(/^new\.yaml: is not a file of partner acme-hcbs: \/id is "other-one"/),
    ]);
    expect(parseCandidate('acme-hcbs', 'new.yaml', yaml('acme-hcbs', 'colour: red\n'))).toEqual([
      'new.yaml: /colour is not a known field',
    ]);
    expect(parseCandidate('acme-hcbs', 'new.yaml', yaml('acme-hcbs').replace('"4"', '"../4"'))).toEqual([
      expect.stringMatching(/^new\.yaml: \/mappingVersion must match pattern/),
    ]);
  });
});
