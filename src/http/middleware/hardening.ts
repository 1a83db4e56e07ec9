import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { Cluster } from 'ioredis';
import { RedisStore, type RedisReply, type SendCommandClusterFn, type SendCommandFn } from 'rate-limit-redis';
import { serversOf, type RedisClient } from '../../queues/connection.js';
import { HubError, InvalidInputError } from '../../errors/hub-error.js';

/**
 * Security headers on every answer (helmet: no sniffing, no framing, HSTS, no referrer leaks). The
 * API answers JSON, so no Content-Security-Policy here; pages the hub serves set their own.
 */
export function securityHeaders(): RequestHandler {
  return helmet({ contentSecurityPolicy: false });
}

/** Deepest JSON nesting the hub accepts: FHIR Bundles nest about 15 levels; 64 leaves room. */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest nesting of arrays and objects in JSON text, without parsing it (strings skipped). A
 * hostile body nested a million levels parses fine but overflows the stack of everything recursive
 * that reads it afterwards (validation, serialisation); measuring first refuses it cleanly.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        i++; // skip the escaped character
      } else if (c === 0x22) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      deepest = Math.max(deepest, ++depth);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/** Throws a 400 naming the limit when JSON text nests deeper than {@link MAX_JSON_DEPTH}. */
export function assertJsonDepth(text: string): void {
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw new InvalidInputError(`JSON nests ${depth} levels deep; at most ${MAX_JSON_DEPTH} are accepted`);
  }
}

/**
 * `verify` option of express.json(): the depth check on the raw body, before parsing. body-parser
 * answers what `verify` throws with 403, so the error carries a `type` the error handler turns
 * into the 400 it is.
 */
export function verifyJsonDepth(_req: Request, _res: unknown, buf: Buffer): void {
  try {
    assertJsonDepth(buf.toString('utf8'));
  } catch (err) {
    throw Object.assign(err as Error, { type: JSON_TOO_DEEP });
  }
}

/** body-parser error type of a body refused by {@link verifyJsonDepth}. */
export const JSON_TOO_DEEP = 'entity.json.too.deep';

/**
 * Request limits counted in Redis, so every hub replica shares them. Over a limit: 429 with an
 * OperationOutcome and `RateLimit` headers.
 * - `beforeAuth`, by client address: what an unauthenticated caller can send at all, so nobody
 *   floods the token checks (at five times a partner's own limit: several partners may share a
 *   network address).
 * - `afterAuth`, by who the credentials say the caller is (the token's partner, the staff member);
 *   the partner named in a path counts only when sign-in is off. One partner's traffic, or a
 *   stranger using its id in a URL, never uses up another partner's limit.
 */
export function requestLimits(
  redis: RedisClient,
  prefix: string,
  perMinute: number,
): { beforeAuth: RequestHandler; afterAuth: RequestHandler } {
  const address = (req: Request): string => `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
  return {
    beforeAuth: limiter(redis, `${prefix}:rate-limit:address:`, perMinute * 5, (req) => address(req)),
    afterAuth: limiter(redis, `${prefix}:rate-limit:`, perMinute, (req, res) => {
      const partnerId = res.locals.partnerId as string | undefined;
      const staff = res.locals.staff as { username: string } | undefined;
      if (partnerId) {
        return `partner:${partnerId}`;
      }
      if (staff) {
        return `staff:${staff.username}`;
      }
      return typeof req.params.partnerId === 'string' ? `partner:${req.params.partnerId}` : address(req);
    }),
  };
}

/**
 * How the rate-limit store talks to Redis. On a cluster its scripts are loaded on every master:
 * the store loads a script without a key and then runs it on the node that holds the key.
 */
function storeCommands(
  redis: RedisClient,
): { sendCommand: SendCommandFn } | { sendCommandCluster: SendCommandClusterFn } {
  if (!(redis instanceof Cluster)) {
    return { sendCommand: (command, ...args) => redis.call(command, ...args) as Promise<RedisReply> };
  }
  return {
    sendCommandCluster: async ({ command: [name = '', ...args] }) =>
      name.toUpperCase() === 'SCRIPT'
        ? ((await Promise.all(serversOf(redis).map((node) => node.call(name, ...args))))[0] as RedisReply)
        : (redis.call(name, ...args) as Promise<RedisReply>),
  };
}

function limiter(
  redis: RedisClient,
  keyPrefix: string,
  perMinute: number,
  keyOf: (req: Request, res: Response) => string,
): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: keyOf,
    store: new RedisStore({ prefix: keyPrefix, ...storeCommands(redis) }),
    handler: (_req, _res, next) => {
      const message = `More than ${perMinute} requests a minute; slow down and retry after the RateLimit-Reset header's seconds`;
      next(
        new HubError('HTTP.RATE_LIMITED', message, {
          status: 429,
          issues: [{ severity: 'error', code: 'throttled', diagnostics: message }],
        }),
      );
    },
  });
}
