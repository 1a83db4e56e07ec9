/**
 * The integration engineer's command line. `npm run hub -- dead-letters list|show|replay ...`
 * (see dead-letters.ts), `rejected list|show|replay|discard ...` (rejected.ts), `mapping diff|activate|rollback ...`
 * (mapping-gate.ts), `staff hash` (a staff password from stdin to its STAFF_FILE hash), `schemas
 * [<folder>]` (writes the published JSON Schemas, schemas.ts), and
 * `npm run hub -- dry-run --partner <id> --format <format> [--validate] [--json] <file>`: the
 * mapping dry-run. Reads the partner folder and the file, prints what the
 * hub would write; with --validate asks the FHIR server's `$validate`. Writes nothing anywhere.
 */
import AdmZip from 'adm-zip';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { loadPartners } from '../config/partners.js';
import { FhirGateway } from '../fhir/fhir-gateway.js';
import { defaultFormats } from '../ingest/format-registry.js';
import { runDeadLetters } from './dead-letters.js';
import { runMappingGate } from './mapping-gate.js';
import { runRejected } from './rejected.js';
import { writeSchemas } from './schemas.js';
import { hashPassword } from '../security/staff.js';
import { dryRun, exitCodeOf, formatReport, parseCliArgs, USAGE, validateReport } from './dry-run.js';

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'dead-letters') {
    return runDeadLetters(argv.slice(1), loadConfig(), process.env);
  }
  if (argv[0] === 'mapping') {
    return runMappingGate(argv.slice(1), loadConfig(), process.env);
  }
  if (argv[0] === 'rejected') {
    return runRejected(argv.slice(1), loadConfig(), process.env);
  }
  if (argv[0] === 'schemas') {
    const written = await writeSchemas(
      path.resolve(process.env.INIT_CWD ?? process.cwd(), argv[1] ?? 'schemas'),
    );
    process.stdout.write(`${written.join('\n')}\n`);
    return 0;
  }
  if (argv[0] === 'staff' && argv[1] === 'hash') {
    // The password comes on stdin, never on the command line (shell history, process list).
    const password = (await readStdin()).replace(/\r?\n$/, '');
    if (password.length < 12) {
      process.stderr.write('hub: a staff password needs at least 12 characters\n');
      return 2;
    }
    process.stdout.write(`${hashPassword(password)}\n`);
    return 0;
  }
  const args = parseCliArgs(argv);
  if ('help' in args) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if ('error' in args) {
    process.stderr.write(`hub: ${args.error}\n\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const partner = (await loadPartners(config.partnerConfigDir, process.env)).get(args.partner);
  if (!partner) {
    throw new Error(`no partner "${args.partner}" in ${config.partnerConfigDir}`);
  }
  const handler = defaultFormats()[args.format];
  if (!handler) {
    throw new Error(`the hub has no adapter for ${args.format}`);
  }
  // `npm run` works in the package folder; a relative file is meant from where the command was typed.
  const file = path.resolve(process.env.INIT_CWD ?? process.cwd(), args.file);
  const body = (await stat(file)).isDirectory() ? zipFolder(file) : await readFile(file);

  let report = dryRun(body, partner, args.format, handler, config.identifierBase);
  if (args.validate) {
    const fhir = new FhirGateway({ baseUrl: config.fhir.baseUrl, timeoutMs: config.fhir.timeoutMs });
    report = await validateReport(report, (resource) => fhir.validate(resource));
  }
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, args.file));
  return exitCodeOf(report);
}

/** An HMIS export given as a folder of CSV files, zipped as the ingest endpoint receives it. */
function zipFolder(folder: string): Buffer {
  const zip = new AdmZip();
  zip.addLocalFolder(folder);
  return zip.toBuffer();
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`hub: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
