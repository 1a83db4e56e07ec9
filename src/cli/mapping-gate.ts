import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { HubConfig } from '../config/load-config.js';
import { parsePartner, type PartnerConfig } from '../config/partners.js';
import { defaultFormats } from '../ingest/format-registry.js';
import {
  compareTraffic,
  parseCandidate,
  UNVERSIONED,
  type GateReport,
  type RecordComparison,
} from '../ingest/mapping-compare.js';
import { TrafficRecorder } from '../ingest/traffic-recorder.js';
import { createRedisConnection } from '../queues/connection.js';

/**
 * The mapping release gate: replays a partner's recorded inbound traffic (see
 * src/ingest/traffic-recorder.ts) through its current file and a candidate file and prints the
 * differences in the FHIR output, record by record; then activates the candidate or rolls back.
 * Everything but {@link runMappingGate} and the file helpers is pure.
 */

export const MAPPING_USAGE = `usage:
  npm run hub -- mapping diff --partner <id> --candidate <file> [--limit N] [--json]
      replays the partner's recorded batches (newest N, default all kept) through
      PARTNER_CONFIG_DIR/<id>.yaml and <file>, prints each record unchanged or its FHIR diff
      (with --json, the whole report as one JSON document)
      exit 0 nothing differs, 1 something differs, 2 usage error
  npm run hub -- mapping activate --partner <id> --candidate <file>
      the candidate becomes <id>.yaml (its mappingVersion must be set and new); the current
      file is kept as .versions/<id>.<version>.yaml
  npm run hub -- mapping rollback --partner <id> --to <version>
      restores .versions/<id>.<version>.yaml (the replaced file is kept there too)
The hub reads partner files at start-up: restart it to apply an activation or a rollback.`;

export type MappingCommand =
  | {
      readonly command: 'diff';
      readonly partner: string;
      readonly candidate: string;
      readonly limit?: number;
      /** Print the report as one JSON document. */
      readonly json?: boolean;
    }
  | { readonly command: 'activate'; readonly partner: string; readonly candidate: string }
  | { readonly command: 'rollback'; readonly partner: string; readonly to: string };

/** Reads `mapping <command> ...` (without `mapping`); an `error` explains a wrong one. */
export function parseMappingArgs(argv: readonly string[]): MappingCommand | { error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        partner: { type: 'string', short: 'p' },
        candidate: { type: 'string', short: 'c' },
        limit: { type: 'string' },
        to: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    return { error: (err as Error).message };
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (command !== 'diff' && command !== 'activate' && command !== 'rollback') {
    return { error: command ? `unknown mapping command "${command}"` : 'a mapping command is required' };
  }
  const problems = [
    ...(values.partner ? [] : ['--partner <id> is required']),
    ...(command !== 'rollback' && !values.candidate ? ['--candidate <file> is required'] : []),
    ...(command === 'rollback' && !values.to ? ['--to <version> is required'] : []),
    ...(extra.length > 0 ? [`unexpected arguments: ${extra.join(' ')}`] : []),
  ];
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (command === 'diff' && limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    problems.push('--limit must be a positive whole number');
  }
  if (problems.length > 0) {
    return { error: problems.join('; ') };
  }
  const partner = values.partner!;
  switch (command) {
    case 'diff':
      return {
        command,
        partner,
        candidate: values.candidate!,
        ...(limit !== undefined ? { limit } : {}),
        ...(values.json ? { json: true } : {}),
      };
    case 'activate':
      return { command, partner, candidate: values.candidate! };
    case 'rollback':
      return { command, partner, to: values.to! };
  }
}

/** 0 when no record differs (and nothing was warned about), else 1. */
export function gateExitCode(report: GateReport): 0 | 1 {
  return report.warnings.length === 0 && report.records.every((r) => r.outcome === 'unchanged') ? 0 : 1;
}

/** The report for people: a summary, then one line per record and the diff of each changed one. */
export function formatGateReport(report: GateReport): string {
  const count = (o: RecordComparison['outcome']): number =>
    report.records.filter((r) => r.outcome === o).length;
  const lines = [
    `${report.partner}: mappingVersion ${report.currentVersion} (current) -> ${report.candidateVersion} (candidate); ` +
      `${report.batches} recorded batch(es), ${report.records.length} record(s): ${count('unchanged')} unchanged, ` +
      `${count('changed')} changed, ${count('newly-rejected')} newly rejected, ${count('newly-accepted')} newly accepted`,
    ...report.warnings.map((w) => `warning: ${w}`),
  ];
  const show = (v: unknown): string => JSON.stringify(v);
  for (const r of report.records) {
    const name = `batch ${r.batch} (${r.format}, ${r.receivedAt}) ${r.location}${r.sourceId && !r.location.includes(r.sourceId) ? ` (${r.sourceId})` : ''}`;
    switch (r.outcome) {
      case 'unchanged':
        lines.push(`== ${name}: unchanged`);
        break;
      case 'changed':
        lines.push(
          `== ${name}: CHANGED`,
          ...r.changes.map((c) =>
            c.kind === 'added'
              ? `   + ${c.path}: ${show(c.after)}`
              : c.kind === 'removed'
                ? `   - ${c.path}: ${show(c.before)}`
                : `   ~ ${c.path}: ${show(c.before)} -> ${show(c.after)}`,
          ),
        );
        break;
      case 'newly-rejected':
        lines.push(`== ${name}: NEWLY REJECTED`, ...r.issues.map((i) => `   ${i.field}: ${i.message}`));
        break;
      case 'newly-accepted':
        lines.push(
          `== ${name}: NEWLY ACCEPTED, writes ${r.writes.join(', ') || 'nothing'}; was rejected for:`,
          ...r.wasRejectedFor.map((i) => `   ${i.field}: ${i.message}`),
        );
        break;
    }
  }
  return lines.join('\n') + '\n';
}

