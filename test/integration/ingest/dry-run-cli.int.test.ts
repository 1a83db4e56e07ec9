/**
 * The mapping dry-run CLI (`npm run hub -- dry-run ...`, i.e. `node dist/cli/hub.js`, built by the
 * global setup) as a process, on fixture files, with `$validate` against the real FHIR server.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { DryRunReport } from '../../../src/ingest/dry-run.js';
import { byIdentifier } from '../../fixtures/ingest/hub-helpers.js';
import { IDENTIFIER_BASE } from '../../fixtures/ingest/samples.js';
import { fhirBaseUrl, REPO_ROOT, testGateway } from '../../support/test-env.js';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'hub.js');
const FIXTURES = 'test/fixtures/ingest';

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        FHIR_BASE_URL: fhirBaseUrl(),
        PARTNER_CONFIG_DIR: `${FIXTURES}/partners`,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hub', () => {
  it("lists every command with --help, shows each one's usage, and exits 2 on an unknown one", async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['dry-run', 'dead-letters', 'rejected', 'mapping', 'schemas', 'staff']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    const mapping = await runCli(['mapping', '--help']);
    expect({ code: mapping.code, usage: mapping.stdout.includes('mapping diff --partner') }).toEqual({
      code: 0,
      usage: true,
    });
    const unknown = await runCli(['nope']);
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining("unknown command 'nope'"),
    });
  });
});

describe('hub dry-run', () => {
  it('prints the FHIR output of a clean file with its $validate results, exits 0 and writes nothing', async () => {
    const run = await runCli([
      'dry-run',
      '--partner',
      'fixture-hcbs',
      '--format',
      'evv-csv',
      '--validate',
      '--json',
      `${FIXTURES}/cli/visits-good.csv`,
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(run.stdout) as DryRunReport;
    expect(report.records.map((r) => [r.location, r.status])).toEqual([
      ['row 2', 'accepted'],
      ['row 3', 'accepted'],
    ]);
    const missed = report.records[1]!;
    if (missed.status !== 'accepted') {
      throw new Error('row 3 should be accepted');
    }
    expect(missed.transaction.entry?.map((e) => e.resource?.resourceType)).toEqual(['Flag', 'Task']);
    expect(missed.validation?.map((v) => [v.resourceType, v.issues])).toEqual([
      ['Flag', []],
      ['Task', []],
    ]);

    // Nothing of it reached the server.
    const fhir = testGateway();
    const sid = `${IDENTIFIER_BASE}/sid/fixture-hcbs`;
    expect(await byIdentifier(fhir, 'Flag', `${sid}/evv-missed-visit`, 'CLI-V-2')).toEqual([]);
    expect(await byIdentifier(fhir, 'Encounter', `${sid}/evv-visit`, 'CLI-V-1')).toEqual([]);
    expect(await byIdentifier(fhir, 'Patient', `${IDENTIFIER_BASE}/sid/medicaid`, 'CLI-MCD-1')).toEqual([]);
  });

  it('prints each rejection with its field and exits 1', async () => {
    const run = await runCli([
      'dry-run',
      '--partner',
      'fixture-hcbs',
      '--format',
      'evv-csv',
      `${FIXTURES}/cli/visits-mixed.csv`,
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^fixture-hcbs evv-csv .*visits-mixed\.csv: 2 record\(s\), 1 accepted, 1 rejected\n/,
    );
    expect(run.stdout).toContain('== row 2 (CLI-V-3): accepted');
    expect(run.stdout).toMatch(
      /== row 3 \(CLI-V-4\): REJECTED\n {3}row 3:VisitStatus: "AGCXL" is not a known visit status/,
    );
  });

  it('shows what the FHIR server would refuse: a Task without an owner fails $validate, exit 1', async () => {
    const run = await runCli([
      'dry-run',
      '-p',
      'fixture-hcbs',
      '-f',
      'fhir-message',
      '--validate',
      `${FIXTURES}/cli/task-message-no-owner.json`,
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('== message cli-message-1: accepted');
    expect(run.stdout).toMatch(
      /\$validate Task urn:uuid:\S+: \d+ issue\(s\)\n(.*\n)*? {3}error .*Task\.owner/,
    );
  });

  it('exits 2 with the usage for a wrong command line, and names an unknown partner', async () => {
    const wrong = await runCli(['dry-run', '--format', 'evv-csv', 'x.csv']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^hub: --partner <id> is required\n\nUsage: npm run hub -- dry-run/);

    const unknown = await runCli([
      'dry-run',
      '-p',
      'nobody',
      '-f',
      'evv-csv',
      `${FIXTURES}/cli/visits-good.csv`,
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no partner "nobody" in .*test\/fixtures\/ingest\/partners/);
  });
});
