import { Client, type FhirResource, type SearchParams } from 'fhir-kit-client';
import type { Bundle, CapabilityStatement, Identifier, OperationOutcome, Resource } from 'fhir/r4.js';
import type { Logger } from '../logging/logger.js';
import {
  FhirServerError,
  FhirUnreachableError,
  InvalidFhirIdError,
  ResourceNotFoundError,
  UnexpectedResourceTypeError,
  VersionConflictError,
} from './fhir-errors.js';
import { tokenOf } from './hub-identifiers.js';
import { ALWAYS_WHOLE, ReadBatcher, type CreatedOrFound, type TakeUnkept } from './read-batch.js';
import { againAfterWriteRace, withRetry, type RetryPolicy } from './retry.js';
import { activeTraceId, inSpan, SpanKind } from '../tracing/tracing.js';

/** Options of a gateway. */
export interface FhirGatewayOptions {
  readonly baseUrl: string;
  /** Per-request timeout. @defaultValue 30000 */
  readonly timeoutMs?: number;
  /** Retry policy for transient failures. @defaultValue 4 retries, 200 ms doubling to 5 s */
  readonly retry?: Partial<RetryPolicy>;
  readonly logger?: Logger;
  /** Reads issued together go to the server as one `batch` (fhir/read-batch.ts). @defaultValue false */
  readonly batchReads?: boolean;
}

/** The result of a conditional write: the stored resource and whether this call created it. */
export type WriteResult<T extends Resource> = CreatedOrFound<T>;

/** What a call is, for error messages and for deciding whether it may be retried. */
interface CallInfo {
  /** e.g. `PUT CarePlan/123`. Never contains PHI: ids and identifier systems only. */
  readonly label: string;
  /** Safe to send twice (reads, PUTs, conditional creates). */
  readonly idempotent: boolean;
}

type Resources = Resource & { resourceType: string };

const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 200, maxDelayMs: 5000 };
/** Upper bound when following `next` links, so a runaway search cannot exhaust memory. */
const DEFAULT_MAX_PAGES = 100;

/**
 * The largest page a search may ask for and still travel unkept in a batch or a transaction
 * (README, "Searches the server does not keep"): small enough that no server caps it lower, so
 * an answer of fewer matches is the whole result. A search that names no `_count` asks for this.
 */
export const UNKEPT_PAGE = 50;

/**
 * The headers of a batch or transaction: `representation`, answer each write with the resource
 * as stored; `unkept`, run its searches at once and keep none of them for paging.
 */
function headersFor(representation: boolean, unkept: boolean): Record<string, string> {
  return {
    ...(representation ? { prefer: 'return=representation' } : {}),
    ...(unkept ? { 'cache-control': 'no-store' } : {}),
  };
}

/**
 * The one place that talks to the FHIR server (house-style rule 7). Wraps fhir-kit-client so that
 * the rest of the hub gets `fhir4` types, typed errors carrying the server's OperationOutcome, and
 * retries with backoff on network errors and 5xx (never on a 4xx: the request itself is wrong).
 * @see https://hl7.org/fhir/R4/http.html
 */
export class FhirGateway {
  private readonly client: Client;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly logger: Logger | undefined;
  private readonly batcher: ReadBatcher | undefined;

  constructor(options: FhirGatewayOptions) {
    this.client = new Client({ baseUrl: options.baseUrl });
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 30000;
    this.logger = options.logger;
    this.batcher = options.batchReads
      ? new ReadBatcher({
          // A conditional create in the batch is idempotent too: sent again, it finds what it made.
          batch: (entries, unkept) =>
            this.call({ label: `POST batch (${entries.length} reads)`, idempotent: true }, (requestOptions) =>
              this.client.batch({
                body: { resourceType: 'Bundle', type: 'batch', entry: [...entries] },
                options: {
                  ...requestOptions,
                  headers: headersFor(
                    entries.some((e) => e.request?.method === 'POST'),
                    unkept,
                  ),
                },
              }),
            ),
          single: (url, label) => this.getAlone(url, label),
          createIfNoneExist: (resource, query, label) => this.createAlone(resource, query, label),
          errorFor: errorForStatus,
          refusedBatch: (err) =>
            err instanceof FhirServerError && !err.transient && err.httpStatus >= 400 && err.httpStatus < 500,
          callerOf: activeTraceId,
        })
      : undefined;
  }

