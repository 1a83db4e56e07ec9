import { diffLines } from 'diff';

/** One line of a diff: kept, added or removed. */
export interface LineChange {
  readonly kind: 'same' | 'added' | 'removed';
  readonly text: string;
}

/** Lines of a diff kept at most (an edit of a whole export is summarised past it). */
const MAX_LINES = 400;

/**
 * What an engineer changed in a record before replaying it, line by line (HL7 segments are lines
 * too: carriage returns count as line ends), kept with the replay and shown beside it.
 */
export function lineDiff(before: string, after: string): LineChange[] {
  const lines = (text: string): string => text.replace(/\r\n?/g, '\n');
  const changes: LineChange[] = [];
  for (const part of diffLines(lines(before), lines(after))) {
    const kind = part.added ? 'added' : part.removed ? 'removed' : 'same';
    for (const text of part.value.replace(/\n$/, '').split('\n')) {
      changes.push({ kind, text });
    }
  }
  return changes.length > MAX_LINES
    ? [...changes.slice(0, MAX_LINES), { kind: 'same', text: `… ${changes.length - MAX_LINES} more lines` }]
    : changes;
}
