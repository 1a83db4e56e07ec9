import { describe, expect, it } from '@jest/globals';
import { parseAdtBatch } from '../../../src/adapters/hl7v2/parse-adt.js';
import type { AdtMessage } from '../../../src/adapters/hl7v2/types.js';

// Synthetic people only.
const MSH = 'MSH|^~\\&|BHEHR|RIVERBEND|HUB|CARECOORD|20250310143000||ADT^A01^ADT_A01|CTRL-1|P|2.5.1';
const EVN = 'EVN|A01|20250310142500';
const PID = 'PID|1||MRN-1^^^RB^MR~QX1^^^MCD^MA||Testperson^Alex^J^^Ms.^^L||19880412|F';
const PV1 = `PV1|1|I|PSY^204^A^RIVERBEND${'|'.repeat(16)}V-1${'|'.repeat(25)}20250310141500`;

function message(...segments: string[]): string {
  return segments.join('\r');
}

function only(text: string | Buffer): AdtMessage {
  const result = parseAdtBatch(text);
  expect(result.rejected).toEqual([]);
  expect(result.accepted).toHaveLength(1);
  return result.accepted[0]!.record;
}

function issuesOf(text: string): Array<{ field: string; message: string }> {
  const result = parseAdtBatch(text);
  expect(result.accepted).toEqual([]);
  expect(result.rejected).toHaveLength(1);
  return [...result.rejected[0]!.issues];
}

describe('parseAdtBatch: a well-formed A01', () => {
  it('reads header, patient and visit into the typed record', () => {
    const text = message(
      MSH,
      EVN,
      'PID|1||MRN-1^^^RB^MR~QX1^^^MCD^MA||Testperson^Alex^J^^Ms.^^L||19880412|F|||12 Sample Ln^Apt 3^Springfield^IL^62701^USA^H||^PRN^PH^^^217^5550142~^NET^Internet^alex@example.org|^WPN^PH^^^217^5550199',
      `PV1|1|I|PSY^204^A^RIVERBEND||||10045^Carer^Morgan^^^Dr.^^^RB||||||||||||V-1${'|'.repeat(17)}01${'|'.repeat(8)}20250310141500|20250311100000`,
    );
    const result = parseAdtBatch(text);
    expect(result.accepted[0]!.location).toBe('message 1 (MSH-10 CTRL-1)');
    expect(result.accepted[0]!.sourceId).toBe('CTRL-1');
    expect(result.accepted[0]!.record).toEqual({
      controlId: 'CTRL-1',
      trigger: 'A01',
      version: '2.5.1',
      sendingApplication: 'BHEHR',
      sendingFacility: 'RIVERBEND',
      messageTime: '2025-03-10T14:30:00',
      eventTime: '2025-03-10T14:25:00',
      patient: {
        identifiers: [
          { id: 'MRN-1', assigningAuthority: 'RB', typeCode: 'MR' },
          { id: 'QX1', assigningAuthority: 'MCD', typeCode: 'MA' },
        ],
        names: [{ family: 'Testperson', given: ['Alex', 'J'], prefix: 'Ms.', typeCode: 'L' }],
        birthDate: '1988-04-12',
        administrativeSex: 'F',
        gender: 'female',
        addresses: [
          {
            lines: ['12 Sample Ln', 'Apt 3'],
            city: 'Springfield',
            state: 'IL',
            postalCode: '62701',
            country: 'USA',
            typeCode: 'H',
          },
        ],
        telecom: [
          { system: 'phone', value: '(217) 5550142', use: 'home' },
          { system: 'email', value: 'alex@example.org', use: 'home' },
          { system: 'phone', value: '(217) 5550199', use: 'work' },
        ],
      },
      visit: {
        patientClass: 'I',
        visitNumber: 'V-1',
        assignedLocation: { pointOfCare: 'PSY', room: '204', bed: 'A', facility: 'RIVERBEND' },
        attending: [
          { id: '10045', family: 'Carer', given: ['Morgan'], prefix: 'Dr.', assigningAuthority: 'RB' },
        ],
        admitTime: '2025-03-10T14:15:00',
        dischargeTime: '2025-03-11T10:00:00',
        dischargeDisposition: '01',
      },
      raw: text,
    });
  });

  it('accepts each supported trigger', () => {
    for (const trigger of ['A01', 'A03', 'A04', 'A08', 'A11', 'A13']) {
      const record = only(message(MSH.replace('ADT^A01^ADT_A01', `ADT^${trigger}`), PID, PV1));
      expect(record.trigger).toBe(trigger);
    }
  });
});