  /**
   * A GET of a relative URL: in the next batch of reads when reads are batched (unkept when
   * `unkept` allows it), else alone.
   */
  private get<T>(url: string, label: string, unkept?: TakeUnkept): Promise<T> {
    return (this.batcher ? this.batcher.read(url, label, unkept) : this.getAlone(url, label)) as Promise<T>;
  }

  private getAlone(url: string, label: string): Promise<Resource> {
    return this.call({ label, idempotent: true }, (options) => this.client.request(url, { options }));
  }

  get baseUrl(): string {
    return this.client.baseUrl;
  }

  /** `GET /metadata`: also the readiness probe. */
  async capabilities(): Promise<CapabilityStatement> {
    return this.call({ label: 'GET metadata', idempotent: true }, (options) =>
      this.client.capabilityStatement(options),
    );
  }

  async read<T extends Resource>(resourceType: T['resourceType'], id: string): Promise<T> {
    const label = `GET ${checkedType(resourceType)}/${checkedId(id)}`;
    return ofType(label, resourceType, await this.get<T>(`${resourceType}/${id}`, label, ALWAYS_WHOLE));
  }

  /** The resource, or undefined when the server has none with that id (404/410). */
  async readIfPresent<T extends Resource>(
    resourceType: T['resourceType'],
    id: string,
  ): Promise<T | undefined> {
    try {
      return await this.read<T>(resourceType, id);
    } catch (err) {
      if (err instanceof ResourceNotFoundError) {
        return undefined;
      }
      throw err;
    }
  }

  async vread<T extends Resource>(resourceType: T['resourceType'], id: string, version: string): Promise<T> {
    const label = `GET ${checkedType(resourceType)}/${checkedId(id)}/_history/${checkedId(version, 'version')}`;
    return ofType(
      label,
      resourceType,
      await this.get<T>(`${resourceType}/${id}/_history/${version}`, label, ALWAYS_WHOLE),
    );
  }

  /**
   * One page of a search, as the server's Bundle (of {@link UNKEPT_PAGE} matches when `params`
   * name no `_count`). `firstPageOnly`: the caller looks no further than this page, so it needs no
   * `next` link.
   */
  async searchPage(
    resourceType: string,
    params: SearchParams = {},
    opts: { readonly firstPageOnly?: boolean } = {},
  ): Promise<Bundle> {
    const label = `GET ${checkedType(resourceType)}?${Object.keys(params).join('&')}`;
    const paged = params._count === undefined ? { ...params, _count: UNKEPT_PAGE } : params;
    const count = Number(paged._count);
    // Unkept, a page that may have stopped short is taken only by a caller that reads no further.
    const unkept: TakeUnkept | undefined = opts.firstPageOnly
      ? ALWAYS_WHOLE
      : count > 0 && count <= UNKEPT_PAGE
        ? (answer) => answer?.resourceType === 'Bundle' && matchesOf(answer as Bundle) < count
        : undefined;
    return this.get<Bundle>(`${resourceType}?${queryOf(paged)}`, label, unkept);
  }

