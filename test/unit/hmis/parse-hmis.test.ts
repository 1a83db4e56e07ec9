import { describe, expect, it } from '@jest/globals';
import AdmZip from 'adm-zip';
import { parseHmisExport, parseHmisZip } from '../../../src/adapters/hmis/parse-hmis.js';
import type { HmisParseResult } from '../../../src/adapters/hmis/types.js';

// Synthetic exports: a few columns of each file, the way an export lists them (by header name).
const EXPORT = 'ExportID,SourceName,ExportDate,CSVVersion\nEX1,Test HMIS,2024-03-15 06:00:00,2024 v1.3\n';
const CLIENT_2024 =
  'PersonalID,FirstName,LastName,NameDataQuality,SSN,SSNDataQuality,DOB,DOBDataQuality,' +
  'Woman,Man,NonBinary,DateCreated,DateUpdated,UserID,DateDeleted,ExportID\n';
const CLIENT_2026 =
  'PersonalID,FirstName,LastName,NameDataQuality,SSN,SSNDataQuality,DOB,DOBDataQuality,Sex,' +
  'DateCreated,DateUpdated,UserID,DateDeleted,ExportID\n';
const ENROLLMENT = 'EnrollmentID,PersonalID,ProjectID,EntryDate,MoveInDate,DateDeleted\n';
const EXIT = 'ExitID,EnrollmentID,PersonalID,ExitDate,Destination,DateDeleted\n';
const CLS = 'CurrentLivingSitID,EnrollmentID,PersonalID,InformationDate,CurrentLivingSituation,DateDeleted\n';
const SERVICES = 'ServicesID,EnrollmentID,PersonalID,DateProvided,RecordType,TypeProvided,DateDeleted\n';

function parse(files: Record<string, string>): HmisParseResult {
  return parseHmisExport(new Map(Object.entries(files).map(([name, text]) => [name, Buffer.from(text)])));
}

function issuesOf(result: HmisParseResult): Array<[string, string]> {
  return result.rejected.flatMap((r) => r.issues.map((i): [string, string] => [i.field, i.message]));
}

const ONE_CLIENT = {
  'Export.csv': EXPORT,
  'Client.csv': CLIENT_2024 + 'P1,Ana,Lopez,1,,99,1980-01-02,1,1,0,0,,,u,,EX1\n',
};

