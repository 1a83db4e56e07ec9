/**
 * Ingest throughput (issue 8, item 2a, first part): records per second through the hub into HAPI,
 * beside the floor set by HAPI itself: the same resources the hub writes, posted straight to HAPI
 * as one transaction per record with the same concurrency, in the same run. Also the hub
 * process's memory, idle and after the load.
 *
 * `npm run bench` (BENCH_RECORDS, default 200; BENCH_CONCURRENCY, default 4). Writes
 * bench/results/ingest-<timestamp>.json and prints a Markdown table.
 */
import type { BundleEntry } from 'fhir/r4.js';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/load-config.js';
import { FhirGateway } from '../src/fhir/fhir-gateway.js';
import { tokenOf } from '../src/fhir/hub-identifiers.js';
import { defaultFormats } from '../src/ingest/format-registry.js';
import { createLogger } from '../src/logging/logger.js';
import { PARTICIPANT_REF } from '../src/mappers/types.js';
import { startHub } from '../src/startup/start-hub.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const WARM_UP = 20;
const root = path.resolve(import.meta.dirname, '../..');

/** A service plan (eLTSS elements) for a new participant. */
function servicePlan(i: number, run: string): Record<string, unknown> {
  return {
    planId: `BENCH-${run}-${i}`,
    planVersion: '1',
    planEffectiveDate: '2026-11-01',
    planReviewDate: '2027-05-01',
    person: {
      personIdentifier: `M-${run}-${i}`,
      medicaidId: `BMCD${run}${i}`,
      personName: { family: 'Benchmark', given: [`P${i}`] },
      personDateOfBirth: '1960-01-01',
    },
    supportPlanner: { name: 'Jordan Casewell' },
    personSignatureDate: '2026-10-30',
    goals: [{ goalId: 'G1', goal: 'Stay at home', target: 'Cooks four days a week' }],
    risks: [{ riskId: 'R1', identifiedRisk: 'Falls', riskManagementPlan: 'Grab bar', riskCode: 'FALL' }],
    services: [
      {
        serviceId: 'S1',
        serviceName: 'Personal care',
        serviceCode: 'T1019-U3',
        serviceStartDate: '2026-11-01',
        serviceUnitQuantity: 20,
        unitOfServiceType: 'hours',
        serviceUnitQuantityInterval: 'per week',
        serviceProviderName: 'Sam Helper',
        serviceProviderAgency: 'Sunrise Home and Community Services',
        serviceProviderAgencyId: 'sunrise-hcbs',
        selfDirectedServiceIndicator: false,
        goalIds: ['G1'],
      },
    ],
  };
}