/** Why the candidate may not replace the current file, or the version name the current file is kept under. */
export function checkActivation(
  current: PartnerConfig,
  candidate: PartnerConfig,
): { keepAs: string } | { error: string } {
  if (!candidate.mappingVersion) {
    return { error: 'the candidate has no mappingVersion: set one (bump it with every mapping change)' };
  }
  if (candidate.mappingVersion === current.mappingVersion) {
    return {
      error: `the candidate's mappingVersion ${candidate.mappingVersion} is the current one: bump it`,
    };
  }
  return { keepAs: current.mappingVersion ?? UNVERSIONED };
}

/** Where a partner's file and its kept versions live. */
export function partnerPaths(
  dir: string,
  partnerId: string,
  version?: string,
): { file: string; kept: string } {
  return {
    file: path.join(dir, `${partnerId}.yaml`),
    kept: path.join(dir, '.versions', `${partnerId}.${version ?? UNVERSIONED}.yaml`),
  };
}

/**
 * Runs `mapping diff|activate|rollback` (argv after `mapping`) against PARTNER_CONFIG_DIR and,
 * for diff, the hub's Redis (REDIS_URL, QUEUE_PREFIX). Returns the exit code.
 */
export async function runMappingGate(
  argv: readonly string[],
  config: HubConfig,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const args = parseMappingArgs(argv);
  if ('error' in args) {
    process.stderr.write(`hub: ${args.error}\n\n${MAPPING_USAGE}\n`);
    return 2;
  }
  const dir = config.partnerConfigDir;
  const currentFile = partnerPaths(dir, args.partner).file;
  const currentText = await readFile(currentFile, 'utf8').catch(() => undefined);
  if (currentText === undefined) {
    return fail(`no file ${args.partner}.yaml in ${dir}`);
  }
  const current = parsePartner(`${args.partner}.yaml`, currentText);
  if (Array.isArray(current)) {
    return fail(current.join('\n'));
  }

  if (args.command === 'rollback') {
    const { kept } = partnerPaths(dir, args.partner, args.to);
    const text = await readFile(kept, 'utf8').catch(() => undefined);
    if (text === undefined) {
      return fail(`no kept version ${args.to} of ${args.partner} (${kept})`);
    }
    const restored = parseCandidate(args.partner, kept, text);
    if (Array.isArray(restored)) {
      return fail(restored.join('\n'));
    }
    if ((current.mappingVersion ?? UNVERSIONED) === args.to) {
      return fail(`${args.partner} is at mappingVersion ${args.to} already`);
    }
    await keep(currentFile, partnerPaths(dir, args.partner, current.mappingVersion).kept);
    await replace(currentFile, text);
    process.stdout.write(
      `${args.partner}: rolled back to mappingVersion ${args.to} (was ${current.mappingVersion ?? UNVERSIONED}); restart the hub to apply it\n`,
    );
    return 0;
  }

  // `npm run` works in the package folder; a relative file is meant from where the command was typed.
  const candidatePath = path.resolve(env.INIT_CWD ?? process.cwd(), args.candidate);
  const candidateText = await readFile(candidatePath, 'utf8').catch(() => undefined);
  if (candidateText === undefined) {
    return fail(`cannot read ${args.candidate}`);
  }
  const candidate = parseCandidate(args.partner, args.candidate, candidateText);
  if (Array.isArray(candidate)) {
    return fail(candidate.join('\n'));
  }

  if (args.command === 'activate') {
    const check = checkActivation(current, candidate);
    if ('error' in check) {
      return fail(check.error);
    }
    await keep(currentFile, partnerPaths(dir, args.partner, check.keepAs).kept);
    await replace(currentFile, candidateText);
    process.stdout.write(
      `${args.partner}: mappingVersion ${candidate.mappingVersion} is active in ${currentFile} ` +
        `(${check.keepAs} kept for rollback); restart the hub to apply it\n`,
    );
    return 0;
  }

  const redis = createRedisConnection(config.redis, 'producer');
  await redis.connect();
  try {
    const batches = await new TrafficRecorder(redis, config.redis.queuePrefix).list(args.partner, args.limit);
    const report = compareTraffic(batches, current, candidate, defaultFormats(), config.identifierBase);
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatGateReport(report));
    return gateExitCode(report);
  } finally {
    redis.disconnect();
  }
}

function fail(message: string): number {
  process.stderr.write(`hub: ${message}\n`);
  return 2;
}

/** Copies the current file into `.versions/` (a rollback target; an existing copy is overwritten). */
async function keep(file: string, kept: string): Promise<void> {
  await mkdir(path.dirname(kept), { recursive: true });
  await copyFile(file, kept);
}

/** Writes the partner file through a temporary name (not `*.yaml`, so never loaded half-written). */
async function replace(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
