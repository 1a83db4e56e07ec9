import type { LoggedMessage, ReplayEdit } from '../ingest/message-log.js';
import type { StoredRejection } from '../ingest/rejected-store.js';
import type { MessageTrace, PlanLeg, RecordTrace } from '../ingest/message-trace.js';
import { html, page, when, type Html, type Viewer } from './html.js';

/** What the search form shows filled in. */
export interface MessageSearch {
  readonly key?: string;
  readonly partner?: string;
  readonly format?: string;
  readonly status?: string;
  readonly from?: string;
  readonly to?: string;
}

const field = (id: string, label: string, value = '', type = 'text'): Html =>
  html`<label for="${id}">${label}</label> <input id="${id}" name="${id}" type="${type}" value="${value}" />`;

const link = (m: LoggedMessage): Html => html`<a href="/ui/messages/${m.id}">${m.partnerId} ${m.format}</a>`;

const counts = (m: LoggedMessage): string =>
  [
    `${m.counts.accepted} accepted`,
    ...(m.counts.rejected ? [`${m.counts.rejected} rejected`] : []),
    ...(m.counts.skipped ? [`${m.counts.skipped} skipped`] : []),
  ].join(', ');

/** The message log: a search by business key, partner, format, status and time, newest first. */
export function messagesPage(v: {
  viewer: Viewer;
  search: MessageSearch;
  messages: readonly LoggedMessage[];
  /** The query string of the next, older page, if there is one. */
  nextQuery?: string;
  /** The engineer's saved searches, and the query string of this one (to save it). */
  saved: ReadonlyArray<{ name: string; query: string }>;
  query: string;
  notice?: string;
  timeZone: string;
}): string {
  const s = v.search;
  return page({
    title: 'Messages',
    viewer: v.viewer,
    body: html`${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ''}
      ${savedSearches(v.saved, v.query)}
      <form method="get" action="/ui/messages" role="search">
        <fieldset>
          <legend>Find messages</legend>
          ${field('key', 'Business key (MSH-10, plan or visit id, PersonalID, identifier, job id)', s.key)}
          ${field('partner', 'Partner', s.partner)} ${field('format', 'Format', s.format)}
          <label for="status">Status</label>
          <select id="status" name="status">
            ${['', 'accepted', 'rejected'].map(
              (o) =>
                html`<option value="${o}" ${o === (s.status ?? '') ? html` selected` : ''}>
                  ${o || 'Any'}
                </option>`,
            )}
          </select>
          ${field('from', 'From', s.from, 'date')} ${field('to', 'Before', s.to, 'date')}
          <button type="submit">Search</button>
        </fieldset>
      </form>
      <table id="messages">
        <caption>
          Inbound messages, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Partner and format</th>
            <th scope="col">Records</th>
            <th scope="col">Their ids</th>
            <th scope="col">Size</th>
            <th scope="col">Received</th>
          </tr>
        </thead>
        <tbody>
          ${v.messages.map(
            (m) =>
              html`<tr>
                <td>${link(m)}${m.replayOf ? html` <span class="muted">(a replay)</span>` : ''}</td>
                <td class="${m.counts.rejected ? 'overdue' : ''}">${counts(m)}</td>
                <td>
                  ${m.records
                    .slice(0, 5)
                    .map((r) => r.sourceId ?? r.location)
                    .join(', ')}${m.records.length > 5 ? ' …' : ''}
                </td>
                <td>${m.bytes} bytes</td>
                <td>${when(m.receivedAt, v.timeZone)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${v.messages.length === 0 ? html`<p>No message matches.</p>` : ''}
      ${v.nextQuery ? html`<p><a href="/ui/messages?${v.nextQuery}">Older messages</a></p>` : ''}
      ${
        v.messages.some((m) => m.counts.rejected > 0 || m.counts.accepted > 0)
          ? html`<form method="post" action="/ui/messages/replay?${v.query}" id="bulk-replay">
              <fieldset>
                <legend>Replay the rejected records of this search's messages</legend>
                <label for="limit">At most</label>
                <input id="limit" name="limit" type="number" min="1" max="1000" value="100" />
                <label for="perSecond">records, a second</label>
                <input id="perSecond" name="perSecond" type="number" min="1" max="50" value="5" />
                <button type="submit">Replay them</button>
              </fieldset>
            </form>`
          : ''
      }`,
  });
}

const STEP_LABEL: Record<string, string> = {
  sent: 'sent',
  delivered: 'delivered',
  received: 'received (acknowledged)',
  accepted: 'accepted',
  completed: 'completed',
  withheld: 'withheld: no consent for Part 2 content',
  superseded: 'superseded by a newer version',
  failed: 'failed (a dead letter)',
};

const delivery = (d: PlanLeg['deliveries'][number], timeZone: string): Html =>
  html`<li>
    <strong>${d.partnerId}</strong>:
    <span class="${d.state === 'failed' || d.state === 'withheld' ? 'overdue' : 'ok'}"
      >${STEP_LABEL[d.state] ?? d.state}</span
    >
    <span class="muted">since ${when(d.since, timeZone)}</span>
    ${
      d.tried
        ? html`<br /><span class="muted"
              >${d.tried.attempts} attempt${d.tried.attempts === 1 ? '' : 's'} (job
              <code>${d.tried.jobId}</code>, ${d.tried.state})</span
            >
            ${
              d.tried.answers.length
                ? html`<ul>
                    ${d.tried.answers.map((a) => html`<li>${a}</li>`)}
                  </ul>`
                : ''
            }`
        : ''
    }
  </li>`;

const recordRow = (r: RecordTrace, timeZone: string): Html =>
  html`<tr>
    <th scope="row">
      ${r.record.location}${
        r.record.sourceId && !r.record.location.includes(r.record.sourceId)
          ? html` <span class="muted">(${r.record.sourceId})</span>`
          : ''
      }
    </th>
    <td class="${r.state === 'rejected' || r.state === 'dead letter' ? 'overdue' : ''}">
      ${r.state}${r.record.jobId ? html`<br /><code>${r.record.jobId}</code>` : ''}
      ${
        r.rejectionId
          ? html`<br /><a href="/ui/rejected/${encodeURIComponent(r.rejectionId)}">Edit and replay</a>`
          : ''
      }
      ${
        r.issues?.length
          ? html`<ul>
              ${r.issues.map((i) => html`<li><code>${i.field}</code>: ${i.message}</li>`)}
            </ul>`
          : ''
      }
    </td>
    <td>
      ${r.patient ? html`<a href="/ui/participants/${r.patient.split('/')[1] ?? ''}">${r.patient}</a><br />` : ''}
      ${(r.written ?? []).filter((w) => w !== r.patient).join(', ')}
    </td>
    <td>
      ${r.plans.map(
        (p) =>
          html`<p>
              <a
                href="/ui/messages?key=${encodeURIComponent(p.carePlan)}"
                title="Every message that wrote this plan"
                >${p.carePlan}</a
              >
              version ${p.version}:
              ${p.deliveries.length === 0 ? html`<span class="muted">no partner entitled to it yet</span>` : ''}
            </p>
            <ul>
              ${p.deliveries.map((d) => delivery(d, timeZone))}
            </ul>`,
      )}
    </td>
  </tr>`;

/** One message across its legs: each record, what it wrote, and each partner's delivery of each plan version. */
export function messagePage(v: { viewer: Viewer; trace: MessageTrace; timeZone: string }): string {
  const m = v.trace.message;
  return page({
    title: `Message from ${m.partnerId}`,
    viewer: v.viewer,
    body: html`<p>
        ${m.format}, ${m.bytes} bytes, received ${when(m.receivedAt, v.timeZone)}: ${counts(m)}.
        <span class="muted">Message id <code>${m.id}</code></span>
      </p>
      ${v.trace.replayOf ? html`<p>A replay of ${link(v.trace.replayOf)} (${when(v.trace.replayOf.receivedAt, v.timeZone)}).</p>` : ''}
      ${m.edit ? editView(m.edit) : ''}
      ${
        m.identity
          ? html`<p id="identity-decision">
              Identity decided by ${m.identity.by}:
              ${
                m.identity.decision.kind === 'same'
                  ? `the same person as Patient/${m.identity.decision.patientId}`
                  : 'a different person, applied as a new participant'
              }
              (${m.identity.reason})
            </p>`
          : ''
      }
      ${
        v.trace.replays.length
          ? html`<p>
              Replayed as:
              ${v.trace.replays.map((r) => html`<a href="/ui/messages/${r.id}">${when(r.receivedAt, v.timeZone)}</a> `)}
            </p>`
          : ''
      }
      <table id="legs">
        <caption>
          Its records across every leg
        </caption>
        <thead>
          <tr>
            <th scope="col">Record</th>
            <th scope="col">Now</th>
            <th scope="col">Participant and what it wrote</th>
            <th scope="col">Plan versions and each partner's delivery</th>
          </tr>
        </thead>
        <tbody>
          ${v.trace.records.map((r) => recordRow(r, v.timeZone))}
        </tbody>
      </table>
      <p class="muted">
        A partner not listed under a plan version was not entitled to it: not on the participant's care team,
        or without an outbound channel.
      </p>
      <p><a href="/ui/messages">Back to the messages</a></p>`,
  });
}

/** An engineer's edit before a replay: who, why, and the lines changed. */
function editView(edit: ReplayEdit): Html {
  return html`<section aria-labelledby="edit-title">
    <h2 id="edit-title">Edited before the replay</h2>
    <p>By ${edit.by}: ${edit.reason}</p>
    <table id="edit-diff" class="diff">
      <caption>
        What changed (− removed, + added)
      </caption>
      <tbody>
        ${edit.diff.map(
          (line) =>
            html`<tr class="${line.kind}">
              <td>${line.kind === 'added' ? '+' : line.kind === 'removed' ? '−' : ''}</td>
              <td><code>${line.text}</code></td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

/** Formats whose stored record an engineer can edit as text (an HMIS export is replayed as a zip). */
const editable = (format: string): boolean => format !== 'hmis-csv';

/** A rejected record: why it was refused, and a form to edit it and replay it, with a reason. */
export function rejectionPage(v: {
  viewer: Viewer;
  rejection: StoredRejection;
  /** The message that carried it, if the log still has it. */
  message?: LoggedMessage;
  timeZone: string;
}): string {
  const r = v.rejection;
  return page({
    title: `Rejected record from ${r.partnerId}`,
    viewer: v.viewer,
    body: html`<p>
        ${r.format}, ${r.location}${r.sourceId ? ` (${r.sourceId})` : ''}, refused
        ${r.stage === 'parse' ? 'by the adapter' : 'by the FHIR server'} ${when(r.rejectedAt, v.timeZone)}.
        ${v.message ? html`It came in <a href="/ui/messages/${v.message.id}">this message</a>.` : ''}
      </p>
      <ul class="error">
        ${r.issues.map((i) => html`<li><code>${i.field}</code>: ${i.message}</li>`)}
      </ul>
      ${
        editable(r.format)
          ? html`<form method="post" action="/ui/rejected/${encodeURIComponent(r.id)}/replay">
              <p>
                <label for="body">The record (edit it, then replay)</label><br />
                <textarea id="body" name="body" rows="14" cols="110" required spellcheck="false">
${r.raw ?? ''}</textarea>
              </p>
              ${r.raw ? '' : html`<p class="muted">The hub keeps no text of this record: paste the corrected one.</p>`}
              <p>
                <label for="reason">Why (kept with the replay and audited)</label><br />
                <input id="reason" name="reason" size="80" required maxlength="500" />
              </p>
              <button type="submit">Replay the edited record</button>
            </form>`
          : html`<p>
              An HMIS export is replayed as a whole zip:
              <code>POST /admin/rejected/${r.id}/replay</code> with the corrected export as the body.
            </p>`
      }`,
  });
}

/** The engineer's saved searches as links, each with a way to forget it, and a form to save this one. */
function savedSearches(saved: ReadonlyArray<{ name: string; query: string }>, query: string): Html {
  return html`<nav aria-label="Saved searches" id="saved-searches">
    ${
      saved.length
        ? html`<ul>
            ${saved.map(
              (x) =>
                html`<li>
                  <a href="/ui/messages?${x.query}">${x.name}</a>
                  <form method="post" action="/ui/messages/saved/delete" class="inline">
                    <input type="hidden" name="name" value="${x.name}" />
                    <button type="submit" aria-label="Forget ${x.name}">Forget</button>
                  </form>
                </li>`,
            )}
          </ul>`
        : ''
    }
    ${
      query
        ? html`<form method="post" action="/ui/messages/saved">
            <input type="hidden" name="query" value="${query}" />
            <label for="saved-name">Save this search as</label>
            <input id="saved-name" name="name" maxlength="80" required />
            <button type="submit">Save</button>
          </form>`
        : ''
    }
  </nav>`;
}
