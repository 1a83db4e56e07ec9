import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { outcome } from '../../errors/to-operation-outcome.js';

export interface AdminAuthOptions {
  /** `ADMIN_TOKEN`; unset: the admin endpoints are served to loopback clients only. */
  readonly token: string | undefined;
}

/** The realm named in `WWW-Authenticate`. */
const REALM = 'hub-admin';

/**
 * Guards everything under `/admin` (dead letters, rejected records, the queue dashboard) until
 * staff login arrives:
 * - with a token: `Authorization: Bearer <token>`, compared in constant time; otherwise 401.
 *   For reading (GET, HEAD) HTTP Basic with the token as password (any user name) also counts,
 *   so a browser can open the dashboard: it prompts once and sends the credentials with the
 *   dashboard's own requests. Changes (replays, discards) need the Bearer header, which a
 *   browser never adds by itself, so another site cannot make a logged-in browser change anything.
 * - without a token: loopback clients only (127.0.0.0/8, ::1), and not through a proxy (a
 *   request carrying `Forwarded`, `X-Forwarded-For` or `X-Real-IP` comes from someone else); otherwise 403.
 * Answers are OperationOutcomes. Mount it with `app.use('/admin', adminAuth(...))` before the
 * admin routes.
 */
export function adminAuth(options: AdminAuthOptions): RequestHandler {
  const { token } = options;
  if (token === undefined || token === '') {
    return (req, res, next) => {
      if (isLoopback(req.socket.remoteAddress) && !isForwarded(req)) {
        next();
        return;
      }
      res
        .status(403)
        .type('application/fhir+json')
        .json(
          outcome(
            'error',
            'forbidden',
            'The admin endpoints are served only to clients on this machine while ADMIN_TOKEN is not set',
          ),
        );
    };
  }
  const expected = digest(token);
  return (req, res, next) => {
    const given = credentialOf(req);
    if (given !== undefined && timingSafeEqual(digest(given), expected)) {
      next();
      return;
    }
    res
      .status(401)
      .set('www-authenticate', `Bearer realm="${REALM}", Basic realm="${REALM}", charset="UTF-8"`)
      .type('application/fhir+json')
      .json(
        outcome(
          'error',
          'login',
          given === undefined
            ? 'The admin endpoints need Authorization: Bearer <ADMIN_TOKEN>'
            : 'Wrong admin token',
        ),
      );
  };
}

/** The token a request presents: a Bearer token, or (reads only) the password of HTTP Basic. */
function credentialOf(req: Request): string | undefined {
  const header = req.get('authorization');
  const match = header === undefined ? null : /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (!match) {
    return undefined;
  }
  const scheme = match[1]!.toLowerCase();
  if (scheme === 'bearer') {
    return match[2];
  }
  if (scheme === 'basic' && (req.method === 'GET' || req.method === 'HEAD')) {
    const decoded = Buffer.from(match[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

/** Fixed-length digests, so comparing them takes the same time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) {
    return false;
  }
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

export function isForwarded(req: Request): boolean {
  return ['forwarded', 'x-forwarded-for', 'x-real-ip'].some((h) => req.get(h) !== undefined);
}