describe('parseHmisExport: versions and CSV quirks', () => {
  it('reads FY2024 and FY2026 Client.csv by header name, whatever the column positions', () => {
    const fy2024 = parse({
      'Export.csv': EXPORT,
      'Client.csv':
        CLIENT_2024 +
        'P1,Ana,Lopez,1,123456789,1,1980-01-02,1,1,0,0,,,u,,EX1\nP2,Bo,Chen,1,,99,,99,0,1,0,,,u,2024-01-01,EX1\n',
    });
    const fy2026 = parse({
      'Export.csv': EXPORT.replace('2024 v1.3', '2026 v1.0'),
      'Client.csv':
        CLIENT_2026 +
        'P1,Ana,Lopez,1,123456789,1,1980-01-02,1,0,,,u,,EX1\nP2,Bo,Chen,1,,99,,99,1,,,u,2024-01-01,EX1\n',
    });
    const records = (r: HmisParseResult) => r.accepted.map((a) => ({ ...a.record, export: undefined }));
    expect(records(fy2024)).toEqual(records(fy2026));
    expect(fy2024.accepted.map((a) => a.record)).toEqual([
      {
        personalId: 'P1',
        name: { first: 'Ana', last: 'Lopez', dataQuality: 1 },
        ssn: '123456789',
        ssnDataQuality: 1,
        dob: '1980-01-02',
        dobDataQuality: 1,
        enrollments: [],
        export: {
          exportId: 'EX1',
          csvVersion: '2024 v1.3',
          exportDate: '2024-03-15',
          exportedAt: '2024-03-15T06:00:00',
        },
      },
    ]);
    // P2 carries DateDeleted, in a different column in each version.
    expect(fy2024.skipped).toEqual([{ location: 'Client.csv row 3', sourceId: 'P2', reason: 'deleted' }]);
    expect(fy2026.skipped).toEqual(fy2024.skipped);
  });

  it('reads quoted and unquoted headers, "" as empty, and trims leading spaces', () => {
    const result = parse({
      'Export.csv': EXPORT,
      'Client.csv':
        '"PersonalID","FirstName","LastName","NameDataQuality","DOB","DOBDataQuality","DateDeleted"\n' +
        '"P1",  "Ana"," Lopez","1","",99,""\n',
    });
    expect(result.rejected).toEqual([]);
    expect(result.accepted[0]!.record).toMatchObject({
      personalId: 'P1',
      name: { first: 'Ana', last: 'Lopez', dataQuality: 1 },
      dobDataQuality: 99,
    });
    expect(result.accepted[0]!.record.dob).toBeUndefined();
  });

  it('reads every date form real exports use', () => {
    const result = parse({
      'Export.csv': 'ExportID,ExportDate,CSVVersion\nEX1,2017-10-03,2024 v1.3\n',
      'Client.csv': 'PersonalID,DOB\nP1,08-MAY-67\n',
      'Enrollment.csv': ENROLLMENT + 'E1,P1,PR1,02-07-2016 12:00:00,7/14/16,\n',
      'Exit.csv': EXIT + 'X1,E1,P1,9/10/2017 21:39:00,410,\n',
    });
    expect(result.rejected).toEqual([]);
    const client = result.accepted[0]!.record;
    expect(client.dob).toBe('1967-05-08');
    expect(client.enrollments[0]).toMatchObject({
      entryDate: '2016-02-07',
      moveInDate: '2016-07-14',
      exit: { exitId: 'X1', exitDate: '2017-09-10' },
    });
  });

  it('keeps values that look like spreadsheet formulas as plain text', () => {
    const result = parse({
      'Export.csv': EXPORT,
      'Client.csv':
        'PersonalID,FirstName,LastName,NameSuffix\nP1,=HYPERLINK("http://x"),+1+1,-2\nP2,@SUM(A1),Ok,\n',
    });
    expect(result.accepted.map((a) => a.record.name)).toEqual([
      { first: '=HYPERLINK("http://x")', last: '+1+1', suffix: '-2' },
      { first: '@SUM(A1)', last: 'Ok' },
    ]);
  });

  it('accepts header-only files', () => {
    const result = parse({
      'Export.csv': EXPORT,
      'Client.csv': CLIENT_2024,
      'Enrollment.csv': ENROLLMENT,
      'Exit.csv': EXIT,
    });
    expect(result).toEqual({ accepted: [], rejected: [], skipped: [] });
  });

  it('finds files inside a folder and whatever their case', () => {
    const result = parseHmisExport(
      new Map([
        ['hmis_export/export.csv', Buffer.from(EXPORT)],
        ['hmis_export/CLIENT.CSV', Buffer.from(ONE_CLIENT['Client.csv'])],
      ]),
    );
    expect(result.accepted).toHaveLength(1);
  });

  it('applies HUD crosswalk to living situation codes of FY2022 exports', () => {
    const result = parse({
      'Export.csv': EXPORT.replace('2024 v1.3', '2022 v1.3'),
      'Client.csv': 'PersonalID\nP1\n',
      'Enrollment.csv': ENROLLMENT + 'E1,P1,PR1,2022-01-01,,\n',
      'CurrentLivingSituation.csv':
        CLS + 'C1,E1,P1,2022-02-01,16,\nC2,E1,P1,2022-03-01,19,\nC3,E1,P1,2022-04-01,116,\n',
    });
    expect(
      result.accepted[0]!.record.enrollments[0]!.currentLivingSituations.map((c) => c.situation),
    ).toEqual([
      { code: 116, display: 'Place not meant for habitation', category: 'homeless' },
      { code: 435, display: 'Rental by client, with ongoing housing subsidy', category: 'permanent' },
    ]);
    expect(issuesOf(result)).toEqual([
      [
        'CurrentLivingSituation.csv row 4:CurrentLivingSituation',
        '116 is not a HUD living situation code (FY2022 list (CSVVersion 2022 v1.3))',
      ],
    ]);
  });
});

