import type { Communication, HumanName, Identifier, Patient } from 'fhir/r4.js';
import type { StoredRejection } from '../ingest/rejected-store.js';
import type { MappedRecord } from '../mappers/types.js';
import { html, page, when, type Html, type Viewer } from './html.js';

/** A record held for an identity conflict, beside the participants its identifiers point at. */
export interface IdentityCase {
  readonly rejection: StoredRejection;
  readonly participant?: MappedRecord['participant'];
  readonly matches: readonly Patient[];
}

const nameOf = (names: readonly HumanName[] | undefined): string =>
  (names ?? []).map((n) => [...(n.given ?? []), n.family].filter(Boolean).join(' ')).join('; ');

const same = (a: Identifier, b: Identifier): boolean => a.system === b.system && a.value === b.value;

/** An identifier, its system shortened to its last part, marked when the other side holds it too. */
const identifierList = (ids: readonly Identifier[], other: readonly Identifier[]): Html =>
  html`<ul>
    ${ids.map(
      (i) =>
        html`<li class="${other.some((o) => same(o, i)) ? 'overdue' : ''}">
          <span class="muted" title="${i.system ?? ''}">${(i.system ?? '').split('/').pop()}</span> ${i.value}
        </li>`,
    )}
  </ul>`;

function caseView(c: IdentityCase, timeZone: string): Html {
  const r = c.rejection;
  const mine = c.participant?.identifiers ?? [];
  const held = c.matches.flatMap((p) => p.identifier ?? []);
  const disputed = mine.map((i, n) => ({ i, n })).filter(({ i }) => held.some((h) => same(h, i)));
  return html`<section class="identity-case" aria-labelledby="case-${r.id}">
    <h2 id="case-${r.id}">${r.partnerId}: ${r.location}</h2>
    <p>Held ${when(r.rejectedAt, timeZone)}: ${r.issues.map((i) => i.message).join('; ')}</p>
    <table>
      <caption>
        The record beside the participants it points at (shared identifiers marked)
      </caption>
      <thead>
        <tr>
          <th scope="col"></th>
          <th scope="col">This record</th>
          ${c.matches.map(
            (p) => html`<th scope="col"><a href="/ui/participants/${p.id ?? ''}">Patient/${p.id}</a></th>`,
          )}
        </tr>
      </thead>
      <tbody>
        <tr>
          <th scope="row">Identifiers</th>
          <td>${identifierList(mine, held)}</td>
          ${c.matches.map((p) => html`<td>${identifierList(p.identifier ?? [], mine)}</td>`)}
        </tr>
        <tr>
          <th scope="row">Name</th>
          <td>${nameOf(c.participant?.demographics?.name)}</td>
          ${c.matches.map((p) => html`<td>${nameOf(p.name)}</td>`)}
        </tr>
        <tr>
          <th scope="row">Birth date</th>
          <td>${c.participant?.demographics?.birthDate ?? ''}</td>
          ${c.matches.map((p) => html`<td>${p.birthDate ?? ''}</td>`)}
        </tr>
      </tbody>
    </table>
    <form method="post" action="/ui/identities/${encodeURIComponent(r.id)}">
      <fieldset>
        <legend>Decision</legend>
        ${c.matches.map(
          (p) =>
            html`<label
                ><input type="radio" name="decision" value="same:${p.id ?? ''}" required /> The same person as
                Patient/${p.id}: link and apply</label
              ><br />`,
        )}
        <label
          ><input type="radio" name="decision" value="different" /> A different person: apply as a new
          participant</label
        ><br />
        ${disputed.map(
          ({ i, n }) =>
            html`<label for="correct-${n}-${r.id}"
                >Corrected ${(i.system ?? '').split('/').pop()} (empty: kept marked as disputed)</label
              >
              <input id="correct-${n}-${r.id}" name="correct-${n}" /><br />`,
        )}
        <label><input type="radio" name="decision" value="discard" /> Discard the record</label>
      </fieldset>
      <p>
        <label for="reason-${r.id}">Why (audited)</label>
        <input id="reason-${r.id}" name="reason" size="80" maxlength="500" required />
      </p>
      <button type="submit">Decide</button>
    </form>
  </section>`;
}

/** The identity review: records held for an identity conflict, each with its decision form. */
export function identitiesPage(v: {
  viewer: Viewer;
  cases: readonly IdentityCase[];
  /** Recent merge notices (HL7 A40s, and "same person" decisions that merged two participants). */
  merges: readonly Communication[];
  notice?: string;
  timeZone: string;
}): string {
  return page({
    title: 'Identity review',
    viewer: v.viewer,
    body: html`${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ''}
      ${v.cases.length === 0 ? html`<p>No record is held for an identity conflict.</p>` : ''}
      ${v.cases.map((c) => caseView(c, v.timeZone))}
      <table id="merges">
        <caption>
          Recent merges (HL7 A40 and this review), newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What</th>
          </tr>
        </thead>
        <tbody>
          ${v.merges.map(
            (m) =>
              html`<tr>
                <td>${when(m.sent, v.timeZone)}</td>
                <td>${m.payload?.[0]?.contentString ?? ''}</td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  });
}
