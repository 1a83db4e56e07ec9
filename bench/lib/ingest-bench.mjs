// (a) Ingest throughput through the hub: batches POSTed to /ingest/<partner>/<format>, then the
// time until the last record is applied (its ingest job completed: written to the FHIR server,
// routed and handed to the coordination rules), read from the jobs' own timestamps in Redis.
// "Settled" is when every queue is idle again (the coordination rules, escalations and plan
// changes the records set off), which the next measurement waits for anyway.
import { CONTENT_TYPE, SENDER } from './samples.mjs';
import { mapLimit, summarize, waitFor } from './stats.mjs';

export async function hubIngest({ hubUrl, queues, format, bodies, postConcurrency }) {
  const partnerId = SENDER[format];
  const records = bodies.reduce((n, b) => n + b.records, 0);
  const answers = { accepted: 0, rejected: 0, statuses: {} };
  const t0 = Date.now();
  await mapLimit(bodies, postConcurrency, async ({ body }) => {
    const res = await globalThis.fetch(`${hubUrl}/ingest/${partnerId}/${format}`, {
      method: 'POST',
      headers: { 'content-type': CONTENT_TYPE[format] },
      body,
    });
    const outcome = await res.json().catch(() => ({}));
    answers.statuses[res.status] = (answers.statuses[res.status] ?? 0) + 1;
    for (const issue of outcome.issue ?? []) {
      if (issue.severity === 'information' && /accepted \(job/.test(issue.diagnostics ?? '')) {
        answers.accepted++;
      } else if (issue.severity === 'error') {
        answers.rejected++;
        answers.firstRejection ??= issue.diagnostics;
      }
    }
  });
  const postedMs = Date.now() - t0;
  const mine = async () =>
    (await queues.jobs('ingest')).filter((j) => j.data?.format === format && j.timestamp >= t0);
  let jobs = [];
  await waitFor(
    async () => {
      jobs = await mine();
      return jobs.filter((j) => j.finishedOn).length >= answers.accepted;
    },
    { timeoutMs: 600000, intervalMs: 250, what: `${format}: ${answers.accepted} records applied` },
  );
  const appliedAt = Math.max(...jobs.map((j) => j.finishedOn));
  const settleMs = await queues.waitIdle();
  const failed = jobs.filter((j) => j.failedReason);
  const elapsedMs = appliedAt - t0;
  return {
    format,
    partnerId,
    records,
    bodies: bodies.length,
    accepted: answers.accepted,
    rejectedOnParse: answers.rejected,
    firstRejection: answers.firstRejection,
    httpStatuses: answers.statuses,
    failedOnWrite: failed.length,
    firstWriteFailure: failed[0]?.failedReason,
    postedMs,
    elapsedMs,
    recordsPerSecond: answers.accepted / (elapsedMs / 1000),
    settledMs: settleMs < 0 ? null : Date.now() - t0,
    jobWaitMs: summarize(jobs.map((j) => j.processedOn - j.timestamp)),
    jobProcessMs: summarize(jobs.map((j) => j.finishedOn - j.processedOn)),
  };
}
