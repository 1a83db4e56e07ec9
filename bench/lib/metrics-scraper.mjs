// Scrapes the hub's GET /metrics once a second during the run, as Prometheus would, and draws
// what an operator's dashboard shows (docs/ops/grafana-dashboard.json) as an SVG chart:
// records in and applied, deliveries, queue depth and memory, with the bench's phases shaded.
// The chart is written beside the results (bench/results/metrics.svg).
import { clearInterval, setInterval } from 'node:timers';

/** `name{labels} value` lines of the Prometheus text format, as [name, labels, value]. */
export function parsePrometheus(text) {
  const rows = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([-+\d.eE]+|NaN|\+Inf)$/.exec(line);
    if (m) {
      const labels = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
      );
      rows.push([m[1], labels, Number(m[3])]);
    }
  }
  return rows;
}

const sum = (rows, name, where = () => true) =>
  rows.filter(([n, l]) => n === name && where(l)).reduce((total, [, , v]) => total + v, 0);

/** The few numbers the chart draws, from one scrape. */
function reading(rows) {
  return {
    accepted: sum(rows, 'hub_ingest_records_total', (l) => l.status === 'accepted'),
    applied: sum(rows, 'hub_jobs_total', (l) => l.queue === 'ingest' && l.outcome === 'completed'),
    delivered: sum(
      rows,
      'hub_jobs_total',
      (l) => l.queue?.startsWith('deliveries-') && l.outcome === 'completed',
    ),
    waiting: sum(rows, 'hub_queue_jobs', (l) => l.state === 'waiting'),
    active: sum(rows, 'hub_queue_jobs', (l) => l.state === 'active'),
    rssMb: sum(rows, 'process_resident_memory_bytes') / 2 ** 20,
  };
}

export class MetricsScraper {
  /** Set `phase` as the bench moves on: each scrape is labelled with it. */
  constructor(hubUrl, intervalMs = 1000) {
    this.url = `${hubUrl}/metrics`;
    this.phase = 'idle';
    this.intervalMs = intervalMs;
    this.samples = [];
    this.failures = 0;
  }

  start() {
    this.startedAt = Date.now();
    this.timer = setInterval(() => {
      const t = (Date.now() - this.startedAt) / 1000;
      const phase = this.phase;
      void globalThis
        .fetch(this.url, { signal: globalThis.AbortSignal.timeout(this.intervalMs * 3) })
        .then((res) => (res.ok ? res.text() : Promise.reject(new Error(String(res.status)))))
        .then((text) => this.samples.push({ t, phase, ...reading(parsePrometheus(text)) }))
        .catch(() => this.failures++);
    }, this.intervalMs);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
    this.samples.sort((a, b) => a.t - b.t);
    return this.samples;
  }
}

/** Per-second rates of a counter between consecutive samples. */
function rates(samples, key) {
  return samples
    .slice(1)
    .map((s, i) => ({ t: s.t, v: Math.max(0, (s[key] - samples[i][key]) / (s.t - samples[i].t)) }));
}

const COLORS = ['#1f77b4', '#2ca02c', '#d62728', '#9467bd'];

/** An SVG of three panels over time: rates, queue depth, memory; phases shaded and named. */
export function metricsChart(samples, title) {
  const width = 960;
  const panelHeight = 190;
  const left = 60;
  const right = 20;
  const top = 40;
  const gap = 40;
  const end = Math.max(1, samples.at(-1)?.t ?? 1);
  const x = (t) => left + ((width - left - right) * t) / end;
  const panels = [
    {
      title: 'per second: records accepted at the door, records applied, deliveries to partners',
      series: [
        ['accepted', rates(samples, 'accepted')],
        ['applied', rates(samples, 'applied')],
        ['delivered', rates(samples, 'delivered')],
      ],
    },
    {
      title: 'jobs in the queues: waiting, active',
      series: [
        ['waiting', samples.map((s) => ({ t: s.t, v: s.waiting }))],
        ['active', samples.map((s) => ({ t: s.t, v: s.active }))],
      ],
    },
    {
      title: 'hub resident memory, MiB',
      series: [['RSS MiB', samples.map((s) => ({ t: s.t, v: s.rssMb }))]],
    },
  ];
  const height = top + panels.length * (panelHeight + gap) + 10;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
  ];
  // Phase bands: consecutive samples of one phase.
  const bands = [];
  for (const s of samples) {
    const last = bands.at(-1);
    if (last && last.phase === s.phase) {
      last.to = s.t;
    } else {
      bands.push({ phase: s.phase, from: last ? last.to : 0, to: s.t });
    }
  }
  panels.forEach((panel, i) => {
    const y0 = top + i * (panelHeight + gap) + 18;
    const max = Math.max(1, ...panel.series.flatMap(([, points]) => points.map((p) => p.v))) * 1.1;
    const y = (v) => y0 + panelHeight - (panelHeight * v) / max;
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${escape(panel.title)}</text>`);
    bands.forEach((b, j) => {
      out.push(
        `<rect x="${x(b.from)}" y="${y0}" width="${Math.max(0, x(b.to) - x(b.from))}" height="${panelHeight}" fill="${j % 2 ? '#f4f4f4' : '#e8eef7'}"/>`,
      );
      // A phase is named where its band is wide enough for the name.
      if (i === 0 && x(b.to) - x(b.from) > 6 * b.phase.length) {
        out.push(
          `<text x="${x(b.from) + 3}" y="${y0 + 12}" fill="#555" font-size="10">${escape(b.phase)}</text>`,
        );
      }
    });
    for (const frac of [0, 0.5, 1]) {
      const v = (max / 1.1) * frac;
      out.push(`<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ccc"/>`);
      out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${round(v)}</text>`);
    }
    panel.series.forEach(([name, points], k) => {
      const d = points.map((p, n) => `${n ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${COLORS[k]}" stroke-width="1.6"/>`);
      out.push(
        `<text x="${width - right - 120 * (panel.series.length - k)}" y="${y0 + panelHeight + 16}" fill="${COLORS[k]}">■ ${escape(name)}</text>`,
      );
    });
  });
  const axisY = height - 8;
  out.push(`<text x="${left}" y="${axisY}" fill="#555">0 s</text>`);
  out.push(
    `<text x="${width - right}" y="${axisY}" fill="#555" text-anchor="end">${Math.round(end)} s</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const round = (v) => (v >= 100 ? Math.round(v) : Math.round(v * 10) / 10);
const escape = (s) => String(s).replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
