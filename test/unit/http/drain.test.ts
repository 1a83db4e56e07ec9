import { afterEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainable } from '../../../src/http/drain.js';

/**
 * A drainable server whose keep-alive outlasts any test (a drain that waits on it cannot pass),
 * and a promise that its first request has reached the handler.
 */
async function serve(handler: http.RequestListener) {
  let arrived: () => void = () => undefined;
  const received = new Promise<void>((resolve) => (arrived = resolve));
  const server = http.createServer((req, res) => {
    arrived();
    handler(req, res);
  });
  server.keepAliveTimeout = 10 * 60_000;
  const { drain } = drainable(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, received, drain };
}

const agent = new http.Agent({ keepAlive: true });
afterEach(() => agent.destroy());

function get(port: number): Promise<{ connection?: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, agent }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ connection: res.headers.connection, body }));
      })
      .on('error', reject);
  });
}

describe('drainable', () => {
  it('tells an answer being made during the drain to close its connection, and closes it', async () => {
    let answer: () => void = () => undefined;
    const { port, received, drain } = await serve((_req, res) => (answer = () => res.end('ok')));
    const got = get(port);
    await received;
    const drained = drain(60_000);
    answer();
    await expect(got).resolves.toEqual({ connection: 'close', body: 'ok' });
    await expect(drained).resolves.toBe(0);
  });

  it('closes a connection whose answer was already streaming once that answer ends', async () => {
    let finish: () => void = () => undefined;
    const { port, received, drain } = await serve((_req, res) => {
      res.writeHead(200);
      res.write('first ');
      finish = () => res.end('last');
    });
    const got = get(port);
    await received;
    const drained = drain(60_000);
    finish();
    // Its head had gone out as keep-alive; the hub closes the connection after the answer instead.
    await expect(got).resolves.toEqual({ connection: 'keep-alive', body: 'first last' });
    await expect(drained).resolves.toBe(0);
  });

  it('cuts what is still unanswered after the grace period, and says how many', async () => {
    const { port, received, drain } = await serve(() => undefined);
    const got = get(port).then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code,
    );
    await received;
    await expect(drain(200)).resolves.toBe(1);
    await expect(got).resolves.toBe('ECONNRESET');
  });
});
