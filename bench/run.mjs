// `npm run bench`: ingest throughput, plan-change-to-delivery latency, memory and scaling of the
// hub against baselines measured in the same run (raw HAPI transactions, raw BullMQ hops).
// Settings: bench/README.md (BENCH_SCALE=quick|full and BENCH_* overrides).
// Results: bench/results/runs/<timestamp>.json, bench/results/latest.json, bench/results/latest.md;
// the Markdown summary is also printed on stdout (progress goes to stderr).
import { backlogBench } from './lib/backlog-bench.mjs';
import { rosterBench } from './lib/roster-bench.mjs';
import { cpuShare, hapiPid } from './lib/cpu.mjs';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bullmqBaseline } from './lib/bullmq-baseline.mjs';
import { SECRET_ENV, writeConfigDirs } from './lib/config-dirs.mjs';
import { activeSubscriptions, ensureFhir } from './lib/fhir-server.mjs';
import { HubProcess, MemorySampler } from './lib/hub-process.mjs';
import { metricsChart, MetricsScraper } from './lib/metrics-scraper.mjs';
import { hubIngest } from './lib/ingest-bench.mjs';
import { runLatencyCell, setupPool } from './lib/latency-bench.mjs';
import { readOptions, REPO_ROOT } from './lib/options.mjs';
import { summarizeProfile } from './lib/profile.mjs';
import { dropPrefix, HubQueues } from './lib/queues.mjs';
import { postTransactions, rawTransactions } from './lib/raw-hapi.mjs';
import { Receiver } from './lib/receiver.mjs';
import { machineInfo, renderMarkdown, writeResults } from './lib/report.mjs';
import { IDENTIFIER_BASE, makeBodies, SENDER } from './lib/samples.mjs';
import { progress, round, sleep, summarize } from './lib/stats.mjs';

const dist = (p) => import(pathToFileURL(path.join(REPO_ROOT, 'dist', p)).href);

/** Adds the outgoing-request timings `b` into `a` (both keyed by request label). */
function addSpans(a, b) {
  for (const [label, s] of Object.entries(b ?? {})) {
    const t = a[label] ?? { count: 0, totalMs: 0, maxMs: 0, failed: 0, p50Ms: 0, p95Ms: 0 };
    // Percentiles cannot be merged exactly: keep a count-weighted mean of them as an indication.
    t.p50Ms = (t.p50Ms * t.count + s.p50Ms * s.count) / (t.count + s.count);
    t.p95Ms = (t.p95Ms * t.count + s.p95Ms * s.count) / (t.count + s.count);
    t.count += s.count;
    t.totalMs += s.totalMs;
    t.maxMs = Math.max(t.maxMs, s.maxMs);
    t.failed += s.failed;
    a[label] = t;
  }
  return a;
}

const fhirSpans = (spans) =>
  Object.entries(spans ?? {}).filter(([label]) => !label.includes('partner endpoint'));
const fhirCallCount = (spans) => fhirSpans(spans).reduce((n, [, s]) => n + s.count, 0);
/** The hub's FHIR calls' time per record, read batches and write transactions apart, in ms. */
function fhirTimePerRecord(spans, records) {
  const per = (keep) =>
    fhirSpans(spans)
      .filter(([label]) => keep(label))
      .reduce((ms, [, s]) => ms + s.totalMs, 0) / Math.max(1, records);
  return {
    all: per(() => true),
    batch: per((label) => label === 'POST / (batch)'),
    transaction: per((label) => label === 'POST / (transaction)'),
  };
}

async function deleteSubscriptions(baseUrl, prefix) {
  const suffix = createHash('sha256').update(prefix).digest('hex').slice(0, 8);
  for (const id of [`hub-careplan-changes-${suffix}`, `hub-ack-tasks-${suffix}`]) {
    await globalThis.fetch(`${baseUrl}/Subscription/${id}`, { method: 'DELETE' });
  }
}

