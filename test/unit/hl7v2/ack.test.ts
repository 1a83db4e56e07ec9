import { describe, expect, it } from '@jest/globals';
import { ackCodeFor, ackForParseResult, buildAck } from '../../../src/adapters/hl7v2/ack.js';
import { parseAdtBatch } from '../../../src/adapters/hl7v2/parse-adt.js';

const at = new Date(Date.UTC(2025, 2, 10, 14, 30, 5));
const MSH =
  'MSH|^~\\&|BHEHR|RIVERBEND^1.2.3^ISO|HUB|CARECOORD|20250310143000||ADT^A01^ADT_A01|CTRL-1|T|2.5.1';
const PID = 'PID|1||MRN-1^^^RB^MR||Testperson^Alex||19880412|F';
const PV1 = 'PV1|1|I';

function segments(ack: string): string[] {
  expect(ack.endsWith('\r')).toBe(true);
  return ack.slice(0, -1).split('\r');
}

describe('buildAck', () => {
  it('acknowledges with AA, swapping sender and receiver and echoing version and processing id', () => {
    expect(segments(buildAck([MSH, PID, PV1].join('\r'), { code: 'AA', at }))).toEqual([
      'MSH|^~\\&|HUB|CARECOORD|BHEHR|RIVERBEND^1.2.3^ISO|20250310143005+0000||ACK^A01^ACK|ACKCTRL-1|T|2.5.1',
      'MSA|AA|CTRL-1',
    ]);
  });

  it('adds ERR segments naming each field for AE (v2.5 and later: ERR-2/3/4/8)', () => {
    const ack = buildAck(MSH, {
      code: 'AE',
      at,
      issues: [
        { field: 'PID-3', message: 'at least one patient identifier (PID-3.1) is required' },
        { field: 'PV1-44', message: 'invalid date/time: month out of range' },
        { field: 'PID-8', message: 'administrative sex is not a code of HL7 table 0001' },
      ],
    });
    expect(segments(ack).slice(1)).toEqual([
      'MSA|AE|CTRL-1|at least one patient identifier (PID-3.1) is required',
      'ERR||PID^1^3|101^Required field missing^HL70357|E||||PID-3: at least one patient identifier (PID-3.1) is required',
      'ERR||PV1^1^44|102^Data type error^HL70357|E||||PV1-44: invalid date/time: month out of range',
      'ERR||PID^1^8|103^Table value not found^HL70357|E||||PID-8: administrative sex is not a code of HL7 table 0001',
    ]);
  });

  it('uses ERR-1 before v2.5 and the v2.3 message type form', () => {
    const old = MSH.replace('2.5.1', '2.3').replace('ADT^A01^ADT_A01', 'ADT^A17');
    const ack = buildAck(old, {
      code: 'AR',
      at,
      issues: [{ field: 'MSH-9', message: 'trigger A17 not supported' }],
    });
    expect(segments(ack)).toEqual([
      'MSH|^~\\&|HUB|CARECOORD|BHEHR|RIVERBEND^1.2.3^ISO|20250310143005+0000||ACK^A17|ACKCTRL-1|T|2.3',
      'MSA|AR|CTRL-1|trigger A17 not supported',
      'ERR|MSH^1^9^201&Unsupported event code&HL70357',
    ]);
  });

  it('escapes text and re-encodes fields of a message with other delimiters', () => {
    // `!S!` is this sender's escaped component separator `*`: a plain character in the ACK.
    const custom = 'MSH#*@!$#APP*X$Y#FAC#HUB#CC#20250310##ADT*A03#C!S!1#P#2.4';
    const ack = buildAck(custom, {
      code: 'AE',
      at,
      issues: [{ field: 'PID-5', message: 'bad | value ^ here' }],
    });
    expect(segments(ack)).toEqual([
      'MSH|^~\\&|HUB|CC|APP^X&Y|FAC|20250310143005+0000||ACK^A03^ACK|ACKC*1|P|2.4',
      'MSA|AE|C*1|bad \\F\\ value \\S\\ here',
      'ERR|PID^1^5^102&Data type error&HL70357',
    ]);
  });

  it('recovers what it can from a message that failed to parse', () => {
    const ack = buildAck('MSH|^~\\&|APP|FAC|||garbage', { code: 'AR', at, text: 'not parseable' });
    expect(segments(ack)).toEqual([
      'MSH|^~\\&|||APP|FAC|20250310143005+0000||ACK|ACK' + ack.split('|ACK')[2]!.split('|')[0] + '|P|2.5',
      'MSA|AR||not parseable',
      'ERR|||207^Application internal error^HL70357|E||||not parseable',
    ]);
    // No header at all: defaults, and an id derived from the content (same input, same id).
    const none = buildAck('not hl7', { code: 'AR', at, text: 'no MSH' });
    expect(none).toBe(buildAck('not hl7', { code: 'AR', at, text: 'no MSH' }));
    expect(segments(none)[0]).toMatch(
      /^MSH\|\^~\\&\|\|\|\|\|20250310143005\+0000\|\|ACK\|ACK[0-9a-f]{16}\|P\|2\.5$/,
    );
  });
});

describe('ackCodeFor / ackForParseResult', () => {
  it('picks AA, AE or AR from the issues', () => {
    expect(ackCodeFor([])).toBe('AA');
    expect(ackCodeFor([{ field: 'PID-3', message: 'x' }])).toBe('AE');
    expect(ackCodeFor([{ field: 'MSH-9', message: 'x' }])).toBe('AR');
    expect(ackCodeFor([{ field: 'MSH', message: 'x' }])).toBe('AR');
  });

  it('acknowledges a parse result', () => {
    const good = [MSH, PID, PV1].join('\r');
    expect(ackForParseResult(good, parseAdtBatch(good), at)).toContain('MSA|AA|CTRL-1\r');
    const bad = [MSH, 'PID|1||', PV1].join('\r');
    expect(ackForParseResult(bad, parseAdtBatch(bad), at)).toContain('MSA|AE|CTRL-1|');
    const unsupported = bad.replace('ADT^A01', 'ADT^A17');
    expect(ackForParseResult(unsupported, parseAdtBatch(unsupported), at)).toContain('MSA|AR|CTRL-1|');
  });
});
