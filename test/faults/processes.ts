import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { REPO_ROOT } from '../support/test-env.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) {
      return;
    }
    await sleep(250);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * A Redis of the suite's own, persisting every write to its append-only file before answering
 * (`appendfsync always`), so that it can be killed and started again on the same files. The
 * machine's shared Redis keeps nothing on disk; a production Redis for the hub must persist (the
 * compose file turns the AOF on).
 */
export class RedisServer implements FaultRedis {
  readonly cluster = false;
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'fault-redis-'));
  restarts = 0;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    await waitUntil(
      `redis-server on port ${this.port}`,
      async () => {
        const probe = new Redis(this.url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      10000,
    );
  }

  /** Kills the server without warning (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    child?.kill('SIGKILL');
    if (child) {
      await exited(child);
    }
  }

  async restart(downMs: number): Promise<number> {
    await this.kill();
    const gone = Date.now();
    await sleep(downMs);
    await this.start();
    this.restarts++;
    return gone;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What the suite needs of its Redis: one server, or a cluster. */
export interface FaultRedis {
  readonly cluster: boolean;
  readonly url: string;
  restarts: number;
  start(): Promise<void>;
  /**
   * Kills Redis (on a cluster: one master, in turn) and starts it again on its files. Resolves
   * with the moment the killed process was gone.
   */
  restart(downMs: number): Promise<number>;
  stop(): Promise<void>;
}

/** How much of a hub process's output is kept (all of a long run's, at debug level). */
const OUTPUT_KEPT = 8 * 1024 * 1024;

/** One hub process (`node dist/main.js`, what `npm start` runs) on a fixed port. */
export class HubProcess {
  private child: ChildProcess | undefined;
  private output = '';
  kills = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    /** The MLLP listener's port (0: any free port, unknown to the test). */
    readonly mllpPort = 0,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits for `/ready`; retries while a dependency is away. */
  async start(timeoutMs = 90000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'main.js')], {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH,
          ...this.env,
          PORT: String(this.port),
          MLLP_PORT: String(this.mllpPort),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const remember = (d: Buffer): void => {
        // A run logs a few hundred kilobytes: kept whole, so a failure can show what led to it.
        this.output = (this.output + d.toString()).slice(-OUTPUT_KEPT);
      };
      this.child.stdout!.on('data', remember);
      this.child.stderr!.on('data', remember);
      const child = this.child;
      const ready = waitUntil(
        `${this.name} ready`,
        async () => {
          if (!this.running) {
            throw new Error('exited');
          }
          return (await fetch(`${this.url}/ready`)).status === 200;
        },
        Math.max(1000, deadline - Date.now()),
      ).then(
        () => true,
        () => false,
      );
      if (await ready) {
        return;
      }
      child.kill('SIGKILL');
      await exited(child);
      if (Date.now() >= deadline) {
        throw new Error(`${this.name} did not start: ${this.output.slice(-3000)}`);
      }
      await sleep(1000);
    }
  }

  /** Kills the process without warning: no shutdown, jobs in hand are left to stall. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child && this.running) {
      child.kill('SIGKILL');
      await exited(child);
      this.kills++;
    }
  }

  /** Graceful stop (SIGTERM), as at the end of a run. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && this.running) {
      child.kill('SIGTERM');
      const stuck = setTimeout(() => child.kill('SIGKILL'), 30000);
      await exited(child);
      clearTimeout(stuck);
    }
  }

  /** Lines the process logged at `minLevel` or above (pino JSON: 40 warn, 50 error, 60 fatal). */
  logged(minLevel = 50): string[] {
    return this.lines((line) => Number(/"level":(\d+)/.exec(line)?.[1] ?? 0) >= minLevel);
  }

  /** Writes everything the process logged (every start of it) to `<dir>/<name>.log`. */
  saveLog(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${this.name}.log`), this.output);
  }

  /** Lines the process logged that mention any of `texts` (plans' ids, say), each line once. */
  mentioning(texts: readonly string[]): string[] {
    return this.lines((line) => texts.some((t) => line.includes(t)));
  }

  private lines(keep: (line: string) => boolean): string[] {
    return this.output
      .split('\n')
      .filter(keep)
      .map((line) => line.slice(0, 500));
  }
}
