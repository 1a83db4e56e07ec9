import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './test-env.js';

/**
 * A copy of the shipped coordination configuration in a temporary folder, with each file in
 * `edits` changed in place by its function (YAML and JSON files are parsed, edited and written back), for
 * tests that run the hub on other partners or other windows.
 */
// Tests reach into the parsed files freely; the hub's loader validates what they write.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function coordinationDir(edits: Record<string, (data: any) => void> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coordination-'));
  cpSync(path.join(REPO_ROOT, 'config/coordination'), dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const full = path.join(dir, file);
    const json = file.endsWith('.json');
    const text = readFileSync(full, 'utf8');
    const data: unknown = json ? JSON.parse(text) : parse(text);
    edit(data);
    writeFileSync(full, json ? JSON.stringify(data, null, 2) : stringify(data));
  }
  return dir;
}