function memorySummary(samples, beforeGc, afterGc) {
  const phases = [...new Set(samples.map((s) => s.phase))].map((phase) => {
    const of = samples.filter((s) => s.phase === phase);
    return {
      phase,
      samples: of.length,
      rss: summarize(of.map((s) => s.rss)),
      heapUsed: summarize(of.map((s) => s.heapUsed)),
      heapTotal: summarize(of.map((s) => s.heapTotal)),
      external: summarize(of.map((s) => s.external)),
      eventLoopUtilization: summarize(of.map((s) => s.eventLoopUtilization * 100)),
      eventLoopDelayP99Ms: summarize(of.map((s) => s.eventLoopDelayP99Ms)),
    };
  });
  for (const p of phases) {
    // summarize() rounds to 0.1; utilisation was scaled to % for that, scale back.
    for (const k of ['min', 'mean', 'p50', 'p95', 'p99', 'max']) {
      p.eventLoopUtilization[k] = p.eventLoopUtilization[k] === null ? null : p.eventLoopUtilization[k] / 100;
    }
  }
  return { phases, beforeGc, afterGc };
}

async function main() {
  const options = readOptions();
  const started = Date.now();
  const results = { startedAt: new Date(started).toISOString(), options, problems: [] };
  const cleanups = [];
  let cleaning;
  const cleanup = () =>
    (cleaning ??= (async () => {
      while (cleanups.length > 0) {
        const [what, fn] = cleanups.pop();
        try {
          await fn();
        } catch (err) {
          progress(`clean-up of ${what} failed: ${err.message}`);
        }
      }
    })());
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      progress(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    if (options.build) {
      progress('building dist/ (tsc -p tsconfig.build.json)');
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
    }
    results.machine = await machineInfo(options.redisUrl);
    const { checkRedis } = await dist('queues/connection.js');
    await checkRedis({ url: options.redisUrl, cluster: false });

    const fhir = await ensureFhir(options, dist);
    cleanups.push(['FHIR server', fhir.stop]);
    results.fhir = {
      baseUrl: fhir.baseUrl,
      origin: fhir.origin,
      database:
        fhir.database ?? (process.env.FHIR_DB_URL ? 'PostgreSQL (FHIR_DB_URL)' : 'H2 (file), the default'),
      software: fhir.software,
      startupMs: fhir.startupMs,
      activeSubscriptionsAtStart: await activeSubscriptions(fhir.baseUrl),
    };
    progress(
      `FHIR server ${fhir.baseUrl} (${fhir.origin}, ${fhir.software?.name} ${fhir.software?.version}, ` +
        `${results.fhir.activeSubscriptionsAtStart} active subscriptions)`,
    );

    const { verifyWebhook } = await dist('outbound/webhook-signature.js');
    const secret = randomBytes(24).toString('hex');
    const receiver = await new Receiver(secret, verifyWebhook).start();
    cleanups.push(['receiver', () => receiver.stop()]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'care-hub-bench-'));
    cleanups.push(['temporary folder', () => rmSync(dir, { recursive: true, force: true })]);
    const dirs = writeConfigDirs(dir, (id) => receiver.urlFor(id));
    const { loadPartners } = await dist('config/partners.js');
    const partners = await loadPartners(dirs.partners, { [SECRET_ENV]: secret });
    const partnerIds = partners
      .all()
      .filter((p) => p.outbound)
      .map((p) => p.id);

    const id = randomBytes(4).toString('hex');
    const prefix = `{bench-${id}}`;
    const rawPrefix = `{bench-${id}-bullmq}`;
    results.queuePrefix = prefix;
    cleanups.push([
      'Redis keys',
      async () => {
        const n =
          (await dropPrefix(options.redisUrl, prefix)) + (await dropPrefix(options.redisUrl, rawPrefix));
        progress(`deleted ${n} Redis keys of ${prefix} and ${rawPrefix}`);
      },
    ]);
    cleanups.push(['hub subscriptions', () => deleteSubscriptions(fhir.baseUrl, prefix)]);

    const hubEnv = {
      FHIR_BASE_URL: fhir.baseUrl,
      FHIR_AUTOSTART: 'false',
      REDIS_URL: options.redisUrl,
      QUEUE_PREFIX: prefix,
      PARTNER_CONFIG_DIR: dirs.partners,
      COORDINATION_CONFIG_DIR: dirs.coordination,
      LOG_LEVEL: options.hubLogLevel,
      AUTH_REQUIRED: 'false',
      RATE_LIMIT_PER_MINUTE: '1000000',
      INGEST_CONCURRENCY: String(options.ingestConcurrency),
      DEMO_INBOX: 'false',
      SHUTDOWN_TIMEOUT_MS: '20000',
      [SECRET_ENV]: secret,
    };
    const queues = new HubQueues(options.redisUrl, prefix, partnerIds);
    cleanups.push(['queue views', () => queues.close()]);
    const hub = new HubProcess('hub', hubEnv);
    cleanups.push(['hub process', () => hub.stop()]);
    progress('starting the hub (node dist/main.js)');
    await hub.start();
    results.hubStartMs = hub.readyMs;
    progress(`hub ready at ${hub.url} after ${hub.readyMs} ms (pid ${hub.pid})`);

    // One format's records through the hub, and the same resources straight to HAPI (the baseline).
    const throughHub = (format, records) =>
      hubIngest({
        hubUrl: hub.url,
        queues,
        format,
        bodies: makeBodies(format, records, options.batch),
        postConcurrency: options.postConcurrency,
      });
    // The hub processes running (the scaling phase adds workers).
    const hubs = [hub];
    // The raw baseline's writes reach the hub too: HAPI notifies it of every CarePlan, which it
    // routes as a change made directly on the server, writing to HAPI while the baseline runs. The
    // hubs are paused (SIGSTOP) while HAPI runs alone, and what they then do about the raw writes
    // is let finish before anything else is measured, so neither side is charged with it.
    const straightToHapi = async (format, records, concurrency) => {
      const transactions = await rawTransactions(
        dist,
        partners,
        format,
        SENDER[format],
        makeBodies(format, records, options.batch),
        IDENTIFIER_BASE,
      );
      hubs.forEach((h) => h.pause());
      try {
        return await postTransactions(fhir.baseUrl, transactions, concurrency);
      } finally {
        hubs.forEach((h) => h.resume());
        await sleep(3000);
        await queues.waitIdle();
      }
    };
    // The processes sharing the machine whose CPU each phase reports (HAPI only when it runs here).
    const hapi = hapiPid(fhir.baseUrl);
    const machineProcesses = () => ({ hub: hub.pid, ...(hapi ? { hapi } : {}) });
    const sampler = new MemorySampler(hub);
    sampler.phase = 'idle, before load';
    sampler.start();
    cleanups.push(['memory sampler', () => sampler.stop()]);
    // What Prometheus would scrape, charted at the end (bench/results/metrics.svg).
    const scraper = new MetricsScraper(hub.url);
    scraper.phase = 'idle';
    scraper.start();
    cleanups.push(['metrics scraper', () => scraper.stop()]);
    await sleep(3000);
    const beforeGc = await hub.ask({ type: 'gc' });
    const profileDir = path.join(os.tmpdir(), `care-hub-bench-profiles-${id}`);

    // (a) ingest throughput, hub vs raw HAPI
    if (options.phases.includes('ingest')) {
      sampler.phase = 'ingest (a)';
      results.ingest = [];
      const ingestCpu = cpuShare(machineProcesses());
      const allSpans = {};
      if (options.profile) {
        mkdirSync(profileDir, { recursive: true });
        await hub.ask({ type: 'profile-start' });
      }
      // A warm-up per format, hub and raw alike, not measured: both sides' code paths are compiled
      // and their connections open before the clock starts.
      for (const format of options.formats) {
        progress(`(a) ${format}: warm-up, ${options.warmupRecords} records each way`);
        await throughHub(format, options.warmupRecords);
        await straightToHapi(format, options.warmupRecords, options.ingestConcurrency);
      }
      for (const format of options.formats) {
        await hub.ask({ type: 'spans-reset' });
        scraper.phase = `(a) ${format}`;
        progress(`(a) ${format}: ${options.records} records through the hub`);
        const hubRun = await throughHub(format, options.records);
        const spans = (await hub.ask({ type: 'spans' })).spans;
        addSpans(allSpans, spans);
        scraper.phase = 'raw HAPI';
        progress(`(a) ${format}: raw HAPI transactions`);
        const raw = await straightToHapi(format, options.records, options.ingestConcurrency);
        const row = {
          format,
          hub: hubRun,
          raw,
          ratio: hubRun.recordsPerSecond / raw.recordsPerSecond,
          fhirCallsPerRecord: fhirCallCount(spans) / Math.max(1, hubRun.accepted),
          fhirMsPerRecord: fhirTimePerRecord(spans, hubRun.accepted),
          hubRequests: spans,
        };
        results.ingest.push(row);
        progress(
          `(a) ${format}: hub ${round(hubRun.recordsPerSecond)} rec/s, raw ${round(raw.recordsPerSecond)} rec/s, ` +
            `ratio ${round(row.ratio, 2)}, ${round(row.fhirCallsPerRecord)} FHIR calls/record`,
        );
        if (hubRun.rejectedOnParse || hubRun.failedOnWrite || raw.failed) {
          results.problems.push(
            `${format}: ${hubRun.rejectedOnParse} rejected on parse (${hubRun.firstRejection ?? ''}), ` +
              `${hubRun.failedOnWrite} failed on write (${hubRun.firstWriteFailure ?? ''}), ` +
              `${raw.failed} raw failures (${raw.firstFailure ?? ''})`,
          );
        }
      }
      results.cpu = { ...results.cpu, ingest: ingestCpu() };
      results.profile = {
        fhirCalls: Object.entries(allSpans)
          .map(([label, s]) => ({ label, ...s }))
          .sort((a, b) => b.totalMs - a.totalMs),
      };
      if (options.profile) {
        const file = path.join(profileDir, 'hub-ingest.cpuprofile');
        const stopped = await hub.ask({ type: 'profile-stop', file }, 120000);
        if (stopped.type === 'profile-stop') {
          results.profile.summary = summarizeProfile(file, 25);
          progress(`CPU profile: ${file}`);
        } else {
          results.problems.push(`CPU profile not written: ${stopped.error}`);
        }
      }
    }

    // (b) plan-change-to-delivery latency, hub vs raw BullMQ
    const pools = new Map();
    const poolFor = async (fanout) => {
      if (!pools.has(fanout)) {
        progress(`(b) setting up ${options.pool} participants with fan-out ${fanout}`);
        pools.set(
          fanout,
          await setupPool({ hubUrl: hub.url, fhirBaseUrl: fhir.baseUrl, queues, size: options.pool, fanout }),
        );
      }
      return pools.get(fanout);
    };
    const latencyCell = async (rate, fanout, workers) => {
      const pool = await poolFor(fanout);
      progress(
        `(b) ${rate} plan changes/s, fan-out ${fanout}, ${workers} process(es), ${options.durationS} s`,
      );
      const hubCell = await runLatencyCell({
        hubUrl: hub.url,
        receiver,
        queues,
        pool,
        rate,
        durationS: options.durationS,
      });
      const bullmq = await bullmqBaseline({
        redisUrl: options.redisUrl,
        prefix: rawPrefix,
        rate,
        fanout,
        count: hubCell.planChanges,
      });
      progress(
        `(b) p50/p95/p99 hub ${hubCell.writtenToDeliveredMs.p50}/${hubCell.writtenToDeliveredMs.p95}/` +
          `${hubCell.writtenToDeliveredMs.p99} ms, BullMQ ${bullmq.enqueueToStartTwoHopsMs.p50}/` +
          `${bullmq.enqueueToStartTwoHopsMs.p95}/${bullmq.enqueueToStartTwoHopsMs.p99} ms; ` +
          `${hubCell.delivered}/${hubCell.expectedDeliveries} delivered`,
      );
      if (hubCell.missing > 0 || hubCell.duplicates > 0 || hubCell.postFailures > 0) {
        results.problems.push(
          `latency ${rate}/s fan-out ${fanout} (${workers} processes): ${hubCell.missing} missing ` +
            `(${JSON.stringify(hubCell.missingStates)}), ${hubCell.duplicates} duplicates, ${hubCell.postFailures} failed posts ` +
            `${hubCell.firstPostFailure ?? ''}`,
        );
      }
      return { rate, fanout, workers, hub: hubCell, bullmq };
    };
    if (options.phases.includes('latency')) {
      sampler.phase = 'latency (b)';
      scraper.phase = '(b) plan changes';
      results.latency = [];
      const latencyCpu = cpuShare(machineProcesses());
      for (const fanout of options.fanouts) {
        for (const rate of options.rates) {
          results.latency.push(await latencyCell(rate, fanout, 1));
        }
      }
      results.cpu = { ...results.cpu, latency: latencyCpu() };
    }

    // (d) scaling with worker processes
    if (options.phases.includes('scaling')) {
      sampler.phase = 'scaling (d)';
      scraper.phase = '(d) scaling';
      results.scaling = { ingest: [], latency: [], workerProcesses: [] };
      const extras = [];
      const counts = [...new Set(options.workers)].sort((a, b) => a - b);
      for (const workers of counts) {
        while (extras.length < workers - 1) {
          const extra = new HubProcess(`worker-${extras.length + 1}`, { ...hubEnv, HUB_PUBLIC_URL: hub.url });
          cleanups.push([extra.name, () => extra.stop()]);
          await extra.start();
          progress(`started ${extra.name} (pid ${extra.pid}) after ${extra.readyMs} ms`);
          extras.push(extra);
          hubs.push(extra);
        }
        await queues.waitIdle();
        for (const format of options.scalingFormats) {
          progress(`(d) ${workers} process(es), ${format}: ${options.scalingRecords} records`);
          const hubRun = await throughHub(format, options.scalingRecords);
          const raw = await straightToHapi(
            format,
            options.scalingRecords,
            options.ingestConcurrency * workers,
          );
          const base = results.scaling.ingest.find((s) => s.format === format && s.workers === counts[0]);
          const row = {
            workers,
            format,
            hub: hubRun,
            raw,
            ratio: hubRun.recordsPerSecond / raw.recordsPerSecond,
            speedup: base ? hubRun.recordsPerSecond / base.hub.recordsPerSecond : 1,
          };
          results.scaling.ingest.push(row);
          progress(
            `(d) ${workers} process(es), ${format}: hub ${round(hubRun.recordsPerSecond)} rec/s, ` +
              `raw ${round(raw.recordsPerSecond)} rec/s (concurrency ${options.ingestConcurrency * workers})`,
          );
        }
        results.scaling.latency.push(await latencyCell(options.scalingRate, options.scalingFanout, workers));
        for (const extra of extras) {
          const mem = await extra.ask({ type: 'mem' });
          results.scaling.workerProcesses.push({
            workers,
            name: extra.name,
            rss: mem.rss,
            heapUsed: mem.heapUsed,
            logCounts: { ...extra.logCounts },
          });
        }
      }
      for (const extra of extras.reverse()) {
        await extra.stop();
        if (extra.logCounts.error + extra.logCounts.fatal > 0) {
          results.problems.push(`${extra.name} logged errors: ${extra.lastProblems.slice(-5).join(' | ')}`);
        }
      }
    }

    // (e) a backlog of queued deliveries: the hub's memory with it, Redis bytes per job
    if (options.phases.includes('backlog')) {
      sampler.phase = 'backlog (e)';
      scraper.phase = '(e) backlog';
      results.backlog = await backlogBench({
        redis: queues.redis,
        queue: queues.queue(`deliveries-${partnerIds[0]}`),
        partnerId: partnerIds[0],
        count: options.backlogJobs,
        hub,
        sampleSeconds: 10,
        progress,
      });
      progress(
        `(e) ${results.backlog.count} queued deliveries: ${results.backlog.redisBytesPerJob} Redis bytes each, ` +
          `hub RSS max ${Math.round(results.backlog.hubRssMax / 2 ** 20)} MiB`,
      );
    }

    // (f) the huddle roster with many participants, read through its index and by a full read
    if (options.phases.includes('roster')) {
      sampler.phase = 'roster (f)';
      scraper.phase = '(f) roster';
      const identifierBase = `https://bench-roster-${id}.example`;
      const rosterHub = new HubProcess('roster-hub', {
        ...hubEnv,
        IDENTIFIER_BASE: identifierBase,
        QUEUE_PREFIX: `{bench-${id}-roster}`,
      });
      cleanups.push([
        'roster hub',
        async () => {
          await rosterHub.stop();
          await dropPrefix(options.redisUrl, `{bench-${id}-roster}`);
        },
      ]);
      await rosterHub.start();
      const { loadCoordinationConfig } = await dist('coordination/coordination-config.js');
      results.roster = await rosterBench({
        dist,
        fhirBaseUrl: fhir.baseUrl,
        hub: rosterHub,
        identifierBase,
        coordination: await loadCoordinationConfig(
          dirs.coordination,
          path.join(REPO_ROOT, 'profiles'),
          partners,
        ),
        count: options.rosterParticipants,
        reads: options.rosterReads,
      });
      await rosterHub.stop();
      const { listed, fullReadListed, api } = results.roster;
      if (listed !== fullReadListed || api.listed.some((n) => n !== fullReadListed)) {
        results.problems.push(
          `the roster index listed ${[listed, ...api.listed].join(', ')} participants, the full read ${fullReadListed}`,
        );
      }
      if (rosterHub.logCounts.error + rosterHub.logCounts.fatal > 0) {
        results.problems.push(`roster-hub logged problems: ${rosterHub.lastProblems.slice(-5).join(' | ')}`);
      }
      progress(
        `(f) roster of ${results.roster.listed}: /roster p95 ${results.roster.api.p95} ms, ` +
          `/ui/roster p95 ${results.roster.page.p95} ms; full read p50 ${results.roster.fullRead.p50} ms`,
      );
    }

    sampler.phase = 'idle, after load';
    scraper.phase = 'idle';
    await sleep(3000);
    const afterGc = await hub.ask({ type: 'gc' });
    sampler.stop();
    results.memory = memorySummary(
      sampler.samples,
      beforeGc.type === 'gc' ? beforeGc : undefined,
      afterGc.type === 'gc' ? afterGc : undefined,
    );
    results.hubLog = { counts: hub.logCounts, last: hub.lastProblems };
    if (hub.logCounts.error + hub.logCounts.fatal > 0) {
      results.problems.push(
        `the hub logged ${hub.logCounts.error} errors: ${hub.lastProblems.slice(-5).join(' | ')}`,
      );
    }
    if (receiver.invalid > 0) {
      results.problems.push(`${receiver.invalid} deliveries with a bad signature`);
    }
    results.loadAverageAtEnd = os.loadavg().map((n) => round(n, 2));
    results.durationMs = Date.now() - started;
    const scraped = scraper.stop();
    results.metricsScrapes = { failed: scraper.failures, samples: scraped };
    // BENCH_RESULTS_DIR may name a folder that does not exist yet: a long run must not end here.
    mkdirSync(options.resultsDir, { recursive: true });
    writeFileSync(
      path.join(options.resultsDir, 'metrics.svg'),
      metricsChart(scraped, `GET /metrics scraped every second during the bench (${results.startedAt})`),
    );
    const { files, markdown } = await writeResults(options.resultsDir, results, renderMarkdown(results));
    process.stdout.write(`${markdown}\n`);
    progress(`results: ${files.run}, ${files.latestJson}, ${files.latestMd}`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    progress(`bench failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
