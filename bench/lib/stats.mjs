// Small statistics helpers: percentiles, summaries, rates, timing.
import { setTimeout as delay } from 'node:timers/promises';

export const sleep = (ms) => delay(ms);

/** The p-th percentile (0-100) of `values` (nearest rank on a sorted copy); NaN when empty. */
export function percentile(values, p) {
  if (values.length === 0) {
    return NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** count, min, mean, p50, p95, p99, max of `values` (milliseconds, rounded to 0.1). */
export function summarize(values) {
  const round = (n) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : null);
  if (values.length === 0) {
    return { count: 0, min: null, mean: null, p50: null, p95: null, p99: null, max: null };
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return {
    count: values.length,
    min: round(Math.min(...values)),
    mean: round(mean),
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: round(Math.max(...values)),
  };
}

export const round = (n, digits = 1) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : null);

/** Runs `worker(item)` over `items` with at most `concurrency` at once; results in input order. */
export async function mapLimit(items, concurrency, worker) {
  const results = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await worker(items[i], i);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Polls `check` every `intervalMs` until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor(check, { timeoutMs = 60000, intervalMs = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) {
        return value;
      }
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms${last ? `: ${last.message}` : ''}`);
}

/** Logs a progress line to stderr (stdout carries the summary table). */
export function progress(message) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
