import { createHash } from 'node:crypto';
import type { FieldIssue, ParseResult } from '../types.js';
import { escapeHl7, firstComponent, readHeader, reencodeField, unescapeHl7 } from './normalize.js';

/**
 * HL7 acknowledgment codes (table 0008): `AA` applied, `AE` error in the content (the sender
 * should fix and resend), `AR` rejected (unparseable, unsupported type or version).
 */
export type AckCode = 'AA' | 'AE' | 'AR';

/** What to acknowledge. */
export interface AckRequest {
  readonly code: AckCode;
  /** MSH-7 of the ACK: the caller's clock (this module has none). */
  readonly at: Date;
  /** One ERR segment each. */
  readonly issues?: readonly FieldIssue[];
  /** MSA-3 text. @defaultValue the first issue's message */
  readonly text?: string;
}

/** Issues about these fields mean the message could not be read or is not for us: `AR`. */
const REJECT_FIELDS = new Set(['MSH', 'MSH-1', 'MSH-2', 'MSH-9', 'MSH-12']);

/** HL7 table 0357 (message error condition codes) used in ERR. */
const ERROR_TEXT: Readonly<Record<string, string>> = {
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '203': 'Unsupported version id',
  '207': 'Application internal error',
};

/** `AA` without issues; `AR` when the header is unreadable or unsupported; else `AE`. */
export function ackCodeFor(issues: readonly FieldIssue[]): AckCode {
  if (issues.length === 0) {
    return 'AA';
  }
  return issues.some((i) => REJECT_FIELDS.has(i.field)) ? 'AR' : 'AE';
}

/** The ACK for one message given what {@link parseAdtBatch} said about it. */
export function ackForParseResult(message: string, result: ParseResult<unknown>, at: Date): string {
  const issues = result.rejected.flatMap((r) => r.issues);
  const code = result.accepted.length === 0 && issues.length === 0 ? 'AR' : ackCodeFor(issues);
  return buildAck(message, { code, at, issues });
}

/**
 * Builds the ACK of `message` (standard delimiters, segments ended by `\r`). Works for messages
 * that failed to parse: header fields are read by hand and whatever is missing gets a default.
 * MSH-3/4 and MSH-5/6 are swapped, MSH-12 and MSH-11 echoed, MSH-10 is `ACK` + the original
 * control id (deterministic, so a resent message gets the same ACK id), MSA-2 the original id.
 * ERR segments name each issue's segment and field (ERR-2/3/4/8 from v2.5, ERR-1 before).
 * @see https://hl7-definition.caristix.com/v2/HL7v2.5.1/Segments/ERR
 */
export function buildAck(message: string, req: AckRequest): string {
  const header = readHeader(message);
  const d = header.delimiters;
  const raw = (n: number): string => reencodeField(header.fields[n] ?? '', d);
  const controlId = firstComponent(header.fields[10], d);
  const declared = firstComponent(header.fields[12], d);
  const version = /^2\.\d+(\.\d+)?$/.test(declared) ? declared : '2.5';
  const trigger = escapeHl7(unescapeHl7((header.fields[9] ?? '').split(d.component)[1] ?? '', d).trim());
  const processingId = firstComponent(header.fields[11], d) || 'P';
  const ackId = `ACK${controlId || createHash('sha256').update(message).digest('hex').slice(0, 16)}`;
  const type = !trigger ? 'ACK' : atLeast(version, 2, 3, 1) ? `ACK^${trigger}^ACK` : `ACK^${trigger}`;

  const issues = req.issues ?? [];
  const text = req.text ?? issues[0]?.message;
  const segments = [
    ['MSH', '^~\\&', raw(5), raw(6), raw(3), raw(4), hl7Timestamp(req.at), '', type]
      .concat([escapeHl7(ackId), processingId, version])
      .join('|'),
    ['MSA', req.code, escapeHl7(controlId), ...(text && req.code !== 'AA' ? [escapeHl7(text)] : [])].join(
      '|',
    ),
  ];
  if (req.code !== 'AA') {
    const errors = issues.length > 0 ? issues : [{ field: '', message: text ?? 'internal error' }];
    segments.push(...errors.map((issue) => errSegment(issue, version)));
  }
  return segments.map((s) => `${s}\r`).join('');
}

function errSegment(issue: FieldIssue, version: string): string {
  const m = /^([A-Z][A-Z0-9]{2})(?:-(\d+)(?:\.(\d+))?)?$/.exec(issue.field);
  const [, segment = '', field = '', comp = ''] = m ?? [];
  const location = segment ? [segment, '1', field, comp ? '1' : '', comp] : [];
  const code = errorCode(issue);
  const error = [code, ERROR_TEXT[code] ?? '', 'HL70357'];
  const trimmed = (parts: string[], sep: string): string =>
    parts.join(sep).replace(new RegExp(`\\${sep}+$`), '');
  const text = escapeHl7(issue.field ? `${issue.field}: ${issue.message}` : issue.message);
  if (atLeast(version, 2, 5, 0)) {
    return ['ERR', '', trimmed(location, '^'), error.join('^'), 'E', '', '', '', text].join('|');
  }
  // Before v2.5: ERR-1 only, "segment^sequence^field^code&text&table", no free text.
  return ['ERR', trimmed([...location.slice(0, 3), error.join('&')], '^')].join('|');
}

function errorCode(issue: FieldIssue): string {
  if (issue.field === '') {
    return '207';
  }
  if (issue.field === 'MSH-9') {
    return issue.message.startsWith('message type') ? '200' : '201';
  }
  if (issue.field === 'MSH-12') {
    return '203';
  }
  if (/required/.test(issue.message)) {
    return '101';
  }
  return /table/.test(issue.message) ? '103' : '102';
}

function atLeast(version: string, major: number, minor: number, patch: number): boolean {
  const [a = 0, b = 0, c = 0] = version.split('.').map(Number);
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}

/** `YYYYMMDDHHMMSS+0000`, in UTC. */
function hl7Timestamp(at: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${p(at.getUTCFullYear(), 4)}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}` +
    `${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}+0000`
  );
}
