import { describe, expect, it } from '@jest/globals';
import { encodeFrame, MllpDecoder } from '../../../src/adapters/mllp/mllp-framing.js';

const text = (frames: ReturnType<MllpDecoder['push']>): string[] =>
  frames.map((f) => ('frame' in f ? f.frame.toString('utf8') : `OVERSIZE:${f.oversize.toString('utf8')}`));

describe('MllpDecoder', () => {
  it('round-trips a frame', () => {
    expect(encodeFrame('MSH|é')).toEqual(Buffer.from([0x0b, ...Buffer.from('MSH|é'), 0x1c, 0x0d]));
    expect(text(new MllpDecoder(100).push(encodeFrame('MSH|é')))).toEqual(['MSH|é']);
  });

  it('reassembles a frame delivered one byte at a time', () => {
    const decoder = new MllpDecoder(100);
    const bytes = encodeFrame('MSH|^~\\&|A\rPID|1');
    const out = [...bytes].flatMap((b) => text(decoder.push(Buffer.of(b))));
    expect(out).toEqual(['MSH|^~\\&|A\rPID|1']);
  });

  it('cuts two frames out of one chunk and ignores bytes outside frames', () => {
    const chunk = Buffer.concat([
      Buffer.from('noise\r\n'),
      encodeFrame('one'),
      Buffer.from('x'),
      encodeFrame('two'),
    ]);
    expect(text(new MllpDecoder(100).push(chunk))).toEqual(['one', 'two']);
  });

  it('restarts on a start byte inside a frame', () => {
    const chunk = Buffer.concat([Buffer.from([0x0b]), Buffer.from('lost'), encodeFrame('kept')]);
    expect(text(new MllpDecoder(100).push(chunk))).toEqual(['kept']);
  });

  it('reports an oversized frame once, with its first bytes, and then ignores the stream', () => {
    const decoder = new MllpDecoder(5);
    expect(text(decoder.push(Buffer.from([0x0b, ...Buffer.from('abc')])))).toEqual([]);
    expect(text(decoder.push(Buffer.from('defgh')))).toEqual(['OVERSIZE:abcde']);
    expect(text(decoder.push(encodeFrame('ok')))).toEqual([]);
  });

  it('accepts a frame of exactly the limit', () => {
    expect(text(new MllpDecoder(5).push(encodeFrame('abcde')))).toEqual(['abcde']);
  });
});
