import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/logging/logger.js';

describe('log redaction', () => {
  it('redacts PHI keys at any depth, not only one level down', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger('info', {}, sink);
    logger.info(
      {
        jobId: 'j1',
        error: { cause: { entry: [{ resource: { birthDate: '1961-07-04' } }], deeper: { name: 'Robin' } } },
        list: [{ detail: { telecom: '555-0100', note: 'lives alone' } }],
      },
      'something failed',
    );
    const text = lines.join('');
    expect(text).toContain('"jobId":"j1"');
    for (const phi of ['1961-07-04', 'Robin', '555-0100', 'lives alone']) {
      expect(text).not.toContain(phi);
    }
  });
});
