#!/usr/bin/env node
/**
 * The integration engineer's command line: `hub` (the package's bin, or `npm run hub --`).
 * `hub --help` lists the commands and `hub <command> --help` shows each one's usage: `dry-run`
 * (what the hub would write for a file, dry-run.ts), `dead-letters` (dead-letters.ts), `rejected`
 * (rejected.ts), `mapping` (the release gate, mapping-gate.ts), `schemas` (schemas.ts) and
 * `staff hash` (a staff password from stdin to its STAFF_FILE hash). Exit codes: 0 done, 1 done
 * and something differs or was rejected, 2 could not run.
 */
import AdmZip from 'adm-zip';
import { Command, CommanderError } from 'commander';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { loadPartners } from '../config/partners.js';
import { FhirGateway } from '../fhir/fhir-gateway.js';
import { defaultFormats } from '../ingest/format-registry.js';
import { DEAD_LETTERS_USAGE, runDeadLetters } from './dead-letters.js';
import { MAPPING_USAGE, runMappingGate } from './mapping-gate.js';
import { REJECTED_USAGE, runRejected } from './rejected.js';
import { writeSchemas } from './schemas.js';
import { hashPassword } from '../security/staff.js';
import { exitCodeOf, formatReport, parseCliArgs, USAGE } from './dry-run.js';
import { dryRun, validateReport } from '../ingest/dry-run.js';
import { progressBar } from './progress.js';

/** Exit codes of every command (README, "Command line"). */
const EXIT = { ok: 0, differs: 1, failed: 2 } as const;

/**
 * The commands, dispatched by commander: `hub --help` lists them and `hub <command> --help` shows
 * each one's usage. Each command reads its own arguments as before (passed through untouched).
 */
function program(run: (code: Promise<number>) => void): Command {
  const hub = new Command('hub')
    .description("The integration engineer's command line for the care coordination hub")
    .enablePositionalOptions()
    // Commander's own errors (an unknown command) exit as "could not run", set below, not with 1.
    .exitOverride()
    .addHelpText(
      'after',
      `\nExit codes: ${EXIT.ok} done (nothing differs), ${EXIT.differs} done and something differs or was rejected, ${EXIT.failed} could not run.`,
    );
  const command = (
    name: string,
    description: string,
    usage: string,
    action: (args: string[]) => Promise<number>,
  ): void => {
    hub
      .command(name)
      .description(description)
      .addHelpText('after', `\n${usage}`)
      .allowUnknownOption()
      .passThroughOptions()
      .argument('[args...]')
      .action((args: string[]) => run(action(args)));
  };
  command('dry-run', 'what the hub would write for a partner file, writing nothing', USAGE, (args) =>
    runDryRun(['dry-run', ...args]),
  );
  command('dead-letters', 'list, show and replay jobs that failed for good', DEAD_LETTERS_USAGE, (args) =>
    runDeadLetters(args, loadConfig(), process.env),
  );
  command('rejected', 'list, show, replay and discard rejected inbound records', REJECTED_USAGE, (args) =>
    runRejected(args, loadConfig(), process.env),
  );
  command(
    'mapping',
    "diff, activate and roll back a partner's mapping (the release gate)",
    MAPPING_USAGE,
    (args) => runMappingGate(args, loadConfig(), process.env),
  );
  command(
    'schemas',
    'write the published JSON Schemas',
    'usage: npm run hub -- schemas [<folder>]   (default schemas/)',
    async (args) => {
      const written = await writeSchemas(
        path.resolve(process.env.INIT_CWD ?? process.cwd(), args[0] ?? 'schemas'),
      );
      process.stdout.write(`${written.join('\n')}\n`);
      return EXIT.ok;
    },
  );
  command(
    'staff',
    'staff accounts: hash a password read from stdin',
    'usage: npm run hub -- staff hash < password',
    async (args) => {
      if (args[0] !== 'hash') {
        process.stderr.write('usage: npm run hub -- staff hash < password\n');
        return EXIT.failed;
      }
      // The password comes on stdin, never on the command line (shell history, process list).
      const password = (await readStdin()).replace(/\r?\n$/, '');
      if (password.length < 12) {
        process.stderr.write('hub: a staff password needs at least 12 characters\n');
        return EXIT.failed;
      }
      process.stdout.write(`${hashPassword(password)}\n`);
      return EXIT.ok;
    },
  );
  return hub;
}

async function runDryRun(argv: readonly string[]): Promise<number> {
  const args = parseCliArgs(argv);
  if ('help' in args) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if ('error' in args) {
    process.stderr.write(`hub: ${args.error}\n\n${USAGE}\n`);
    return EXIT.failed;
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

  // Progress on stderr, on a terminal only: stdout carries the report (or its JSON).
  let report = dryRun(body, partner, args.format, handler, config.identifierBase, (total) =>
    progressBar('mapping', total),
  );
  if (args.validate) {
    const fhir = new FhirGateway({
      baseUrl: config.fhir.baseUrl,
      timeoutMs: config.fhir.timeoutMs,
      batchReads: config.fhir.batchReads,
    });
    report = await validateReport(
      report,
      (resource) => fhir.validate(resource),
      (total) => progressBar('validating', total),
    );
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

const settle = (code: Promise<number>): void => {
  code.then(
    (exit) => {
      process.exitCode = exit;
    },
    (err: unknown) => {
      process.stderr.write(`hub: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
};
const cli = program(settle);
if (process.argv.length <= 2) {
  cli.outputHelp();
} else {
  try {
    cli.parse(process.argv);
  } catch (err) {
    process.exitCode = err instanceof CommanderError && err.exitCode === 0 ? EXIT.ok : EXIT.failed;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
