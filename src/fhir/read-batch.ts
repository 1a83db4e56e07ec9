import type { Bundle, BundleEntry, FhirResource, OperationOutcome, Resource } from 'fhir/r4.js';

/** What a conditional create answers: the resource it made, or the one that already matched. */
export interface CreatedOrFound<T extends Resource = Resource> {
  readonly resource: T;
  /** The server answered 201 Created (no match). */
  readonly created: boolean;
}

/** How the batcher reaches the FHIR server: the gateway's calls, with its retries and errors. */
export interface ReadBatchTransport {
  /**
   * Sends the entries (GETs of relative URLs, conditional creates) as one `batch` Bundle, asking
   * for the resources created or matched; answers the batch-response. `unkept`: the server is
   * asked to keep none of its searches for paging (see {@link TakeUnkept}).
   */
  batch(entries: readonly BundleEntry[], unkept: boolean): Promise<Bundle>;
  /** Sends one read alone. */
  single(url: string, label: string): Promise<Resource>;
  /** Sends one conditional create alone (`If-None-Exist: query`). */
  createIfNoneExist(resource: Resource, query: string, label: string): Promise<CreatedOrFound>;
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

/**
 * Whether a read's answer may be taken as it came from a batch sent unkept (`Cache-Control:
 * no-store`): the server then runs each search at once and keeps nothing for paging, so a
 * search's answer stops at its `_count` without a `next` link. False: the read is sent again
 * alone, as usual. A read without one must not go unkept, and its batch is sent as usual.
 */
export type TakeUnkept = (answer: Resource | undefined) => boolean;

/** Reads by id and conditional creates: their answer is the same kept or not. */
export const ALWAYS_WHOLE: TakeUnkept = () => true;

/** A read, or a conditional create that travels with the reads (it finds or makes one resource). */
interface PendingRead {
  readonly entry: BundleEntry;
  readonly label: string;
  readonly unkept?: TakeUnkept | undefined;
  /** What the entry's 2xx answer settles it with; undefined: the answer lacks it, ask alone. */
  answer(entry: BundleEntry, status: number): unknown;
  /** The same request sent alone, with the gateway's retries. */
  alone(): Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** Entries per batch: a burst of reads becomes several batches, not one huge request. */
const MAX_ENTRIES = 50;
/** Refusals in a row after which the server is taken not to do batches at all. */
const REFUSALS_TO_GIVE_UP = 3;

/**
 * Reads issued in the same turn of the event loop travel as one FHIR `batch` (README, "Reads in
 * one batch"), with any conditional create issued beside them (a lookup that makes what it does
 * not find): the reads a record needs, which the hub issues together, cost one HTTP
 * request instead of one each. Every read still settles on its own: with its entry's resource, or
 * with the error the same read sent alone would have raised. An entry the server failed in a way
 * the gateway retries (5xx, 408, 429) is read again alone, with those retries; a batch the server
 * refuses has its reads sent alone, and a server that refuses three in a row gets every later
 * read alone. Reads made for different traces (two jobs reading in the same turn) go in separate
 * batches, each in its own caller's context, so each record's trace holds its own reads. A batch
 * whose reads all allow it is sent unkept ({@link TakeUnkept}): the server stores none of its
 * searches, and a search answered with a page that may have stopped short is read again alone.
 */
export class ReadBatcher {
  /** This turn's reads, by caller; each caller's are sent from a callback it scheduled (its context). */
  private readonly pending = new Map<string | undefined, PendingRead[]>();
  private refusals = 0;

  constructor(private readonly transport: ReadBatchTransport) {}

  /** A GET of a relative URL; `unkept`, when it may travel in a batch sent unkept. */
  read(url: string, label: string, unkept?: TakeUnkept): Promise<Resource> {
    return this.add<Resource>({
      entry: { request: { method: 'GET', url } },
      label,
      unkept,
      answer: (entry) => entry.resource,
      alone: () => this.transport.single(url, label),
    });
  }

  /**
   * A conditional create (`POST` with `If-None-Exist: query`) sent with this turn's reads: a
   * lookup that makes the resource when nothing matches, so finding or making a record's new
   * participant costs no request of its own. Settles as the same create sent alone would.
   */
  createIfNoneExist<T extends Resource>(
    resource: T,
    query: string,
    label: string,
  ): Promise<CreatedOrFound<T>> {
    return this.add<CreatedOrFound<T>>({
      entry: {
        resource: resource as unknown as FhirResource,
        request: { method: 'POST', url: resource.resourceType, ifNoneExist: query },
      },
      label,
      unkept: ALWAYS_WHOLE,
      answer: (entry, status) =>
        entry.resource ? { resource: entry.resource as T, created: status === 201 } : undefined,
      alone: () => this.transport.createIfNoneExist(resource, query, label),
    });
  }

  private add<T>(read: Omit<PendingRead, 'resolve' | 'reject'>): Promise<T> {
    if (this.refusals >= REFUSALS_TO_GIVE_UP) {
      return read.alone() as Promise<T>;
    }
    return new Promise((resolve, reject) => {
      const caller = this.transport.callerOf?.();
      let reads = this.pending.get(caller);
      if (!reads) {
        reads = [];
        this.pending.set(caller, reads);
        setImmediate(() => this.flush(caller));
      }
      reads.push({ ...read, resolve, reject });
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
    // Unkept when every read allows it: the server then stores no search for paging.
    const unkept = reads.every((r) => r.unkept);
    let answer: Bundle;
    try {
      answer = await this.transport.batch(
        reads.map((r) => r.entry),
        unkept,
      );
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
    await Promise.all(reads.map((r, i) => this.settle(r, answer.entry?.[i], unkept)));
  }

  private async settle(read: PendingRead, entry: BundleEntry | undefined, unkept: boolean): Promise<void> {
    const status = Number.parseInt(entry?.response?.status ?? '', 10);
    const answered = entry && status >= 200 && status < 300 ? read.answer(entry, status) : undefined;
    if (answered !== undefined && unkept && !read.unkept?.(entry?.resource)) {
      // A search whose page may have stopped short: asked again alone, where it pages as usual.
      await this.alone(read);
    } else if (answered !== undefined) {
      read.resolve(answered);
    } else if (!(status >= 400 && status < 500) || status === 408 || status === 429) {
      // What the gateway would retry (a 5xx, a timeout, too many requests), or an answer without
      // its resource: sent again alone.
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
      read.resolve(await read.alone());
    } catch (err) {
      read.reject(err);
    }
  }
}
