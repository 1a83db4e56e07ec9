// The partners' side of fan-out: one local HTTP server receiving every partner's webhook at
// /p/<partnerId>. It checks the signature as a real partner would (the hub's reference
// verifier), remembers each delivery with its arrival time, and answers 200 at once.
import { Buffer } from 'node:buffer';
import http from 'node:http';

export class Receiver {
  constructor(secret, verifyWebhook) {
    this.secret = secret;
    this.verifyWebhook = verifyWebhook;
    /** Every delivery: { partnerId, messageId, version, carePlanId, lastUpdated, receivedAt, valid }. */
    this.deliveries = [];
    this.invalid = 0;
    this.listeners = new Set();
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const receivedAt = Date.now();
        const body = Buffer.concat(chunks).toString('utf8');
        const partnerId = /^\/p\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '?';
        const check = this.verifyWebhook(
          this.secret,
          { signature: req.headers['x-hub-signature'], timestamp: req.headers['x-hub-timestamp'] },
          body,
          Math.floor(receivedAt / 1000),
        );
        if (!check.ok) {
          this.invalid++;
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
          return;
        }
        let plan;
        try {
          plan = JSON.parse(body).carePlan;
        } catch {
          plan = undefined;
        }
        const delivery = {
          partnerId,
          messageId: String(req.headers['x-hub-message-id'] ?? ''),
          version: String(req.headers['x-hub-plan-version'] ?? plan?.meta?.versionId ?? ''),
          carePlanId: plan?.id ?? '',
          lastUpdated: plan?.meta?.lastUpdated ? Date.parse(plan.meta.lastUpdated) : NaN,
          receivedAt,
        };
        this.deliveries.push(delivery);
        for (const listener of this.listeners) {
          listener(delivery);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      });
    });
    this.server.keepAliveTimeout = 30000;
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }

  urlFor(partnerId) {
    return `http://127.0.0.1:${this.port}/p/${partnerId}`;
  }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
