import type { IngestCounter } from '../metrics/hub-metrics.js';
import { createHash } from 'node:crypto';
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import type { FieldIssue } from '../adapters/types.js';
import type { InboundFormat } from '../config/inbound-formats.js';
import type { PartnerConfig, PartnerRegistry } from '../config/partners.js';
import { HubError } from '../errors/hub-error.js';
import type { Logger } from '../logging/logger.js';
import {
  enqueueIngest,
  type IngestQueue,
  type IngestQueueEvents,
  type IngestJobResult,
} from './ingest.queue.js';
import type { FormatHandlers } from './formats.js';
import { parseOffThread } from './parse-off-thread.js';
import type { RejectedStore, StoredRejection } from './rejected-store.js';
import type { TrafficRecorder } from './traffic-recorder.js';
import type { IdentityResolution, LoggedRecord, MessageLog, ReplayEdit } from './message-log.js';
import { lineDiff } from './line-diff.js';
import type { MappedRecord } from '../mappers/types.js';
import { boundaryContext, checkWriteBoundary, type BoundaryViolation } from '../security/write-boundary.js';

/**
 * A request Bundle entry a record stands for (FHIR transactions and batches): its index, and for
 * an accepted record the fullUrl its write has in the record (see `WriteOutcome.written`).
 */
export interface EntryRef {
  readonly index: number;
  readonly fullUrl?: string;
}

/** What happened to one record of a batch. */
export type RecordResult = (
  | { status: 'accepted'; location: string; sourceId: string; jobId: string }
  | { status: 'applied'; location: string; sourceId: string; jobId: string; outcome: IngestJobResult }
  | {
      status: 'rejected';
      location: string;
      sourceId?: string;
      issues: readonly FieldIssue[];
      rejectionId?: string;
      /** Refused by the write boundary (what the sender may write), not for its content. */
      forbidden?: boolean;
    }
  | { status: 'skipped'; location: string; sourceId?: string; reason: string; warning?: boolean }
) & { readonly entries?: readonly EntryRef[] };

/** The answer to one ingest call: every record of the batch, accepted or rejected. */
export interface IngestReport {
  readonly partnerId: string;
  readonly format: InboundFormat;
  readonly records: readonly RecordResult[];
  /** Its entry in the message log, when logged. */
  readonly messageId?: string;
}

export interface IngestServiceDeps {
  readonly partners: PartnerRegistry;
  readonly formats: FormatHandlers;
  readonly queue: IngestQueue;
  readonly queueEvents: IngestQueueEvents;
  readonly rejected: RejectedStore;
  readonly logger: Logger;
  readonly identifierBase: string;
  /** Audits a record refused by the write boundary (aggregated by the caller). */
  readonly onBoundaryRefused?: (
    partnerId: string,
    format: InboundFormat,
    location: string,
    issues: readonly FieldIssue[],
  ) => Promise<void>;
  /** Keeps each partner's last batches for the mapping release gate; absent, nothing is recorded. */
  readonly traffic?: TrafficRecorder;
  /** Counts every record at the door (`/metrics`). */
  readonly metrics?: IngestCounter;
  /** Logs every message and its business keys for the engineer's console; absent, nothing is logged. */
  readonly messages?: MessageLog;
  /**
   * Aborted when the hub begins to stop: a request waiting for its records answers at once with
   * what it has (README "Stopping"), rather than holding the stop for its whole wait.
   */
  readonly stopWaiting?: AbortSignal;
}

/** What an ingest call is, when it is not a partner's own message. */
export interface IngestOptions {
  /** The logged message whose record this replays. */
  readonly replayOf?: string;
  /** The engineer's edit, when the record was edited before the replay. */
  readonly edit?: ReplayEdit;
  /** The engineer's decision on an identity conflict, when the identity review replays a record. */
  readonly identity?: IdentityResolution;
}

/**
 * Takes a batch from a partner: checks the partner may send this format, parses it, queues every
 * valid record (durably, in Redis) and keeps every rejected one. Valid records go in even when
 * others in the same batch are rejected; nothing is dropped without a trace.
 */
export class IngestService {
  constructor(private readonly deps: IngestServiceDeps) {}

