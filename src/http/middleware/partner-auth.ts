import type { Request, RequestHandler, Response } from 'express';
import { ForbiddenError, HubError } from '../../errors/hub-error.js';
import { describeNeed, grants, type ScopeNeed } from '../../security/scopes.js';
import type { RefusedAccess } from '../../security/audit.js';
import type { TokenStore } from '../../security/token-store.js';

export interface PartnerAuthDeps {
  readonly tokens: TokenStore;
  readonly now: () => Date;
  /** Records a refusal (an AuditEvent); failures to record must not change the answer. */
  readonly onRefused: (refused: RefusedAccess) => void;
}

function unauthorized(message: string): HubError {
  return new HubError('AUTH.UNAUTHENTICATED', message, {
    status: 401,
    issues: [{ severity: 'error', code: 'login', diagnostics: message }],
  });
}

/**
 * Requires a live bearer token from the token endpoint whose scopes grant `need`. On a route with
 * `:partnerId`, the token must be that partner's. The partner the token stands for is left in
 * `res.locals.partnerId` for the route. 401 without a valid token; 403 (and an AuditEvent) when the
 * partner is known but not allowed.
 */
export function requireToken(
  deps: PartnerAuthDeps,
  needOf: ScopeNeed | ((req: Request) => ScopeNeed),
): RequestHandler {
  return async (req, res, next) => {
    const need = typeof needOf === 'function' ? needOf(req) : needOf;
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const grant = token ? await deps.tokens.lookup(token, deps.now()) : undefined;
    if (!grant) {
      res.set('www-authenticate', `Bearer error="invalid_token"`);
      deps.onRefused({
        method: req.method,
        path: req.path,
        reason: token ? 'invalid or expired token' : 'no token',
      });
      throw unauthorized(
        token
          ? 'The access token is invalid or expired'
          : 'An access token is required (see /.well-known/smart-configuration)',
      );
    }
    const refuse = (reason: string): HubError => {
      deps.onRefused({ partnerId: grant.subject, method: req.method, path: req.path, reason });
      return new ForbiddenError('AUTH.FORBIDDEN', reason);
    };
    if (!grants(grant.scopes, need)) {
      throw refuse(
        `The token of ${grant.subject} lacks scope ${describeNeed(need)} (granted: ${grant.scopes.join(' ')})`,
      );
    }
    const claimed = req.params.partnerId;
    if (typeof claimed === 'string' && claimed !== grant.subject) {
      throw refuse(`The token is ${grant.subject}'s; it cannot act as ${claimed.slice(0, 64)}`);
    }
    res.locals.partnerId = grant.subject;
    next();
  };
}

/** Names the partner when the hub runs without SMART (development): with it, the token does. */
const PARTNER_HEADER = 'x-partner-id';

/**
 * The partner making a request on the FHIR base: the one its access token names, or, when the
 * hub runs without authentication, the one `X-Partner-Id` names; a 401 when neither does.
 */
export function callingPartner(req: Request, res: Response): string {
  const partnerId = (res.locals.partnerId as string | undefined) ?? req.header(PARTNER_HEADER);
  if (!partnerId) {
    const message = `Name the partner: an access token, or ${PARTNER_HEADER} when the hub runs without authentication`;
    throw new HubError('AUTH.UNAUTHENTICATED', message, {
      status: 401,
      issues: [{ severity: 'error', code: 'login', diagnostics: message }],
    });
  }
  return partnerId;
}
