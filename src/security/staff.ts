import { randomBytes, scryptSync } from 'node:crypto';
import { loadYamlConfig } from '../config/yaml-file.js';

/**
 * Staff who use the hub's pages and staff routes, each with one role:
 * - `coordinator`: participants' coordinators, the roster, huddles, consents;
 * - `supervisor`: what coordinators may, for the teams they supervise;
 * - `engineer`: integration operations (`/admin`: dead letters, rejected records, queues);
 * - `auditor`: the audit trail (`/audit`), read-only.
 * Accounts live in `STAFF_FILE` with scrypt password hashes (`npm run hub -- staff hash`).
 */
export const STAFF_ROLES = ['coordinator', 'supervisor', 'engineer', 'auditor'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export interface StaffAccount {
  username: string;
  name: string;
  role: StaffRole;
  /** `scrypt$<N>$<salt base64>$<hash base64>`. */
  passwordHash: string;
}

/** The JSON Schema of the staff accounts file (published in schemas/). */
export const STAFF_FILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['accounts'],
  properties: {
    accounts: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'name', 'role', 'passwordHash'],
        properties: {
          username: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{1,63}$' },
          name: { type: 'string', minLength: 1 },
          role: { type: 'string', enum: STAFF_ROLES },
          passwordHash: { type: 'string', pattern: '^scrypt\\$\\d+\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$' },
        },
      },
    },
  },
};

/** The staff directory: accounts by user name. */
export async function loadStaff(file: string): Promise<ReadonlyMap<string, StaffAccount>> {
  const data = await loadYamlConfig<{ accounts: StaffAccount[] }>(file, STAFF_FILE_SCHEMA, (d, name) => {
    const names = d.accounts.map((a) => a.username);
    return names.flatMap((n, i) =>
      names.indexOf(n) !== i ? [`${name}: /accounts/${i}/username "${n}" is used twice`] : [],
    );
  });
  return new Map(data.accounts.map((a) => [a.username, a]));
}

const COST = 16384;
const KEY_LENGTH = 32;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEY_LENGTH, { N: COST });
  return `scrypt$${COST}$${salt.toString('base64')}$${hash.toString('base64')}`;
}