describe('parseAdtBatch: real-world quirks', () => {
  const segments = [MSH, EVN, PID, PV1];

  it.each([
    ['\\r', '\r'],
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
  ])('reads segments separated by %s', (_name, separator) => {
    const record = only(segments.join(separator) + separator);
    expect(record.patient.identifiers).toHaveLength(2);
    expect(record.visit?.visitNumber).toBe('V-1');
  });

  it('reads a message without a final terminator, with a BOM and trailing spaces', () => {
    const record = only('\ufeff' + segments.map((s) => `${s}   `).join('\r'));
    expect(record.controlId).toBe('CTRL-1');
    expect(record.visit?.admitTime).toBe('2025-03-10T14:15:00');
  });

  it('reads a message sent on one line with spaces between segments', () => {
    const record = only(segments.join(' '));
    expect(record.patient.names[0]?.family).toBe('Testperson');
    expect(record.visit?.visitNumber).toBe('V-1');
  });

  it('reads a UTF-8 Buffer, and ISO 8859-1 bytes when MSH-18 says so', () => {
    const pid = 'PID|1||MRN-1^^^RB^MR||Müller^Zoë';
    expect(only(Buffer.from(message(MSH, pid, PV1), 'utf8')).patient.names[0]).toMatchObject({
      family: 'Müller',
    });
    const latin = `${MSH}||||||8859/1`;
    expect(only(Buffer.from(message(latin, pid, PV1), 'latin1')).patient.names[0]).toMatchObject({
      family: 'Müller',
      given: ['Zoë'],
    });
  });

  it('keeps repeated fields (~) as separate values', () => {
    const record = only(
      message(MSH, 'PID|1||A1^^^RB^MR~B2^^^MCD~C3||Testperson^Alex~Maidenname^Alex^^^^^M', PV1),
    );
    expect(record.patient.identifiers).toEqual([
      { id: 'A1', assigningAuthority: 'RB', typeCode: 'MR' },
      { id: 'B2', assigningAuthority: 'MCD' },
      { id: 'C3' },
    ]);
    expect(record.patient.names.map((n) => n.family)).toEqual(['Testperson', 'Maidenname']);
  });

  it('decodes escape sequences in values', () => {
    const record = only(message(MSH, 'PID|1||X\\F\\1^^^RB||O\\T\\Brien\\S\\x\\E\\y\\R\\z^J\\X4B\\', PV1));
    expect(record.patient.identifiers[0]?.id).toBe('X|1');
    expect(record.patient.names[0]).toMatchObject({ family: 'O&Brien^x\\y~z', given: ['JK'] });
  });

  it('uses the encoding characters MSH-2 declares', () => {
    const custom = message(
      'MSH#*@!$#BHEHR#RIVERBEND#HUB#CARECOORD#20250310143000##ADT*A01#CTRL-9#P#2.5',
      'PID#1##A1***RB*MR@B2***MCD##Test!F!person*Alex$sub',
      'PV1#1#E',
    );
    const record = only(custom);
    expect(record.controlId).toBe('CTRL-9');
    expect(record.patient.identifiers).toEqual([
      { id: 'A1', assigningAuthority: 'RB', typeCode: 'MR' },
      { id: 'B2', assigningAuthority: 'MCD' },
    ]);
    expect(record.patient.names[0]).toMatchObject({ family: 'Test#person', given: ['Alex'] });
    expect(record.visit?.patientClass).toBe('E');
  });

  it('repairs an MSH-2 with a doubled escape character', () => {
    const record = only(message(MSH.replace('^~\\&', '^~\\\\&'), 'PID|1||A1^^^RB&1.2.3&ISO^MR', PV1));
    expect(record.patient.identifiers[0]).toEqual({ id: 'A1', assigningAuthority: 'RB', typeCode: 'MR' });
  });

  it('accepts missing optional fields and segments (no EVN, no names, no address)', () => {
    const record = only(message(MSH, 'PID|1||A1', 'PV1|1|O'));
    expect(record.eventTime).toBe('2025-03-10T14:30:00'); // MSH-7 when EVN-2 is absent
    expect(record.patient).toEqual({ identifiers: [{ id: 'A1' }], names: [], addresses: [], telecom: [] });
    expect(record.visit).toEqual({ patientClass: 'O', attending: [] });
  });

  it('reads versions 2.1 to 2.8 and the trigger from EVN-1 when MSH-9 has none', () => {
    for (const version of [
      '2.1',
      '2.2',
      '2.3',
      '2.3.1',
      '2.4',
      '2.5',
      '2.5.1',
      '2.6',
      '2.7',
      '2.7.1',
      '2.8',
    ]) {
      expect(only(message(MSH.replace('2.5.1', version), PID, PV1)).version).toBe(version);
    }
    expect(
      only(message(MSH.replace('ADT^A01^ADT_A01', 'ADT'), 'EVN|A03|20250310142500', PID, PV1)).trigger,
    ).toBe('A03');
  });

  it('keeps offsets, fills in seconds and keeps local times without an offset', () => {
    const record = only(
      message(
        MSH.replace('20250310143000', '202503101430-0500'),
        'EVN|A01|20250310142512.25+0130',
        'PID|1||A1||Test^A||1988',
        PV1.replace('20250310141500', '2025031014'),
      ),
    );
    expect(record.messageTime).toBe('2025-03-10T14:30:00-05:00');
    expect(record.eventTime).toBe('2025-03-10T14:25:12.25+01:30');
    expect(record.patient.birthDate).toBe('1988');
    expect(record.visit?.admitTime).toBe('2025-03-10T14:00:00');
  });

  it('maps administrative sex to FHIR gender, keeping the code as sent', () => {
    const patient = (code: string) => only(message(MSH, `PID|1||A1||Test^A||19880412|${code}`, PV1)).patient;
    expect(['M', 'F', 'O', 'U', 'A', 'N', 'X', 'f'].map((c) => patient(c).gender)).toEqual([
      'male',
      'female',
      'other',
      'unknown',
      'other',
      'unknown',
      'other',
      'female',
    ]);
    // A local code (table 0001 is user-defined before v2.7) is kept for the partner's translation.
    expect(patient('2')).toMatchObject({ administrativeSex: '2' });
    expect(patient('2').gender).toBeUndefined();
  });

  it('reads no visit for the person-level A28 and A31, whatever their PV1 says', () => {
    for (const type of ['ADT^A28^ADT_A05', 'ADT^A31^ADT_A05']) {
      expect(only(message(MSH.replace('ADT^A01^ADT_A01', type), PID, 'PV1|1|')).visit).toBeUndefined();
      expect(only(message(MSH.replace('ADT^A01^ADT_A01', type), PID)).visit).toBeUndefined();
    }
  });

  it('reads the merged record of an A40 from MRG-1, and refuses a merge that names none', () => {
    const a40 = MSH.replace('ADT^A01^ADT_A01', 'ADT^A40^ADT_A39');
    expect(only(message(a40, PID, 'MRG|OLD-7^^^RB^MR~MCD-9^^^MCD^MA')).merged).toEqual([
      { id: 'OLD-7', assigningAuthority: 'RB', typeCode: 'MR' },
      { id: 'MCD-9', assigningAuthority: 'MCD', typeCode: 'MA' },
    ]);
    expect(issuesOf(message(a40, PID))).toEqual([
      { field: 'MRG-1', message: 'a merge must name the merged record (MRG-1)' },
    ]);
  });

  it('treats an A08 without PV1 content as a demographics-only update', () => {
    const record = only(message(MSH.replace('ADT^A01', 'ADT^A08'), PID, 'PV1|1|^^^^^||||^^^^^^^^'));
    expect(record.visit).toBeUndefined();
  });
});

