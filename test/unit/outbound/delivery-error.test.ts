import { describe, expect, it } from '@jest/globals';
import { HubError } from '../../../src/errors/hub-error.js';
import { DeliveryError, kindOfFetchError, kindOfStatus } from '../../../src/outbound/delivery-error.js';

/** What Node's fetch throws: `TypeError: fetch failed` with the socket error as its cause. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

function socketError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('kindOfStatus', () => {
  it.each([500, 501, 502, 503, 504, 599, 429, 408])('%i is transient (retry with backoff)', (status) => {
    expect(kindOfStatus(status)).toBe('transient');
  });

  it.each([400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 301, 302, 307])(
    '%i is permanent (the partner says the message or the address is wrong)',
    (status) => {
      expect(kindOfStatus(status)).toBe('permanent');
    },
  );
});

describe('kindOfFetchError', () => {
  it('a timeout (AbortSignal.timeout) is ambiguous: the request may have arrived', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(kindOfFetchError(timeout)).toEqual({
      kind: 'ambiguous',
      reason: 'timed out waiting for the partner',
    });
    expect(kindOfFetchError(new DOMException('aborted', 'AbortError')).kind).toBe('ambiguous');
  });

  it.each([
    'ECONNREFUSED',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'UND_ERR_CONNECT_TIMEOUT',
  ])('a failure before the request left (%s) is transient', (code) => {
    expect(kindOfFetchError(fetchFailed(socketError(code)))).toEqual({ kind: 'transient', reason: code });
  });

  it('finds the code in an AggregateError (both address families refused) and in nested causes', () => {
    const aggregate = new AggregateError(
      [socketError('ECONNREFUSED', 'connect ECONNREFUSED ::1:9'), socketError('ECONNREFUSED')],
      'connect failed',
    );
    expect(kindOfFetchError(fetchFailed(aggregate))).toEqual({ kind: 'transient', reason: 'ECONNREFUSED' });
    const nested = fetchFailed(new Error('wrapped', { cause: socketError('ENOTFOUND') }));
    expect(kindOfFetchError(nested)).toEqual({ kind: 'transient', reason: 'ENOTFOUND' });
    // A code on the thrown error itself (not wrapped by fetch).
    expect(kindOfFetchError(socketError('EHOSTUNREACH')).kind).toBe('transient');
  });

  it.each(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT'])(
    'a failure after sending (%s) is ambiguous',
    (code) => {
      expect(kindOfFetchError(fetchFailed(socketError(code)))).toEqual({ kind: 'ambiguous', reason: code });
    },
  );

  it('anything unrecognised is ambiguous, named by its message', () => {
    expect(kindOfFetchError(fetchFailed(new Error('other side closed')))).toEqual({
      kind: 'ambiguous',
      reason: 'fetch failed',
    });
    expect(kindOfFetchError('weird')).toEqual({ kind: 'ambiguous', reason: 'weird' });
    expect(kindOfFetchError(undefined).kind).toBe('ambiguous');
  });
});

describe('DeliveryError', () => {
  it('carries its kind, the HTTP status and the partner answer, as a HubError with a DELIVERY code', () => {
    const cause = new Error('underlying');
    const err = new DeliveryError('permanent', 'Partner answered 422', {
      httpStatus: 422,
      partnerAnswer: '{"resourceType":"OperationOutcome"}',
      cause,
    });
    expect(err).toBeInstanceOf(HubError);
    expect(err.kind).toBe('permanent');
    expect(err.code).toBe('DELIVERY.PERMANENT');
    expect(err.status).toBe(502);
    expect(err.httpStatus).toBe(422);
    expect(err.partnerAnswer).toBe('{"resourceType":"OperationOutcome"}');
    expect(err.cause).toBe(cause);
    expect(err.message).toBe('Partner answered 422');
  });

  it('names transient and ambiguous failures in its code, without a status when nothing answered', () => {
    expect(new DeliveryError('transient', 'refused').code).toBe('DELIVERY.TRANSIENT');
    const ambiguous = new DeliveryError('ambiguous', 'timed out');
    expect(ambiguous.code).toBe('DELIVERY.AMBIGUOUS');
    expect(ambiguous.httpStatus).toBeUndefined();
    expect(ambiguous.partnerAnswer).toBeUndefined();
  });
});
