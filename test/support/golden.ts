import { expect } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Folder of golden files: `test/golden/<area>/<case>.input.*` and `<case>.expected.json`. */
export const GOLDEN_DIR = path.resolve(import.meta.dirname, '../golden');

/** Reads an input file of a golden case. */
export function goldenInput(area: string, file: string): string {
  return readFileSync(path.join(GOLDEN_DIR, area, file), 'utf8');
}

/**
 * Compares `actual` with `<area>/<name>.expected.json`. A missing expected file fails the test
 * unless UPDATE_GOLDEN=1, which (re)writes it: review the diff before committing.
 */
export function expectGolden(area: string, name: string, actual: unknown): void {
  const file = path.join(GOLDEN_DIR, area, `${name}.expected.json`);
  const normalized = JSON.parse(JSON.stringify(actual)) as unknown;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(normalized, null, 2) + '\n');
    return;
  }
  if (!existsSync(file)) {
    throw new Error(
      `golden file ${path.relative(process.cwd(), file)} is missing: run with UPDATE_GOLDEN=1 and review it`,
    );
  }
  expect(normalized).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}
