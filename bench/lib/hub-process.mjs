// Hub processes for the bench: `node dist/main.js` as `npm start` runs it, configured by
// environment variables only, with the probe preloaded (memory, outgoing-request timings, CPU
// profile over IPC). The first is "the hub" (HTTP ingest, measured for memory); extra ones are
// worker replicas on the same Redis prefix and FHIR server (PORT and MLLP_PORT are free ports;
// HUB_PUBLIC_URL is the first hub's, as replicas behind one address would have it, so they share
// its rest-hook subscription instead of re-registering it with their own URLs).
import { spawn } from 'node:child_process';
import { clearInterval, setInterval, setTimeout, clearTimeout } from 'node:timers';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './options.mjs';
import { sleep, waitFor } from './stats.mjs';

const PROBE = pathToFileURL(path.join(import.meta.dirname, 'hub-probe.mjs')).href;

export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export class HubProcess {
  constructor(name, env) {
    this.name = name;
    this.env = env;
    this.pending = new Map();
    this.logCounts = { warn: 0, error: 0, fatal: 0 };
    this.lastProblems = [];
    this.exited = undefined;
  }

  /** Starts the process and waits until GET /ready answers 200 (or the process dies). */
  async start(timeoutMs = 120000) {
    this.port = await freePort();
    const mllpPort = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const env = {
      ...process.env,
      ...this.env,
      PORT: String(this.port),
      MLLP_PORT: String(mllpPort),
      HOST: '127.0.0.1',
    };
    this.startedAt = Date.now();
    this.child = spawn(
      process.execPath,
      ['--expose-gc', '--import', PROBE, path.join(REPO_ROOT, 'dist/main.js')],
      { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    this.pid = this.child.pid;
    this.child.on('message', (m) => {
      const resolve = this.pending.get(m?.id);
      if (resolve) {
        this.pending.delete(m.id);
        resolve(m);
      }
    });
    this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      for (const resolve of this.pending.values()) {
        resolve({ type: 'error', error: `${this.name} exited` });
      }
      this.pending.clear();
    });
    this.watch(this.child.stdout);
    this.watch(this.child.stderr);
    await waitFor(
      async () => {
        if (this.exited) {
          throw new Error(
            `${this.name} exited (${JSON.stringify(this.exited)}): ${this.lastProblems.join(' | ')}`,
          );
        }
        const res = await globalThis.fetch(`${this.url}/ready`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs, intervalMs: 250, what: `${this.name} ready` },
    ).catch((err) => {
      if (this.exited) {
        throw new Error(
          `${this.name} exited (${JSON.stringify(this.exited)}): ${this.lastProblems.join(' | ')}`,
        );
      }
      throw err;
    });
    this.readyMs = Date.now() - this.startedAt;
    return this;
  }

  /** Counts warnings and errors in the JSON log lines; keeps the last few messages (ids only, no PHI). */
  watch(stream) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const level = /"level":(\d+)/.exec(line)?.[1];
        if (level === undefined) {
          if (line.trim()) {
            this.remember(line.slice(0, 300));
          }
          continue;
        }
        const name = { 40: 'warn', 50: 'error', 60: 'fatal' }[level];
        if (name) {
          this.logCounts[name]++;
          this.remember(/"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 200));
        }
      }
    });
  }

  remember(text) {
    this.lastProblems.push(text);
    if (this.lastProblems.length > 20) {
      this.lastProblems.shift();
    }
  }

  /** Stops the process where it is (SIGSTOP), so it does nothing until {@link resume}. */
  pause() {
    this.signal('SIGSTOP');
  }

  resume() {
    this.signal('SIGCONT');
  }

  signal(name) {
    if (this.child && !this.exited) {
      this.child.kill(name);
    }
  }

  /** Sends a probe request and waits for its answer. */
  ask(message, timeoutMs = 60000) {
    if (!this.child || this.exited) {
      return Promise.resolve({ type: 'error', error: `${this.name} is not running` });
    }
    const id = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ type: 'error', error: 'probe timeout' });
      }, timeoutMs);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.child.send({ ...message, id });
    });
  }

  /** SIGTERM (the hub finishes in-flight work and exits), then SIGKILL after `graceMs`. */
  async stop(graceMs = 30000) {
    if (!this.child || this.exited) {
      return;
    }
    this.child.kill('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (!this.exited && Date.now() < deadline) {
      await sleep(100);
    }
    if (!this.exited) {
      this.child.kill('SIGKILL');
      while (!this.exited) {
        await sleep(50);
      }
    }
  }
}

/** Samples the hub's memory every `intervalMs`, labelling each sample with the current phase. */
export class MemorySampler {
  constructor(hub, intervalMs = 500) {
    this.hub = hub;
    this.intervalMs = intervalMs;
    this.samples = [];
    this.phase = 'idle';
  }

  start() {
    this.timer = setInterval(() => {
      void this.hub.ask({ type: 'mem' }, 5000).then((m) => {
        if (m.type === 'mem') {
          this.samples.push({ ...m, phase: this.phase });
        }
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
  }
}
