import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with the next request. */
export type Fault = { kind: 'status'; status: number } | { kind: 'reset' } | { kind: 'delay'; ms: number };

/**
 * A real HTTP proxy in front of a real server that injects faults: the next requests can be
 * answered with a chosen status, have their connection dropped or be held a while before they pass
 * on; every other request passes through unchanged. Counts what it saw, so a test can tell how
 * often a client retried.
 */
export class FaultProxy {
  private readonly faults: Fault[] = [];
  private server: Server | undefined;
  private pausedPort: number | undefined;
  /** Requests received (method and path), faulted or not. */
  readonly seen: string[] = [];
  /** Requests a targeted fault was injected into (method and path). */
  readonly faulted: string[] = [];

  constructor(private readonly target: string) {}

  /** Faults for the next requests that match a method and path start, whatever comes between. */
  private readonly targeted: Array<{ method: string; path: string; fault: Fault; body?: string }> = [];

  /** Queue faults for the next requests, in order. */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /**
   * Fault the next request with `method` whose path starts with `path` (e.g. `POST /fhir/AuditEvent`)
   * and, when `body` is given, whose body contains it (e.g. one kind of transaction).
   */
  injectFor(method: string, path: string, fault: Fault, body?: string): void {
    this.targeted.push({ method, path, fault, ...(body !== undefined ? { body } : {}) });
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    const targetPath = new URL(this.target).pathname.replace(/\/$/, '');
    return `http://127.0.0.1:${port}${targetPath}`;
  }

  /**
   * The server behind goes away: open connections are cut and new ones refused until
   * {@link resume}, as when the server is stopped.
   */
  async pause(): Promise<void> {
    const port = (this.server!.address() as AddressInfo).port;
    this.pausedPort = port;
    this.server!.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async resume(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(this.pausedPort, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.seen.push(`${req.method} ${req.url}`);
    const candidates = this.targeted.filter(
      (t) => t.method === req.method && (req.url ?? '').startsWith(t.path),
    );
    if (candidates.some((t) => t.body !== undefined)) {
      // A fault that looks at the body: read it whole, then fault or forward it.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        const match = candidates.find((t) => t.body === undefined || text.includes(t.body));
        this.answer(req, res, match ? this.take(req, match) : this.faults.shift(), body);
      });
      return;
    }
    const match = candidates[0];
    this.answer(req, res, match ? this.take(req, match) : this.faults.shift());
  }

  private take(req: IncomingMessage, target: (typeof this.targeted)[number]): Fault {
    this.targeted.splice(this.targeted.indexOf(target), 1);
    this.faulted.push(`${req.method} ${req.url}`);
    return target.fault;
  }

  private answer(req: IncomingMessage, res: ServerResponse, fault: Fault | undefined, body?: Buffer): void {
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/fhir+json' });
      res.end(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'transient', diagnostics: `injected ${fault.status}` }],
        }),
      );
      return;
    }
    if (fault?.kind === 'delay') {
      setTimeout(() => this.answer(req, res, undefined, body), fault.ms);
      return;
    }
    const target = new URL(this.target);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    if (body) {
      upstream.end(body);
    } else {
      req.pipe(upstream);
    }
  }
}
