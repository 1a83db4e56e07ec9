import { HubError } from '../errors/hub-error.js';

/**
 * How a failed delivery may be retried.
 * - `transient`: nothing reached the partner, or it asked us to come back (network error, connect
 *   timeout, 5xx, 429, 408): retry with backoff.
 * - `ambiguous`: the request may have arrived (timeout or reset after sending): retry, with the
 *   same message id so the partner can de-duplicate.
 * - `permanent`: the partner says the message itself is wrong (other 4xx): dead-letter at once.
 */
export type FailureKind = 'transient' | 'ambiguous' | 'permanent';

export class DeliveryError extends HubError {
  readonly kind: FailureKind;
  readonly httpStatus: number | undefined;
  /** The partner's answer (truncated), kept with the dead letter. */
  readonly partnerAnswer: string | undefined;

  constructor(
    kind: FailureKind,
    message: string,
    opts: { httpStatus?: number; partnerAnswer?: string; cause?: unknown } = {},
  ) {
    super(`DELIVERY.${kind.toUpperCase()}`, message, { status: 502, cause: opts.cause });
    this.kind = kind;
    this.httpStatus = opts.httpStatus;
    this.partnerAnswer = opts.partnerAnswer;
  }
}

/** Classifies an HTTP status from a partner. */
export function kindOfStatus(status: number): FailureKind {
  return status >= 500 || status === 429 || status === 408 ? 'transient' : 'permanent';
}

/** Socket-level failures that mean the request never left (safe to resend as if new). */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Classifies what `fetch` threw: refused/connect-timeout are transient, anything later is ambiguous. */
export function kindOfFetchError(err: unknown): { kind: FailureKind; reason: string } {
  // By name, not instanceof: fetch's errors come from Node's realm (differs inside vm contexts).
  const name = (err as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { kind: 'ambiguous', reason: 'timed out waiting for the partner' };
  }
  const code = findCode((err as { cause?: unknown })?.cause) ?? findCode(err);
  if (code && NOT_SENT.has(code)) {
    return { kind: 'transient', reason: code };
  }
  return { kind: 'ambiguous', reason: code ?? (err as Error)?.message ?? String(err) };
}

function findCode(e: unknown): string | undefined {
  if (!e || typeof e !== 'object') {
    return undefined;
  }
  const { code, errors, cause } = e as { code?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof code === 'string') {
    return code;
  }
  if (Array.isArray(errors)) {
    return errors.map(findCode).find(Boolean);
  }
  return cause ? findCode(cause) : undefined;
}
