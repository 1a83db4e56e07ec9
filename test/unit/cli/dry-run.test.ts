import { describe, expect, it } from '@jest/globals';
import type { OperationOutcome } from 'fhir/r4.js';
import { exitCodeOf, formatReport, parseCliArgs } from '../../../src/cli/dry-run.js';
import { dryRun, transactionOf, validateReport, type DryRunReport } from '../../../src/ingest/dry-run.js';
import type { PartnerConfig } from '../../../src/config/partners.js';
import { defaultFormats } from '../../../src/ingest/format-registry.js';

const partner: PartnerConfig = {
  id: 'acme-hcbs',
  name: 'Acme Home Care',
  kind: 'hcbs-provider',
  inbound: { formats: ['evv-csv'] },
  codeTranslations: { visitStatus: { NS: 'missed' } },
};
const BASE = 'https://carecoord.example.org';
const HEADER = 'VisitID,MedicaidID,ServiceCode,ScheduledStart,ScheduledEnd,ActualStart,ActualEnd,VisitStatus';
const evv = defaultFormats()['evv-csv']!;

function csv(...rows: string[]): Buffer {
  return Buffer.from([HEADER, ...rows].join('\n'));
}

describe('parseCliArgs', () => {
  it('reads a dry-run command', () => {
    expect(
      parseCliArgs(['dry-run', '--partner', 'acme-hcbs', '--format', 'evv-csv', 'visits.csv', '--validate']),
    ).toEqual({
      command: 'dry-run',
      partner: 'acme-hcbs',
      format: 'evv-csv',
      file: 'visits.csv',
      validate: true,
      json: false,
    });
    expect(parseCliArgs(['dry-run', '-p', 'x', '-f', 'hmis-csv', 'export.zip', '--json'])).toMatchObject({
      partner: 'x',
      format: 'hmis-csv',
      json: true,
      validate: false,
    });
  });

  it('asks for help without arguments or with --help', () => {
    expect(parseCliArgs([])).toEqual({ help: true });
    expect(parseCliArgs(['dry-run', '--help'])).toEqual({ help: true });
  });

  it('names every problem of a wrong command line', () => {
    expect(parseCliArgs(['dry-run', '--format', 'csv'])).toEqual({
      error: expect.stringMatching(
        /^--partner <id> is required; --format "csv" is not one of fhir-message, .*; the file to read is required$/,
      ),
    });
    expect(parseCliArgs(['map', '--partner', 'x', '--format', 'evv-csv', 'f'])).toEqual({
      error: 'Unknown command "map" (the command is dry-run)',
    });
    expect(parseCliArgs(['dry-run', '--partner', 'x', '--format', 'evv-csv', 'a', 'b'])).toEqual({
      error: 'one file at a time (also given: b)',
    });
    expect(parseCliArgs(['dry-run', '--frobnicate'])).toEqual({
      error: expect.stringMatching(/frobnicate/),
    });
  });
});

