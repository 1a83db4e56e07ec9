// The FHIR server the bench runs against.
// - BENCH_FHIR=auto (default): FHIR_BASE_URL if set (it must answer), else the local HAPI server on
//   FHIR_PORT (8080), started through fhir-server/bin/hapi when nothing answers, as the hub and
//   the test setup do, and stopped at the end only if the bench started it.
// - BENCH_FHIR=dedicated: a HAPI server of the bench's own on BENCH_FHIR_PORT (8091) with an empty
//   database in a temporary folder, stopped and removed at the end. Numbers are then not
//   disturbed by other users of the shared server (tests, their stale rest-hook subscriptions).
// - BENCH_DB=postgres: the dedicated server on a PostgreSQL database the bench creates
//   (BENCH_PG_URL's server, default the local one) and drops at the end; H2 otherwise.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { progress } from './stats.mjs';

async function answers(baseUrl) {
  try {
    const res = await globalThis.fetch(`${baseUrl}/metadata`, {
      headers: { accept: 'application/fhir+json' },
      signal: globalThis.AbortSignal.timeout(5000),
    });
    return res.status === 200 ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}

/** Makes sure a FHIR server answers; returns `{ baseUrl, origin, software, stop() }`. */
export async function ensureFhir(options, dist) {
  const { runHapiScript } = await dist('startup/local-fhir-server.js');
  if (options.fhirMode === 'dedicated') {
    const baseUrl = `http://127.0.0.1:${options.fhirPort}/fhir`;
    if (await answers(baseUrl)) {
      throw new Error(`BENCH_FHIR=dedicated: something already answers at ${baseUrl}; set BENCH_FHIR_PORT`);
    }
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'care-hub-bench-fhir-'));
    const database = options.database === 'postgres' ? createDatabase(options.pgUrl) : undefined;
    const env = {
      FHIR_PORT: String(options.fhirPort),
      FHIR_DATA_DIR: dataDir,
      ...(database ? database.env : {}),
    };
    progress(`starting a dedicated HAPI server on ${baseUrl} (data: ${database?.name ?? dataDir})`);
    const started = Date.now();
    await runHapiScript(['start'], env);
    await runHapiScript(['wait', '300'], env);
    const metadata = await answers(baseUrl);
    return {
      baseUrl,
      origin: 'dedicated',
      database: database ? `PostgreSQL (${database.version})` : 'H2 (file)',
      startupMs: Date.now() - started,
      software: metadata?.software,
      stop: async () => {
        progress('stopping the dedicated HAPI server');
        await runHapiScript(['stop'], env);
        rmSync(dataDir, { recursive: true, force: true });
        database?.drop();
      },
    };
  }
  const explicit = options.fhirBaseUrl !== undefined;
  const baseUrl = (options.fhirBaseUrl ?? `http://127.0.0.1:${options.fhirPort}/fhir`).replace(/\/$/, '');
  const found = await answers(baseUrl);
  if (found) {
    return { baseUrl, origin: 'external', software: found.software, stop: async () => {} };
  }
  if (explicit) {
    throw new Error(`No FHIR server answers at FHIR_BASE_URL=${baseUrl}`);
  }
  const env = { FHIR_PORT: String(options.fhirPort) };
  progress(`no FHIR server answers at ${baseUrl}; starting the local HAPI server`);
  const started = Date.now();
  await runHapiScript(['start'], env);
  await runHapiScript(['wait', '300'], env);
  const metadata = await answers(baseUrl);
  return {
    baseUrl,
    origin: 'started',
    startupMs: Date.now() - started,
    software: metadata?.software,
    stop: async () => {
      progress('stopping the local HAPI server the bench started');
      await runHapiScript(['stop'], env);
    },
  };
}

/**
 * A database of the bench's own on the PostgreSQL server at `pgUrl` (postgres://user@host:port),
 * through psql; returns the server's JDBC settings for HAPI and a way to drop it.
 */
function createDatabase(pgUrl) {
  const url = new URL(pgUrl);
  const name = `care_hub_bench_${Date.now().toString(36)}`;
  const psql = (sql) => {
    try {
      return execFileSync(
        'psql',
        [
          '-h',
          url.hostname,
          '-p',
          url.port || '5432',
          '-U',
          url.username || 'postgres',
          '-d',
          'postgres',
          '-Atc',
          sql,
        ],
        { encoding: 'utf8', env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) } },
      ).trim();
    } catch (err) {
      throw new Error(
        `BENCH_DB=postgres needs psql and a PostgreSQL server at ${url.host} that lets ${url.username || 'postgres'} create databases ` +
          `(Debian: apt-get install postgresql-client; set BENCH_PG_URL): ${err.message}`,
      );
    }
  };
  const version = psql('SHOW server_version');
  psql(`CREATE DATABASE ${name}`);
  progress(`created PostgreSQL database ${name} (server ${version})`);
  return {
    name,
    version,
    env: {
      FHIR_DB_URL: `jdbc:postgresql://${url.hostname}:${url.port || '5432'}/${name}`,
      FHIR_DB_USERNAME: url.username || 'postgres',
      FHIR_DB_PASSWORD: decodeURIComponent(url.password),
    },
    drop: () => {
      psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      progress(`dropped PostgreSQL database ${name}`);
    },
  };
}

/** How many rest-hook subscriptions are active on the server (each costs work on every matching write). */
export async function activeSubscriptions(baseUrl) {
  try {
    const res = await globalThis.fetch(`${baseUrl}/Subscription?status=active&_summary=count`, {
      headers: { accept: 'application/fhir+json' },
    });
    return (await res.json()).total ?? null;
  } catch {
    return null;
  }
}
