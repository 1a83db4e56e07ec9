import type { RequestHandler } from 'express';
import { ForbiddenError, HubError } from '../../errors/hub-error.js';
import type { StaffRole } from '../../security/staff.js';
import type { TokenStore } from '../../security/token-store.js';
import { adminAuth } from './admin-auth.js';
import type { RefusedAccess } from '../../security/audit.js';

export interface StaffAuthDeps {
  readonly sessions: TokenStore;
  readonly now: () => Date;
  /** `ADMIN_TOKEN`: the break-glass credential, accepted wherever a staff role is. */
  readonly adminToken: string | undefined;
  readonly onRefused: (refused: RefusedAccess) => void;
}

/**
 * Requires a staff session (from `POST /staff/login`) whose role is one of `roles`; the staff member
 * is left in `res.locals.staff`. Without a session only `ADMIN_TOKEN` (break-glass) gets in; while
 * it is unset nothing else does (no loopback bypass: fail closed). A session with another role is
 * refused (403, audited).
 */
export function requireStaff(deps: StaffAuthDeps, roles: readonly StaffRole[]): RequestHandler {
  // With staff sign-in on, there is no loopback bypass: only a session or the break-glass token.
  const breakGlass = deps.adminToken ? adminAuth({ token: deps.adminToken }) : undefined;
  return async (req, res, next) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const session = token ? await deps.sessions.lookup(token, deps.now()) : undefined;
    if (!session) {
      if (!breakGlass) {
        res.set('www-authenticate', 'Bearer realm="hub-staff"');
        throw new HubError(
          'AUTH.STAFF_REQUIRED',
          'Sign in as staff (POST /staff/login) and send the session',
          {
            status: 401,
            issues: [
              {
                severity: 'error',
                code: 'login',
                diagnostics:
                  'A staff session is required (POST /staff/login); ADMIN_TOKEN is not set, so there is no break-glass',
              },
            ],
          },
        );
      }
      breakGlass(req, res, next);
      return;
    }
    const role = session.scopes[0] as StaffRole;
    if (!roles.includes(role)) {
      const reason = `${session.subject} (${role}) may not use ${req.baseUrl || req.path}; roles allowed: ${roles.join(', ')}`;
      deps.onRefused({ method: req.method, path: req.originalUrl.split('?')[0]!, reason });
      throw new ForbiddenError('AUTH.ROLE', reason);
    }
    res.locals.staff = { username: session.subject, role };
    next();
  };
}
