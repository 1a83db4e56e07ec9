// Results: the machine, JSON files (bench/results/runs/<timestamp>.json and latest.json) and a
// Markdown summary (latest.md, also printed). Files are written through Prettier so that
// `prettier --check .` (npm run lint) accepts them.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import * as prettier from 'prettier';
import { round } from './stats.mjs';

export async function machineInfo(redisUrl) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const info = await redis.info('server').catch(() => '');
  redis.disconnect();
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model?.trim(),
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: /redis_version:(\S+)/.exec(info)?.[1],
    loadAverageAtStart: os.loadavg().map((n) => round(n, 2)),
  };
}

const ms = (n) => (n === null || n === undefined ? '-' : String(Math.round(n)));
const x = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
/** How much of the machine HAPI and the hub took during a phase (its raw baselines included). */
const cpuLines = (cpu) =>
  cpu
    ? [
        '',
        'CPU during the phase (the hub runs and the raw baselines), share of the whole machine: ' +
          Object.entries(cpu)
            .map(
              ([name, c]) =>
                `${name === 'hapi' ? 'HAPI' : name} ${x(c.machineShare * 100, 0)}% (${x(c.cpuS, 1)} CPU s)`,
            )
            .join(', ') +
          '.',
      ]
    : [];
const mb = (b) => (Number.isFinite(b) ? String(Math.round(b / 2 ** 20)) : '-');
const triple = (s) => (s && s.count ? `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}` : '-');

