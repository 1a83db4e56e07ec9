import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with the next request. */
export type Fault = { kind: 'status'; status: number } | { kind: 'reset' };

/**
 * A real HTTP proxy in front of a real server that injects faults: the next requests can be
 * answered with a chosen status or have their connection dropped; every other request passes
 * through unchanged. Counts what it saw, so a test can tell how often a client retried.
 */
export class FaultProxy {
  private readonly faults: Fault[] = [];
  private server: Server | undefined;
  private pausedPort: number | undefined;
  /** Requests received (method and path), faulted or not. */
  readonly seen: string[] = [];

  constructor(private readonly target: string) {}

  /** Faults for the next requests that match a method and path start, whatever comes between. */
  private readonly targeted: Array<{ method: string; path: string; fault: Fault }> = [];

  /** Queue faults for the next requests, in order. */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Fault the next request with `method` whose path starts with `path` (e.g. `POST /fhir/AuditEvent`). */
  injectFor(method: string, path: string, fault: Fault): void {
    this.targeted.push({ method, path, fault });
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
    const at = this.targeted.findIndex((t) => t.method === req.method && (req.url ?? '').startsWith(t.path));
    const fault = at >= 0 ? this.targeted.splice(at, 1)[0]!.fault : this.faults.shift();
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
    const target = new URL(this.target);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}
