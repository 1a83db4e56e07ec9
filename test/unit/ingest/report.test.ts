import { describe, expect, it } from '@jest/globals';
import { reportToOutcome, statusOf, type IngestReport } from '../../../src/ingest/ingest-service.js';

const report = (records: IngestReport['records']): IngestReport => ({
  partnerId: 'p',
  format: 'hmis-csv',
  records,
});

describe('ingest report', () => {
  it('names every record: accepted, rejected with each field, and skipped with why', () => {
    const outcome = reportToOutcome(
      report([
        { status: 'accepted', location: 'Client.csv row 2', sourceId: 'A1', jobId: 'j1' },
        {
          status: 'rejected',
          location: 'Client.csv row 3',
          sourceId: 'B2',
          issues: [{ field: 'Client.csv row 3:DOB', message: 'not a date' }],
        },
        { status: 'skipped', location: 'Enrollment.csv row 4', reason: 'deleted' },
      ]),
    );
    expect(outcome.issue.map((i) => [i.severity, i.diagnostics])).toEqual([
      ['information', 'Client.csv row 2: accepted (job j1)'],
      ['error', 'Client.csv row 3 (B2): Client.csv row 3:DOB: not a date'],
      ['information', 'Enrollment.csv row 4: skipped (deleted)'],
    ]);
  });

  it('answers 422 only when every record that counts was refused; skipped rows do not count', () => {
    const rejected = { status: 'rejected' as const, location: 'r', issues: [] };
    const skipped = { status: 'skipped' as const, location: 's', reason: 'deleted' };
    expect(statusOf(report([]))).toBe(400);
    expect(statusOf(report([rejected, skipped]))).toBe(422);
    expect(
      statusOf(report([rejected, { status: 'accepted', location: 'a', sourceId: 'a', jobId: 'j' }])),
    ).toBe(202);
    expect(statusOf(report([skipped]))).toBe(200);
  });
});