describe('parseHmisExport: the version Export.csv names', () => {
  const withVersion = (export_: string): ReturnType<typeof parse> =>
    parse({
      'Export.csv': export_,
      'Client.csv': 'PersonalID\nP1\n',
      'Enrollment.csv': ENROLLMENT + 'E1,P1,PR1,2019-01-01,,\n',
      'Exit.csv': EXIT + 'X1,E1,P1,2019-09-10,1,\n',
    });

  it('reads an export without CSVVersion as FY2020, through the FY2022 crosswalk', () => {
    const result = withVersion('ExportID,ExportDate\nEX1,2019-10-03\n');
    expect(result.rejected).toEqual([]);
    // FY2022 code 1, emergency shelter, is 101 on the FY2024 list (read as FY2024, 1 is no code).
    expect(result.accepted[0]!.record.enrollments[0]!.exit?.destination).toMatchObject({
      code: 101,
      category: 'homeless',
    });
  });

  it('refuses a version it does not know, naming Export.csv:CSVVersion', () => {
    const result = withVersion('ExportID,ExportDate,CSVVersion\nEX1,2029-10-03,2030 v1.0\n');
    expect(result.accepted).toEqual([]);
    expect(issuesOf(result)[0]![0]).toBe('Export.csv row 2:CSVVersion');
  });
});

describe('parseHmisExport: whole-batch problems', () => {
  it.each(['Client.csv', 'Export.csv'])('rejects the batch when %s is missing, naming it', (file) => {
    const files: Record<string, string> = { ...ONE_CLIENT, 'Enrollment.csv': ENROLLMENT };
    delete files[file];
    expect(parse(files)).toEqual({
      accepted: [],
      rejected: [
        {
          location: 'HMIS export',
          issues: [
            { field: file, message: 'is missing from the export: Client.csv and Export.csv are required' },
          ],
        },
      ],
      skipped: [],
    });
  });

  it('rejects the batch when Client.csv lacks the PersonalID column or is empty', () => {
    expect(issuesOf(parse({ 'Export.csv': EXPORT, 'Client.csv': 'FirstName\nAna\n' }))).toEqual([
      ['Client.csv:PersonalID', 'column is missing from the header'],
    ]);
    expect(issuesOf(parse({ 'Export.csv': EXPORT, 'Client.csv': '' }))).toEqual([
      ['Client.csv', 'is empty: it has no header row'],
    ]);
  });

  it('rejects the batch when Export.csv has no usable row or a two-digit ExportDate', () => {
    expect(
      issuesOf(parse({ ...ONE_CLIENT, 'Export.csv': EXPORT + 'EX2,Other,2024-03-16,2024 v1.3\n' })),
    ).toEqual([['Export.csv', 'must have exactly one readable data row; it has 2']]);
    expect(issuesOf(parse({ ...ONE_CLIENT, 'Export.csv': 'ExportID,ExportDate\nEX1,3/15/24\n' }))).toEqual([
      ['Export.csv row 2:ExportDate', '"3/15/24" must have a four-digit year'],
    ]);
  });

  it('rejects the batch when a file appears twice', () => {
    const result = parseHmisExport(
      new Map([
        ['Export.csv', Buffer.from(EXPORT)],
        ['a/Client.csv', Buffer.from(ONE_CLIENT['Client.csv'])],
        ['b/Client.csv', Buffer.from(ONE_CLIENT['Client.csv'])],
      ]),
    );
    expect(issuesOf(result)).toEqual([
      ['Client.csv', 'appears twice in the export (a/Client.csv, b/Client.csv)'],
    ]);
  });
});