  /** The partner, if it exists and may send `format`; otherwise a 403/404 HubError naming why. */
  partnerFor(partnerId: string, format: InboundFormat): PartnerConfig {
    const partner = this.deps.partners.get(partnerId);
    if (!partner) {
      throw new HubError('PARTNER.UNKNOWN', `Unknown partner "${partnerId}"`, {
        status: 404,
        issues: [{ severity: 'error', code: 'not-found', diagnostics: `Unknown partner "${partnerId}"` }],
      });
    }
    if (!partner.inbound.formats.includes(format)) {
      const message = `Partner "${partnerId}" is not configured to send ${format} (inbound.formats: ${partner.inbound.formats.join(', ') || 'none'})`;
      throw new HubError('PARTNER.FORMAT_NOT_ALLOWED', message, {
        status: 403,
        issues: [{ severity: 'error', code: 'forbidden', diagnostics: message }],
      });
    }
    return partner;
  }

  async ingest(
    partnerId: string,
    format: InboundFormat,
    body: Buffer,
    options: IngestOptions = {},
  ): Promise<IngestReport> {
    const partner = this.partnerFor(partnerId, format);
    const handler = this.deps.formats[format];
    if (!handler) {
      throw new HubError('INGEST.FORMAT_UNAVAILABLE', `The hub cannot read ${format} yet`, { status: 501 });
    }
    const parsed = handler.offThread
      ? await parseOffThread(format, body, partner)
      : handler.parse(body, partner);
    const receivedAt = new Date().toISOString();
    // Recording is for the release gate only: a failure is logged, it never costs the batch.
    await this.deps.traffic?.record(partnerId, format, body, receivedAt).catch((err: unknown) => {
      this.deps.logger.warn({ partnerId, format, error: (err as Error).message }, 'traffic not recorded');
    });
    const records: RecordResult[] = [];
    // The participant identifiers each record carries: the message log finds messages by them.
    const participantKeys: string[] = [];
    const ctx = { partner, identifierBase: this.deps.identifierBase };
    for (const r of parsed.accepted) {
      const mapped = this.mapped(partner, format, r.record);
      participantKeys.push(...(mapped?.participant.identifiers.map((i) => i.value ?? '') ?? []));
      // The write boundary answers at once (403) what the worker would refuse anyway.
      const violations = mapped ? this.boundaryViolations(partner, format, mapped) : [];
      const entries = entryRefs(r.entries, () => handler.locate?.(r.record, ctx));
      if (violations.length > 0) {
        const issues = violations.map((v) => ({
          field: v.field,
          message: `${v.message} (rule ${v.rule})`,
        }));
        const stored = await this.deps.rejected.add(
          {
            location: r.location,
            sourceId: r.sourceId,
            issues,
            // Kept as parsed: a replay goes through the boundary again in the worker.
            record: r.record,
            partnerId,
            format,
            stage: 'write',
            rejectedAt: receivedAt,
          },
          rejectionId(partnerId, format, 'boundary', r.location, r.record),
        );
        await this.deps.onBoundaryRefused?.(partnerId, format, r.location, issues);
        records.push({
          status: 'rejected',
          location: r.location,
          sourceId: r.sourceId,
          issues,
          rejectionId: stored.id,
          forbidden: true,
          ...entries,
        });
        continue;
      }
      const jobId = await enqueueIngest(this.deps.queue, {
        partnerId,
        format,
        sourceId: r.sourceId,
        location: r.location,
        receivedAt,
        record: r.record,
      });
      records.push({ status: 'accepted', location: r.location, sourceId: r.sourceId, jobId, ...entries });
    }
    for (const r of parsed.rejected) {
      const stored = await this.deps.rejected.add(
        {
          ...r,
          partnerId,
          format,
          stage: 'parse',
          rejectedAt: receivedAt,
        },
        rejectionId(partnerId, format, 'parse', r.location, r.raw ?? r.issues),
      );
      records.push({
        status: 'rejected',
        location: r.location,
        sourceId: r.sourceId,
        issues: r.issues,
        rejectionId: stored.id,
        ...entryRefs(r.entries),
      });
    }
    for (const r of parsed.skipped ?? []) {
      records.push({
        status: 'skipped',
        location: r.location,
        ...(r.sourceId ? { sourceId: r.sourceId } : {}),
        reason: r.reason,
        ...(r.warning ? { warning: true } : {}),
        ...entryRefs(r.entries),
      });
    }
    for (const r of records) {
      this.deps.metrics?.received(
        partnerId,
        format,
        r.status === 'skipped' ? 'skipped' : r.status === 'rejected' ? 'rejected' : 'accepted',
      );
    }
    this.deps.logger.info(
      {
        partnerId,
        format,
        accepted: parsed.accepted.length,
        rejected: parsed.rejected.length,
        skipped: parsed.skipped?.length ?? 0,
      },
      'batch received',
    );
    const report = { partnerId, format, records };
    return this.logged(report, body.length, receivedAt, participantKeys, options);
  }