/** Runs `task` over 0..n-1 with `limit` at once; resolves with each call's duration in ms. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<number[]> {
  const durations: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < n) {
        const i = next++;
        const start = performance.now();
        await task(i);
        durations.push(performance.now() - start);
      }
    }),
  );
  return durations;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);

async function main(): Promise<void> {
  const run = randomUUID().slice(0, 8);
  const config = loadConfig(
    {
      ...process.env,
      PORT: '0',
      MLLP_PORT: '0',
      LOG_LEVEL: 'warn',
      QUEUE_PREFIX: `{bench-${run}}`,
      REMOVE_SUBSCRIPTIONS_ON_SHUTDOWN: 'true',
    },
    root,
  );
  const hub = await startHub(config, createLogger('warn'));
  const fhir = new FhirGateway({ baseUrl: config.fhir.baseUrl, timeoutMs: 60000 });
  const idle = process.memoryUsage();
  try {
    // Baseline: what the hub writes for each record, as one transaction straight to HAPI.
    const format = defaultFormats()['service-plan']!;
    const partner = hub.partners.get('sunrise-hcbs')!;
    const rawRecord = async (i: number, tag: string): Promise<void> => {
      const parsed = format.parse(Buffer.from(JSON.stringify(servicePlan(i, tag))), partner);
      if (!parsed.accepted[0]) {
        throw new Error(`sample refused: ${JSON.stringify(parsed.rejected[0]?.issues)}`);
      }
      const mapped = format.map(parsed.accepted[0].record, {
        partner,
        identifierBase: config.identifierBase,
      });
      const patientUrl = `urn:uuid:${randomUUID()}`;
      const entries: BundleEntry[] = [
        {
          fullUrl: patientUrl,
          resource: {
            ...mapped.participant.demographics,
            resourceType: 'Patient',
            identifier: [...mapped.participant.identifiers],
          },
          request: {
            method: 'POST',
            url: 'Patient',
            ifNoneExist: `identifier=${tokenOf(mapped.participant.identifiers[0]!)}`,
          },
        },
        ...mapped.writes.map((w) => ({
          fullUrl: w.fullUrl,
          resource: JSON.parse(
            JSON.stringify(w.resource).replaceAll(PARTICIPANT_REF, patientUrl),
          ) as BundleEntry['resource'],
          request: {
            method: 'PUT' as const,
            url: `${w.resource.resourceType}?identifier=${tokenOf(w.identifier)}`,
          },
        })),
      ];
      await fhir.transaction({ resourceType: 'Bundle', type: 'transaction', entry: entries });
    };
    // Through the hub: POST each record and wait until it is on the server.
    const hubRecord = async (i: number, tag: string): Promise<void> => {
      const res = await fetch(`${hub.url}/ingest/sunrise-hcbs/service-plan?wait=60`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(servicePlan(i, tag)),
      });
      if (res.status !== 200) {
        throw new Error(`record ${i}: HTTP ${res.status} ${await res.text()}`);
      }
    };
    // Warm both paths up (JIT, connection pools, HAPI caches) before measuring either.
    await pool(WARM_UP, CONCURRENCY, (i) => rawRecord(i, `${run}warm-raw`));
    await pool(WARM_UP, CONCURRENCY, (i) => hubRecord(i, `${run}warm-hub`));

    let started = performance.now();
    const raw = await pool(RECORDS, CONCURRENCY, (i) => rawRecord(i, `${run}raw`));
    const rawSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const viaHub = await pool(RECORDS, CONCURRENCY, (i) => hubRecord(i, run));
    const hubSeconds = (performance.now() - started) / 1000;
    const loaded = process.memoryUsage();

    const result = {
      at: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
      },
      records: RECORDS,
      concurrency: CONCURRENCY,
      rawHapi: {
        recordsPerSecond: Math.round(RECORDS / rawSeconds),
        p50ms: percentile(raw, 50),
        p95ms: percentile(raw, 95),
        p99ms: percentile(raw, 99),
      },
      hub: {
        recordsPerSecond: Math.round(RECORDS / hubSeconds),
        p50ms: percentile(viaHub, 50),
        p95ms: percentile(viaHub, 95),
        p99ms: percentile(viaHub, 99),
      },
      memoryMiB: {
        idleRss: mb(idle.rss),
        loadedRss: mb(loaded.rss),
        idleHeap: mb(idle.heapUsed),
        loadedHeap: mb(loaded.heapUsed),
      },
    };
    const ratio = Math.round((result.hub.recordsPerSecond / result.rawHapi.recordsPerSecond) * 100);
    const dir = path.join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, `ingest-${result.at.replace(/[:.]/g, '-')}.json`),
      `${JSON.stringify({ ...result, hubVsRawPercent: ratio }, null, 2)}\n`,
    );
    process.stdout.write(
      [
        `Service-plan ingest, ${RECORDS} records, ${CONCURRENCY} at once (${result.machine.cpus} cores, ${result.machine.memoryGiB} GiB, Node ${result.machine.node})`,
        '',
        '| path | records/s | p50 ms | p95 ms | p99 ms |',
        '| --- | --- | --- | --- | --- |',
        `| raw HAPI transaction (baseline) | ${result.rawHapi.recordsPerSecond} | ${result.rawHapi.p50ms} | ${result.rawHapi.p95ms} | ${result.rawHapi.p99ms} |`,
        `| through the hub (accepted to applied) | ${result.hub.recordsPerSecond} | ${result.hub.p50ms} | ${result.hub.p95ms} | ${result.hub.p99ms} |`,
        '',
        `Hub throughput is ${ratio}% of raw HAPI. Hub process memory: RSS ${result.memoryMiB.idleRss} MiB idle, ${result.memoryMiB.loadedRss} MiB after the load (heap ${result.memoryMiB.idleHeap} -> ${result.memoryMiB.loadedHeap} MiB).`,
        '',
      ].join('\n'),
    );
  } finally {
    await hub.close();
  }
}

await main();
