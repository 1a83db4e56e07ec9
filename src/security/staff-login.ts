import { storeKeyPrefix, type RedisClient } from '../queues/connection.js';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { HubError } from '../errors/hub-error.js';
import type { StaffAccount } from './staff.js';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keyLength: number,
  options: { N: number },
) => Promise<Buffer>;

/** Failed sign-ins an account may have before each further try must wait. */
const FREE_FAILURES = 5;
/** The longest wait, and how long failures are remembered. */
const MAX_WAIT_SECONDS = 900;

/**
 * Staff sign-in. The password hash is computed on libuv's thread pool (scrypt takes about 50 ms;
 * on the event loop it stalled every request and job meanwhile). A user name that does not exist
 * costs the same hash against a decoy, so the answer time does not tell which names exist. After
 * {@link FREE_FAILURES} failures a name (existing or not) waits 2, 4, 8, ... seconds between tries,
 * up to {@link MAX_WAIT_SECONDS}, counted in Redis so every replica agrees; a success clears it.
 */
export class StaffLogin {
  private readonly decoy = `scrypt$16384$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;

  private readonly prefix: string;

  constructor(
    private readonly staff: ReadonlyMap<string, StaffAccount>,
    private readonly redis: RedisClient,
    prefix: string,
    private readonly now: () => Date,
  ) {
    this.prefix = storeKeyPrefix(redis, prefix, 'staff-login');
  }

  /** The account, or a 401 (wrong name or password) or 429 (wait) HubError. */
  async signIn(username: string, password: string): Promise<StaffAccount> {
    const key = `${this.prefix}:staff-login:${username.slice(0, 64)}`;
    const [failures, lastAt] = (await this.redis.hmget(key, 'failures', 'at')).map(Number);
    const wait = waitSeconds(failures ?? 0) - (this.now().getTime() - (lastAt ?? 0)) / 1000;
    if (wait > 0) {
      const message = `Too many failed sign-ins for this user name; try again in ${Math.ceil(wait)} s`;
      throw new HubError('AUTH.LOGIN_BACKOFF', message, {
        status: 429,
        issues: [{ severity: 'error', code: 'throttled', diagnostics: message }],
      });
    }
    const account = this.staff.get(username);
    const matches = await passwordMatches(password, account?.passwordHash ?? this.decoy);
    if (account && matches) {
      await this.redis.del(key);
      return account;
    }
    await this.redis
      .multi()
      .hincrby(key, 'failures', 1)
      .hset(key, 'at', String(this.now().getTime()))
      .expire(key, MAX_WAIT_SECONDS)
      .exec();
    throw new HubError('AUTH.LOGIN', 'Unknown user name or wrong password', {
      status: 401,
      issues: [{ severity: 'error', code: 'login', diagnostics: 'Unknown user name or wrong password' }],
    });
  }
}

function waitSeconds(failures: number): number {
  return failures < FREE_FAILURES ? 0 : Math.min(MAX_WAIT_SECONDS, 2 ** (failures - FREE_FAILURES + 1));
}

/** Constant-time check of a password against its stored `scrypt$N$salt$hash`, off the event loop. */
export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [, cost, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash ?? '', 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt ?? '', 'base64'), expected.length || 32, {
    N: Number(cost) || 16384,
  });
  return expected.length > 0 && timingSafeEqual(actual, expected);
}