  /**
   * Every match of a search, following `next` links (at most `maxPages` pages). Entries whose
   * `search.mode` is `include` are returned too, so `_include` works.
   */
  async search<T extends Resource>(
    resourceType: T['resourceType'],
    params: SearchParams = {},
    maxPages: number = DEFAULT_MAX_PAGES,
  ): Promise<T[]> {
    const results: T[] = [];
    let page: Bundle | undefined = await this.searchPage(resourceType, params);
    for (let pages = 1; page; pages++) {
      for (const entry of page.entry ?? []) {
        if (entry.resource) {
          results.push(entry.resource as T);
        }
      }
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next || pages >= maxPages) {
        break;
      }
      page = await this.call({ label: `GET ${resourceType} (next page)`, idempotent: true }, (options) =>
        this.client.request(next, { options }),
      );
    }
    return results;
  }

  /** Everything the server holds about a participant (`Patient/<id>/$everything`), all pages. */
  async everything(patientId: string, maxPages = DEFAULT_MAX_PAGES): Promise<Resource[]> {
    const label = `GET Patient/${checkedId(patientId)}/$everything`;
    const results: Resource[] = [];
    let page: Bundle | undefined = await this.call({ label, idempotent: true }, (options) =>
      this.client.request(`Patient/${encodeURIComponent(patientId)}/$everything?_count=200`, { options }),
    );
    for (let pages = 1; page; pages++) {
      results.push(...(page.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])));
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next || pages >= maxPages) {
        break;
      }
      page = await this.call({ label: `${label} (next page)`, idempotent: true }, (options) =>
        this.client.request(next, { options }),
      );
    }
    return results;
  }

  /** Plain create. Not idempotent: retried only when the request cannot have reached the server. */
  async create<T extends Resource>(resource: T): Promise<T> {
    return this.call({ label: `POST ${checkedType(resource.resourceType)}`, idempotent: false }, (options) =>
      this.client.create({ resourceType: resource.resourceType, body: asBody(resource), options }),
    );
  }

  /**
   * Conditional create (`If-None-Exist`): writes the resource only if nothing matches `query`
   * (e.g. `identifier=sys|val`); otherwise returns the match. Safe to repeat.
   */
  async createIfNoneExist<T extends Resource>(resource: T, query: string): Promise<WriteResult<T>> {
    const label = `POST ${checkedType(resource.resourceType)} (If-None-Exist)`;
    // Two writers of one new match at once both find nothing; the server refuses the second
    // create, and sent again it finds the winner's resource.
    return againAfterWriteRace(() =>
      this.batcher
        ? this.batcher.createIfNoneExist(resource, query, label)
        : this.createAlone(resource, query, label),
    );
  }

  private createAlone<T extends Resource>(
    resource: T,
    query: string,
    label: string,
  ): Promise<WriteResult<T>> {
    return this.callWithStatus<T>({ label, idempotent: true }, (options) =>
      this.client.create({
        resourceType: resource.resourceType,
        body: asBody(resource),
        options: { ...options, headers: { 'if-none-exist': query } },
      }),
    );
  }

  /**
   * Creates the resource when nothing has `identifier`, updates the one match otherwise. Not a
   * conditional update (`PUT Type?identifier=`): HAPI lets two of those at the same moment both
   * create, leaving two resources with one identifier, while it refuses the second of two
   * conditional creates. So the create is conditional and a match is then updated by its id.
   */
  async upsertByIdentifier<T extends Resource>(resource: T, identifier: Identifier): Promise<WriteResult<T>> {
    if (!identifier.system || !identifier.value) {
      throw new Error('upsertByIdentifier needs an identifier with system and value');
    }
    const held = (resource as { identifier?: Identifier[] }).identifier ?? [];
    if (!held.some((i) => i.system === identifier.system && i.value === identifier.value)) {
      // Created without it, the resource would never be found by it: a new one at every call.
      throw new Error(
        `upsertByIdentifier: the ${resource.resourceType} does not carry the identifier it is kept by`,
      );
    }
    const body: T = { ...resource };
    delete body.id; // the match decides the id
    const written = await this.createIfNoneExist(body, `identifier=${tokenOf(identifier)}`);
    if (written.created) {
      return written;
    }
    return { resource: await this.update<T>({ ...body, id: written.resource.id }), created: false };
  }

  /**
   * Update by id. With `ifMatch` (a version id) the server refuses the write if the stored
   * version has moved on: that surfaces as {@link VersionConflictError}.
   */
  async update<T extends Resource>(resource: T, opts: { ifMatch?: string } = {}): Promise<T> {
    if (!resource.id) {
      throw new Error(`update of ${resource.resourceType} needs an id`);
    }
    checkedType(resource.resourceType);
    checkedId(resource.id);
    const headers: Record<string, string> = opts.ifMatch ? { 'if-match': `W/"${opts.ifMatch}"` } : {};
    return this.call({ label: `PUT ${resource.resourceType}/${resource.id}`, idempotent: true }, (options) =>
      this.client.update({
        resourceType: resource.resourceType,
        id: resource.id!,
        body: asBody(resource),
        options: { ...options, headers },
      }),
    );
  }

  /** Deletes one resource (idempotent: deleting a deleted or missing resource succeeds). */
  async delete(resourceType: string, id: string): Promise<void> {
    await this.call(
      { label: `DELETE ${checkedType(resourceType)}/${checkedId(id)}`, idempotent: true },
      (options) => this.client.delete({ resourceType, id, options }),
    );
  }

  /** Every version of one resource, newest first (follows paging). */
  async history<T extends Resource>(resourceType: T['resourceType'], id: string): Promise<T[]> {
    const versions: T[] = [];
    let page: Bundle | undefined = await this.call(
      { label: `GET ${checkedType(resourceType)}/${checkedId(id)}/_history`, idempotent: true },
      (options) => this.client.resourceHistory({ resourceType, id, options }),
    );
    for (let pages = 1; page; pages++) {
      versions.push(...(page.entry ?? []).flatMap((e) => (e.resource ? [e.resource as T] : [])));
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next || pages >= DEFAULT_MAX_PAGES) {
        break;
      }
      page = await this.call(
        { label: `GET ${resourceType}/${id}/_history (next page)`, idempotent: true },
        (options) => this.client.request(next, { options }),
      );
    }
    return versions;
  }

  /**
   * Every version of every resource of a type changed since `since` (type-level `_history`),
   * oldest first, following paging up to `maxPages`; deleted versions (no resource) are skipped.
   * With the server's time of the search (the first page's `meta.lastUpdated`; none when the
   * server gives none or a page was left unread), which a scan can move on to.
   */
  async historyAsOf<T extends Resource>(
    resourceType: T['resourceType'],
    since: string,
    maxPages = DEFAULT_MAX_PAGES,
  ): Promise<{ versions: T[]; serverTime?: string }> {
    const versions: T[] = [];
    let page: Bundle | undefined = await this.call(
      { label: `GET ${checkedType(resourceType)}/_history?_since`, idempotent: true },
      (options) =>
        this.client.request(`${resourceType}/_history?_since=${encodeURIComponent(since)}&_count=100`, {
          options,
        }),
    );
    // Only when every page was read: a scan cut short must not move on past what it did not see.
    let serverTime = page?.meta?.lastUpdated;
    for (let pages = 1; page; pages++) {
      versions.push(...(page.entry ?? []).flatMap((e) => (e.resource ? [e.resource as T] : [])));
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next || pages >= maxPages) {
        serverTime = next ? undefined : serverTime;
        break;
      }
      page = await this.call(
        { label: `GET ${resourceType}/_history (next page)`, idempotent: true },
        (options) => this.client.request(next, { options }),
      );
    }
    versions.sort((a, b) => (a.meta?.lastUpdated ?? '').localeCompare(b.meta?.lastUpdated ?? ''));
    return { versions, ...(serverTime ? { serverTime } : {}) };
  }

  /** `meta.lastUpdated` of the newest version of any resource of the type, on the server's clock. */
  async latestVersionTime(resourceType: string): Promise<string | undefined> {
    const page = await this.call(
      { label: `GET ${checkedType(resourceType)}/_history?_count=1`, idempotent: true },
      (options) => this.client.request(`${resourceType}/_history?_count=1`, { options }),
    );
    return (page as Bundle).entry?.[0]?.resource?.meta?.lastUpdated;
  }

  /**
   * A transaction Bundle: all entries succeed or none. Retried on transient failures only when
   * every write in it is idempotent (PUT, DELETE, or POST with `ifNoneExist`). With
   * `returnResources`, each response entry carries the resource as stored (`Prefer:
   * return=representation`; for a conditional create that matched, the resource it matched). Its
   * searches (`GET` entries) run unkept: read their answers with {@link wholeSearchset}.
   */
  async transaction(bundle: Bundle, opts: { returnResources?: boolean } = {}): Promise<Bundle> {
    if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
      throw new Error(`transaction needs a Bundle of type transaction or batch, not ${bundle.type}`);
    }
    const entries = bundle.entry ?? [];
    const idempotent = entries.every((e) => e.request?.method !== 'POST' || Boolean(e.request.ifNoneExist));
    const headers = headersFor(
      opts.returnResources ?? false,
      entries.some((e) => e.request?.method === 'GET'),
    );
    return this.call({ label: `POST ${bundle.type} (${entries.length} entries)`, idempotent }, (options) =>
      this.client.transaction({ body: asBody(bundle), options: { ...options, headers } }),
    );
  }

  /**
   * `$validate`: asks the server to validate a resource (against `profile` when given, otherwise
   * against its declared profiles). Returns the server's OperationOutcome whether or not it holds
   * errors; use {@link hasErrors} to decide.
   */
  async validate(resource: Resource, profile?: string): Promise<OperationOutcome> {
    // The resource itself is the body and the profile a URL parameter: HAPI 8.8 mis-reads a
    // `profile` given inside a Parameters body (it validates the Parameters instead).
    const query = profile ? `?profile=${encodeURIComponent(profile)}` : '';
    try {
      return await this.call(
        { label: `POST ${resource.resourceType}/$validate`, idempotent: true },
        (options) =>
          this.client.request(`${resource.resourceType}/$validate${query}`, {
            method: 'POST',
            body: resource,
            options: { ...options, headers: { 'content-type': 'application/fhir+json' } },
          }),
      );
    } catch (err) {
      // Some servers answer an invalid resource with 400/412/422 and the OperationOutcome as the body.
      if (err instanceof FhirServerError && err.outcome && err.httpStatus < 500) {
        return err.outcome;
      }
      throw err;
    }
  }

  private async call<T>(
    info: CallInfo,
    send: (options: { signal: AbortSignal }) => Promise<FhirResource>,
  ): Promise<T> {
    return (await this.callWithStatus<Resources>(info, send)).resource as T;
  }

  /** Sends with timeout and retries; returns the body and whether the server answered 201 Created. */
  private async callWithStatus<T extends Resource>(
    info: CallInfo,
    send: (options: { signal: AbortSignal }) => Promise<FhirResource>,
  ): Promise<WriteResult<T>> {
    return inSpan(
      spanName(info.label),
      { 'fhir.request': info.label },
      () => this.sendWithRetry<T>(info, send),
      SpanKind.CLIENT,
    );
  }

  private sendWithRetry<T extends Resource>(
    info: CallInfo,
    send: (options: { signal: AbortSignal }) => Promise<FhirResource>,
  ): Promise<WriteResult<T>> {
    return withRetry(
      async () => {
        try {
          const body = await send({ signal: AbortSignal.timeout(this.timeoutMs) });
          const status = Client.httpFor(body).response?.status;
          return { resource: body as unknown as T, created: status === 201 };
        } catch (err) {
          throw normalizeError(err, info.label);
        }
      },
      this.policy,
      (err) => isRetryable(err, info.idempotent),
      (err, retry, delayMs) =>
        this.logger?.warn(
          { request: info.label, retry, delayMs, error: (err as Error).message },
          'retrying FHIR call',
        ),
    );
  }
}

