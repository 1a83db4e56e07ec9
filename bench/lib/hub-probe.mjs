// Loaded into each hub process the bench starts (`node --import <this file> dist/main.js`), so the
// hub's own code stays untouched. Over the IPC channel it answers:
//   {type:'mem'}            -> memory and event-loop figures of the hub process
//   {type:'gc'}             -> the same after a full garbage collection (needs --expose-gc)
//   {type:'spans-reset'}    -> clears the outgoing-request timings
//   {type:'spans'}          -> outgoing HTTP requests (FHIR server, partners) by kind: count, time
//                              (a POST to the base is labelled by its Bundle type, batch or transaction)
//   {type:'profile-start'}  -> starts the V8 CPU profiler
//   {type:'profile-stop', file} -> stops it and writes the .cpuprofile to `file`
// Outgoing requests are timed by wrapping global fetch (fhir-kit-client and the transports use it).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const spans = new Map();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let eluMark = performance.eventLoopUtilization();

/** `batch` or `transaction` from a Bundle's JSON (the type comes first after resourceType). */
const bundleType = (json) => /"type"\s*:\s*"(batch|transaction)"/.exec(json.slice(0, 200))?.[1] ?? 'bundle';

function labelOf(method, rawUrl, kind) {
  let url;
  try {
    url = new URL(rawUrl);
  } catch {
    return `${method} ?`;
  }
  const at = url.pathname.indexOf('/fhir');
  if (at < 0) {
    return `${method} partner endpoint`;
  }
  const parts = url.pathname
    .slice(at + '/fhir'.length)
    .split('/')
    .filter(Boolean);
  const query = [...new Set([...url.searchParams.keys()])].sort().join('&');
  if (parts.length === 0) {
    return `${method} / (${kind})`;
  }
  const [type, ...rest] = parts;
  const shape = [
    type,
    ...rest.map((p, i) => (p.startsWith('_') || p.startsWith('$') ? p : i === 0 ? '{id}' : '{v}')),
  ];
  return `${method} ${shape.join('/')}${query ? `?${query}` : ''}`;
}

const originalFetch = globalThis.fetch;
globalThis.fetch = async function timedFetch(input, init) {
  const method = (init?.method ?? (typeof input === 'object' && input?.method) ?? 'GET').toUpperCase();
  const rawUrl = typeof input === 'string' ? input : (input?.url ?? String(input));
  // A read batch and a write transaction cost the server differently: label them apart.
  const body =
    input instanceof globalThis.Request
      ? await input.clone().text()
      : typeof init?.body === 'string'
        ? init.body
        : '';
  const kind = bundleType(body);
  const start = performance.now();
  let failed = false;
  try {
    return await originalFetch(input, init);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    const ms = performance.now() - start;
    const label = labelOf(method, rawUrl, kind);
    const span = spans.get(label) ?? { count: 0, totalMs: 0, maxMs: 0, failed: 0, samples: [] };
    span.count++;
    span.totalMs += ms;
    span.maxMs = Math.max(span.maxMs, ms);
    span.failed += failed ? 1 : 0;
    if (span.samples.length < 5000) {
      span.samples.push(ms);
    }
    spans.set(label, span);
  }
};

function memory() {
  const m = process.memoryUsage();
  const elu = performance.eventLoopUtilization(eluMark);
  eluMark = performance.eventLoopUtilization();
  const result = {
    at: Date.now(),
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    eventLoopUtilization: elu.utilization,
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    cpu: process.cpuUsage(),
  };
  loopDelay.reset();
  return result;
}

let session;

async function post(method, params) {
  return new Promise((resolve, reject) =>
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

async function handle(message) {
  switch (message?.type) {
    case 'mem':
      return { type: 'mem', ...memory() };
    case 'gc':
      globalThis.gc?.();
      return { type: 'gc', ...memory() };
    case 'spans-reset':
      spans.clear();
      return { type: 'spans-reset' };
    case 'spans':
      return {
        type: 'spans',
        spans: Object.fromEntries(
          [...spans].map(([label, s]) => {
            const sorted = [...s.samples].sort((a, b) => a - b);
            const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
            return [
              label,
              {
                count: s.count,
                totalMs: s.totalMs,
                maxMs: s.maxMs,
                failed: s.failed,
                p50Ms: at(0.5),
                p95Ms: at(0.95),
              },
            ];
          }),
        ),
      };
    case 'profile-start':
      session = new Session();
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 500 });
      await post('Profiler.start');
      return { type: 'profile-start' };
    case 'profile-stop': {
      const { profile } = await post('Profiler.stop');
      session.disconnect();
      session = undefined;
      writeFileSync(message.file, JSON.stringify(profile));
      return { type: 'profile-stop', file: message.file };
    }
    default:
      return { type: 'error', error: `unknown probe message ${JSON.stringify(message)}` };
  }
}

if (process.send) {
  process.on('message', (message) => {
    handle(message).then(
      (answer) => process.send?.({ id: message?.id, ...answer }),
      (err) => process.send?.({ id: message?.id, type: 'error', error: err.message }),
    );
  });
  // The channel must not keep the hub alive: it exits on its own terms (SIGTERM, fatal start-up error).
  process.channel?.unref();
}
