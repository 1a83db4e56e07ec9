/**
 * Pre-normalisation of HL7 v2 text before the parser sees it: real senders differ in segment
 * terminators, add BOMs and trailing spaces, batch several messages, and mangle MSH-2. Also reads
 * MSH fields by hand, so an ACK can be built for a message the parser refused.
 */

/** The delimiters a message declares in MSH-1 and MSH-2. */
export interface Hl7Delimiters {
  readonly field: string;
  readonly component: string;
  readonly repetition: string;
  readonly escape: string;
  readonly subComponent: string;
}

/** The standard delimiters `|^~\&`. */
export const DEFAULT_DELIMITERS: Hl7Delimiters = {
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subComponent: '&',
};

/** One message cut out of a batch. */
export interface SplitMessage {
  /** 1-based position in the batch. */
  readonly index: number;
  /** Segments joined by `\r`, trimmed, BOM and MLLP bytes removed. */
  readonly text: string;
}

/** A batch cut into messages, and any text that came before the first MSH. */
export interface SplitBatch {
  readonly messages: readonly SplitMessage[];
  /** Non-blank text before the first MSH segment (it is not an HL7 message: rejected, not dropped). */
  readonly leading?: string;
}

/** Batch envelope segments (HL7 batch protocol): they carry no patient data. */
const ENVELOPE = new Set(['FHS', 'BHS', 'BTS', 'FTS']);

/**
 * Segment ids that may start a segment when a sender put a whole message on one line with spaces
 * between segments (seen in real files). Only these split a line, so a space in a value does not.
 */
const SPACE_SPLIT_SEGMENTS = [
  'MSH', 'EVN', 'PID', 'PD1', 'PD2', 'NK1', 'PV1', 'PV2', 'ROL', 'DB1', 'OBX', 'AL1', 'DG1', 'DRG',
  'PR1', 'GT1', 'IN1', 'IN2', 'IN3', 'ACC', 'UB1', 'UB2', 'PDA', 'NTE', 'ARV', 'MRG', 'ZPI', 'ZPV',
]; // prettier-ignore

/**
 * Decodes bytes as UTF-8, unless the first MSH declares ISO 8859-1 in MSH-18 (`8859/1`), which
 * older systems send.
 */
export function decodeHl7Bytes(bytes: Buffer): string {
  const latin = bytes.toString('latin1');
  const start = latin.indexOf('MSH');
  if (start >= 0) {
    const fs = latin.charAt(start + 3);
    const header = latin.slice(start).split(/[\r\n]/, 1)[0] ?? '';
    const charset = (header.split(fs)[17] ?? '').split(/[\^~]/, 1)[0]?.trim();
    if (charset === '8859/1') {
      return latin;
    }
  }
  return bytes.toString('utf8');
}

/** Cuts a body into messages: each starts at an MSH segment. */
export function splitMessages(text: string): SplitBatch {
  const lines = text
    .replace(/\ufeff/g, '')
    .replaceAll(String.fromCharCode(0x0b), '') // MLLP start/end bytes, if a framed message was posted
    .replaceAll(String.fromCharCode(0x1c), '')
    .split(/\r\n|\r|\n/)
    .flatMap(splitSpaceSeparatedSegments)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !ENVELOPE.has(l.slice(0, 3)));

  const leading: string[] = [];
  const messages: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('MSH')) {
      messages.push([line]);
    } else if (messages.length === 0) {
      leading.push(line);
    } else {
      messages[messages.length - 1]!.push(line);
    }
  }
  return {
    messages: messages.map((segments, i) => ({ index: i + 1, text: segments.join('\r') })),
    ...(leading.length > 0 ? { leading: leading.join('\r') } : {}),
  };
}

function splitSpaceSeparatedSegments(line: string): string[] {
  const trimmed = line.trim();
  if (!trimmed.startsWith('MSH') || trimmed.length < 4) {
    return [line];
  }
  const fs = escapeRegExp(trimmed.charAt(3));
  // One whitespace character before the segment id, not a run: `\s+(?=...)` retries every run
  // length at every position (40,000 spaces blocked the event loop for seconds). The rest of a
  // run stays on the previous piece, which the caller trims.
  const splitter = new RegExp(`\\s(?=(?:${SPACE_SPLIT_SEGMENTS.join('|')})${fs})`);
  return trimmed.split(splitter);
}

/** MSH fields read by hand: `fields[n]` is MSH-n as sent (still escaped), `''` when absent. */
export interface Hl7Header {
  readonly delimiters: Hl7Delimiters;
  /** MSH-n by n (index 0 unused). */
  readonly fields: readonly string[];
  /** The message with MSH-2 rewritten to the 4 delimiters it means, ready for the parser. */
  readonly text: string;
  /** What is wrong with MSH-1/MSH-2, if anything; then `delimiters` are the defaults. */
  readonly problem?: { readonly field: 'MSH-1' | 'MSH-2'; readonly message: string };
}