  /** The report, logged for the engineer's console; a failure is logged, it never costs the batch. */
  private async logged(
    report: IngestReport,
    bytes: number,
    receivedAt: string,
    participantKeys: readonly string[],
    options: IngestOptions,
  ): Promise<IngestReport> {
    const { partnerId, format, records } = report;
    const count = (status: RecordResult['status']): number =>
      records.filter((r) => r.status === status).length;
    const logged = records.map((r) => ({
      location: r.location,
      ...(r.sourceId ? { sourceId: r.sourceId } : {}),
      status: r.status === 'applied' ? 'accepted' : r.status,
      ...('jobId' in r ? { jobId: r.jobId } : {}),
      ...(r.status === 'rejected' && r.rejectionId ? { rejectionId: r.rejectionId } : {}),
    })) satisfies LoggedRecord[];
    const keys = [
      ...logged.flatMap((r) => [r.sourceId, r.jobId, r.rejectionId]),
      ...participantKeys,
      ...(options.replayOf ? [`replay-of:${options.replayOf}`] : []),
    ].filter((k): k is string => Boolean(k));
    const message = await this.deps.messages
      ?.add({
        partnerId,
        format,
        receivedAt,
        bytes,
        counts: {
          accepted: count('accepted') + count('applied'),
          rejected: count('rejected'),
          skipped: count('skipped'),
        },
        keys,
        records: logged,
        ...(options.replayOf ? { replayOf: options.replayOf } : {}),
        ...(options.edit ? { edit: options.edit } : {}),
        ...(options.identity ? { identity: options.identity } : {}),
      })
      .catch((err: unknown) => {
        this.deps.logger.warn({ partnerId, format, error: (err as Error).message }, 'message not logged');
      });
    return message ? { ...report, messageId: message.id } : report;
  }

  /** The record as its mapper writes it; undefined when the mapper fails (the worker reports that). */
  private mapped(partner: PartnerConfig, format: InboundFormat, record: unknown): MappedRecord | undefined {
    try {
      return this.deps.formats[format]!.map(record, { partner, identifierBase: this.deps.identifierBase });
    } catch {
      return undefined;
    }
  }

  /** What the write boundary refuses in a mapped record. */
  private boundaryViolations(
    partner: PartnerConfig,
    format: InboundFormat,
    mapped: MappedRecord,
  ): readonly BoundaryViolation[] {
    const result = checkWriteBoundary(
      boundaryContext(partner, format, this.deps.partners, this.deps.identifierBase),
      mapped,
    );
    return result.allowed ? [] : result.violations;
  }

  /**
   * Replays a record the FHIR server refused, as it was parsed: it is mapped again, so a fixed code
   * table or profile is picked up. A new job id, since the first job failed for good.
   */
  async requeue(rejection: StoredRejection, options: IngestOptions = {}): Promise<IngestReport> {
    const format = rejection.format as InboundFormat;
    this.partnerFor(rejection.partnerId, format);
    const sourceId = rejection.sourceId ?? rejection.id;
    const data = {
      partnerId: rejection.partnerId,
      format,
      sourceId,
      location: rejection.location,
      receivedAt: new Date().toISOString(),
      record: rejection.record,
      ...(options.identity ? { identity: options.identity.decision } : {}),
    };
    const jobId = await enqueueIngest(this.deps.queue, data, `replay-${rejection.id}-${Date.now()}`);
    const report: IngestReport = {
      partnerId: rejection.partnerId,
      format,
      records: [{ status: 'accepted', location: rejection.location, sourceId, jobId }],
    };
    const bytes = Buffer.byteLength(JSON.stringify(rejection.record ?? null));
    return this.logged(report, bytes, data.receivedAt, [], options);
  }

