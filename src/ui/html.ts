/**
 * HTML for the hub's pages, rendered on the server. Pages are server-rendered on purpose: they
 * work without JavaScript (forms post and redirect), are accessible by construction (semantic
 * elements, labels, tables with headers), and need no build step beyond `tsc`, so `npm start`
 * serves them. Every interpolated value is escaped unless it is already {@link Html}, so data from
 * the FHIR server or a partner can never become markup.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Html) {
    return value.value;
  }
  if (Array.isArray(value)) {
    return value.map(render).join('');
  }
  if (value === undefined || value === null || value === false) {
    return '';
  }
  if (typeof value === 'string') {
    return escapeHtml(value);
  }
  return escapeHtml(
    typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value),
  );
}

/** Tagged template: `html\`<p>${text}</p>\`` escapes `text`; nested `html` and arrays of it stay markup. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]) : ''), ''));
}

/** A date-time for people: `2026-11-22 14:05 UTC`, in the hub's time zone when given. */
export function when(iso: string | undefined, timeZone = 'UTC'): string {
  if (!iso) {
    return '';
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return iso;
  }
  return `${d.toLocaleString('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })} ${timeZone === 'UTC' ? 'UTC' : ''}`.trim();
}

export interface Viewer {
  readonly username: string;
  readonly role: string;
}

const STYLE = `
:root { --fg:#1b1b1b; --bg:#fff; --muted:#4a4a4a; --line:#c8c8c8; --accent:#0b4f8a; --warn:#8a1c00; --ok:#1d5e20; }
* { box-sizing: border-box; }
body { font: 16px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus, textarea:focus, summary:focus { outline: 3px solid #f0a500; outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; z-index: 2; }
header { background: var(--accent); color: #fff; padding: 8px 16px; display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }
header a { color: #fff; font-weight: 600; } header nav ul { list-style: none; display: flex; gap: 16px; margin: 0; padding: 0; }
header form { margin-left: auto; } main { padding: 16px; max-width: 1320px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 20px; } caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; } th { background: #eef2f6; }
.overdue { color: var(--warn); font-weight: 600; } .ok { color: var(--ok); } .muted { color: var(--muted); }
.flag { display: inline-block; border: 1px solid var(--warn); color: var(--warn); border-radius: 4px; padding: 0 6px; margin: 1px 4px 1px 0; font-size: 14px; }
fieldset { border: 1px solid var(--line); margin: 12px 0; } label { display: inline-block; margin: 4px 12px 4px 0; }
button { background: var(--accent); color: #fff; border: 0; padding: 6px 14px; border-radius: 4px; font: inherit; cursor: pointer; }
.notice { border-left: 4px solid var(--accent); background: #eef2f6; padding: 8px 12px; }
.error { border-left: 4px solid var(--warn); background: #fbeeea; padding: 8px 12px; }
form.inline { display: inline; } tr.added { background: #e9f5ea; } tr.removed { background: #fbeeea; } .diff code { white-space: pre-wrap; overflow-wrap: anywhere; }
figure { margin: 8px 0 20px; } svg text { font: 13px system-ui, sans-serif; fill: var(--fg); }
@media print { header, form, .skip { display: none; } }
`;

/** A whole page: skip link, navigation, who is signed in, the content in `<main>`. */
export function page(opts: { title: string; viewer?: Viewer; body: Html; live?: string }): string {
  const nav = html`<nav aria-label="Pages">
    <ul>
      <li><a href="/ui/roster">Huddle roster</a></li>
      <li><a href="/ui/evidence">Evidence</a></li>
      <li><a href="/ui/operations">Operations</a></li>
      <li><a href="/ui/messages">Messages</a></li>
      <li><a href="/ui/identities">Identity review</a></li>
      <li><a href="/ui/mapping-bench">Mapping bench</a></li>
      <li><a href="/ui/throughput">Throughput</a></li>
    </ul>
  </nav>`;
  const who = opts.viewer
    ? html`<form method="post" action="/ui/logout">
        <span>${opts.viewer.username} (${opts.viewer.role})</span> <button type="submit">Sign out</button>
      </form>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · Care coordination hub</title><style>${new Html(STYLE)}</style>
${opts.live ? html`<script src="/ui/assets/live.js" defer></script>` : ''}</head>
<body${opts.live ? html` data-live="${opts.live}"` : ''}><a class="skip" href="#main">Skip to content</a>
<header><span>Care coordination hub</span>${opts.viewer ? nav : ''}${who}</header>
<main id="main" tabindex="-1"><h1>${opts.title}</h1>${opts.body}</main></body></html>`.value;
}
