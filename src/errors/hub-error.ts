import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';

/** FHIR `OperationOutcome.issue.code` values the hub uses. */
export type IssueType = OperationOutcomeIssue['code'];

/**
 * Base of every error the hub raises on purpose. `code` is stable (for logs and tests),
 * `status` is the HTTP status the edge answers with, `issues` become the OperationOutcome.
 */
export class HubError extends Error {
  readonly code: string;
  readonly status: number;
  readonly issues: OperationOutcomeIssue[];

  constructor(
    code: string,
    message: string,
    opts: { status?: number; issues?: OperationOutcomeIssue[]; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = this.constructor.name;
    this.code = code;
    this.status = opts.status ?? 500;
    this.issues = opts.issues ?? [{ severity: 'error', code: 'exception', diagnostics: message }];
  }

  /** The error as an OperationOutcome, as answered over HTTP. */
  toOperationOutcome(): OperationOutcome {
    return { resourceType: 'OperationOutcome', issue: this.issues };
  }
}

/** Input that will never succeed as sent: do not retry. */
export class InvalidInputError extends HubError {
  constructor(message: string, issues?: OperationOutcomeIssue[]) {
    super('INPUT.INVALID', message, {
      status: 400,
      issues: issues ?? [{ severity: 'error', code: 'invalid', diagnostics: message }],
    });
  }
}

/** The caller is known but may not do this (403); `field` names what made it so, when one did. */
export class ForbiddenError extends HubError {
  constructor(code: string, message: string, field?: string) {
    super(code, message, {
      status: 403,
      issues: [
        {
          severity: 'error',
          code: 'forbidden',
          diagnostics: message,
          ...(field ? { expression: [field] } : {}),
        },
      ],
    });
  }
}

/** A request names a partner the hub does not know (422), in `field`. */
export class UnknownPartnerError extends HubError {
  constructor(field: string, partnerId: string) {
    const message = `${field}: "${partnerId.slice(0, 64)}" is not a partner`;
    super('PARTNER.UNKNOWN_REFERENCE', message, {
      status: 422,
      issues: [{ severity: 'error', code: 'invalid', diagnostics: message, expression: [field] }],
    });
  }
}

/** A configuration value is wrong or missing; start-up stops. */
export class ConfigError extends HubError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('CONFIG.INVALID', `Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** A dependency (FHIR server, Redis) is not reachable or not usable. */
export class DependencyError extends HubError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, {
      status: 503,
      cause,
      issues: [{ severity: 'error', code: 'transient', diagnostics: message }],
    });
  }
}