export function renderMarkdown(r) {
  const lines = [];
  const m = r.machine;
  lines.push(`# Hub benchmarks (${r.startedAt}, scale ${r.options.scale})`, '');
  lines.push(
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; ` +
      `HAPI FHIR ${r.fhir.software?.version ?? '?'} on ${r.fhir.database ?? 'H2'} (${r.fhir.origin}, ${r.fhir.baseUrl}, ` +
      `${r.fhir.activeSubscriptionsAtStart ?? '?'} active subscriptions at start); Redis ${m.redis}. ` +
      `Load average at start ${m.loadAverageAtStart.join(' ')}, at end ${(r.loadAverageAtEnd ?? []).join(' ')}. ` +
      `Hub and FHIR server share the machine. Run took ${Math.round(r.durationMs / 1000)} s.`,
    '',
  );
  if (r.ingest?.length) {
    lines.push(
      '## (a) Ingest throughput, 1 hub process',
      '',
      `${r.options.records} records per format (one fresh participant each), ${r.options.batch} per request where the format ` +
        `batches, INGEST_CONCURRENCY=${r.options.ingestConcurrency}; raw HAPI = the same resources as one transaction per ` +
        'record POSTed straight to the FHIR server at the same concurrency. ' +
        `Each format warmed up first with ${r.options.warmupRecords} records each way, not measured.`,
      '',
      '| format | records | hub rec/s | raw HAPI rec/s | hub / raw | hub FHIR calls per record | ingest job p50 / p95 ms | settled s | rejected / failed |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const i of r.ingest) {
      lines.push(
        `| ${i.format} | ${i.hub.accepted} | ${x(i.hub.recordsPerSecond)} | ${x(i.raw.recordsPerSecond)} | ${x(i.ratio, 2)} | ` +
          `${x(i.fhirCallsPerRecord, 1)} | ${ms(i.hub.jobProcessMs.p50)} / ${ms(i.hub.jobProcessMs.p95)} | ` +
          `${x((i.hub.settledMs ?? NaN) / 1000)} | ${i.hub.rejectedOnParse} / ${i.hub.failedOnWrite + i.raw.failed} |`,
      );
    }
    lines.push(...cpuLines(r.cpu?.ingest), '');
    const timed = r.ingest.filter((i) => i.fhirMsPerRecord);
    if (timed.length) {
      lines.push(
        "Where each record's time on the FHIR server goes, ms per record: the hub's FHIR calls while the format ran " +
          '(its read batches, its write transactions, any other call), summed and divided by its records, beside the raw ' +
          "transaction's mean at the same concurrency. Raw / hub FHIR time is the hub / raw ratio the hub would reach if " +
          'it added nothing to its calls to the server (no queueing, no work of its own).',
        '',
        '| format | hub read batches | hub transactions | hub other calls | hub FHIR time | raw transaction | raw / hub FHIR time | hub / raw measured |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      );
      for (const i of timed) {
        const t = i.fhirMsPerRecord;
        lines.push(
          `| ${i.format} | ${ms(t.batch)} | ${ms(t.transaction)} | ${ms(t.all - t.batch - t.transaction)} | ${ms(t.all)} | ` +
            `${ms(i.raw.transactionMs.mean)} | ${x(i.raw.transactionMs.mean / t.all, 2)} | ${x(i.ratio, 2)} |`,
        );
      }
      lines.push('');
    }
  }
  if (r.latency?.length) {
    lines.push(
      '## (b) Plan-change-to-delivery latency, 1 hub process',
      '',
      'Version written (CarePlan `meta.lastUpdated`) -> webhook received by each partner, in ms; plan changes arrive as ' +
        'service-plan updates through the hub. HAPI stamps the version when the transaction starts, so this includes ' +
        "the rest of the writer's transaction; write answered = from the hub's write returning (its plan-change job " +
        'queued) to the partner. BullMQ floor = the same rate and fan-out through an empty ' +
        'plan-changes -> deliveries-<partner> pair of hops on the same Redis; p99 above it = hub p99 - BullMQ p99.',
      '',
      '| changes/s | fan-out | deliveries | hub p50 / p95 / p99 | write answered -> delivered p50 / p95 / p99 | ingest POST -> delivered p50 / p95 / p99 | BullMQ 2 hops p50 / p95 / p99 | p99 above BullMQ: written / write answered | missing | superseded |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const c of r.latency) {
      const hub = c.hub.writtenToDeliveredMs;
      const answered = c.hub.answeredToDeliveredMs;
      const floor = c.bullmq.enqueueToStartTwoHopsMs;
      lines.push(
        `| ${c.rate} | ${c.fanout} | ${c.hub.delivered}/${c.hub.expectedDeliveries} | ${triple(hub)} | ` +
          `${triple(answered)} | ${triple(c.hub.postedToDeliveredMs)} | ` +
          `${x(floor.p50, 1)} / ${x(floor.p95, 1)} / ${x(floor.p99, 1)} | ` +
          `${x(hub.p99 - floor.p99, 0)} / ${answered ? x(answered.p99 - floor.p99, 0) : '-'} | ${c.hub.missing} | ${c.hub.superseded} |`,
      );
    }
    lines.push('', "Where a delivery's time goes (p50 ms, from the BullMQ job timestamps):", '');
    const stageNames = Object.keys(r.latency[0].hub.stagesMs);
    lines.push(
      `| changes/s | fan-out | ${stageNames.join(' | ')} |`,
      `| ---: | ---: | ${stageNames.map(() => '---:').join(' | ')} |`,
    );
    for (const c of r.latency) {
      lines.push(
        `| ${c.rate} | ${c.fanout} | ${stageNames.map((s) => ms(c.hub.stagesMs[s]?.p50)).join(' | ')} |`,
      );
    }
    lines.push(...cpuLines(r.cpu?.latency), '');
  }
  if (r.memory) {
    const mem = r.memory;
    lines.push(
      '## (c) Memory of the hub process (MiB)',
      '',
      '| phase | samples | RSS median | RSS max | heap used median | heap used max | event loop utilisation median |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const p of mem.phases) {
      lines.push(
        `| ${p.phase} | ${p.samples} | ${mb(p.rss.p50)} | ${mb(p.rss.max)} | ${mb(p.heapUsed.p50)} | ${mb(p.heapUsed.max)} | ${x(p.eventLoopUtilization.p50, 2)} |`,
      );
    }
    if (mem.afterGc) {
      lines.push(
        '',
        `After a forced full GC: idle before load heap used ${mb(mem.beforeGc?.heapUsed)} MiB, after the run ` +
          `${mb(mem.afterGc.heapUsed)} MiB (RSS ${mb(mem.afterGc.rss)} MiB).`,
      );
    }
    lines.push('');
  }
  if (r.scaling) {
    lines.push(
      '## (d) Scaling with worker processes',
      '',
      'N hub processes on the same Redis prefix and FHIR server (the first takes the HTTP ingest; all run workers). ' +
        `Raw HAPI runs at INGEST_CONCURRENCY x N = the hub's total concurrency.`,
      '',
      '| processes | format | hub rec/s | raw HAPI rec/s | hub / raw | speed-up vs 1 process |',
      '| ---: | --- | ---: | ---: | ---: | ---: |',
    );
    for (const s of r.scaling.ingest) {
      lines.push(
        `| ${s.workers} | ${s.format} | ${x(s.hub.recordsPerSecond)} | ${x(s.raw.recordsPerSecond)} | ${x(s.ratio, 2)} | ${x(s.speedup, 2)} |`,
      );
    }
    lines.push(
      '',
      '| processes | changes/s | fan-out | hub p50 / p95 / p99 ms | BullMQ 2 hops p50 / p95 / p99 ms | missing |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const s of r.scaling.latency) {
      const f = s.bullmq.enqueueToStartTwoHopsMs;
      lines.push(
        `| ${s.workers} | ${s.rate} | ${s.fanout} | ${triple(s.hub.writtenToDeliveredMs)} | ${x(f.p50, 1)} / ${x(f.p95, 1)} / ${x(f.p99, 1)} | ${s.hub.missing} |`,
      );
    }
    lines.push('');
  }
  if (r.backlog) {
    const b = r.backlog;
    lines.push(
      '## (e) A backlog of queued deliveries',
      '',
      `${b.count} deliveries queued (shaped as the hub's, delayed an hour) on one partner's queue, added in ${b.addMs} ms, while the hub ran; then removed. ` +
        'Baseline: the same hub and Redis just before.',
      '',
      '| queued | Redis bytes per delivery | Redis MiB for all | hub RSS before MiB | hub RSS median / max MiB with them |',
      '| ---: | ---: | ---: | ---: | ---: |',
      `| ${b.count} | ${b.redisBytesPerJob} | ${x(b.redisMiB, 1)} | ${mb(b.hubRssBefore)} | ${mb(b.hubRssMedian)} / ${mb(b.hubRssMax)} |`,
      '',
    );
  }
  if (r.roster) {
    const o = r.roster;
    const row = (what, s) => `| ${what} | ${x(s.p50, 1)} | ${x(s.p95, 1)} | ${x(s.max, 1)} | ${s.count} |`;
    lines.push(
      '## (f) The huddle roster with many participants',
      '',
      `${o.participants} participants seeded straight into HAPI in ${Math.round(o.seedMs / 1000)} s (an active care team each, a risk Flag on every third, an open Task on every other); ` +
        `a hub of its own lists ${o.listed} (the full read: ${o.fullReadListed}); its first read, catching up with the seed, took ${Math.round(o.firstReadMs)} ms. ` +
        'Baseline: the full read of the FHIR server that every request made before the index (buildRoster), in the same run.',
      '',
      '| read | p50 ms | p95 ms | max ms | reads |',
      '| --- | ---: | ---: | ---: | ---: |',
      row('baseline: full read and rank (every request before the index)', o.fullRead),
      row(`GET /roster, all ${o.listed} (${Math.round(o.api.bytes / 1024)} KiB)`, o.api),
      row('GET /ui/roster (the first 100 rows)', o.page),
      row('GET /roster?agency=…&flag=…', o.agency),
      ...(o.part ? [row('GET /roster?limit=100 (ranked in full, the first 100 answered)', o.part)] : []),
      '',
    );
  }
  if (r.profile?.summary) {
    const p = r.profile.summary;
    lines.push(
      '## Hot path (CPU profile of the hub during (a))',
      '',
      `Profiled ${Math.round(p.wallMs / 1000)} s of wall time, of which the hub's main thread was busy ${Math.round(p.busyMs / 1000)} s.`,
      '',
      '| area | ms | % of busy |',
      '| --- | ---: | ---: |',
      ...p.areas
        .filter((a) => !a.area.startsWith('idle'))
        .slice(0, 12)
        .map((a) => `| ${a.area} | ${a.ms} | ${a.pctOfBusy} |`),
      '',
    );
    if (r.profile.fhirCalls?.length) {
      lines.push(
        'Outgoing requests of the hub during (a), all formats (wall time, requests overlap):',
        '',
        '| request | count | total s | p50 ms | p95 ms |',
        '| --- | ---: | ---: | ---: | ---: |',
        ...r.profile.fhirCalls
          .slice(0, 12)
          .map(
            (c) =>
              `| \`${c.label}\` | ${c.count} | ${x(c.totalMs / 1000)} | ${ms(c.p50Ms)} | ${ms(c.p95Ms)} |`,
          ),
        '',
      );
    }
  }
  if (r.problems?.length) {
    lines.push('## Problems seen', '', ...r.problems.map((p) => `- ${p}`), '');
  }
  return lines.join('\n');
}

async function formatted(text, file) {
  const config = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...config, filepath: file });
}

/**
 * Writes runs/<timestamp>.json, latest.json and latest.md under `dir` (latest-postgres.* for a run
 * on PostgreSQL, so the two databases' latest results sit side by side); returns their paths.
 */
export async function writeResults(dir, results, markdown) {
  mkdirSync(path.join(dir, 'runs'), { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const suffix = results.options.database === 'postgres' ? '-postgres' : '';
  const json = JSON.stringify(results, null, 2);
  const files = {
    run: path.join(dir, 'runs', `${stamp}.json`),
    latestJson: path.join(dir, `latest${suffix}.json`),
    latestMd: path.join(dir, `latest${suffix}.md`),
  };
  writeFileSync(files.run, await formatted(json, files.run));
  writeFileSync(files.latestJson, await formatted(json, files.latestJson));
  const md = await formatted(markdown, files.latestMd);
  writeFileSync(files.latestMd, md);
  return { files, markdown: md };
}