describe('parseAdtBatch: rejections name the field', () => {
  it.each([
    [
      'ADT^A17^ADT_A17',
      'trigger A17 not supported (supported: A01, A02, A03, A04, A05, A06, A07, A08, A11, A13, A16, A28, A31, A34, A40)',
    ],
    ['ORU^R01', 'message type ORU not supported (only ADT)'],
    ['', 'message type is required'],
  ])('MSH-9 %s', (type, text) => {
    expect(issuesOf(message(MSH.replace('ADT^A01^ADT_A01', type), PID, PV1))).toEqual([
      { field: 'MSH-9', message: text },
    ]);
  });

  it('MSH-10 missing', () => {
    expect(issuesOf(message(MSH.replace('CTRL-1', ''), PID, PV1))).toEqual([
      { field: 'MSH-10', message: 'message control id is required' },
    ]);
  });

  it('MSH-12 missing or not a v2 version', () => {
    expect(issuesOf(message(MSH.replace('|2.5.1', '|'), PID, PV1))).toEqual([
      { field: 'MSH-12', message: 'version id is required' },
    ]);
    expect(issuesOf(message(MSH.replace('|2.5.1', '|3.0'), PID, PV1))[0]?.field).toBe('MSH-12');
  });

  it('PID missing, or PID-3 without an identifier', () => {
    expect(issuesOf(message(MSH, PV1))).toEqual([{ field: 'PID', message: 'segment PID is required' }]);
    expect(issuesOf(message(MSH, 'PID|1||^^^RB^MR||Test^A', PV1))).toEqual([
      { field: 'PID-3', message: 'at least one patient identifier (PID-3.1) is required' },
    ]);
  });

  it.each([
    ['MSH-7', message(MSH.replace('20250310143000', '20251310143000'), PID, PV1), 'month out of range'],
    ['EVN-2', message(MSH, 'EVN|A01|20250230', PID, PV1), 'day out of range for the month'],
    ['PID-7', message(MSH, 'PID|1||A1||Test^A||1988-04-12', PV1), 'not an HL7 date/time'],
    ['PV1-44', message(MSH, PID, PV1.replace('20250310141500', '20250310246000')), 'hour out of range'],
    ['PV1-45', message(MSH, PID, `${PV1}|20250310141500+1500`), 'time-zone offset out of range'],
  ])('%s invalid date', (field, text, reason) => {
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe(field);
    expect(issues[0]?.message).toContain(reason);
  });

  it('MSH-7 missing when EVN-2 is absent', () => {
    expect(issuesOf(message(MSH.replace('20250310143000', ''), PID, PV1))).toEqual([
      { field: 'MSH-7', message: 'date/time of message is required when EVN-2 is empty' },
    ]);
  });

  it('PV1 missing for a visit event, or PV1-2 empty', () => {
    expect(issuesOf(message(MSH.replace('ADT^A01', 'ADT^A03'), PID))).toEqual([
      { field: 'PV1', message: 'segment PV1 with the visit is required for ADT^A03' },
    ]);
    expect(issuesOf(message(MSH, PID, 'PV1|1||ED'))).toEqual([
      { field: 'PV1-2', message: 'patient class is required' },
    ]);
  });

  it('lists every issue of a message, and keeps its control id and raw text', () => {
    const text = message(MSH, 'PID|1||||Test^A||19881312|F', 'PV1|1||ED');
    const result = parseAdtBatch(text);
    expect(result.rejected[0]).toEqual({
      location: 'message 1 (MSH-10 CTRL-1)',
      sourceId: 'CTRL-1',
      issues: [
        { field: 'PID-3', message: 'at least one patient identifier (PID-3.1) is required' },
        { field: 'PID-7', message: 'invalid date/time: month out of range' },
        { field: 'PV1-2', message: 'patient class is required' },
      ],
      raw: text,
    });
  });

  it('invalid MSH-1 or MSH-2', () => {
    expect(issuesOf('MSH1^~\\&|A')[0]?.field).toBe('MSH-1');
    expect(issuesOf(message('MSH|^^\\&|A|B|C|D|20250310||ADT^A01|X|P|2.5', PID, PV1))[0]?.field).toBe(
      'MSH-2',
    );
  });
});

