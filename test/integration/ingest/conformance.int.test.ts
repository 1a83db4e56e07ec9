/**
 * Issue 16, the conformance run: every input of test/fixtures/conformance (shaped like what real
 * partners send) through a running hub, each with the outcome expected.json gives it. An applied
 * file is answered 200 with no error; a refused one 422, its first error naming the field.
 */
import { describe, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { OperationOutcome } from 'fhir/r4.js';
import { post, useTestHub } from '../../fixtures/ingest/hub-helpers.js';
import { REPO_ROOT, unique } from '../../support/test-env.js';

const FOLDER = path.join(REPO_ROOT, 'test/fixtures/conformance');
const expected = JSON.parse(readFileSync(path.join(FOLDER, 'expected.json'), 'utf8')) as Record<
  string,
  { verdict: 'applied' | 'refused'; field?: string; why: string }
>;

describe('conformance run (test/fixtures/conformance)', () => {
  const hub = useTestHub();
  const run = unique('').slice(-8);

  it.each(Object.entries(expected))('%s', async (file, want) => {
    // The fixtures' own ids (`CF-`, `cf-`) made new for this run, so each run creates what it
    // names, as a first delivery would, rather than updating what an earlier run left.
    const body = readFileSync(path.join(FOLDER, file), 'utf8').replace(/\b(CF|cf)-/g, `$1${run}-`);
    const hl7 = file.endsWith('.hl7');
    const xml = file.endsWith('.xml');
    const answer = await post(
      hub(),
      `/ingest/northside-bh/${hl7 ? 'hl7v2-adt' : 'fhir-transaction'}?wait=30&_format=json`,
      body,
      hl7 ? 'application/hl7-v2' : xml ? 'application/fhir+xml' : 'application/fhir+json',
    );
    const errors = ((answer.body as OperationOutcome).issue ?? []).filter((i) => i.severity === 'error');
    if (want.verdict === 'applied') {
      expect({ status: answer.status, errors }).toEqual({ status: 200, errors: [] });
    } else {
      expect(answer.status).toBe(422);
      expect(errors[0]?.diagnostics).toContain(want.field);
    }
  });
});