/**
 * A call's span name: its label without ids, search values or counts, so names stay few as trace
 * back ends expect (`GET CarePlan/{id}/_history/{id}`); the whole label is an attribute.
 */
function spanName(label: string): string {
  const [path = '', query] = label.replace(/ \(\d+ (?:entries|reads)\)$/, '').split('?');
  const named = path.replace(/\/[A-Za-z0-9.-]+(?=\/|$| )/g, '/{id}');
  return `FHIR ${named}${query === undefined ? '' : `?${query.replace(/=[^&]*/g, '')}`}`;
}

/** FHIR R4 `id` (and version id): what alone may stand in a URL path segment. */
const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;

/**
 * Every id that reaches the server through this gateway is checked here, whatever route or job it
 * came from: `..%2FCarePlan%2F7` decodes to a path, and fhir-kit-client would send it as one.
 */
function checkedId(id: string, what: 'id' | 'version' = 'id'): string {
  if (typeof id !== 'string' || !FHIR_ID.test(id) || id === '.' || id === '..') {
    throw new InvalidFhirIdError(what, String(id));
  }
  return id;
}

function checkedType(resourceType: string): string {
  if (typeof resourceType !== 'string' || !RESOURCE_TYPE.test(resourceType)) {
    throw new InvalidFhirIdError('resource type', String(resourceType));
  }
  return resourceType;
}

