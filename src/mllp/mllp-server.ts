import net, { type AddressInfo, type Socket } from 'node:net';
import { buildAck } from '../adapters/hl7v2/ack.js';
import { decodeHl7Bytes } from '../adapters/hl7v2/normalize.js';
import { encodeFrame, MllpDecoder } from '../adapters/mllp/mllp-framing.js';

/** The sending system's end of a connection. */
export interface MllpPeer {
  readonly address: string;
  readonly port: number;
}

/**
 * Handles one message and resolves with the complete ACK to send back (see `buildAck`).
 *
 * Contract: resolve only once the message is durably accepted (an `AA` means the sender may
 * forget it) or definitely refused (`AE`/`AR`). Senders resend a message whose ACK they did not
 * get, so the same MSH-10 can arrive again: the handler must be idempotent on it (the ingest
 * service dedupes). A rejection is answered with an `AE` NAK and reported to `onError`; messages
 * of one connection are handled one at a time, in order.
 */
export type MllpHandler = (message: string, peer: MllpPeer) => Promise<string>;

/** Options of {@link startMllpServer}. */
export interface MllpServerOptions {
  /** Address to listen on, e.g. `127.0.0.1`. */
  readonly host: string;
  /** Port; `0` picks a free one (tests). */
  readonly port: number;
  readonly handle: MllpHandler;
  /** Largest message accepted; a larger frame gets an `AR` NAK and the connection is closed. */
  readonly maxMessageBytes: number;
  /** Socket errors and handler failures (never with message content). */
  readonly onError?: (error: Error, peer: MllpPeer) => void;
  /**
   * Whether anyone may send from this address (the union of the partners' allow-lists); checked
   * when the connection opens, before a byte is read. Absent: every address.
   */
  readonly acceptFrom?: (address: string) => boolean;
  /** A connection closed unread: not on any allow-list, or over a connection cap. */
  readonly onRefusedConnection?: (peer: MllpPeer, reason: string) => void;
  /** Connections open at once, in all. @defaultValue 200 */
  readonly maxConnections?: number;
  /** Connections open at once from one address. @defaultValue 20 */
  readonly maxConnectionsPerAddress?: number;
  /** A connection that sends nothing for this long is closed. @defaultValue 300000 */
  readonly idleTimeoutMs?: number;
}

/** A running MLLP listener. */
export interface MllpServer {
  /** The port it listens on. */
  readonly port: number;
  /** Stops accepting, lets in-flight handlers finish and their ACKs go out, then closes. */
  close(): Promise<void>;
}

/** How long a closed-for-writing connection may linger before it is destroyed. */
const LINGER_MS = 1_000;
/** A frame must arrive whole within this: a sender trickling bytes cannot hold a buffer for ever. */
const FRAME_DEADLINE_MS = 30_000;
/** Largest reply {@link sendMllp} reads. */
const MAX_REPLY_BYTES = 16 * 1024 * 1024;

/** Starts a TCP listener speaking MLLP (`0x0B` message `0x1C 0x0D`). */
export async function startMllpServer(options: MllpServerOptions): Promise<MllpServer> {
  const connections = new Set<Connection>();
  let closing = false;
  const perAddress = new Map<string, number>();
  const server = net.createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const refusal =
      options.acceptFrom && !options.acceptFrom(peer.address)
        ? 'not on any partner allow-list'
        : connections.size >= (options.maxConnections ?? 200)
          ? 'too many connections'
          : (perAddress.get(peer.address) ?? 0) >= (options.maxConnectionsPerAddress ?? 20)
            ? 'too many connections from this address'
            : undefined;
    if (refusal) {
      options.onRefusedConnection?.(peer, refusal);
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, options);
    connections.add(connection);
    perAddress.set(peer.address, (perAddress.get(peer.address) ?? 0) + 1);
    socket.once('close', () => {
      connections.delete(connection);
      const left = (perAddress.get(peer.address) ?? 1) - 1;
      if (left > 0) {
        perAddress.set(peer.address, left);
      } else {
        perAddress.delete(peer.address);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...connections].map((c) => c.stop()));
      await closed;
    },
  };
}

