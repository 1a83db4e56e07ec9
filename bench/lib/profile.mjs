// Summary of a V8 .cpuprofile: self time by area (the hub's own modules by folder, each package
// in node_modules, Node internals, GC, idle) and the hottest functions.
import { readFileSync } from 'node:fs';

function areaOf(frame) {
  const url = frame.url ?? '';
  const name = frame.functionName;
  if (name === '(idle)') {
    return 'idle (waiting on I/O)';
  }
  if (name === '(garbage collector)') {
    return 'garbage collector';
  }
  if (name === '(program)') {
    return 'V8/native (program)';
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) {
    return `package ${pkg}`;
  }
  const hub = /\/dist\/([^/]+)\//.exec(url)?.[1];
  if (hub) {
    return `hub dist/${hub}`;
  }
  if (url.includes('bench/lib/hub-probe')) {
    return 'bench probe';
  }
  if (url.startsWith('node:internal/deps/undici') || url.includes('undici')) {
    return 'node fetch (undici)';
  }
  if (url.startsWith('node:')) {
    const mod = /^node:(?:internal\/)?([^/]+)/.exec(url)?.[1];
    return `node ${mod}`;
  }
  return url === '' ? `builtin ${name || '(anonymous)'}` : 'other';
}

export function summarizeProfile(file, top = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta);
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const areas = new Map();
  const functions = new Map();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame ?? {};
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
    if (frame.functionName !== '(idle)') {
      const where = frame.url
        ? `${frame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${frame.lineNumber + 1}`
        : '';
      const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
      functions.set(key, (functions.get(key) ?? 0) + us);
    }
  }
  const busyUs = totalUs - (areas.get('idle (waiting on I/O)') ?? 0);
  const pct = (us, of) => Math.round((1000 * us) / of) / 10;
  return {
    file,
    wallMs: Math.round((profile.endTime - profile.startTime) / 1000),
    busyMs: Math.round(busyUs / 1000),
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({
        area,
        ms: Math.round(us / 1000),
        pctOfWall: pct(us, totalUs),
        pctOfBusy: pct(us, busyUs),
      })),
    hottest: [...functions]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => ({ function: fn, ms: Math.round(us / 1000), pctOfBusy: pct(us, busyUs) })),
  };
}