describe('parseAdtBatch: batches', () => {
  it('accepts the good messages and rejects the bad one of a batch', () => {
    const good1 = message(MSH, EVN, PID, PV1);
    const bad = message(MSH.replace('CTRL-1', 'CTRL-2').replace('ADT^A01^ADT_A01', 'ADT^A17'), PID);
    const good2 = message(MSH.replace('CTRL-1', 'CTRL-3').replace('ADT^A01', 'ADT^A03'), PID, PV1);
    const result = parseAdtBatch([good1, bad, good2].join('\r\n'));
    expect(result.accepted.map((a) => [a.location, a.record.trigger])).toEqual([
      ['message 1 (MSH-10 CTRL-1)', 'A01'],
      ['message 3 (MSH-10 CTRL-3)', 'A03'],
    ]);
    expect(result.rejected).toEqual([
      {
        location: 'message 2 (MSH-10 CTRL-2)',
        sourceId: 'CTRL-2',
        issues: [{ field: 'MSH-9', message: expect.stringContaining('A17') }],
        raw: bad,
      },
    ]);
    expect(result.accepted[1]?.record.raw).toBe(good2);
  });

  it('rejects text before the first MSH and an empty body instead of dropping them', () => {
    const result = parseAdtBatch(`hello\r${message(MSH, PID, PV1)}`);
    expect(result.accepted).toHaveLength(1);
    expect(result.rejected).toEqual([
      {
        location: 'text before message 1',
        issues: [{ field: 'MSH', message: 'text before the first MSH segment is not an HL7 message' }],
        raw: 'hello',
      },
    ]);
    expect(parseAdtBatch(' \r\n').rejected).toEqual([
      { location: 'body', issues: [{ field: 'MSH', message: 'the body holds no HL7 message' }] },
    ]);
  });

  it('skips batch envelope segments (FHS/BHS/BTS/FTS)', () => {
    const result = parseAdtBatch(['FHS|^~\\&', 'BHS|^~\\&', MSH, PID, PV1, 'BTS|1', 'FTS|1'].join('\r'));
    expect(result.rejected).toEqual([]);
    expect(result.accepted[0]?.record.raw).toBe(message(MSH, PID, PV1));
  });

  it('never throws on garbage', () => {
    for (const junk of [
      'MSH',
      'MSH|',
      'MSH|^~\\&',
      'MSH|^~\\&|\r\r\rPID',
      '\u0000\u0001MSH|^~\\&|||||||',
      'PID|1||A',
    ]) {
      const result = parseAdtBatch(junk);
      expect(result.accepted.length + result.rejected.length).toBeGreaterThan(0);
    }
  });
});
