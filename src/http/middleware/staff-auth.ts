import type { RequestHandler } from 'express';
import { ForbiddenError } from '../../errors/hub-error.js';
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
 * is left in `res.locals.staff`. Without a session the admin token rules apply (`ADMIN_TOKEN`, or
 * loopback clients while it is unset), so an operator can always get in; a session with another
 * role is refused (403, audited).
 */
export function requireStaff(deps: StaffAuthDeps, roles: readonly StaffRole[]): RequestHandler {
  const breakGlass = adminAuth({ token: deps.adminToken });
  return async (req, res, next) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const session = token ? await deps.sessions.lookup(token, deps.now()) : undefined;
    if (!session) {
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