  /**
   * Replays a rejected record: the corrected record when one is given, else the stored one (a
   * record the server refused is re-queued as parsed, one the adapter refused is parsed again from
   * its raw form). The rejection is removed once the replay was accepted; if refused again, it is
   * stored as a new rejection.
   */
  async replay(
    rejection: StoredRejection,
    corrected?: Buffer,
    edited?: { readonly by: string; readonly reason: string },
  ): Promise<IngestReport> {
    // The replay is logged as a message of its own, linked to the one that carried the record.
    // A record the server refused is found by its job (the rejection is named `write-<job id>`).
    const carrierKey = rejection.id.replace(/^write-/, '');
    const original = (await this.deps.messages?.find({ key: carrierKey, limit: 1 }))?.items[0];
    const options: IngestOptions = {
      ...(original ? { replayOf: original.id } : {}),
      ...(edited && corrected
        ? { edit: { ...edited, diff: lineDiff(rejection.raw ?? '', corrected.toString('utf8')) } }
        : {}),
    };
    const report =
      !corrected && rejection.stage === 'write' && rejection.record !== undefined
        ? await this.requeue(rejection, options)
        : await this.ingest(
            rejection.partnerId,
            rejection.format as InboundFormat,
            corrected ?? Buffer.from(rejection.raw ?? '', 'utf8'),
            options,
          );
    if (report.records.some((r) => r.status === 'accepted')) {
      await this.deps.rejected.remove(rejection.id);
    }
    return report;
  }

  /** The participant a stored record names, as its mapper reads it (for the identity review). */
  participantOf(rejection: StoredRejection): MappedRecord['participant'] | undefined {
    const partner = this.deps.partners.get(rejection.partnerId);
    return partner && rejection.record !== undefined
      ? this.mapped(partner, rejection.format as InboundFormat, rejection.record)?.participant
      : undefined;
  }

  /**
   * Applies a record held for an identity conflict as an engineer decided (README, "Identity
   * review"): re-queued with the decision, logged as a replay carrying it, and no longer held.
   */
  async resolveIdentity(rejection: StoredRejection, identity: IdentityResolution): Promise<IngestReport> {
    if (rejection.held !== 'identity' || rejection.record === undefined) {
      throw new HubError(
        'IDENTITY.NOT_HELD',
        `Rejected record ${rejection.id} is not held for an identity conflict`,
        {
          status: 409,
          issues: [{ severity: 'error', code: 'conflict', diagnostics: 'Not held for an identity conflict' }],
        },
      );
    }
    const original = (await this.deps.messages?.find({ key: rejection.id.replace(/^write-/, ''), limit: 1 }))
      ?.items[0];
    const report = await this.requeue(rejection, {
      identity,
      ...(original ? { replayOf: original.id } : {}),
    });
    await this.deps.rejected.remove(rejection.id);
    return report;
  }

