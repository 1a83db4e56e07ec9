import type { Bundle, BundleEntry } from 'fhir/r4.js';

/** How the grouper reaches the FHIR server: the gateway's calls, with its retries and errors. */
export interface WriteGroupTransport {
  /** Sends the entries as one `transaction` Bundle; `representation`: answer with each resource. */
  transaction(entries: readonly BundleEntry[], representation: boolean): Promise<Bundle>;
  /** Whether the server refused the transaction as sent (a 4xx): its members are then sent alone. */
  refused(err: unknown): boolean;
  /** Binds work to the submitting caller's context (its trace), to run when the transaction goes. */
  bindCaller?(): <T>(work: () => Promise<T>) => Promise<T>;
}

export interface WriteGroupLimits {
  /** Transactions this process has at the server at once; more wait, and go together. */
  readonly inFlight: number;
  /** Entries a grouped transaction may carry. */
  readonly maxEntries: number;
}

/** One caller's transaction, waiting for its turn. */
interface Member {
  readonly entries: readonly BundleEntry[];
  readonly representation: boolean;
  /** What the transaction touches: members sharing any are never sent together. */
  readonly touches: ReadonlySet<string>;
  readonly inCaller: <T>(work: () => Promise<T>) => Promise<T>;
  resolve(answer: Bundle): void;
  reject(err: unknown): void;
}

/**
 * Group commit for transactions (README, "Writes sent together"). While this process has
 * `inFlight` transactions at the server, the next ones wait; when one comes back, the waiting ones
 * go as one transaction, so the server pays its per-request and per-commit cost once for several
 * records. A transaction sent while a slot is free goes at once, alone, as before. Each caller
 * still gets the answer to its own entries only, in order. Grouped are only transactions that
 * are safe to send twice (no `POST` without `If-None-Exist`) and that touch nothing another member
 * of the group touches (the same resource, conditional URL, `fullUrl` or participant). When the
 * server refuses the group (a 4xx: one member's validation error, a version conflict), nothing of
 * it was stored, and each member is sent alone, to be answered or refused on its own.
 */
export class WriteGrouper {
  private inFlight = 0;
  private readonly waiting: Member[] = [];

  constructor(
    private readonly transport: WriteGroupTransport,
    private readonly limits: WriteGroupLimits,
  ) {}

  /** Whether a transaction of these entries may wait to go with others. */
  static groupable(entries: readonly BundleEntry[]): boolean {
    return entries.every((e) => e.request?.method !== 'POST' || Boolean(e.request.ifNoneExist));
  }

  transaction(entries: readonly BundleEntry[], representation: boolean): Promise<Bundle> {
    return new Promise<Bundle>((resolve, reject) => {
      this.waiting.push({
        entries,
        representation,
        touches: touchesOf(entries),
        inCaller: this.transport.bindCaller?.() ?? ((work) => work()),
        resolve,
        reject,
      });
      this.sendWaiting();
    });
  }

  private sendWaiting(): void {
    while (this.inFlight < this.limits.inFlight && this.waiting.length > 0) {
      const group = this.nextGroup();
      this.inFlight++;
      void this.send(group).finally(() => {
        this.inFlight--;
        this.sendWaiting();
      });
    }
  }

  /** The longest-waiting transaction, and those after it that touch nothing the group touches. */
  private nextGroup(): Member[] {
    const first = this.waiting.shift()!;
    const group = [first];
    const touched = new Set(first.touches);
    let size = first.entries.length;
    for (let i = 0; i < this.waiting.length; ) {
      const member = this.waiting[i]!;
      if (size + member.entries.length <= this.limits.maxEntries && ![...member.touches].some((t) => touched.has(t))) {
        group.push(member);
        this.waiting.splice(i, 1);
        member.touches.forEach((t) => touched.add(t));
        size += member.entries.length;
      } else {
        i++;
      }
    }
    return group;
  }

  private async send(group: readonly Member[]): Promise<void> {
    if (group.length === 1) {
      return this.alone(group[0]!);
    }
    const entries = group.flatMap((m) => m.entries);
    let answer: Bundle;
    try {
      answer = await group[0]!.inCaller(() =>
        this.transport.transaction(
          entries,
          group.some((m) => m.representation),
        ),
      );
    } catch (err) {
      if (this.transport.refused(err)) {
        await Promise.all(group.map((m) => this.alone(m)));
      } else {
        group.forEach((m) => m.reject(err));
      }
      return;
    }
    const answers = answer.entry ?? [];
    if (answers.length !== entries.length) {
      // Not an answer entry per request entry, as FHIR requires: each is sent again alone, which
      // only transactions safe to send twice may be (the only ones grouped).
      await Promise.all(group.map((m) => this.alone(m)));
      return;
    }
    let at = 0;
    for (const member of group) {
      member.resolve({ ...answer, entry: answers.slice(at, at + member.entries.length) });
      at += member.entries.length;
    }
  }

  private async alone(member: Member): Promise<void> {
    try {
      member.resolve(await member.inCaller(() => this.transport.transaction(member.entries, member.representation)));
    } catch (err) {
      member.reject(err);
    }
  }
}

/** A participant named anywhere in a resource: records of one participant never go together. */
const PARTICIPANT = /"reference":"(Patient\/[^"/]+)"/g;

/** What a transaction's entries write: targets, conditional URLs, `fullUrl`s and participants. */
function touchesOf(entries: readonly BundleEntry[]): ReadonlySet<string> {
  const touches = new Set<string>();
  for (const { fullUrl, request, resource } of entries) {
    if (fullUrl) {
      touches.add(fullUrl);
    }
    if (!request || request.method === 'GET') {
      continue;
    }
    touches.add(request.method === 'POST' ? `${request.url}?${request.ifNoneExist ?? ''}` : request.url);
    if (resource) {
      for (const [, participant] of JSON.stringify(resource).matchAll(PARTICIPANT)) {
        touches.add(participant!);
      }
      if (resource.resourceType === 'Patient' && resource.id) {
        touches.add(`Patient/${resource.id}`);
      }
    }
  }
  return touches;
}
