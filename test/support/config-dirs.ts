import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './test-env.js';

// Tests reach into the parsed files freely; the hub's loaders validate what they write.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Edits = Record<string, (data: any) => void>;

/**
 * A copy of the shipped coordination configuration in a temporary folder, with each file in
 * `edits` changed in place by its function (YAML and JSON files are parsed, edited and written
 * back), for tests that run the hub on other partners or other windows.
 */
export function coordinationDir(edits: Edits = {}): string {
  return editedCopy('config/coordination', edits);
}

/** A copy of the demo partner files with edits, keyed by partner id (`sunrise-hcbs`, ...). */
export function partnerDir(edits: Edits = {}): string {
  return editedCopy(
    'config/partners',
    Object.fromEntries(Object.entries(edits).map(([id, edit]) => [`${id}.yaml`, edit])),
  );
}

function editedCopy(folder: string, edits: Edits): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${path.basename(folder)}-`));
  cpSync(path.join(REPO_ROOT, folder), dir, { recursive: true });
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
