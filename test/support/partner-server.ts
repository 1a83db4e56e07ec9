import http, { type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../src/outbound/webhook-signature.js';

/** One request a partner server received. */
export interface Received {
  readonly path: string;
  readonly messageId: string;
  readonly version: string;
  readonly body: string;
  /** What the server answered (0: the connection was dropped). */
  readonly status: number;
  /** When the request arrived and when it was answered (epoch ms). */
  readonly arrivedAt: number;
  readonly answeredAt: number;
  /**
   * The hub may not have seen the answer: it came after a scripted delay, or the hub had already
   * given up and closed the connection (its timeout passed while this process was too busy to read).
   */
  readonly late: boolean;
  /** The W3C trace context the delivery carried, if any. */
  readonly traceparent?: string;
}

/**
 * Whether the sender had closed the connection before this server answered: it stopped waiting,
 * so it cannot see the answer. Checked on the event loop's next turn: a close that arrived with
 * the request is handled after the request's own events.
 */
async function senderGone(req: IncomingMessage): Promise<boolean> {
  for (let turn = 0; turn < 2; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return req.socket.destroyed || !req.socket.writable;
}

/** A parameter of a notification's status entry, as far as it is read here. */
interface NotificationParameter {
  readonly name: string;
  readonly part?: ReadonlyArray<{
    readonly name: string;
    readonly valueString?: string;
    readonly valueReference?: { readonly reference?: string };
  }>;
}

/**
 * How the server answers the n-th request (1-based) with this body: a status, a dropped
 * connection, `{ acceptAfterMs }` (applied and accepted, but answered only after that long, e.g.
 * after the hub gave up waiting), or undefined for "accept".
 */
export type Script = (
  n: number,
  body: string,
) => { status: number; body?: string } | { acceptAfterMs: number } | 'drop' | undefined;

/**
 * A real HTTP server playing a partner in tests: it accepts deliveries the way its transport
 * expects (webhook with signature check, FHIR transaction, FHIR $process-message), remembers
 * message ids so a redelivery is de-duplicated and ignores a plan version older than one it
 * applied, as a real partner should, and can be scripted to fail (status codes, dropped
 * connections, late answers).
 */
export class PartnerServer {
  readonly received: Received[] = [];
  /** Every request as it arrived (before any scripted delay): plan and version, in arrival order. */
  readonly arrivals: Array<{ readonly carePlan: string; readonly version: number }> = [];
  /** Message ids the partner applied (a duplicate is acknowledged but not applied again). */
  readonly applied: string[] = [];
  /** Message ids acknowledged but not applied: a version older than one already applied of the plan. */
  readonly ignoredAsStale: string[] = [];
  /**
   * Subscription notifications (requests to `/notify`), one receipt per event they carry, named
   * `event-<number>` with the focus as `path`; handshakes and heartbeats carry none.
   */
  readonly notifications: Received[] = [];
  private readonly newestApplied = new Map<string, number>();
  private server: Server | undefined;
  private count = 0;
  script: Script = () => undefined;

  constructor(
    readonly transport: 'webhook' | 'fhir-rest' | 'fhir-message',
    private readonly secret?: string,
  ) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      void this.handle(req).then(
        (answer) => {
          if (answer === 'drop') {
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(answer.body);
        },
        () => res.destroy(),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${this.transport === 'webhook' ? '/hook' : '/fhir'}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Versions applied, in the order they were applied. */
  appliedVersions(): string[] {
    return this.applied.map((id) => this.received.find((r) => r.messageId === id)!.version);
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: string } | 'drop'> {
    const body = await new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => resolve(text));
    });
    const n = ++this.count;
    const arrivedAt = Date.now();
    if (req.url?.startsWith('/notify')) {
      return this.notification(req, body, this.script(n, body), arrivedAt);
    }
    const messageId = String(req.headers['x-hub-message-id'] ?? '');
    const version = String(req.headers['x-hub-plan-version'] ?? '');
    const carePlan = String(req.headers['x-hub-careplan'] ?? '');
    this.arrivals.push({ carePlan, version: Number(version) });
    const scripted = this.script(n, body);
    if (scripted === 'drop') {
      this.received.push({
        path: req.url ?? '',
        messageId,
        version,
        body,
        status: 0,
        arrivedAt,
        answeredAt: Date.now(),
        late: false,
      });
      return 'drop';
    }
    let late = false;
    if (scripted && 'acceptAfterMs' in scripted) {
      late = true;
      await new Promise((resolve) => setTimeout(resolve, scripted.acceptAfterMs));
    }
    late ||= await senderGone(req);
    const answer =
      scripted && 'status' in scripted
        ? scripted
        : this.accept(req, body, messageId, carePlan, Number(version));
    this.received.push({
      path: req.url ?? '',
      messageId,
      version,
      body,
      status: answer.status,
      arrivedAt,
      answeredAt: Date.now(),
      late,
      ...(typeof req.headers.traceparent === 'string' ? { traceparent: req.headers.traceparent } : {}),
    });
    return { status: answer.status, body: answer.body ?? '{}' };
  }

  /** A notification, answered as scripted (a subscriber fails as a delivery endpoint does). */
  private async notification(
    req: IncomingMessage,
    body: string,
    scripted: ReturnType<Script>,
    arrivedAt: number,
  ): Promise<{ status: number; body: string } | 'drop'> {
    let late = false;
    if (scripted && scripted !== 'drop' && 'acceptAfterMs' in scripted) {
      late = true;
      await new Promise((resolve) => setTimeout(resolve, scripted.acceptAfterMs));
    }
    late ||= await senderGone(req);
    const status = scripted === 'drop' ? 0 : scripted && 'status' in scripted ? scripted.status : 200;
    const parameters =
      (JSON.parse(body) as { entry?: Array<{ resource?: { parameter?: NotificationParameter[] } }> })
        .entry?.[0]?.resource?.parameter ?? [];
    for (const event of parameters.filter((p) => p.name === 'notification-event')) {
      const part = (name: string) => event.part?.find((p) => p.name === name);
      const number = part('event-number')?.valueString ?? '';
      this.notifications.push({
        path: part('focus')?.valueReference?.reference ?? '',
        messageId: `event-${number}`,
        version: number,
        body: '',
        status,
        arrivedAt,
        answeredAt: Date.now(),
        late,
      });
    }
    return scripted === 'drop' ? 'drop' : { status, body: '{}' };
  }

  private accept(
    req: IncomingMessage,
    body: string,
    messageId: string,
    carePlan: string,
    version: number,
  ): { status: number; body: string } {
    if (this.transport === 'webhook') {
      const check = verifyWebhook(
        this.secret ?? '',
        {
          signature: req.headers['x-hub-signature'] as string,
          timestamp: req.headers['x-hub-timestamp'] as string,
        },
        body,
        Math.floor(Date.now() / 1000),
      );
      if (!check.ok) {
        return { status: 401, body: JSON.stringify({ error: check.reason }) };
      }
    }
    if (this.applied.includes(messageId) || this.ignoredAsStale.includes(messageId)) {
      // a redelivery: acknowledged again, applied once
    } else if (version < (this.newestApplied.get(carePlan) ?? 0)) {
      this.ignoredAsStale.push(messageId);
    } else {
      this.applied.push(messageId);
      this.newestApplied.set(carePlan, version);
    }
    if (this.transport === 'fhir-message') {
      return {
        status: 200,
        body: JSON.stringify({
          resourceType: 'Bundle',
          type: 'message',
          entry: [
            { resource: { resourceType: 'MessageHeader', response: { identifier: messageId, code: 'ok' } } },
          ],
        }),
      };
    }
    if (this.transport === 'fhir-rest') {
      return {
        status: 200,
        body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction-response', entry: [] }),
      };
    }
    return { status: 200, body: JSON.stringify({ received: messageId }) };
  }
}