describe('parseHmisExport: row problems stay with their row', () => {
  it('rejects an enrollment of a client that is not in Client.csv, and keeps the client', () => {
    const result = parse({
      ...ONE_CLIENT,
      'Enrollment.csv': ENROLLMENT + 'E1,P1,PR1,2024-01-01,,\nE2,P9,PR1,2024-01-02,,\n',
    });
    expect(result.accepted.map((a) => [a.sourceId, a.record.enrollments.map((e) => e.enrollmentId)])).toEqual(
      [['P1', ['E1']]],
    );
    expect(result.rejected).toEqual([
      {
        location: 'Enrollment.csv row 3',
        sourceId: 'E2',
        issues: [
          {
            field: 'Enrollment.csv row 3:PersonalID',
            message: 'no client with this PersonalID in Client.csv',
          },
        ],
        raw: 'EnrollmentID,PersonalID,ProjectID,EntryDate,MoveInDate,DateDeleted\nE2,P9,PR1,2024-01-02,,',
      },
    ]);
  });

  it('rejects a client whose own row is bad, and the rows that belong to it', () => {
    const result = parse({
      'Export.csv': EXPORT,
      'Client.csv': 'PersonalID,DOB,NameDataQuality\nP1,1980-02-30,1\nP2,1981-01-01,7\nP3,1982-01-01,1\n',
      'Enrollment.csv': ENROLLMENT + 'E1,P1,PR1,2024-01-01,,\nE3,P3,PR1,not-a-date,,\n',
    });
    expect(result.accepted.map((a) => a.sourceId)).toEqual(['P3']);
    expect(result.accepted[0]!.record.enrollments).toEqual([]);
    expect(issuesOf(result)).toEqual([
      ['Client.csv row 2:DOB', '"1980-02-30" is not a calendar date'],
      ['Client.csv row 3:NameDataQuality', '7 is not a HUD data quality code (1, 2, 8, 9, 99)'],
      ['Enrollment.csv row 2:PersonalID', 'its client row is rejected (Client.csv row 2)'],
      [
        'Enrollment.csv row 3:EntryDate',
        '"not-a-date" is not a date (expected YYYY-MM-DD, MM-DD-YYYY, M/D/YY or DD-MON-YY, with an optional time)',
      ],
    ]);
  });

  it('rejects missing required ids and non-numeric codes, naming each column', () => {
    const result = parse({
      ...ONE_CLIENT,
      'Enrollment.csv': ENROLLMENT + 'E1,P1,PR1,2024-01-01,,\n',
      'Exit.csv': EXIT + ',E1,P1,2024-02-01,home,\n',
      'Services.csv': SERVICES + 'S1,E1,P1,2024-01-05,999,1,\n',
    });
    expect(issuesOf(result)).toEqual([
      ['Exit.csv row 2:ExitID', 'is required'],
      ['Exit.csv row 2:Destination', 'must be a whole number (a HUD code)'],
      ['Services.csv row 2:RecordType', '999 is not a HUD record type (list 1.4)'],
    ]);
  });

  it('rejects rows that point at a missing, mismatched or unreadable enrollment', () => {
    const result = parse({
      'Export.csv': EXPORT,
      'Client.csv': 'PersonalID\nP1\nP2\n',
      'Enrollment.csv': ENROLLMENT + 'E1,P1,PR1,2024-01-01,,\n',
      'Exit.csv': EXIT + 'X1,E1,P2,2024-02-01,116,\nX2,E9,P1,2024-02-01,116,\n',
      'CurrentLivingSituation.csv': CLS + 'C1,E1,P1,2024-01-15,118,\nC2,E1,P1,2024-01-16,555,\n',
    });
    expect(issuesOf(result)).toEqual([
      ['Exit.csv row 2:PersonalID', 'does not match the PersonalID of enrollment E1 (Enrollment.csv row 2)'],
      ['Exit.csv row 3:EnrollmentID', 'no enrollment with this EnrollmentID in Enrollment.csv'],
      [
        'CurrentLivingSituation.csv row 3:CurrentLivingSituation',
        '555 is not a HUD living situation code (FY2024 list 3.12.1)',
      ],
    ]);
    expect(result.accepted[0]!.record.enrollments[0]!.currentLivingSituations).toEqual([
      {
        currentLivingSitId: 'C1',
        informationDate: '2024-01-15',
        situation: { code: 118, display: 'Safe Haven', category: 'homeless' },
      },
    ]);

    const noEnrollments = parse({ ...ONE_CLIENT, 'Exit.csv': EXIT + 'X1,E1,P1,2024-02-01,116,\n' });
    expect(issuesOf(noEnrollments)).toEqual([
      [
        'Exit.csv row 2:EnrollmentID',
        'no enrollment with this EnrollmentID: Enrollment.csv is not in the export',
      ],
    ]);
  });

  it('rejects an optional file that lacks a required column once, and the rows that needed it', () => {
    const result = parse({
      ...ONE_CLIENT,
      'Enrollment.csv': 'EnrollmentID,PersonalID,EntryDate\nE1,P1,2024-01-01\n',
      'Exit.csv': EXIT + 'X1,E1,P1,2024-02-01,116,\n',
    });
    expect(result.accepted).toHaveLength(1);
    expect(issuesOf(result)).toEqual([
      ['Enrollment.csv:ProjectID', 'column is missing from the header'],
      [
        'Exit.csv row 2:EnrollmentID',
        'no enrollment with this EnrollmentID: Enrollment.csv could not be read',
      ],
    ]);
  });

  it('rejects every row of an id that appears twice', () => {
    const result = parse({
      'Export.csv': EXPORT,
      'Client.csv': 'PersonalID,FirstName\nP1,Ana\nP1,Ann\nP2,Bo\n',
    });
    expect(result.accepted.map((a) => a.sourceId)).toEqual(['P2']);
    expect(issuesOf(result)).toEqual([
      ['Client.csv row 2:PersonalID', 'P1 appears on more than one row (rows 2, 3)'],
      ['Client.csv row 3:PersonalID', 'P1 appears on more than one row (rows 2, 3)'],
    ]);
  });

  it('rejects a row with the wrong number of fields or an unclosed quote, with the header for context', () => {
    const result = parse({
      'Export.csv': EXPORT,
      'Client.csv': 'PersonalID,FirstName\nP1,Ana\nP2,Bo,extra\nP3,Cy\nP4,"Dee\n',
    });
    expect(result.accepted.map((a) => a.sourceId)).toEqual(['P1', 'P3']);
    expect(result.rejected.map((r) => [r.location, r.issues[0]!.message, r.raw])).toEqual([
      ['Client.csv row 3', 'has 3 fields; the header has 2', 'PersonalID,FirstName\nP2,Bo,extra'],
      [
        'Client.csv row 5',
        expect.stringMatching(/^is not valid CSV: Quote Not Closed/),
        'PersonalID,FirstName\nP4,"Dee',
      ],
    ]);
  });

  it('rejects an enrollment whose project is missing from Project.csv, and links known projects', () => {
    const result = parse({
      ...ONE_CLIENT,
      'Organization.csv': 'OrganizationID,OrganizationName\nO1,Harbor Housing\n',
      'Project.csv':
        'ProjectID,OrganizationID,ProjectName,ProjectType\nPR1,O1,Harbor Homes,3\nPR2,O9,Nowhere,1\n',
      'Enrollment.csv':
        ENROLLMENT + 'E1,P1,PR1,2024-01-01,,\nE2,P1,PR2,2024-01-01,,\nE3,P1,PR3,2024-01-01,,\n',
    });
    expect(result.accepted[0]!.record.enrollments).toEqual([
      {
        enrollmentId: 'E1',
        entryDate: '2024-01-01',
        projectId: 'PR1',
        project: {
          organizationId: 'O1',
          name: 'Harbor Homes',
          organizationName: 'Harbor Housing',
          type: { code: 3, display: 'PH - Permanent Supportive Housing' },
        },
        currentLivingSituations: [],
        services: [],
      },
    ]);
    expect(issuesOf(result)).toEqual([
      ['Project.csv row 3:OrganizationID', 'no organization with this OrganizationID in Organization.csv'],
      ['Enrollment.csv row 3:ProjectID', 'its project row is rejected (Project.csv row 3)'],
      ['Enrollment.csv row 4:ProjectID', 'no project with this ProjectID in Project.csv'],
    ]);
  });
});