describe('dryRun', () => {
  const body = csv(
    'V1,QX1,T1019,2025-01-06T09:00,2025-01-06T11:00,,,NS',
    'V2,QX1,T1019,2025-01-07T09:00,2025-01-07T11:00,,,LATE',
  );

  it('maps accepted records to the transaction the writer would send and lists rejections with their fields', () => {
    const report = dryRun(body, partner, 'evv-csv', evv, BASE);
    expect(report.warnings).toEqual([]);
    expect(report.records.map((r) => [r.location, r.status])).toEqual([
      ['row 2', 'accepted'],
      ['row 3', 'rejected'],
    ]);
    const [accepted, rejected] = report.records;
    if (accepted?.status !== 'accepted' || rejected?.status !== 'rejected') {
      throw new Error('unexpected statuses');
    }
    expect(accepted.participant.identifiers).toEqual([{ system: `${BASE}/sid/medicaid`, value: 'QX1' }]);
    expect(accepted.transaction.entry?.map((e) => [e.resource?.resourceType, e.request])).toEqual([
      [
        'Flag',
        {
          method: 'PUT',
          url: `Flag?identifier=${encodeURIComponent(`${BASE}/sid/acme-hcbs/evv-missed-visit|V1`)}`,
        },
      ],
      [
        'Task',
        {
          method: 'PUT',
          url: `Task?identifier=${encodeURIComponent(`${BASE}/sid/acme-hcbs/evv-missed-visit-follow-up|V1`)}`,
        },
      ],
    ]);
    expect(accepted.events.map((e) => e.type)).toEqual(['missed-visit']);
    expect(rejected).toMatchObject({
      sourceId: 'V2',
      issues: [
        { field: 'row 3:VisitStatus', message: expect.stringMatching(/"LATE" is not a known visit status/) },
      ],
    });
    expect(exitCodeOf(report)).toBe(1);
  });

  it('warns when the partner may not send the format, and reports a mapping error as a rejection', () => {
    const report = dryRun(body, { ...partner, inbound: { formats: ['service-plan'] } }, 'evv-csv', evv, BASE);
    expect(report.warnings).toEqual([
      'partner acme-hcbs is not configured to send evv-csv (inbound.formats: service-plan): the hub would refuse the file',
    ]);
    const failing = {
      ...evv,
      map: () => {
        throw new Error('fieldOverrides["x"] must be a time zone');
      },
    };
    expect(
      dryRun(csv('V1,QX1,T1019,2025-01-06T09:00,2025-01-06T11:00,,,NS'), partner, 'evv-csv', failing, BASE),
    ).toMatchObject({
      records: [
        {
          status: 'rejected',
          issues: [{ field: '(mapping)', message: 'fieldOverrides["x"] must be a time zone' }],
        },
      ],
    });
  });

  it('exits 0 only when every record is accepted and valid', async () => {
    const clean = dryRun(
      csv('V1,QX1,T1019,2025-01-06T09:00,2025-01-06T11:00,,,NS'),
      partner,
      'evv-csv',
      evv,
      BASE,
    );
    expect(exitCodeOf(clean)).toBe(0);
    expect(exitCodeOf({ ...clean, records: [] })).toBe(1);

    const ok: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'information', code: 'informational', diagnostics: 'No issues detected' }],
    };
    const validated = await validateReport(clean, async () => ok);
    expect(validated.records[0]).toMatchObject({
      validation: [
        { resourceType: 'Flag', issues: [] },
        { resourceType: 'Task', issues: [] },
      ],
    });
    expect(exitCodeOf(validated)).toBe(0);

    const invalid = await validateReport(clean, async (resource) =>
      resource.resourceType === 'Task'
        ? {
            resourceType: 'OperationOutcome',
            issue: [
              { severity: 'error', code: 'structure', expression: ['Task.owner'], diagnostics: 'required' },
            ],
          }
        : ok,
    );
    expect(exitCodeOf(invalid)).toBe(1);
    expect(formatReport(invalid, 'visits.csv')).toMatch(
      /\$validate Task urn:uuid:\S+: 1 issue\(s\)\n {3}error Task\.owner: required/,
    );
  });
});

describe('transactionOf and formatReport', () => {
  it('prints a summary, each record with its transaction, and each rejection with its fields', () => {
    const report: DryRunReport = dryRun(
      csv('V1,QX1,T1019,2025-01-06T09:00,2025-01-06T11:00,,,NS', 'V2,QX1,T1019,bad,2025-01-07T11:00,,,NS'),
      partner,
      'evv-csv',
      evv,
      BASE,
    );
    const text = formatReport(report, 'visits.csv');
    expect(text).toMatch(/^acme-hcbs evv-csv visits\.csv: 2 record\(s\), 1 accepted, 1 rejected\n/);
    expect(text).toContain(
      '== row 2 (V1): accepted\nparticipant (urn:hub:participant): https://carecoord.example.org/sid/medicaid|QX1\n',
    );
    expect(text).toContain('event: missed-visit at 2025-01-06T09:00:00-05:00');
    expect(text).toContain('"resourceType": "Bundle"');
    expect(text).toMatch(/== row 3 \(V2\): REJECTED\n {3}row 3:ScheduledStart: "bad" is not a date-time/);
  });

  it('turns a mapped record without writes into an empty transaction', () => {
    expect(transactionOf({ participant: { identifiers: [] }, writes: [], events: [] })).toEqual({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [],
    });
  });
});
