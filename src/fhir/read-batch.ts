import type { Bundle, BundleEntry, OperationOutcome, Resource } from 'fhir/r4.js';

/** How the batcher reaches the FHIR server: the gateway's calls, with its retries and errors. */
export interface ReadBatchTransport {
  /** Sends the reads (relative URLs) as one `batch` Bundle of GETs; answers the batch-response. */
  batch(urls: readonly string[]): Promise<Bundle>;
  /** Sends one read alone. */
  single(url: string, label: string): Promise<Resource>;
  /** The error a batch entry's status stands for: what the same read sent alone would throw. */
  errorFor(status: number, label: string, outcome: OperationOutcome | undefined): Error;
  /** Whether the server refused the batch itself (a 4xx): the reads are then sent alone. */
  refusedBatch(err: unknown): boolean;
  /**
   * What the reading caller works for (its trace): reads of different callers go in different
   * batches, each sent in its caller's context, so a record's trace shows its own reads.
   */
  callerOf?(): string | undefined;
}

interface PendingRead {
  readonly url: string;
  readonly label: string;
  resolve(resource: Resource): void;
  reject(err: unknown): void;
}

/** Entries per batch: a burst of reads becomes several batches, not one huge request. */
const MAX_ENTRIES = 50;
/** Refusals in a row after which the server is taken not to do batches at all. */
const REFUSALS_TO_GIVE_UP = 3;

/**
 * Reads issued in the same turn of the event loop travel as one FHIR `batch` of GETs (README,
 * "Reads in one batch"): the reads a record needs, which the hub issues together, cost one HTTP
 * request instead of one each. Every read still settles on its own: with its entry's resource, or
 * with the error the same read sent alone would have raised. An entry the server failed in a way
 * the gateway retries (5xx, 408, 429) is read again alone, with those retries; a batch the server
 * refuses has its reads sent alone, and a server that refuses three in a row gets every later
 * read alone. Reads made for different traces (two jobs reading in the same turn) go in separate
 * batches, each in its own caller's context, so each record's trace holds its own reads.
 */
export class ReadBatcher {
  /** This turn's reads, by caller; each caller's are sent from a callback it scheduled (its context). */
  private readonly pending = new Map<string | undefined, PendingRead[]>();
  private refusals = 0;

  constructor(private readonly transport: ReadBatchTransport) {}

  read(url: string, label: string): Promise<Resource> {
    if (this.refusals >= REFUSALS_TO_GIVE_UP) {
      return this.transport.single(url, label);
    }
    return new Promise((resolve, reject) => {
      const caller = this.transport.callerOf?.();
      let reads = this.pending.get(caller);
      if (!reads) {
        reads = [];
        this.pending.set(caller, reads);
        setImmediate(() => this.flush(caller));
      }
      reads.push({ url, label, resolve, reject });
    });
  }

  private flush(caller: string | undefined): void {
    const reads = this.pending.get(caller) ?? [];
    this.pending.delete(caller);
    for (let i = 0; i < reads.length; i += MAX_ENTRIES) {
      void this.send(reads.slice(i, i + MAX_ENTRIES));
    }
  }

  private async send(reads: readonly PendingRead[]): Promise<void> {
    if (reads.length === 1) {
      return this.alone(reads[0]!);
    }
    let answer: Bundle;
    try {
      answer = await this.transport.batch(reads.map((r) => r.url));
      this.refusals = 0;
    } catch (err) {
      if (this.transport.refusedBatch(err)) {
        this.refusals++;
        await Promise.all(reads.map((r) => this.alone(r)));
        return;
      }
      for (const r of reads) {
        r.reject(err);
      }
      return;
    }
    await Promise.all(reads.map((r, i) => this.settle(r, answer.entry?.[i])));
  }

  private async settle(read: PendingRead, entry: BundleEntry | undefined): Promise<void> {
    const status = Number.parseInt(entry?.response?.status ?? '', 10);
    if (status >= 200 && status < 300 && entry?.resource) {
      read.resolve(entry.resource);
    } else if (!(status >= 400 && status < 500) || status === 408 || status === 429) {
      // What the gateway would retry (a 5xx, a timeout, too many requests): read again alone.
      await this.alone(read);
    } else {
      const outcome =
        entry?.response?.outcome ??
        (entry?.resource?.resourceType === 'OperationOutcome' ? entry.resource : undefined);
      read.reject(this.transport.errorFor(status, read.label, outcome as OperationOutcome | undefined));
    }
  }

  private async alone(read: PendingRead): Promise<void> {
    try {
      read.resolve(await this.transport.single(read.url, read.label));
    } catch (err) {
      read.reject(err);
    }
  }
}
