/**
 * Issue 13, staff sign-in: the password hash runs off the event loop, an unknown user name costs
 * the same work as a known one, and repeated failures on one name make it wait. Real Redis.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { StaffLogin } from '../../../src/security/staff-login.js';
import { hashPassword, type StaffAccount } from '../../../src/security/staff.js';
import { dropPrefix, testPrefix } from '../../fixtures/ingest/hub-helpers.js';
import { testRedis } from '../../support/test-env.js';

const PASSWORD = 'correct horse battery staple';
const casey: StaffAccount = {
  username: 'casey',
  name: 'Casey Morgan',
  role: 'coordinator',
  passwordHash: hashPassword(PASSWORD),
};

describe('staff sign-in', () => {
  const prefix = testPrefix();
  const redis = testRedis();
  let clock = new Date('2026-12-01T09:00:00Z');
  const login = new StaffLogin(new Map([['casey', casey]]), redis, prefix, () => clock);

  afterAll(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });

  /** Whether a timer set before the call fires before the call settles: the loop was free meanwhile. */
  async function loopFreeDuring(call: () => Promise<unknown>): Promise<boolean> {
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 0);
    const settled = call().then(
      () => fired,
      () => fired,
    );
    return settled;
  }

  it('signs in with the right password, hashing off the event loop', async () => {
    expect(await loopFreeDuring(() => login.signIn('casey', PASSWORD))).toBe(true);
    expect((await login.signIn('casey', PASSWORD)).role).toBe('coordinator');
  });

  it('spends the same work on an unknown user name as on a wrong password', async () => {
    expect(await loopFreeDuring(() => login.signIn('nobody-here', 'whatever it is'))).toBe(true);
    await expect(login.signIn('nobody-here', 'whatever it is')).rejects.toMatchObject({ status: 401 });
    await expect(login.signIn('casey', 'wrong password!!')).rejects.toMatchObject({ status: 401 });
  });

  it('makes a name wait after five failures, doubling, and forgets on success', async () => {
    await login.signIn('casey', PASSWORD); // a success clears the earlier case's failure
    for (let i = 0; i < 5; i++) {
      await expect(login.signIn('casey', `wrong ${i}`)).rejects.toMatchObject({ status: 401 });
    }
    // The sixth try, even with the right password, must wait.
    await expect(login.signIn('casey', PASSWORD)).rejects.toMatchObject({ status: 429 });
    clock = new Date(clock.getTime() + 3000);
    await expect(login.signIn('casey', 'wrong again')).rejects.toMatchObject({ status: 401 });
    clock = new Date(clock.getTime() + 3000);
    await expect(login.signIn('casey', PASSWORD)).rejects.toMatchObject({ status: 429 });
    clock = new Date(clock.getTime() + 5000);
    expect((await login.signIn('casey', PASSWORD)).username).toBe('casey');
    await expect(login.signIn('casey', 'wrong once more')).rejects.toMatchObject({ status: 401 });
    expect((await login.signIn('casey', PASSWORD)).username).toBe('casey');
  });

  it('throttles an unknown name the same way, so waiting does not tell which names exist', async () => {
    for (let i = 0; i < 5; i++) {
      await expect(login.signIn('ghost', `guess ${i}`)).rejects.toMatchObject({ status: 401 });
    }
    await expect(login.signIn('ghost', 'guess 5')).rejects.toMatchObject({ status: 429 });
  });
});
