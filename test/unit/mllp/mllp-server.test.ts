import { afterEach, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { buildAck } from '../../../src/adapters/hl7v2/ack.js';
import { encodeFrame, MllpDecoder } from '../../../src/adapters/mllp/mllp-framing.js';
import {
  sendMllp,
  startMllpServer,
  type MllpHandler,
  type MllpPeer,
  type MllpServer,
} from '../../../src/mllp/mllp-server.js';

// Real sockets on 127.0.0.1, port 0.
const HOST = '127.0.0.1';
const at = new Date(Date.UTC(2025, 2, 10, 14, 30, 0));

const msg = (id: string): string =>
  `MSH|^~\\&|BHEHR|RIVERBEND|HUB|CARECOORD|20250310143000||ADT^A01|${id}|P|2.5.1\rPID|1||MRN-1`;
const echoAck: MllpHandler = async (message) => buildAck(message, { code: 'AA', at });
const msaOf = (ack: string): string => ack.split('\r').find((s) => s.startsWith('MSA')) ?? '';
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let server: MllpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(
  handle: MllpHandler,
  maxMessageBytes = 10_000,
  errors: Error[] = [],
): Promise<MllpServer> {
  server = await startMllpServer({
    host: HOST,
    port: 0,
    handle,
    maxMessageBytes,
    onError: (e) => errors.push(e),
  });
  return server;
}

/** A raw client: write any bytes, read replies frame by frame, see when the server closes. */
class RawClient {
  private readonly socket: net.Socket;
  private readonly decoder = new MllpDecoder(1_000_000);
  private readonly frames: string[] = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect({ host: HOST, port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) {
        if ('frame' in f) {
          this.frames.push(f.frame.toString('utf8'));
        }
      }
      this.waiters.forEach((w) => w());
    });
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
  }

  async write(bytes: Buffer | string): Promise<void> {
    await new Promise<void>((resolve) => this.socket.write(bytes, () => resolve()));
  }

  async replies(count: number, timeoutMs = 5_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (Date.now() > deadline) {
        throw new Error(`got ${this.frames.length} of ${count} replies`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.frames.slice(0, count);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('MLLP server', () => {
  it('answers a message with the handler ACK and tells the handler who sent it', async () => {
    const seen: Array<[string, MllpPeer]> = [];
    const { port } = await start(async (message, peer) => {
      seen.push([message, peer]);
      return echoAck(message, peer);
    });
    const ack = await sendMllp(HOST, port, msg('C1'), 5_000);
    expect(msaOf(ack)).toBe('MSA|AA|C1');
    expect(seen[0]?.[0]).toBe(msg('C1'));
    expect(seen[0]?.[1].address).toBe(HOST);
    expect(seen[0]?.[1].port).toBeGreaterThan(0);
  });

  it('reassembles a frame split across TCP packets', async () => {
    const { port } = await start(echoAck);
    const client = new RawClient(port);
    const bytes = encodeFrame(msg('SPLIT'));
    for (const cut of [
      [0, 1],
      [1, 20],
      [20, bytes.length - 1],
      [bytes.length - 1, bytes.length],
    ]) {
      await client.write(bytes.subarray(cut[0], cut[1]));
      await delay(20);
    }
    expect((await client.replies(1)).map(msaOf)).toEqual(['MSA|AA|SPLIT']);
    client.destroy();
  });

  it('handles two messages of one packet in order, one at a time, ignoring bytes outside frames', async () => {
    let active = 0;
    let maxActive = 0;
    const order: string[] = [];
    const { port } = await start(async (message, peer) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await delay(message.includes('|FIRST|') ? 100 : 1);
      order.push(message.includes('|FIRST|') ? 'FIRST' : 'SECOND');
      active--;
      return echoAck(message, peer);
    });
    const client = new RawClient(port);
    await client.write(
      Buffer.concat([Buffer.from('junk\r\n'), encodeFrame(msg('FIRST')), encodeFrame(msg('SECOND'))]),
    );
    expect((await client.replies(2)).map(msaOf)).toEqual(['MSA|AA|FIRST', 'MSA|AA|SECOND']);
    expect(order).toEqual(['FIRST', 'SECOND']);
    expect(maxActive).toBe(1);
    client.destroy();
  });

  it('answers an oversized frame with an AR NAK and closes the connection', async () => {
    let handled = 0;
    const { port } = await start(async (m, p) => {
      handled++;
      return echoAck(m, p);
    }, 200);
    const client = new RawClient(port);
    await client.write(encodeFrame(`${msg('BIG')}\rNTE|1||${'x'.repeat(500)}`));
    const [nak] = await client.replies(1);
    expect(msaOf(nak!)).toBe('MSA|AR|BIG|message exceeds 200 bytes');
    expect(nak).toContain('ERR||MSH^1|');
    await client.closed;
    expect(handled).toBe(0);
  });

  it('answers a handler failure with an AE NAK, reports it, and keeps the connection', async () => {
    const errors: Error[] = [];
    const { port } = await start(
      async (message, peer) => {
        if (message.includes('|BOOM|')) {
          throw new Error('queue unavailable');
        }
        return echoAck(message, peer);
      },
      10_000,
      errors,
    );
    const client = new RawClient(port);
    await client.write(Buffer.concat([encodeFrame(msg('BOOM')), encodeFrame(msg('AFTER'))]));
    const [nak, ack] = await client.replies(2);
    expect(msaOf(nak!)).toBe('MSA|AE|BOOM|the message could not be processed now; resend it later');
    expect(msaOf(ack!)).toBe('MSA|AA|AFTER');
    expect(errors.map((e) => e.message)).toEqual(['queue unavailable']);
    client.destroy();
  });

  it('close() stops accepting and waits for the in-flight handler, whose ACK still goes out', async () => {
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const { port } = await start(async (message, peer) => {
      started();
      await new Promise<void>((resolve) => (release = resolve));
      return echoAck(message, peer);
    });
    const reply = sendMllp(HOST, port, msg('SLOW'), 5_000);
    await handlerStarted;
    let closed = false;
    const closing = server!.close().then(() => (closed = true));
    server = undefined;
    await delay(100);
    expect(closed).toBe(false);
    await expect(sendMllp(HOST, port, msg('LATE'), 1_000)).rejects.toThrow();
    release();
    expect(msaOf(await reply)).toBe('MSA|AA|SLOW');
    await closing;
    expect(closed).toBe(true);
  });

  it('sendMllp times out when no reply comes', async () => {
    let release: () => void = () => undefined;
    const { port } = await start(async (message, peer) => {
      await new Promise<void>((resolve) => (release = resolve));
      return echoAck(message, peer);
    });
    await expect(sendMllp(HOST, port, msg('NEVER'), 200)).rejects.toThrow(/no MLLP reply .* within 200 ms/);
    release(); // close() waits for in-flight handlers
  });
});
