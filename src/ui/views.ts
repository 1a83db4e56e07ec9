import type { OperationOutcome, Resource } from 'fhir/r4.js';
import type { EvidenceReport } from '../coordination/evidence.js';
import type { ParticipantTimeline, TaskLine } from './participant-timeline.js';
import type { RosterEntry } from '../coordination/roster.rules.js';
import type { StoredRejection } from '../ingest/rejected-store.js';
import type { DeadLetter } from '../queues/dead-letters.js';
import type { AlertRecord } from '../alerts/alert-monitor.js';
import { barChart } from './charts.js';
import { html, page, when, type Html, type Viewer } from './html.js';

export interface Option {
  readonly value: string;
  readonly label: string;
}

const select = (id: string, label: string, options: readonly Option[], chosen = '', any = 'All'): Html =>
  html`<label for="${id}">${label}</label>
    <select id="${id}" name="${id}">
      ${any ? html`<option value="">${any}</option>` : ''}${options.map(
        (o) =>
          html`<option value="${o.value}" ${o.value === chosen ? html` selected` : ''}>${o.label}</option>`,
      )}
    </select>`;

const message = (text: string | undefined, kind: 'notice' | 'error' = 'notice'): Html | string =>
  text ? html`<p class="${kind}" role="status">${text}</p>` : '';

export function loginPage(opts: { next: string; error?: string }): string {
  return page({
    title: 'Sign in',
    body: html`${message(opts.error, 'error')}
      <form method="post" action="/ui/login">
        <input type="hidden" name="next" value="${opts.next}" />
        <p>
          <label for="username">User name</label><br /><input
            id="username"
            name="username"
            autocomplete="username"
            required
          />
        </p>
        <p>
          <label for="password">Password</label><br /><input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
          />
        </p>
        <p><button type="submit">Sign in</button></p>
      </form>
      <p class="muted">
        Staff accounts come from the hub's <code>STAFF_FILE</code>; the roles are coordinator, supervisor,
        engineer and auditor.
      </p>`,
  });
}

export interface RosterView {
  readonly viewer: Viewer;
  readonly entries: readonly RosterEntry[];
  readonly agencies: readonly Option[];
  readonly flags: readonly Option[];
  readonly filter: { agency?: string; flag?: string };
  readonly timeZone: string;
  readonly today: string;
  readonly notice?: string;
  readonly liveUrl: string;
  /** Participants on the roster, shown or not. */
  readonly total: number;
  readonly showAllUrl: string;
}

export function rosterPage(v: RosterView): string {
  const rows = v.entries.map(
    (e) =>
      html`<tr>
        <td>${e.rank}</td>
        <th scope="row"><a href="/ui/participants/${e.patient.split('/')[1]}">${e.name ?? e.patient}</a></th>
        <td>
          ${e.reasons.map((r) => html`<span class="flag" title="${r.sources.join(', ')}">${r.label} (${r.weight})</span>`)}
          <div class="muted">${e.explanation}</div>
        </td>
        <td>${e.coordinator?.display ?? html`<span class="overdue">nobody named</span>`}</td>
        <td>
          ${
            e.nextAction
              ? html`${e.nextAction.code}, ${e.nextAction.owner ?? ''}<br /><span
                    class="${e.nextAction.overdue ? 'overdue' : ''}"
                    >due
                    ${when(e.nextAction.due, v.timeZone)}${e.nextAction.overdue ? ' (overdue)' : ''}</span
                  >`
              : html`<span class="muted">none open</span>`
          }
        </td>
        <td class="${e.overdueAcknowledgments > 0 ? 'overdue' : ''}">${e.overdueAcknowledgments}</td>
        <td class="${e.overdueDocumentation > 0 ? 'overdue' : ''}">${e.overdueDocumentation}</td>
      </tr>`,
  );
  // Names repeat; the reference tells two Robin Smiths apart.
  const participants = v.entries.map((e) => ({
    value: e.patient,
    label: `${e.name ?? ''} (${e.patient})`.trim(),
  }));
  return page({
    title: 'Huddle roster',
    viewer: v.viewer,
    live: v.liveUrl,
    body: html`<p><a href="#record">Go to recording the huddle</a></p>
      ${message(v.notice)}
      <form method="get" action="/ui/roster" aria-label="Filter the roster">
        ${select('agency', 'Agency', v.agencies, v.filter.agency)}
        ${select('flag', 'Flag', v.flags, v.filter.flag)}
        <button type="submit">Filter</button>
      </form>
      <table id="roster">
        <caption>
          Today's participants, highest risk first (${v.entries.length} of ${v.total})
        </caption>
        <thead>
          <tr>
            <th scope="col">Rank</th>
            <th scope="col">Participant</th>
            <th scope="col">Risk flags and why</th>
            <th scope="col">Coordinator today</th>
            <th scope="col">Next action, owner, due</th>
            <th scope="col">Overdue acknowledgments</th>
            <th scope="col">Overdue documentation</th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
      ${
        v.entries.length < v.total
          ? html`<p><a href="${v.showAllUrl}">Show all ${v.total} participants</a></p>`
          : ''
      }
      <h2 id="record" tabindex="-1">Record the huddle</h2>
      <form method="post" action="/ui/huddles" aria-labelledby="record">
        <fieldset>
          <legend>Who attended</legend>
          ${v.agencies.map(
            (a) =>
              html`<p>
                <input type="checkbox" id="attended-${a.value}" name="attended" value="${a.value}" />
                <label for="attended-${a.value}">${a.label}</label>
                <label for="attendee-${a.value}">Name</label>
                <input id="attendee-${a.value}" name="attendee-${a.value}" maxlength="200" />
              </p>`,
          )}
        </fieldset>
        <fieldset>
          <legend>Decision</legend>
          ${select('participant', 'Participant', participants, '', '')}
          <p>
            <label for="decision">Decision</label><br /><textarea
              id="decision"
              name="decision"
              rows="2"
              cols="70"
              maxlength="2000"
              required
            ></textarea>
          </p>
          ${select('owner', 'Owning agency', v.agencies, '', '')}
          <label for="due">Due</label> <input id="due" name="due" type="datetime-local" required />
        </fieldset>
        <input type="hidden" name="date" value="${v.today}" />
        <p><button type="submit">Record huddle and decision</button></p>
      </form>`,
  });
}