/** A read answers the type asked for, or nothing is passed on. */
function ofType<T extends Resource>(label: string, expected: string, resource: T): T {
  if (resource?.resourceType !== expected) {
    throw new UnexpectedResourceTypeError(label, String(resource?.resourceType));
  }
  return resource;
}

/** True when an OperationOutcome holds an error or fatal issue. */
export function hasErrors(outcome: OperationOutcome): boolean {
  return (outcome.issue ?? []).some((i) => i.severity === 'error' || i.severity === 'fatal');
}

function isRetryable(err: unknown, idempotent: boolean): boolean {
  if (err instanceof FhirUnreachableError) {
    return idempotent || !err.maybeSent;
  }
  return err instanceof FhirServerError && err.transient && idempotent;
}

/** Connection errors that mean the request never left this machine. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A search to make, as data: what a transaction can carry as a `GET` entry. */
export interface SearchRequest {
  readonly resourceType: string;
  readonly params: SearchParams;
}

/** The search's relative URL (`Task?patient=...`), encoded as the gateway sends it. */
export function searchUrl({ resourceType, params }: SearchRequest): string {
  return `${checkedType(resourceType)}?${queryOf(params)}`;
}

/**
 * The matches of `search`, which a transaction or batch answered as one of its entries, when that
 * page holds them all; undefined otherwise, so the caller searches itself. The server keeps no
 * pages of such a search ({@link FhirGateway.transaction}): an answer stops at the search's
 * `_count` without a `next` link, so one holding that many (or a search naming none) may have more.
 */