/**
 * Reads the MSH segment of one message without the parser, repairing MSH-2 where its meaning is
 * clear: a doubled escape character (`^~\\&`) and a v2.7 truncation character are dropped, missing
 * trailing delimiters take their default.
 */
export function readHeader(message: string): Hl7Header {
  const at = message.indexOf('MSH');
  const text = at >= 0 ? message.slice(at) : message;
  const [msh = '', ...rest] = text.split('\r');
  const fs = msh.charAt(3);
  if (at < 0 || fs === '' || /[\sA-Za-z0-9]/.test(fs)) {
    return {
      delimiters: DEFAULT_DELIMITERS,
      fields: [],
      text,
      problem: { field: 'MSH-1', message: 'no MSH segment with a field separator' },
    };
  }
  const parts = msh.split(fs);
  const declared = parts[1] ?? '';
  const chars = [...declared];
  if (chars.length >= 5 && chars[2] === chars[3]) {
    chars.splice(3, 1); // `^~\\&`: the escape character doubled by a sender that escaped it
  }
  const [component = '^', repetition = '~', escape = '\\', subComponent = '&'] = chars;
  const delimiters: Hl7Delimiters = { field: fs, component, repetition, escape, subComponent };
  const all = [fs, component, repetition, escape, subComponent];
  const encoding = `${component}${repetition}${escape}${subComponent}`;
  parts[1] = encoding;
  const fields = ['', fs, ...parts.slice(1)];
  const repaired = [parts.join(fs), ...rest].join('\r');
  if (new Set(all).size !== all.length || all.some((c) => /[\sA-Za-z0-9]/.test(c))) {
    return {
      delimiters: DEFAULT_DELIMITERS,
      fields,
      text: repaired,
      problem: {
        field: 'MSH-2',
        message: 'encoding characters must be 4 distinct non-alphanumeric characters',
      },
    };
  }
  return { delimiters, fields, text: repaired };
}

/** Decodes an HL7-escaped value (`\F\ \S\ \T\ \R\ \E\ \Xhh\`); formatting escapes are dropped. */
export function unescapeHl7(value: string, d: Hl7Delimiters): string {
  if (!value.includes(d.escape)) {
    return value;
  }
  const e = escapeRegExp(d.escape);
  return value.replace(new RegExp(`${e}([^${e}]*)${e}`, 'g'), (whole, seq: string) => {
    switch (seq.charAt(0)) {
      case 'F':
        return d.field;
      case 'S':
        return d.component;
      case 'T':
        return d.subComponent;
      case 'R':
        return d.repetition;
      case 'E':
        return d.escape;
      case 'X':
        return Buffer.from(seq.slice(1), 'hex').toString('latin1');
      case 'H':
      case 'N':
      case 'Z':
      case 'C':
      case 'M':
      case '.':
        return '';
      default:
        return whole;
    }
  });
}

/** Encodes a value for an HL7 field with the given delimiters. */
export function escapeHl7(value: string, d: Hl7Delimiters = DEFAULT_DELIMITERS): string {
  let out = '';
  for (const ch of value) {
    if (ch === d.escape) {
      out += `${d.escape}E${d.escape}`;
    } else if (ch === d.field) {
      out += `${d.escape}F${d.escape}`;
    } else if (ch === d.component) {
      out += `${d.escape}S${d.escape}`;
    } else if (ch === d.subComponent) {
      out += `${d.escape}T${d.escape}`;
    } else if (ch === d.repetition) {
      out += `${d.escape}R${d.escape}`;
    } else if (ch === '\r' || ch === '\n') {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * Re-encodes a field written with one set of delimiters for another (components and
 * subcomponents kept, repetitions beyond the first dropped), e.g. to copy MSH-3 into an ACK.
 */
export function reencodeField(
  value: string,
  from: Hl7Delimiters,
  to: Hl7Delimiters = DEFAULT_DELIMITERS,
): string {
  const first = value.split(from.repetition)[0] ?? '';
  return first
    .split(from.component)
    .map((c) =>
      c
        .split(from.subComponent)
        .map((s) => escapeHl7(unescapeHl7(s, from), to))
        .join(to.subComponent),
    )
    .join(to.component);
}

/** The first component of a field, decoded. */
export function firstComponent(value: string | undefined, d: Hl7Delimiters): string {
  const first = (value ?? '').split(d.repetition)[0] ?? '';
  return unescapeHl7((first.split(d.component)[0] ?? '').split(d.subComponent)[0] ?? '', d).trim();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
