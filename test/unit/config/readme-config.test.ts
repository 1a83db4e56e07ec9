import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES } from '../../../src/config/load-config.js';

/** The README's configuration table must name every variable the hub reads. */
describe('README configuration table', () => {
  it('documents every variable', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `([A-Z_*]+)`/gm)].map((m) => m[1]));
    const missing = Object.keys(CONFIG_VARIABLES).filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  });
});