export function wholeSearchset(answer: Resource | undefined, search: SearchRequest): Resource[] | undefined {
  if (answer?.resourceType !== 'Bundle') {
    return undefined;
  }
  const bundle = answer as Bundle;
  const found = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  const more =
    bundle.link?.some((l) => l.relation === 'next') ||
    (bundle.total ?? 0) > found.length ||
    !(matchesOf(bundle) < Number(search.params._count));
  return more ? undefined : found;
}

/** The entries of a searchset that match the search (not those `_include` or an outcome added). */
function matchesOf(bundle: Bundle): number {
  return (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include' && e.search?.mode !== 'outcome')
    .length;
}

/** A search's query string, encoded as fhir-kit-client encodes it for a GET. */
function queryOf(params: SearchParams): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      query.append(key, String(v));
    }
  }
  return query.toString();
}

/** The hub's typed error for an HTTP error status the server answered. */
function errorForStatus(status: number, label: string, outcome: OperationOutcome | undefined): Error {
  if (status === 412 || status === 409) {
    return new VersionConflictError(status, label, outcome);
  }
  if (status === 404 || status === 410) {
    return new ResourceNotFoundError(status, label, outcome);
  }
  return new FhirServerError(status, label, outcome);
}

/** Turns what fhir-kit-client and fetch throw into the hub's typed errors. */
function normalizeError(err: unknown, label: string): Error {
  const response = (err as { response?: { status?: number; data?: unknown } }).response;
  if (response?.status) {
    const data = response.data as { resourceType?: string } | undefined;
    const outcome = data?.resourceType === 'OperationOutcome' ? (data as OperationOutcome) : undefined;
    return errorForStatus(response.status, label, outcome);
  }
  // By name, not instanceof: fetch's errors come from Node's own realm, which differs from the
  // realm of code running in a vm context (Jest).
  const name = (err as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new FhirUnreachableError(label, 'timed out', true, err);
  }
  if (name === 'TypeError') {
    // fetch failures: the socket-level reason is in `cause` (possibly nested in an AggregateError).
    const code = findErrorCode((err as Error).cause);
    return new FhirUnreachableError(
      label,
      code ?? (err as Error).message,
      !(code && NOT_SENT_CODES.has(code)),
      err,
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}

function findErrorCode(cause: unknown): string | undefined {
  if (!cause || typeof cause !== 'object') {
    return undefined;
  }
  const { code, errors } = cause as { code?: unknown; errors?: unknown[] };
  if (typeof code === 'string') {
    return code;
  }
  return Array.isArray(errors) ? errors.map(findErrorCode).find(Boolean) : undefined;
}

function asBody(resource: Resource | Bundle): FhirResource {
  return resource as unknown as FhirResource;
}
