/**
 * MLLP framing (HL7 Minimal Lower Layer Protocol, release 2): each message travels as
 * `0x0B <message bytes> 0x1C 0x0D`.
 * @see https://www.hl7.org/documentcenter/public/wg/inm/mllp_transport_specification.PDF
 */
export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;

/** Wraps one message in an MLLP frame (UTF-8). */
export function encodeFrame(message: string): Buffer {
  return Buffer.concat([
    Buffer.of(START_BLOCK),
    Buffer.from(message, 'utf8'),
    Buffer.of(END_BLOCK, CARRIAGE_RETURN),
  ]);
}

/** What a chunk of bytes completed: a whole frame, or a frame over the size limit (its start). */
export type DecodedFrame = { readonly frame: Buffer } | { readonly oversize: Buffer };

/**
 * Cuts a byte stream into frames, however TCP split or joined them. Bytes outside frames
 * (including the `0x0D` after `0x1C`) are ignored; a start byte inside a frame restarts it (the
 * sender gave up on the unfinished one and, having no ACK, will resend it). After a frame grows
 * past `maxBytes` the decoder reports it once and ignores everything after.
 */
export class MllpDecoder {
  private parts: Buffer[] = [];
  private size = 0;
  private inFrame = false;
  private failed = false;

  constructor(private readonly maxBytes: number) {}

  /** Whether a frame has started and not yet ended. */
  get pending(): boolean {
    return this.inFrame && !this.failed;
  }

  push(chunk: Buffer): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    let i = 0;
    while (i < chunk.length && !this.failed) {
      if (!this.inFrame) {
        const start = chunk.indexOf(START_BLOCK, i);
        if (start < 0) {
          break;
        }
        this.startFrame();
        i = start + 1;
        continue;
      }
      const end = chunk.indexOf(END_BLOCK, i);
      const restart = chunk.indexOf(START_BLOCK, i);
      if (restart >= 0 && (end < 0 || restart < end)) {
        this.startFrame();
        i = restart + 1;
        continue;
      }
      const stop = end < 0 ? chunk.length : end;
      if (this.size + (stop - i) > this.maxBytes) {
        this.parts.push(chunk.subarray(i, i + this.maxBytes - this.size));
        out.push({ oversize: Buffer.concat(this.parts) });
        this.failed = true;
        this.parts = [];
        break;
      }
      this.parts.push(chunk.subarray(i, stop));
      this.size += stop - i;
      if (end < 0) {
        break;
      }
      out.push({ frame: Buffer.concat(this.parts) });
      this.inFrame = false;
      this.parts = [];
      i = end + 1;
    }
    return out;
  }

  private startFrame(): void {
    this.inFrame = true;
    this.parts = [];
    this.size = 0;
  }
}
