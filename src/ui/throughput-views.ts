import { THROUGHPUT_KINDS, type ThroughputCount, type ThroughputKind } from '../metrics/throughput.js';
import { barChart } from './charts.js';
import { html, page, type Html, type Viewer } from './html.js';

const TITLES: Record<ThroughputKind, string> = {
  received: 'Records taken at the door',
  rejected: 'Records rejected at the door',
  applied: 'Records applied to the FHIR server',
  failed: 'Records failed for good (refused by the server, or dead letters)',
  delivered: 'Plan versions delivered to the partner',
  acknowledged: 'Plan versions acknowledged by the partner',
};

/** Totals of one kind per partner and format, largest first. */
function totals(
  counts: readonly ThroughputCount[],
  kind: ThroughputKind,
): Array<{ label: string; value: number }> {
  const by = new Map<string, number>();
  for (const c of counts.filter((x) => x.kind === kind)) {
    const label = `${c.partnerId} ${c.format}`;
    by.set(label, (by.get(label) ?? 0) + c.count);
  }
  return [...by]
    .map(([label, value]) => ({ label, value }))
    .sort((a, b) => b.value - a.value || (a.label < b.label ? -1 : 1));
}

/** Each hour that counted anything, newest first, with its count of each kind. */
function hourly(counts: readonly ThroughputCount[], timeZone: string): Html {
  const hours = new Map<string, Partial<Record<ThroughputKind, number>>>();
  for (const c of counts) {
    const row = hours.get(c.hour) ?? {};
    row[c.kind] = (row[c.kind] ?? 0) + c.count;
    hours.set(c.hour, row);
  }
  const label = (iso: string): string =>
    new Date(iso).toLocaleString('en-US', {
      timeZone,
      month: 'short',
      day: 'numeric',
      hour: 'numeric',
      hour12: false,
    });
  return html`<table id="hourly">
    <caption>
      Per hour, newest first
    </caption>
    <thead>
      <tr>
        <th scope="col">Hour starting</th>
        ${THROUGHPUT_KINDS.map((k) => html`<th scope="col">${k}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${[...hours]
        .sort(([a], [b]) => (a < b ? 1 : -1))
        .map(
          ([hour, row]) =>
            html`<tr>
              <th scope="row">${label(hour)}</th>
              ${THROUGHPUT_KINDS.map((k) => html`<td>${row[k] ?? 0}</td>`)}
            </tr>`,
        )}
    </tbody>
  </table>`;
}

/** Throughput over time: per partner and format, what came in, what was applied and rejected, what went out and was acknowledged. */
export function throughputPage(v: {
  viewer: Viewer;
  days: number;
  partner?: string;
  partners: readonly string[];
  counts: readonly ThroughputCount[];
  timeZone: string;
}): string {
  return page({
    title: 'Throughput',
    viewer: v.viewer,
    body: html`<form method="get" action="/ui/throughput">
        <label for="days">Last</label>
        <select id="days" name="days">
          ${[1, 2, 3, 7].map((d) => html`<option value="${d}" ${d === v.days ? html` selected` : ''}>${d} days</option>`)}
        </select>
        <label for="partner">Partner</label>
        <select id="partner" name="partner">
          <option value="">All</option>
          ${v.partners.map((p) => html`<option value="${p}" ${p === v.partner ? html` selected` : ''}>${p}</option>`)}
        </select>
        <button type="submit">Show</button>
      </form>
      ${THROUGHPUT_KINDS.map((k) => barChart(`chart-${k}`, TITLES[k], totals(v.counts, k)))}
      ${hourly(v.counts, v.timeZone)}`,
  });
}
