import type { Request, RequestHandler } from 'express';
import { ForbiddenError } from '../../errors/hub-error.js';
import type { RefusedAccess } from '../../security/audit.js';
import type { StaffRole } from '../../security/staff.js';
import type { TokenStore } from '../../security/token-store.js';
import { isForwarded, isLoopback } from './admin-auth.js';

/** The pages' session cookie: the staff session token, readable by the server only. */
export const UI_COOKIE = 'hub_ui_session';

export interface UiSessionDeps {
  readonly sessions: TokenStore;
  /** Staff accounts exist (`STAFF_FILE`): every page needs a signed-in member of staff. */
  readonly staffConfigured: boolean;
  /** The hub is reached over HTTPS (`HUB_PUBLIC_URL`): session cookies are `Secure` whatever a proxy says. */
  readonly httpsPublic?: boolean;
  readonly now: () => Date;
  readonly onRefused: (refused: RefusedAccess) => void;
}

export function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) {
      return decodeURIComponent(value.join('='));
    }
  }
  return undefined;
}

/**
 * The pages behind the same staff sessions and roles as the API: the session (from the sign-in
 * form) is in an HttpOnly, SameSite=Strict cookie scoped to `/ui`. Without staff accounts (the
 * built-in demo) the pages are served to this machine only, as `/admin` is without `ADMIN_TOKEN`.
 * Someone not signed in is sent to the sign-in page; a role without access gets a 403, audited.
 */
export function requirePageRole(deps: UiSessionDeps, roles: readonly StaffRole[]): RequestHandler {
  return async (req, res, next) => {
    const token = cookieOf(req, UI_COOKIE);
    const session = token ? await deps.sessions.lookup(token, deps.now()) : undefined;
    if (session) {
      const role = session.scopes[0] as StaffRole;
      if (!roles.includes(role)) {
        const reason = `${session.subject} (${role}) may not open ${req.originalUrl.split('?')[0]}; roles allowed: ${roles.join(', ')}`;
        deps.onRefused({ method: req.method, path: req.originalUrl.split('?')[0]!, reason });
        throw new ForbiddenError('AUTH.ROLE', reason);
      }
      res.locals.viewer = { username: session.subject, role };
      next();
      return;
    }
    if (!deps.staffConfigured && isLoopback(req.socket.remoteAddress) && !isForwarded(req)) {
      res.locals.viewer = { username: 'local operator', role: 'demo (no staff accounts)' };
      next();
      return;
    }
    res.redirect(303, `/ui/login?next=${encodeURIComponent(req.originalUrl)}`);
  };
}

/**
 * Changes (forms) only from the hub's own pages: the cookie is SameSite=Strict, and the browser's
 * Origin (or Referer) must be this host, so another site cannot post with a signed-in browser.
 */
export const sameOriginPosts: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST') {
    const from = req.headers.origin ?? req.headers.referer;
    const host = req.headers.host;
    if (!from || !host || new URL(from).host !== host) {
      throw new ForbiddenError('AUTH.ORIGIN', 'Forms are accepted only from the hub’s own pages');
    }
  }
  next();
};
