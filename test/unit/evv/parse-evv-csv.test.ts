import { describe, expect, it } from '@jest/globals';
import { parseEvvCsv } from '../../../src/adapters/evv/parse-evv-csv.js';
import type { PartnerConfig } from '../../../src/config/partners.js';

const partner: PartnerConfig = {
  id: 'riverbend-home-care',
  name: 'Riverbend Home Care',
  kind: 'hcbs-provider',
  inbound: { formats: ['evv-csv'] },
  codeTranslations: { visitStatus: { PCAN: 'cancelled', 'Visit Missed': 'missed' } },
};

const HEADER =
  'VisitID,MedicaidID,MemberID,ServiceCode,CaregiverID,ScheduledStart,ScheduledEnd,ActualStart,ActualEnd,VisitStatus,ExceptionCode,Timezone';

function csv(...rows: string[]): Buffer {
  return Buffer.from([HEADER, ...rows].join('\r\n') + '\r\n');
}

describe('parseEvvCsv', () => {
  it('reads a completed visit, converting local times in the default time zone', () => {
    const result = parseEvvCsv(
      csv(
        'V1,QX1,M1,T1019-U3,CG-1,2025-01-06T09:00,2025-01-06T11:00,2025-01-06T09:05,2025-01-06T11:01,COMPLETED,,',
      ),
      partner,
    );
    expect(result.rejected).toEqual([]);
    expect(result.accepted).toEqual([
      {
        location: 'row 2',
        sourceId: 'V1',
        record: {
          visitId: 'V1',
          medicaidId: 'QX1',
          memberId: 'M1',
          serviceCode: 'T1019-U3',
          caregiverId: 'CG-1',
          scheduledStart: '2025-01-06T09:00:00-05:00',
          scheduledEnd: '2025-01-06T11:00:00-05:00',
          actualStart: '2025-01-06T09:05:00-05:00',
          actualEnd: '2025-01-06T11:01:00-05:00',
          visitStatus: 'COMPLETED',
          outcome: 'completed',
        },
      },
    ]);
  });

  it('takes the zone from the row, then the partner override, and keeps explicit offsets', () => {
    const chicago = { ...partner, fieldOverrides: { 'evv.timezone': 'America/Chicago' } };
    const result = parseEvvCsv(
      csv(
        'V1,,M1,T1019,,07/01/2025 9:00 AM,07/01/2025 11:00 AM,,,MISSED,,',
        'V2,,M1,T1019,,2025-07-01T09:00,2025-07-01T11:00,,,MISSED,,America/Los_Angeles',
        'V3,,M1,T1019,,2025-07-01T09:00:00Z,2025-07-01T11:00:00+00:00,,,MISSED,,',
      ),
      chicago,
    );
    expect(result.accepted.map((a) => [a.record.scheduledStart, a.record.scheduledEnd])).toEqual([
      ['2025-07-01T09:00:00-05:00', '2025-07-01T11:00:00-05:00'],
      ['2025-07-01T09:00:00-07:00', '2025-07-01T11:00:00-07:00'],
      ['2025-07-01T09:00:00Z', '2025-07-01T11:00:00+00:00'],
    ]);
  });

  it('reads missed visits from the status, and from a scheduled visit with no check-in', () => {
    const result = parseEvvCsv(
      csv(
        'V1,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,,,NOSHOW,27,',
        'V2,QX1,,T1019,,2025-01-07T09:00,2025-01-07T11:00,,,Visit Missed,,',
        'V3,QX1,,T1019,,2025-01-08T09:00,2025-01-08T11:00,,,Scheduled,,',
        'V4,QX1,,T1019,,2025-01-09T09:00,2025-01-09T11:00,2025-01-09T09:30,,SCHEDULED,,',
        'V5,QX1,,T1019,,2025-01-10T09:00,2025-01-10T11:00,,,PCAN,,',
      ),
      partner,
    );
    expect(result.rejected).toEqual([]);
    expect(result.accepted.map((a) => [a.sourceId, a.record.outcome, a.record.missedBecause])).toEqual([
      ['V1', 'missed', 'status'],
      ['V2', 'missed', 'status'],
      ['V3', 'missed', 'no-check-in'],
      ['V4', 'in-progress', undefined],
      ['V5', 'cancelled', undefined],
    ]);
    expect(result.accepted[0]!.record.exceptionCode).toBe('27');
  });

  it('rejects each bad row naming row and column, and accepts the good rows of the batch', () => {
    const result = parseEvvCsv(
      csv(
        'V1,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,,,MISSED,,',
        ',,,T 1019,,2025-13-06T09:00,tomorrow,,,MISSED,,',
        'V3,QX1,,T1019,,2025-01-06T09:00,2025-01-06T08:00,,2025-01-06T10:00,COMPLETED,,Mars/Olympus',
        'V4,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,,,LATE,,',
        'V5,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,2025-01-06T09:00,,NOSHOW,,',
        'V1,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,,,MISSED,,',
        'V7,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,2025-01-06T09:00,,COMPLETED,,',
      ),
      partner,
    );
    expect(result.accepted.map((a) => a.location)).toEqual(['row 2']);
    const byRow = Object.fromEntries(result.rejected.map((r) => [r.location, r.issues]));
    expect(byRow['row 3']).toEqual([
      { field: 'row 3:VisitID', message: 'is required' },
      {
        field: 'row 3:ServiceCode',
        message: 'must be a HCPCS code with up to four modifiers appended by dashes (e.g. T1019-U3)',
      },
      { field: 'row 3:MemberID', message: 'MedicaidID or MemberID is required to identify the participant' },
      {
        field: 'row 3:ScheduledStart',
        message: expect.stringMatching(/^"2025-13-06T09:00" is not a date-time/),
      },
      {
        field: 'row 3:ScheduledEnd',
        message: expect.stringMatching(/^"tomorrow" is not a date-time/),
      },
    ]);
    expect(byRow['row 4']).toEqual([
      { field: 'row 4:Timezone', message: '"Mars/Olympus" is not an IANA time zone (e.g. America/Chicago)' },
      { field: 'row 4:ActualStart', message: 'is required when ActualEnd (check-out) is given' },
      { field: 'row 4:ActualStart', message: 'is required: the visit is reported COMPLETED (completed)' },
    ]);
    expect(byRow['row 5']).toEqual([
      {
        field: 'row 5:VisitStatus',
        message:
          '"LATE" is not a known visit status: map it in codeTranslations.visitStatus to one of completed, missed, cancelled, scheduled',
      },
    ]);
    expect(byRow['row 6']).toEqual([
      {
        field: 'row 6:ActualStart',
        message: 'the visit is reported NOSHOW (missed) but has a check-in time',
      },
    ]);
    expect(byRow['row 7']).toEqual([{ field: 'row 7:VisitID', message: '"V1" is already in row 2' }]);
    expect(byRow['row 8']).toEqual([
      { field: 'row 8:ActualEnd', message: 'is required: the visit is reported COMPLETED (completed)' },
    ]);
    expect(result.rejected.find((r) => r.location === 'row 5')).toMatchObject({
      sourceId: 'V4',
      raw: `${HEADER}\nV4,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,,,LATE,,`,
    });
  });

  it('checks end times against start times', () => {
    const result = parseEvvCsv(
      csv('V1,QX1,,T1019,,2025-01-06T09:00,2025-01-06T08:00,2025-01-06T09:10,2025-01-06T09:00,COMPLETED,,'),
      partner,
    );
    expect(result.rejected[0]!.issues).toEqual([
      { field: 'row 2:ScheduledEnd', message: 'is before ScheduledStart' },
      { field: 'row 2:ActualEnd', message: 'is before ActualStart' },
    ]);
  });

  it('matches headers by name in any order, case or spacing, and ignores unknown columns', () => {
    const text = [
      'Agency Name,visit_status,Visit ID,Member ID,Service Code,Scheduled Start,Scheduled End,Check In,Check Out',
      'Riverbend,COMPLETED,V1,M1,T1019,2025-01-06T09:00,2025-01-06T11:00,2025-01-06T09:00,2025-01-06T11:00',
    ].join('\n');
    const result = parseEvvCsv(Buffer.from(`\uFEFF${text}`), partner);
    expect(result.rejected).toEqual([]);
    expect(result.accepted[0]!.record).toMatchObject({ visitId: 'V1', memberId: 'M1', outcome: 'completed' });
  });

  it('copes with quoted headers, "" for empty, padded values and mixed line endings', () => {
    const text =
      '"VisitID","MemberID","ServiceCode","ScheduledStart","ScheduledEnd","ActualStart","VisitStatus"\r\n' +
      '"V1", M1 ,"T1019","2025-01-06T09:00","2025-01-06T11:00","","MISSED"\n' +
      'V2,M1,T1019,2025-01-07T09:00,2025-01-07T11:00,,MISSED\r\n';
    const result = parseEvvCsv(Buffer.from(text), partner);
    expect(result.rejected).toEqual([]);
    expect(result.accepted.map((a) => [a.location, a.record.memberId, a.record.actualStart])).toEqual([
      ['row 2', 'M1', undefined],
      ['row 3', 'M1', undefined],
    ]);
  });

  it('rejects every row when the header lacks a required column', () => {
    const text =
      'VisitID,MemberID,ServiceCode,ScheduledStart,VisitStatus\nV1,M1,T1019,2025-01-06T09:00,MISSED\n';
    const result = parseEvvCsv(Buffer.from(text), partner);
    expect(result.accepted).toEqual([]);
    expect(result.rejected).toEqual([
      expect.objectContaining({
        location: 'row 2',
        issues: [{ field: 'row 2:ScheduledEnd', message: 'column is missing from the header row' }],
      }),
    ]);
  });

  it('rejects malformed CSV records and rows with extra fields without losing the others', () => {
    const result = parseEvvCsv(
      csv(
        'V1,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,,,MISSED,,',
        'V2,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,,,MISSED,,,surplus',
      ),
      partner,
    );
    expect(result.accepted.map((a) => a.sourceId)).toEqual(['V1']);
    expect(result.rejected[0]!.issues).toContainEqual({
      field: 'row 3',
      message: 'has 13 fields but the header has 12',
    });

    const broken = parseEvvCsv(Buffer.from(`${HEADER}\nV1,"QX1"x,,T1019\n`), partner);
    expect(broken.accepted).toEqual([]);
    expect(broken.rejected[0]!.issues[0]!.message).toMatch(/^malformed CSV: Invalid Closing Quote/);
  });

  it('reads UTF-16LE exports and rejects an empty file', () => {
    const text = `${HEADER}\nV1,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,,,MISSED,,\n`;
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    expect(parseEvvCsv(utf16, partner).accepted).toHaveLength(1);
    expect(parseEvvCsv(Buffer.from(''), partner).rejected).toEqual([
      {
        location: 'file',
        issues: [{ field: 'file', message: 'the file is empty: a header row is required' }],
        raw: '',
      },
    ]);
  });

  it('rejects rows when the partner override is not a time zone', () => {
    const bad = { ...partner, fieldOverrides: { 'evv.timezone': 'Eastern' } };
    const result = parseEvvCsv(csv('V1,QX1,,T1019,,2025-01-06T09:00,2025-01-06T11:00,,,MISSED,,'), bad);
    expect(result.rejected[0]!.issues).toEqual([
      {
        field: "fieldOverrides['evv.timezone']",
        message: 'partner riverbend-home-care: "Eastern" is not an IANA time zone',
      },
    ]);
  });
});
