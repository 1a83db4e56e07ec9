import type { DryRunRecord } from '../ingest/dry-run.js';
import type { BenchReport } from '../ingest/mapping-bench.js';
import type { RecordComparison } from '../ingest/mapping-compare.js';
import { html, page, type Html, type Viewer } from './html.js';

/** What the bench form shows filled in. */
export interface BenchForm {
  readonly partner?: string;
  readonly format?: string;
  readonly sample?: string;
  readonly candidate?: string;
  readonly validate?: boolean;
}

const choice = (id: string, label: string, values: readonly string[], chosen = ''): Html =>
  html`<label for="${id}">${label}</label>
    <select id="${id}" name="${id}" required>
      ${values.map((v) => html`<option value="${v}" ${v === chosen ? html` selected` : ''}>${v}</option>`)}
    </select>`;

/** One record as a file maps it: what it writes (and what `$validate` says), or why it is rejected. */
function outcome(r: DryRunRecord | undefined): Html | string {
  if (!r) {
    return '';
  }
  if (r.status === 'rejected') {
    return html`<span class="overdue">rejected</span>
      <ul>
        ${r.issues.map((i) => html`<li><code>${i.field}</code>: ${i.message}</li>`)}
      </ul>`;
  }
  const writes = (r.transaction.entry ?? []).map((e) => e.resource?.resourceType ?? '?');
  const problems = (r.validation ?? []).flatMap((v) =>
    v.issues
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${v.resourceType} ${(i.expression ?? []).join(', ')}: ${i.diagnostics ?? i.code}`),
  );
  return html`<span class="ok">accepted</span>: writes ${writes.join(', ') || 'nothing'}
    ${
      r.validation
        ? problems.length === 0
          ? html`<br /><span class="ok">valid against the profiles</span>`
          : html`<ul class="overdue">
              ${problems.map((p) => html`<li>${p}</li>`)}
            </ul>`
        : ''
    }`;
}

const show = (v: unknown): string => JSON.stringify(v);

function difference(c: RecordComparison | undefined): Html | string {
  switch (c?.outcome) {
    case undefined:
      return '';
    case 'unchanged':
      return 'unchanged';
    case 'newly-rejected':
      return html`<span class="overdue">newly rejected</span>`;
    case 'newly-accepted':
      return html`<span class="ok">newly accepted</span>`;
    case 'changed':
      return html`changed
        <ul>
          ${c.changes
            .slice(0, 30)
            .map(
              (d) =>
                html`<li>
                  <code>${d.path}</code>:
                  ${
                    d.kind === 'added'
                      ? `+ ${show(d.after)}`
                      : d.kind === 'removed'
                        ? `− ${show(d.before)}`
                        : `${show(d.before)} → ${show(d.after)}`
                  }
                </li>`,
            )}
        </ul>`;
  }
}

function results(report: BenchReport): Html {
  const candidate = new Map((report.candidate?.report.records ?? []).map((r) => [r.location, r]));
  const compared = new Map((report.candidate?.comparison.records ?? []).map((r) => [r.location, r]));
  const versions = report.candidate?.comparison;
  return html`${report.active.warnings.map((w) => html`<p class="error">${w}</p>`)}
    ${
      report.candidateProblems?.length
        ? html`<div class="error" role="alert">
            <p>The candidate file cannot be used:</p>
            <ul>
              ${report.candidateProblems.map((p) => html`<li>${p}</li>`)}
            </ul>
          </div>`
        : ''
    }
    <table id="bench-results">
      <caption>
        Each record of the
        sample${
          versions
            ? ` under mappingVersion ${versions.currentVersion} (active) and ${versions.candidateVersion} (candidate)`
            : ''
        }
      </caption>
      <thead>
        <tr>
          <th scope="col">Record</th>
          <th scope="col">Active file</th>
          ${
            report.candidate
              ? html`<th scope="col">Candidate</th>
                  <th scope="col">Difference</th>`
              : ''
          }
        </tr>
      </thead>
      <tbody>
        ${report.active.records.map(
          (r) =>
            html`<tr>
              <th scope="row">${r.location}</th>
              <td>${outcome(r)}</td>
              ${
                report.candidate
                  ? html`<td>${outcome(candidate.get(r.location))}</td>
                      <td>${difference(compared.get(r.location))}</td>`
                  : ''
              }
            </tr>`,
        )}
      </tbody>
    </table>`;
}

/**
 * The mapping test bench: a sample pasted for a partner and format, what the active file would
 * write and reject, and beside it what a candidate file would, before it is activated.
 */
export function mappingBenchPage(v: {
  viewer: Viewer;
  partners: readonly string[];
  formats: readonly string[];
  form: BenchForm;
  report?: BenchReport;
}): string {
  const f = v.form;
  return page({
    title: 'Mapping test bench',
    viewer: v.viewer,
    body: html`<form method="post" action="/ui/mapping-bench">
        <p>
          ${choice('partner', 'Partner', v.partners, f.partner)}
          ${choice('format', 'Format', v.formats, f.format)}
        </p>
        <p>
          <label for="sample">Sample, as the partner sends it</label><br />
          <textarea id="sample" name="sample" rows="10" cols="110" required spellcheck="false">
${f.sample ?? ''}</textarea>
        </p>
        <p>
          <label for="candidate">Candidate partner file (YAML; empty: the active file alone)</label><br />
          <textarea id="candidate" name="candidate" rows="10" cols="110" spellcheck="false">
${f.candidate ?? ''}</textarea>
        </p>
        <p>
          <label
            ><input type="checkbox" name="validate" value="on" ${f.validate ? html` checked` : ''} /> Validate
            each resource against the profiles (the FHIR server's $validate)</label
          >
        </p>
        <button type="submit">Try it</button>
      </form>
      <p class="muted">
        Nothing is written. A binary export (an HMIS zip) is tried with
        <code>npm run hub -- dry-run</code>; a candidate is activated with
        <code>npm run hub -- mapping</code>.
      </p>
      ${v.report ? results(v.report) : ''}`,
  });
}
