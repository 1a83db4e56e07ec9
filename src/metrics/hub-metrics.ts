import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FinishedJob, JobObserver } from '../queues/connection.js';
import type { AnyQueue } from '../queues/queue-factory.js';

/** What the hub counts at the door: one per record of a batch, by what became of it. */
export interface IngestCounter {
  received(partnerId: string, format: string, status: 'accepted' | 'rejected' | 'skipped'): void;
}

/** Job states reported per queue at each scrape. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

/**
 * The hub's Prometheus metrics (README, "Metrics"), served at `/metrics`:
 * - `hub_ingest_records_total{partner,format,status}`: records taken at the door (accepted,
 *   rejected by the adapter or the write boundary, skipped);
 * - `hub_jobs_total{queue,partner,format,outcome}`: every job attempt that ended (completed,
 *   retrying, failed for good): applied records, deliveries, acknowledgment deadlines, ...;
 * - `hub_job_seconds{queue,outcome}`: from when a job was due (enqueued, or its delay ended) to
 *   when it ended: record to FHIR server for `ingest`, plan change to partner for `deliveries`;
 * - `hub_queue_jobs{queue,state}`: queue depth, read from Redis at each scrape;
 * - Node's process metrics (`process_*`, `nodejs_*`).
 */
export class HubMetrics implements JobObserver, IngestCounter {
  readonly registry = new Registry();
  private readonly records = new Counter({
    name: 'hub_ingest_records_total',
    help: 'Records received, by partner, format and what became of them at the door',
    labelNames: ['partner', 'format', 'status'] as const,
    registers: [this.registry],
  });
  private readonly jobs = new Counter({
    name: 'hub_jobs_total',
    help: 'Job attempts that ended, by queue, partner, format and outcome (completed, retrying, failed)',
    labelNames: ['queue', 'partner', 'format', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'hub_job_seconds',
    help: 'Seconds from when a job was due (enqueued, or its delay ended) to when it ended',
    labelNames: ['queue', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });

  constructor(queues: readonly AnyQueue[]) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'hub_queue_jobs',
      help: 'Jobs in each queue, by state (read from Redis at scrape time)',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        for (const queue of queues) {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          for (const state of QUEUE_STATES) {
            this.set({ queue: queue.name, state }, counts[state] ?? 0);
          }
        }
      },
    });
  }

  received(partnerId: string, format: string, status: 'accepted' | 'rejected' | 'skipped'): void {
    this.records.inc({ partner: partnerId, format, status });
  }

  finished(queue: string, job: FinishedJob, outcome: 'completed' | 'retrying' | 'failed'): void {
    const data = (job.data ?? {}) as { partnerId?: unknown; format?: unknown };
    this.jobs.inc({
      queue,
      partner: typeof data.partnerId === 'string' ? data.partnerId : '',
      format: typeof data.format === 'string' ? data.format : '',
      outcome,
    });
    const due = job.timestamp + (job.delay ?? 0);
    this.latency.observe({ queue, outcome }, Math.max(0, (job.finishedOn ?? Date.now()) - due) / 1000);
  }

  /** The text Prometheus scrapes. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