  /** Whether any of these ingest jobs is a dead letter (failed for good): a resend must take it up. */
  async anyFailed(jobIds: readonly string[]): Promise<boolean> {
    for (const id of jobIds) {
      if (await (await this.deps.queue.getJob(id))?.isFailed()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Where one accepted record stands now, by its job id: applied (naming what was written),
   * refused by the server, or still queued; undefined for a job the hub does not keep.
   */
  async recordState(jobId: string): Promise<
    | {
        readonly partnerId: string;
        readonly record: unknown;
        readonly result: RecordResult;
        /** Its job ran out of tries (a dead letter an engineer can replay). */
        readonly failed: boolean;
      }
    | undefined
  > {
    const job = await this.deps.queue.getJob(jobId);
    if (!job) {
      return undefined;
    }
    const { location, sourceId, partnerId, record } = job.data;
    const completed = await job.isCompleted();
    // The job object holds what was read before it was asked for its state: a job that completed
    // in between has its return value read again.
    const outcome = completed
      ? (job.returnvalue ?? (await this.deps.queue.getJob(jobId))?.returnvalue ?? undefined)
      : undefined;
    const rejection = completed ? undefined : await this.deps.rejected.get(`write-${jobId}`);
    const result: RecordResult = outcome
      ? { status: 'applied', location, sourceId, jobId, outcome }
      : rejection
        ? { status: 'rejected', location, sourceId, issues: rejection.issues, rejectionId: rejection.id }
        : { status: 'accepted', location, sourceId, jobId };
    const failed = result.status === 'accepted' && (await job.isFailed());
    return { partnerId, record, result, failed };
  }

  /**
   * Waits up to `timeoutMs` for the accepted records of a report to be applied, and reports each
   * as applied, rejected by the server, or still accepted (queued) when time ran out.
   */
  async waitForApplied(report: IngestReport, timeoutMs: number): Promise<IngestReport> {
    const deadline = Date.now() + timeoutMs;
    const records = await Promise.all(
      report.records.map(async (r): Promise<RecordResult> => {
        if (r.status !== 'accepted') {
          return r;
        }
        const job = await this.deps.queue.getJob(r.jobId);
        if (!job) {
          return r;
        }
        try {
          const outcome: IngestJobResult = await unlessAborted(
            job.waitUntilFinished(this.deps.queueEvents, Math.max(1, deadline - Date.now())),
            this.deps.stopWaiting,
          );
          return { ...r, status: 'applied', outcome };
        } catch {
          // Refused by the server (then it is in the rejected list), or not finished in time.
          const rejection = await this.deps.rejected.get(`write-${r.jobId}`);
          return rejection
            ? {
                status: 'rejected',
                location: r.location,
                sourceId: r.sourceId,
                issues: rejection.issues,
                rejectionId: rejection.id,
                ...(r.entries ? { entries: r.entries } : {}),
              }
            : r;
        }
      }),
    );
    return { ...report, records };
  }
}

/** `work`, or a rejection as soon as `signal` aborts (the work goes on, unheard). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) {
    return work;
  }
  return new Promise<T>((resolve, reject) => {
    const stop = (): void => reject(new Error('stopped waiting'));
    if (signal.aborted) {
      stop();
    }
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

/** The Bundle entries a record stands for, with where each is written when the format says. */
function entryRefs(
  indexes: readonly number[] | undefined,
  locate: () => Readonly<Record<number, string>> | undefined = () => undefined,
): { entries?: EntryRef[] } {
  if (!indexes) {
    return {};
  }
  let located: Readonly<Record<number, string>> | undefined;
  try {
    located = locate();
  } catch {
    located = undefined; // a mapper that fails is reported by the worker, with the record
  }
  return {
    entries: indexes.map((index) => ({ index, ...(located?.[index] ? { fullUrl: located[index] } : {}) })),
  };
}

/**
 * A rejection's id, from what was refused: the same bad record sent again replaces its rejection
 * instead of adding a copy (senders resend what they were refused, often many times).
 */
function rejectionId(
  partnerId: string,
  format: string,
  stage: string,
  location: string,
  content: unknown,
): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([partnerId, format, stage, location, content]))
    .digest('hex')
    .slice(0, 32);
  return `${stage}-${digest}`;
}

/** HTTP status for a report: 400 for an empty batch, 422 when every record was refused, 200 when all were applied, else 202. */
export function statusOf(report: IngestReport): number {
  if (report.records.length === 0) {
    return 400;
  }
  const counted = report.records.filter((r) => r.status !== 'skipped');
  if (counted.length > 0 && counted.every((r) => r.status === 'rejected')) {
    return counted.every((r) => r.status === 'rejected' && r.forbidden) ? 403 : 422;
  }
  return counted.every((r) => r.status === 'applied') ? 200 : 202;
}

/** The report as an OperationOutcome: one issue per record, naming the record and each bad field. */
export function reportToOutcome(report: IngestReport): OperationOutcome {
  const issues: OperationOutcomeIssue[] = [];
  for (const r of report.records) {
    switch (r.status) {
      case 'accepted':
        issues.push({
          severity: 'information',
          code: 'informational',
          diagnostics: `${r.location}: accepted (job ${r.jobId})`,
        });
        break;
      case 'applied':
        issues.push({
          severity: 'information',
          code: 'informational',
          diagnostics: `${r.location}: applied as ${[r.outcome.patient, ...Object.values(r.outcome.written)].join(', ')}`,
        });
        break;
      case 'skipped':
        issues.push({
          severity: r.warning ? 'warning' : 'information',
          code: r.warning ? 'business-rule' : 'informational',
          diagnostics: `${r.location}: skipped (${r.reason})`,
        });
        break;
      case 'rejected':
        for (const i of r.issues) {
          issues.push({
            severity: 'error',
            code: r.forbidden ? 'forbidden' : 'invalid',
            diagnostics: `${r.location}${r.sourceId && !r.location.includes(r.sourceId) ? ` (${r.sourceId})` : ''}: ${i.field}: ${i.message}`,
            location: [i.field],
          });
        }
        break;
    }
  }
  if (issues.length === 0) {
    issues.push({ severity: 'warning', code: 'incomplete', diagnostics: 'The batch held no records' });
  }
  return { resourceType: 'OperationOutcome', issue: issues };
}
