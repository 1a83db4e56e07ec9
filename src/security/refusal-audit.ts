import type { AuditEvent } from 'fhir/r4.js';
import { accessRefusal, type RefusedAccess } from './audit.js';

/** How long refusals of one kind are counted into one AuditEvent. */
const WINDOW_MS = 60_000;
/** Kinds tracked at once; past it, new kinds share one bucket, so a flood cannot grow memory. */
const MAX_KINDS = 1000;

interface Bucket {
  readonly first: RefusedAccess;
  readonly since: number;
  count: number;
}

/**
 * Refusals audited without letting a flood write a flood: the first refusal of a kind (who, how)
 * in a minute is an AuditEvent at once; the rest of that minute are counted and written as one
 * summary AuditEvent when the minute ends. A known partner's kind is its method and path, so
 * refusals on different targets each show; an anonymous caller rotating partner ids in the path
 * is one kind, so it cannot make the hub write unbounded AuditEvents.
 */
export class RefusalAudit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly write: (event: AuditEvent) => Promise<unknown>,
    private readonly now: () => Date,
    private readonly onError: (err: unknown) => void,
  ) {
    this.timer = setInterval(() => this.flush(false), WINDOW_MS / 4);
    this.timer.unref();
  }

  /** Records one refusal; never throws, never waits. */
  readonly record = (refused: RefusedAccess): void => {
    const at = this.now().getTime();
    const kind = this.buckets.size >= MAX_KINDS ? 'overflow' : kindOf(refused);
    const bucket = this.buckets.get(kind);
    if (bucket && at - bucket.since < WINDOW_MS) {
      bucket.count++;
      return;
    }
    if (bucket) {
      this.summarise(bucket);
    }
    this.buckets.set(kind, { first: refused, since: at, count: 1 });
    this.send(accessRefusal(refused, new Date(at)));
  };

  /** Writes the summaries of ended windows (all of them when `all`, e.g. at shutdown). */
  flush(all: boolean): void {
    const at = this.now().getTime();
    for (const [kind, bucket] of this.buckets) {
      if (all || at - bucket.since >= WINDOW_MS) {
        this.summarise(bucket);
        this.buckets.delete(kind);
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush(true);
  }

  private summarise(bucket: Bucket): void {
    if (bucket.count > 1) {
      const more = bucket.count - 1;
      this.send(
        accessRefusal(
          {
            ...bucket.first,
            reason: `${more} more refusal${more === 1 ? '' : 's'} like this within a minute of ${new Date(bucket.since).toISOString()}: ${bucket.first.reason}`,
          },
          this.now(),
        ),
      );
    }
    bucket.count = 1;
  }

  private send(event: AuditEvent): void {
    void this.write(event).catch(this.onError);
  }
}

function kindOf(refused: RefusedAccess): string {
  return refused.partnerId
    ? `${refused.partnerId}|${refused.method}|${refused.path}`
    : `(anonymous)|${refused.method}`;
}
