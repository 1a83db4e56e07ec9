/**
 * Issue 18, progress on long work: the CLI draws a progress line on a terminal's stderr, redrawn
 * in place and throttled, and nothing at all when output is piped.
 */
import { describe, expect, it } from '@jest/globals';
import { progressBar } from '../../../src/cli/progress.js';

function terminal(isTTY = true) {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

describe('progressBar', () => {
  it('redraws one line in place, at most ten times a second, and ends it with a newline', () => {
    const out = terminal();
    let t = 0;
    const bar = progressBar('mapping', 4, out, () => t);
    bar.tick(); // drawn: the first
    bar.tick(); // not drawn: within 100 ms
    t = 2500;
    bar.tick();
    bar.tick(); // the last is always drawn
    bar.done();
    expect(out.written).toEqual([
      `\rmapping [${'#'.repeat(8)}${'.'.repeat(22)}] 25% 1/4 0s`,
      `\rmapping [${'#'.repeat(23)}${'.'.repeat(7)}] 75% 3/4 3s`,
      `\rmapping [${'#'.repeat(30)}] 100% 4/4 3s`,
      `\rmapping [${'#'.repeat(30)}] 100% 4/4 3s`,
      '\n',
    ]);
  });

  it('writes nothing when the output is not a terminal', () => {
    const out = terminal(false);
    const bar = progressBar('validating', 10, out);
    bar.tick(10);
    bar.done();
    expect(out.written).toEqual([]);
  });
});
