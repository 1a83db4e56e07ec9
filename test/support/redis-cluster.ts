import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort, REPO_ROOT } from './test-env.js';

/**
 * A Redis Cluster of three masters of a test's own (scripts/redis-cluster on free ports and a
 * folder of its own), each persisting every write (`appendfsync always`). A restart kills one
 * master, in turn, and starts it again: the queues and the hub's keys on it are away meanwhile.
 */
export class RedisClusterServers {
  readonly cluster = true;
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'redis-cluster-'));
  restarts = 0;

  constructor(readonly ports: readonly [number, number, number]) {}

  /**
   * Three masters on free ports. Each node also listens on its port + 10000 (the cluster bus), so
   * only ports whose bus port exists and is free will do: ephemeral ports reach 60999.
   */
  static async onFreePorts(): Promise<RedisClusterServers> {
    const ports: number[] = [];
    while (ports.length < 3) {
      const port = await freePort();
      if (port + 10000 <= 65535 && !ports.includes(port) && (await isFree(port + 10000))) {
        ports.push(port);
      }
    }
    return new RedisClusterServers(ports as [number, number, number]);
  }

  get url(): string {
    return this.ports.map((port) => `redis://127.0.0.1:${port}`).join(',');
  }

  private async script(...args: string[]): Promise<void> {
    await promisify(execFile)(path.join(REPO_ROOT, 'scripts/redis-cluster'), args, {
      timeout: 60_000,
      env: {
        ...process.env,
        CLUSTER_PORTS: this.ports.join(' '),
        CLUSTER_DIR: this.dir,
        CLUSTER_FSYNC: 'always',
      },
    });
  }

  start(): Promise<void> {
    return this.script('start');
  }

  /** Kills master `node` (1-3) without warning, or the next in turn, and starts it again on its files. */
  async restart(downMs: number, node = (this.restarts % this.ports.length) + 1): Promise<number> {
    await this.script('kill-node', String(node));
    const gone = Date.now();
    await sleep(downMs);
    await this.script('start-node', String(node));
    this.restarts++;
    return gone;
  }

  async stop(): Promise<void> {
    await this.script('reset');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether nothing listens on `port` of the loopback address. */
async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
