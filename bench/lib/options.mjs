// Bench settings: a scale preset (BENCH_SCALE=quick|full) with every number overridable by an
// environment variable. Everything the run used is written into the results.
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export const ALL_FORMATS = [
  'hl7v2-adt',
  'service-plan',
  'evv-csv',
  'crisis-update',
  'hmis-csv',
  'fhir-message',
  'fhir-transaction',
];

const PRESETS = {
  quick: {
    records: 40,
    batch: 10,
    postConcurrency: 2,
    ingestConcurrency: 4,
    rates: [2],
    fanouts: [1, 3, 10],
    durationS: 8,
    pool: 8,
    workers: [1, 2, 4],
    scalingFormats: ['hl7v2-adt', 'service-plan'],
    scalingRecords: 40,
    scalingRate: 2,
    scalingFanout: 3,
    bullmqMessages: 200,
    backlogJobs: 100_000,
    rosterParticipants: 10_000,
    rosterReads: 40,
  },
  full: {
    records: 150,
    batch: 10,
    postConcurrency: 2,
    ingestConcurrency: 4,
    rates: [1, 3],
    fanouts: [1, 3, 10],
    // Issue 17: each latency cell at least a minute, so p99 rests on enough changes.
    durationS: 60,
    pool: 12,
    workers: [1, 2, 4],
    scalingFormats: ['hl7v2-adt', 'service-plan', 'evv-csv'],
    scalingRecords: 120,
    scalingRate: 3,
    scalingFanout: 3,
    bullmqMessages: 600,
    backlogJobs: 100_000,
    rosterParticipants: 10_000,
    rosterReads: 100,
  },
};

const list = (value, parse = String) =>
  value === undefined || value.trim() === ''
    ? undefined
    : value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
        .map(parse);

const int = (value) => (value === undefined || value.trim() === '' ? undefined : Number.parseInt(value, 10));

/** Reads the settings from `env`; throws naming the variable on a bad value. */
export function readOptions(env = process.env) {
  const scale = env.BENCH_SCALE ?? 'quick';
  const preset = PRESETS[scale];
  if (!preset) {
    throw new Error(`BENCH_SCALE must be one of ${Object.keys(PRESETS).join(', ')}, not "${scale}"`);
  }
  const formats = list(env.BENCH_FORMATS) ?? ALL_FORMATS;
  for (const f of [...formats, ...(list(env.BENCH_SCALING_FORMATS) ?? [])]) {
    if (!ALL_FORMATS.includes(f)) {
      throw new Error(`unknown format "${f}" in BENCH_FORMATS/BENCH_SCALING_FORMATS`);
    }
  }
  const phases = list(env.BENCH_PHASES) ?? ['ingest', 'latency', 'scaling', 'backlog', 'roster'];
  for (const p of phases) {
    if (!['ingest', 'latency', 'scaling', 'backlog', 'roster'].includes(p)) {
      throw new Error(`BENCH_PHASES: unknown phase "${p}" (ingest, latency, scaling, backlog, roster)`);
    }
  }
  const database = env.BENCH_DB ?? 'h2';
  if (!['h2', 'postgres'].includes(database)) {
    throw new Error(`BENCH_DB must be h2 or postgres, not "${database}"`);
  }
  // A server on PostgreSQL is always the bench's own: the shared one runs on H2.
  const fhirMode = database === 'postgres' ? 'dedicated' : (env.BENCH_FHIR ?? 'auto');
  if (!['auto', 'dedicated'].includes(fhirMode)) {
    throw new Error(`BENCH_FHIR must be auto or dedicated, not "${fhirMode}"`);
  }
  const options = {
    scale,
    phases,
    formats,
    records: int(env.BENCH_RECORDS) ?? preset.records,
    warmupRecords: int(env.BENCH_WARMUP) ?? 5,
    backlogJobs: int(env.BENCH_BACKLOG) ?? preset.backlogJobs,
    rosterParticipants: int(env.BENCH_ROSTER) ?? preset.rosterParticipants,
    rosterReads: int(env.BENCH_ROSTER_READS) ?? preset.rosterReads,
    batch: int(env.BENCH_BATCH) ?? preset.batch,
    postConcurrency: int(env.BENCH_POST_CONCURRENCY) ?? preset.postConcurrency,
    ingestConcurrency: int(env.BENCH_INGEST_CONCURRENCY) ?? preset.ingestConcurrency,
    rates: list(env.BENCH_RATES, Number) ?? preset.rates,
    fanouts: list(env.BENCH_FANOUTS, Number) ?? preset.fanouts,
    durationS: Number(env.BENCH_DURATION_S ?? preset.durationS),
    pool: int(env.BENCH_POOL) ?? preset.pool,
    workers: list(env.BENCH_WORKERS, Number) ?? preset.workers,
    scalingFormats: list(env.BENCH_SCALING_FORMATS) ?? preset.scalingFormats,
    scalingRecords: int(env.BENCH_SCALING_RECORDS) ?? preset.scalingRecords,
    scalingRate: Number(env.BENCH_SCALING_RATE ?? preset.scalingRate),
    scalingFanout: int(env.BENCH_SCALING_FANOUT) ?? preset.scalingFanout,
    bullmqMessages: int(env.BENCH_BULLMQ_MESSAGES) ?? preset.bullmqMessages,
    profile: env.BENCH_PROFILE !== '0',
    build: env.BENCH_SKIP_BUILD !== '1',
    fhirMode,
    database,
    pgUrl: env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432',
    fhirPort: int(env.BENCH_FHIR_PORT) ?? (fhirMode === 'dedicated' ? 8091 : Number(env.FHIR_PORT ?? 8080)),
    fhirBaseUrl: fhirMode === 'auto' ? env.FHIR_BASE_URL : undefined,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    hubLogLevel: env.BENCH_HUB_LOG_LEVEL ?? 'info',
    resultsDir: path.resolve(env.BENCH_RESULTS_DIR ?? path.join(REPO_ROOT, 'bench/results')),
  };
  const positive = [
    'records',
    'batch',
    'postConcurrency',
    'ingestConcurrency',
    'durationS',
    'pool',
    'scalingRecords',
    'scalingRate',
    'scalingFanout',
    'bullmqMessages',
    'rosterParticipants',
    'rosterReads',
  ];
  for (const key of positive) {
    if (!Number.isFinite(options[key]) || options[key] <= 0) {
      throw new Error(`bench option ${key} must be a positive number, got ${options[key]}`);
    }
  }
  for (const key of ['rates', 'fanouts', 'workers']) {
    if (options[key].some((n) => !Number.isFinite(n) || n <= 0)) {
      throw new Error(`bench option ${key} must be positive numbers, got ${options[key].join(',')}`);
    }
  }
  if (options.fanouts.some((k) => k > 10) || options.scalingFanout > 10) {
    throw new Error('fan-outs go up to 10 partners (bench-r01 .. bench-r10)');
  }
  return options;
}