function tasksTable(caption: string, tasks: readonly TaskLine[], timeZone: string): Html {
  if (tasks.length === 0) {
    return html`<p class="muted">${caption}: none.</p>`;
  }
  return html`<table>
    <caption>
      ${caption}
    </caption>
    <thead>
      <tr>
        <th scope="col">What</th>
        <th scope="col">Owner</th>
        <th scope="col">Due</th>
        <th scope="col">Status</th>
      </tr>
    </thead>
    <tbody>
      ${tasks.map(
        (t) =>
          html`<tr>
            <td><strong>${t.code}</strong>: ${t.description}</td>
            <td>${t.owner}</td>
            <td class="${t.overdue ? 'overdue' : ''}">
              ${when(t.due, timeZone)}${t.overdue ? ' (overdue)' : ''}
            </td>
            <td>${t.status}${t.timeliness ? `, ${t.timeliness}` : ''}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function timelinePage(v: { viewer: Viewer; timeline: ParticipantTimeline; timeZone: string }): string {
  const t = v.timeline;
  const tz = v.timeZone;
  return page({
    title: t.patient.name,
    viewer: v.viewer,
    body: html`<p>
        <a href="/ui/participants/${t.patient.id}/copy">The participant's copy of their record</a>
      </p>
      <h2>Shared plan</h2>
      ${t.plans.map(
        (p) =>
          html`<section aria-label="${p.title}">
            <h3>${p.title}</h3>
            <table class="versions">
              <caption>
                Versions, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">When, who, why</th>
                  <th scope="col">What changed</th>
                  <th scope="col">Partners</th>
                </tr>
              </thead>
              <tbody>
                ${p.versions.map(
                  (ver) =>
                    html`<tr>
                      <th scope="row">${ver.version}</th>
                      <td>
                        ${when(ver.at, tz)}<br />${ver.author ?? ''}<br /><span class="muted"
                          >${ver.reason ?? ''}</span
                        >
                      </td>
                      <td class="diff">
                        ${ver.changes}${
                          ver.control
                            ? html`<div class="notice">
                                Change control: ${ver.control.whatChanged ?? ''}; risks:
                                ${ver.control.risks.join('; ')}; controls:
                                ${ver.control.controls.map((c) => `${c.description ?? ''} (${c.owner?.reference ?? ''})`).join('; ')}
                              </div>`
                            : ''
                        }
                      </td>
                      <td>
                        <ul>
                          ${ver.deliveries.map(
                            (d) =>
                              html`<li>${d.partnerId}: <strong>${d.state}</strong> ${when(d.since, tz)}</li>`,
                          )}
                        </ul>
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </section>`,
      )}
      ${tasksTable('Open tasks', t.openTasks, tz)} ${tasksTable('Post-discharge sprint', t.sprint, tz)}
      ${tasksTable('Huddle decisions', t.huddleActions, tz)} ${noticeList('Escalations', t.escalations, tz)}
      ${noticeList('Referrals', t.referralUpdates, tz)}`,
  });
}

/** A dated list of notices under its heading, or "None.". */
function noticeList(title: string, notices: readonly { at?: string; text: string }[], tz: string): Html {
  return html`<h2>${title}</h2>
    ${
      notices.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<ul>
            ${notices.map((e) => html`<li>${when(e.at, tz)}: ${e.text}</li>`)}
          </ul>`
    }`;
}

/** One resource for people: what it is, its dates and words, then the record itself. */
function resourceBlock(r: Resource): Html {
  const fields = r as unknown as Record<string, unknown>;
  const words = ['title', 'description', 'status', 'intent', 'authoredOn', 'sent', 'recorded', 'lastModified']
    .filter((k) => typeof fields[k] === 'string')
    .map(
      (k) =>
        html`<dt>${k}</dt>
          <dd>${fields[k] as string}</dd>`,
    );
  const payload = (fields.payload as Array<{ contentString?: string }> | undefined)
    ?.map((p) => p.contentString)
    .filter(Boolean);
  const code = (fields.code as { text?: string; coding?: Array<{ code?: string }> } | undefined) ?? undefined;
  return html`<article>
    <h3>${r.resourceType} ${r.id}</h3>
    <dl>
      ${words}
      ${
        code
          ? html`<dt>code</dt>
              <dd>${code.text ?? code.coding?.map((c) => c.code).join(', ')}</dd>`
          : ''
      }
      ${
        payload?.length
          ? html`<dt>content</dt>
              <dd>${payload.join(' / ')}</dd>`
          : ''
      }
      <dt>last changed</dt>
      <dd>${r.meta?.lastUpdated ?? ''} (version ${r.meta?.versionId ?? ''})</dd>
    </dl>
    <details>
      <summary>The full record</summary>
      <pre>${JSON.stringify(r, null, 2)}</pre>
    </details>
  </article>`;
}

export function copyPage(v: {
  viewer: Viewer;
  name: string;
  resources: readonly Resource[];
  generatedAt: string;
}): string {
  const byType = new Map<string, Resource[]>();
  for (const r of v.resources) {
    byType.set(r.resourceType, [...(byType.get(r.resourceType) ?? []), r]);
  }
  return page({
    title: `Record of ${v.name}`,
    viewer: v.viewer,
    body: html`<p class="notice">
        A complete copy of everything the shared record holds about ${v.name}, made ${v.generatedAt} for the
        participant at their request. Every copy is logged. Print it or save it as PDF from the browser.
      </p>
      <p>
        ${v.resources.length} records:
        ${[...byType].map(([type, list]) => `${type} ${list.length}`).join(', ')}.
      </p>
      ${[...byType].map(
        ([type, list]) =>
          html`<section>
            <h2>${type} (${list.length})</h2>
            ${list.map(resourceBlock)}
          </section>`,
      )}`,
  });
}

export function evidencePage(v: {
  viewer: Viewer;
  report: EvidenceReport;
  agencies: readonly Option[];
  csvUrl: string;
}): string {
  const r = v.report;
  const timeliness = r.timeliness.filter((t) => t.total > 0);
  return page({
    title: 'Coordination evidence',
    viewer: v.viewer,
    body: html`<form method="get" action="/ui/evidence" aria-label="Period and agency">
        <label for="from">From</label>
        <input id="from" name="from" type="date" value="${r.period.from}" required />
        <label for="to">Until (not included)</label>
        <input id="to" name="to" type="date" value="${r.period.to}" required />
        ${select('agency', 'Agency', v.agencies, r.agency)} <button type="submit">Show</button>
      </form>
      <p>
        <a href="${v.csvUrl}" download>Download as CSV</a>
        <span class="muted">(every download is logged)</span>
      </p>
      <h2>Huddle rhythm</h2>
      ${barChart('huddles', 'Huddles and their actions', [
        { label: 'Huddles held', value: r.huddles.held },
        { label: 'Mean attendance', value: r.huddles.meanAttendance },
        { label: 'Actions decided', value: r.huddles.actionsOpened },
        { label: 'Actions closed', value: r.huddles.actionsClosed },
        { label: 'Closed on time', value: r.huddles.actionsClosedOnTime },
      ])}
      <h2>Timeliness</h2>
      ${barChart(
        'on-time',
        'Obligations done on time (of all due)',
        timeliness.map((t) => ({
          label: t.label,
          value: t.total === 0 ? 0 : Math.round((t.onTime / t.total) * 100),
        })),
        '%',
      )}
      <table>
        <caption>
          Obligations by kind
        </caption>
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">All</th>
            <th scope="col">On time</th>
            <th scope="col">Late</th>
            <th scope="col">Overdue</th>
            <th scope="col">Refused by participant</th>
            <th scope="col">Open</th>
            <th scope="col">Hours to close (p50 / p90)</th>
          </tr>
        </thead>
        <tbody>
          ${r.timeliness.map(
            (t) =>
              html`<tr>
                <th scope="row">${t.label}</th>
                <td>${t.total}</td>
                <td>${t.onTime}</td>
                <td>${t.late}</td>
                <td>${t.overdue}</td>
                <td>${t.refused}</td>
                <td>${t.open}</td>
                <td>${t.latencyHours ? `${t.latencyHours.p50} / ${t.latencyHours.p90}` : ''}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${barChart(
        'ack-latency',
        'Acknowledgment latency',
        (r.timeliness.find((t) => t.id === 'acknowledgment')?.histogram ?? []).map((h) => ({
          label: h.bucket,
          value: h.count,
        })),
      )}
      <h2>Escalations</h2>
      ${barChart('escalations', 'Escalations used as designed and ad hoc', [
        { label: 'As designed (configured trigger)', value: r.escalations.asDesigned },
        { label: 'Ad hoc', value: r.escalations.adHoc },
        ...r.escalations.byTrigger.map((e) => ({ label: `trigger: ${e.trigger}`, value: e.count })),
      ])}
      <h2>Documentation within 24 hours and update quality</h2>
      ${barChart('documentation', 'Documentation and crisis updates', [
        { label: 'Documentation due', value: r.documentation.due },
        { label: 'Within 24 hours', value: r.documentation.within24h },
        { label: 'Late', value: r.documentation.late },
        { label: 'Overdue', value: r.documentation.overdue },
        { label: 'Crisis updates owed', value: r.updateQuality.updates },
        { label: 'Timely', value: r.updateQuality.timely },
        { label: 'Complete', value: r.updateQuality.complete },
      ])}
      <h2>Recurring coordination failures</h2>
      ${
        r.recurringFailures.length === 0
          ? html`<p class="muted">None in this period.</p>`
          : html`<table>
              <caption>
                Missed twice or more by the same agency
              </caption>
              <thead>
                <tr>
                  <th scope="col">Obligation</th>
                  <th scope="col">Agency</th>
                  <th scope="col">Times</th>
                  <th scope="col">Participants</th>
                </tr>
              </thead>
              <tbody>
                ${r.recurringFailures.map(
                  (f) =>
                    html`<tr>
                      <td>${f.kind}</td>
                      <td>${f.agency}</td>
                      <td>${f.count}</td>
                      <td>${f.participants}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h2>By agency</h2>
      <table>
        <caption>
          Obligations by owning agency
        </caption>
        <thead>
          <tr>
            <th scope="col">Agency</th>
            <th scope="col">Obligations</th>
            <th scope="col">On time</th>
            <th scope="col">Late</th>
            <th scope="col">Overdue</th>
          </tr>
        </thead>
        <tbody>
          ${r.byAgency.map(
            (a) =>
              html`<tr>
                <th scope="row">${a.agency}</th>
                <td>${a.obligations}</td>
                <td>${a.onTime}</td>
                <td>${a.late}</td>
                <td>${a.overdue}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <p class="muted">
        How each number is counted: see <code>src/coordination/evidence.ts</code>. Generated ${r.generatedAt}.
      </p>`,
  });
}

export interface PartnerHealth {
  readonly id: string;
  readonly name: string;
  readonly transport?: string;
  readonly circuitOpen: boolean;
  readonly queue?: Record<string, number>;
}

export function operationsPage(v: {
  viewer: Viewer;
  alerts: { readonly active: readonly AlertRecord[]; readonly history: readonly AlertRecord[] };
  partners: readonly PartnerHealth[];
  deadLetters: readonly DeadLetter[];
  rejected: readonly StoredRejection[];
  /** The cursor of the next, older page of rejections, if there is one. */
  rejectedNext?: string;
  notice?: string;
  timeZone: string;
}): string {
  return page({
    title: 'Operations',
    viewer: v.viewer,
    body: html`${message(v.notice)}
      <p>Queues in detail: <a href="/admin/queues">queue dashboard</a>.</p>
      ${alertsTable(v.alerts, v.timeZone)}
      <table>
        <caption>
          Partners and their health
        </caption>
        <thead>
          <tr>
            <th scope="col">Partner</th>
            <th scope="col">Outbound</th>
            <th scope="col">Circuit</th>
            <th scope="col">Waiting</th>
            <th scope="col">Retrying</th>
            <th scope="col">Failed</th>
          </tr>
        </thead>
        <tbody>
          ${v.partners.map(
            (p) =>
              html`<tr>
                <th scope="row">${p.name} <span class="muted">(${p.id})</span></th>
                <td>${p.transport ?? 'none'}</td>
                <td class="${p.circuitOpen ? 'overdue' : 'ok'}">
                  ${p.transport ? (p.circuitOpen ? 'open: deliveries held' : 'closed') : ''}
                </td>
                <td>${p.queue?.waiting ?? ''}</td>
                <td>${p.queue?.delayed ?? ''}</td>
                <td class="${(p.queue?.failed ?? 0) > 0 ? 'overdue' : ''}">${p.queue?.failed ?? ''}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <table id="dead-letters">
        <caption>
          Dead letters (${v.deadLetters.length})
        </caption>
        <thead>
          <tr>
            <th scope="col">Queue and job</th>
            <th scope="col">Why it failed</th>
            <th scope="col">When</th>
            <th scope="col">Replay</th>
          </tr>
        </thead>
        <tbody>
          ${v.deadLetters.map(
            (d) =>
              html`<tr>
                <td>${d.queue}<br /><code>${d.jobId}</code></td>
                <td>${d.failedReason} <span class="muted">(${d.attemptsMade} attempts)</span></td>
                <td>${when(d.failedAt, v.timeZone)}</td>
                <td>
                  <form
                    method="post"
                    action="/ui/operations/dead-letters/${encodeURIComponent(d.queue)}/${encodeURIComponent(d.jobId)}/replay"
                  >
                    <button type="submit" aria-label="Replay ${d.jobId}">Replay</button>
                  </form>
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      <table>
        <caption>
          Rejected inbound records, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Partner and record</th>
            <th scope="col">Errors</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          ${v.rejected.map(
            (r) =>
              html`<tr>
                <td>
                  ${r.partnerId} ${r.format}<br />${r.location}${r.sourceId ? ` (${r.sourceId})` : ''}<br /><a
                    href="/ui/rejected/${encodeURIComponent(r.id)}"
                    >Edit and replay</a
                  >
                </td>
                <td>
                  <ul>
                    ${r.issues.map((i) => html`<li><code>${i.field}</code>: ${i.message}</li>`)}
                  </ul>
                </td>
                <td>${when(r.rejectedAt, v.timeZone)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${
        v.rejectedNext
          ? html`<p>
              <a href="/ui/operations?${new URLSearchParams({ before: v.rejectedNext }).toString()}"
                >Older rejections</a
              >
            </p>`
          : ''
      }`,
  });
}

/** An error on the staff pages: what went wrong, naming each field, and a way back. */
export function errorPage(status: number, outcome: OperationOutcome): string {
  return page({
    title: status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'That did not work',
    body: html`<div class="error" role="alert">
        <ul>
          ${outcome.issue.map(
            (i) =>
              html`<li>
                ${i.expression?.length ? html`<code>${i.expression.join(', ')}</code>: ` : ''}${i.diagnostics ?? i.code}
              </li>`,
          )}
        </ul>
      </div>
      <p><a href="/ui/roster">Back to the roster</a> · go back in the browser to correct the form.</p>`,
  });
}

/** Alerts raised and not cleared, then the recent raises and clearings. */
function alertsTable(
  alerts: { readonly active: readonly AlertRecord[]; readonly history: readonly AlertRecord[] },
  timeZone: string,
): Html {
  const row = (a: AlertRecord, state: string): Html =>
    html`<tr>
      <td class="${state === 'raised' ? 'overdue' : 'ok'}">${state}</td>
      <td>${a.summary} <span class="muted">(${a.key})</span></td>
      <td>${when(a.raisedAt, timeZone)}</td>
      <td>${a.clearedAt ? when(a.clearedAt, timeZone) : ''}</td>
    </tr>`;
  return html`<table id="alerts">
    <caption>
      Alerts (${alerts.active.length} raised)
    </caption>
    <thead>
      <tr>
        <th scope="col">State</th>
        <th scope="col">What</th>
        <th scope="col">Raised</th>
        <th scope="col">Cleared</th>
      </tr>
    </thead>
    <tbody>
      ${alerts.active.map((a) => row(a, 'raised'))}
      ${alerts.history
        .filter((a) => a.clearedAt)
        .slice(0, 20)
        .map((a) => row(a, 'cleared'))}
    </tbody>
  </table>`;
}