describe('parseHmisExport: deleted rows', () => {
  it('skips deleted rows and the rows of deleted clients and enrollments, listing each', () => {
    const result = parse({
      'Export.csv': EXPORT,
      'Client.csv': 'PersonalID,DateDeleted\nP1,\nP2,2024-02-01 10:00:00\n',
      'Enrollment.csv':
        ENROLLMENT + 'E1,P1,PR1,2024-01-01,,\nE2,P2,PR1,2024-01-01,,\nE3,P1,PR1,2024-01-05,,02-01-2024\n',
      'Exit.csv': EXIT + 'X2,E2,P2,2024-01-20,116,\nX3,E3,P1,2024-01-20,116,\n',
      'Services.csv': SERVICES + 'S1,E1,P1,2024-01-03,200,200,2024-01-04\n',
    });
    expect(result.rejected).toEqual([]);
    expect(
      result.accepted.map((a) => [a.sourceId, a.record.enrollments.map((e) => [e.enrollmentId, e.services])]),
    ).toEqual([['P1', [['E1', []]]]]);
    expect(result.skipped).toEqual([
      { location: 'Client.csv row 3', sourceId: 'P2', reason: 'deleted' },
      {
        location: 'Enrollment.csv row 3',
        sourceId: 'E2',
        reason: 'parent-deleted',
        parent: 'Client.csv row 3',
      },
      { location: 'Enrollment.csv row 4', sourceId: 'E3', reason: 'deleted' },
      {
        location: 'Exit.csv row 2',
        sourceId: 'X2',
        reason: 'parent-deleted',
        parent: 'Enrollment.csv row 3',
      },
      {
        location: 'Exit.csv row 3',
        sourceId: 'X3',
        reason: 'parent-deleted',
        parent: 'Enrollment.csv row 4',
      },
      { location: 'Services.csv row 2', sourceId: 'S1', reason: 'deleted' },
    ]);
  });

  it('rejects a row whose DateDeleted is not a date rather than guess', () => {
    const result = parse({ 'Export.csv': EXPORT, 'Client.csv': 'PersonalID,DateDeleted\nP1,b6585c23\n' });
    expect(issuesOf(result)).toEqual([
      ['Client.csv row 2:DateDeleted', expect.stringMatching(/is not a date/)],
    ]);
  });
});

describe('parseHmisZip', () => {
  function zipOf(files: Record<string, string>): Buffer {
    const zip = new AdmZip();
    for (const [name, text] of Object.entries(files)) {
      zip.addFile(name, Buffer.from(text));
    }
    return zip.toBuffer();
  }

  it('reads a zipped export', () => {
    const result = parseHmisZip(
      zipOf({ 'export/Export.csv': EXPORT, 'export/Client.csv': ONE_CLIENT['Client.csv'] }),
    );
    expect(result.accepted.map((a) => a.location)).toEqual(['Client.csv row 2']);
  });

  it('rejects the batch when the archive is refused', () => {
    const zip = Buffer.from(
      zipOf({ 'xx/Client.csv': 'x' }).toString('latin1').split('xx/').join('../'),
      'latin1',
    );
    expect(issuesOf(parseHmisZip(zip))).toEqual([
      ['archive', 'The export entry "../Client.csv" is refused: it climbs out of its folder (..)'],
    ]);
  });
});
