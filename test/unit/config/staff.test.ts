import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigError } from '../../../src/errors/hub-error.js';
import { hashPassword, loadStaff } from '../../../src/security/staff.js';
import { passwordMatches } from '../../../src/security/staff-login.js';

describe('staff accounts', () => {
  it('hashes passwords with a fresh salt and verifies only the right one', async () => {
    const first = hashPassword('a long enough password');
    const second = hashPassword('a long enough password');
    expect(first).toMatch(/^scrypt\$16384\$/);
    expect(first).not.toBe(second);
    expect(await passwordMatches('a long enough password', first)).toBe(true);
    expect(await passwordMatches('a long enough passwore', first)).toBe(false);
  });

  it('refuses a staff file with an unknown role, a bad hash or a repeated user name', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'staff-')), 'staff.yaml');
    const hash = hashPassword('a long enough password');
    writeFileSync(
      file,
      [
        'accounts:',
        `  - { username: casey, name: Casey, role: coordinator, passwordHash: '${hash}' }`,
        `  - { username: casey, name: Casey again, role: auditor, passwordHash: '${hash}' }`,
      ].join('\n'),
    );
    const err = (await loadStaff(file).catch((e: unknown) => e)) as ConfigError;
    expect(err.problems).toEqual(['staff.yaml: /accounts/1/username "casey" is used twice']);

    writeFileSync(
      file,
      ['accounts:', "  - { username: x1, name: X, role: admin, passwordHash: 'plain' }"].join('\n'),
    );
    const bad = (await loadStaff(file).catch((e: unknown) => e)) as ConfigError;
    expect(bad.problems.join('\n')).toMatch(/role must be one of coordinator, supervisor, engineer, auditor/);
    expect(bad.problems.join('\n')).toMatch(/passwordHash/);
  });
});