/** One client connection: frames in, one handler at a time, ACKs out in order. */
class Connection {
  private readonly decoder: MllpDecoder;
  private readonly peer: MllpPeer;
  private readonly queue: Array<{ message: string } | { oversize: string }> = [];
  private draining: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: MllpServerOptions,
  ) {
    this.decoder = new MllpDecoder(options.maxMessageBytes);
    this.peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => options.onError?.(err, this.peer));
    // Idle while nothing is in hand: a message being handled keeps the connection.
    socket.setTimeout(options.idleTimeoutMs ?? 300_000, () => {
      if (!this.draining) {
        this.endSocket();
      }
    });
    socket.once('close', () => clearTimeout(this.frameTimer));
  }

  private frameTimer: NodeJS.Timeout | undefined;

  /** Finishes the message in hand (not the queued ones: unacknowledged, they will be resent). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.draining;
    this.endSocket();
  }

  private receive(chunk: Buffer): void {
    const frames = this.decoder.push(chunk);
    if (frames.length > 0) {
      clearTimeout(this.frameTimer); // each frame has its own deadline
      this.frameTimer = undefined;
    }
    for (const decoded of frames) {
      this.queue.push(
        'frame' in decoded
          ? { message: decodeHl7Bytes(decoded.frame) }
          : { oversize: decodeHl7Bytes(decoded.oversize) },
      );
    }
    if (!this.decoder.pending) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    } else if (!this.frameTimer) {
      this.frameTimer = setTimeout(() => this.socket.destroy(), FRAME_DEADLINE_MS);
      this.frameTimer.unref();
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    this.socket.pause();
    for (let item = this.queue.shift(); item && !this.stopping; item = this.queue.shift()) {
      if ('oversize' in item) {
        // What arrived is enough to address the NAK (MSH comes first).
        const message = `message exceeds ${this.options.maxMessageBytes} bytes`;
        const nak = buildAck(item.oversize, {
          code: 'AR',
          at: new Date(),
          issues: [{ field: 'MSH', message }],
        });
        this.stopping = true;
        this.queue.length = 0;
        await this.write(nak);
        this.endSocket();
        return;
      }
      await this.write(await this.answer(item.message));
    }
    if (!this.socket.destroyed) {
      this.socket.resume();
    }
  }

  private async answer(message: string): Promise<string> {
    try {
      return await this.options.handle(message, this.peer);
    } catch (err) {
      this.options.onError?.(err instanceof Error ? err : new Error(String(err)), this.peer);
      return buildAck(message, {
        code: 'AE',
        at: new Date(),
        text: 'the message could not be processed now; resend it later',
      });
    }
  }

  private write(reply: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) {
        resolve();
        return;
      }
      // A failed write surfaces as the socket's 'error' event; the loop goes on to close.
      this.socket.write(encodeFrame(reply), () => resolve());
    });
  }

  private endSocket(): void {
    if (this.socket.destroyed) {
      return;
    }
    this.socket.end();
    this.socket.resume(); // read and ignore whatever the peer still sends, so it sees our FIN
    const timer = setTimeout(() => this.socket.destroy(), LINGER_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
  }
}

/**
 * Sends one message over MLLP and resolves with the reply (the ACK), then closes the
 * connection. Rejects on a connection error, an early close, or no reply within `timeoutMs`.
 */
export function sendMllp(host: string, port: number, message: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const decoder = new MllpDecoder(MAX_REPLY_BYTES);
    let settled = false;
    const settle = (error: Error | undefined, reply?: string): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) {
        reject(error);
      } else {
        resolve(reply ?? '');
      }
    };
    const timer = setTimeout(
      () => settle(new Error(`no MLLP reply from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(encodeFrame(message)));
    socket.on('data', (chunk: Buffer) => {
      const first = decoder.push(chunk)[0];
      if (first && 'frame' in first) {
        settle(undefined, decodeHl7Bytes(first.frame));
      } else if (first) {
        settle(new Error(`MLLP reply from ${host}:${port} exceeds ${MAX_REPLY_BYTES} bytes`));
      }
    });
    socket.on('error', (err) => settle(err));
    socket.on('close', () => settle(new Error(`connection to ${host}:${port} closed before a reply`)));
  });
}
