import { createHash, randomBytes } from 'node:crypto';
import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';

/** What an access token stands for. */
export interface AccessGrant {
  /** The partner id (partner tokens) or the user name (staff sessions). */
  readonly subject: string;
  /** SMART scopes (partners) or the role (staff). */
  readonly scopes: readonly string[];
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/**
 * Access tokens are opaque random strings; Redis keeps what each stands for until it expires, so
 * every hub replica honours them and one can be revoked by deleting it. Only a hash of the token is
 * stored: a Redis dump does not hand out working tokens.
 */
export class TokenStore {
  private readonly prefix: string;

  /** @param kind - `token` for partner access tokens, `staff` for staff sessions: kept apart */
  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly kind: 'token' | 'staff' = 'token',
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'auth');
  }

  private key(token: string): string {
    return `${this.prefix}:auth:${this.kind}:${createHash('sha256').update(token).digest('hex')}`;
  }

  async issue(
    subject: string,
    scopes: readonly string[],
    lifetimeSeconds: number,
    now: Date,
  ): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const grant: AccessGrant = {
      subject,
      scopes,
      expiresAt: Math.floor(now.getTime() / 1000) + lifetimeSeconds,
    };
    await this.redis.set(this.key(token), JSON.stringify(grant), 'EX', lifetimeSeconds);
    return token;
  }

  /** The grant of a live token, or undefined (unknown, expired or revoked). */
  async lookup(token: string, now: Date): Promise<AccessGrant | undefined> {
    const raw = await this.redis.get(this.key(token));
    const grant = raw ? (JSON.parse(raw) as AccessGrant) : undefined;
    return grant && grant.expiresAt > now.getTime() / 1000 ? grant : undefined;
  }

  /** Ends a token at once (sign-out). */
  async revoke(token: string): Promise<void> {
    await this.redis.del(this.key(token));
  }

  /**
   * Records a client assertion's `jti` until the assertion expires; false when it was seen before
   * (a replayed assertion).
   */
  async firstUse(partnerId: string, jti: string, expiresAt: number, now: Date): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(expiresAt - now.getTime() / 1000));
    const key = `${this.prefix}:auth:jti:${partnerId}:${createHash('sha256').update(jti).digest('hex')}`;
    return (await this.redis.set(key, '1', 'EX', ttl, 'NX')) === 'OK';
  }
}
