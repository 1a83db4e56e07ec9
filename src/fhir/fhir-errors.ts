import type { OperationOutcome } from 'fhir/r4.js';
import { HubError } from '../errors/hub-error.js';

/**
 * The FHIR server answered with an error status. Keeps the status and the server's
 * OperationOutcome; 4xx are permanent (the request is wrong), 5xx and 429 are transient.
 */
export class FhirServerError extends HubError {
  readonly httpStatus: number;
  readonly outcome: OperationOutcome | undefined;
  readonly transient: boolean;

  constructor(httpStatus: number, request: string, outcome: OperationOutcome | undefined, code?: string) {
    const diagnostics = describeOutcome(outcome);
    super(
      code ?? 'FHIR.SERVER_ERROR',
      `FHIR server answered ${httpStatus} to ${request}${diagnostics ? `: ${diagnostics}` : ''}`,
      {
        // A 4xx from the server means what the hub sent is wrong: pass it on as 422 unless it is a 404/409/412.
        status: httpStatus >= 500 ? 502 : [404, 409, 410, 412].includes(httpStatus) ? httpStatus : 422,
        issues: outcome?.issue?.length
          ? outcome.issue
          : [{ severity: 'error', code: 'exception', diagnostics: `FHIR server answered ${httpStatus}` }],
      },
    );
    this.httpStatus = httpStatus;
    this.outcome = outcome;
    this.transient = httpStatus >= 500 || httpStatus === 429 || httpStatus === 408;
  }
}

/** An `If-Match` update lost against a newer version (HTTP 412, or 409 from some servers). */
export class VersionConflictError extends FhirServerError {
  constructor(httpStatus: number, request: string, outcome: OperationOutcome | undefined) {
    super(httpStatus, request, outcome, 'FHIR.VERSION_CONFLICT');
  }
}

/** The resource does not exist (404) or was deleted (410). */
export class ResourceNotFoundError extends FhirServerError {
  constructor(httpStatus: number, request: string, outcome: OperationOutcome | undefined) {
    super(httpStatus, request, outcome, 'FHIR.NOT_FOUND');
  }
}

/**
 * No HTTP answer: connection refused, reset, DNS failure or timeout. `maybeSent` is false only
 * when the request cannot have reached the server (refused, no route), which makes even a
 * non-idempotent request safe to retry.
 */
export class FhirUnreachableError extends HubError {
  readonly transient = true;
  readonly maybeSent: boolean;

  constructor(request: string, reason: string, maybeSent: boolean, cause?: unknown) {
    super('FHIR.UNREACHABLE', `FHIR server unreachable for ${request}: ${reason}`, {
      status: 503,
      cause,
      issues: [{ severity: 'error', code: 'transient', diagnostics: `FHIR server unreachable: ${reason}` }],
    });
    this.maybeSent = maybeSent;
  }
}

/** The diagnostics of every error issue in an OperationOutcome, one line. */
export function describeOutcome(outcome: OperationOutcome | undefined): string {
  if (!outcome?.issue) {
    return '';
  }
  return outcome.issue
    .filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) =>
      [i.expression?.join(', ') ?? i.location?.join(', '), i.diagnostics].filter(Boolean).join(': '),
    )
    .join('; ');
}

/**
 * A resource type, id or version the hub was about to put into a FHIR URL is not one (FHIR R4
 * ids are `[A-Za-z0-9\-\.]{1,64}`). Raised before anything is sent: an id taken from a request
 * path must never reach the server as `../CarePlan/7`.
 */
export class InvalidFhirIdError extends HubError {
  constructor(what: string, value: string) {
    const message = `${what} "${value.slice(0, 80)}" is not a valid FHIR ${what}`;
    super('FHIR.INVALID_ID', message, {
      status: 400,
      issues: [{ severity: 'error', code: 'value', diagnostics: message }],
    });
  }
}

/** The server answered a read of one type with a resource of another: never passed on. */
export class UnexpectedResourceTypeError extends HubError {
  constructor(request: string, got: string) {
    super('FHIR.UNEXPECTED_TYPE', `FHIR server answered ${request} with a ${got.slice(0, 40)}`, {
      status: 502,
    });
  }
}
