// Feeds every file of a folder to a running hub and prints, per file, what became of it.
//
//   npm run try-samples -- <folder> [--hub http://127.0.0.1:3000] [--json]
//
// The format and sending partner come from the file (the demo partners, `npm start`):
//   *.hl7, *.txt           HL7 v2                 -> northside-bh  hl7v2-adt
//   *.json, *.xml (FHIR)   a message Bundle       -> northside-bh  fhir-message
//                          any other resource     -> northside-bh  fhir-transaction
//   a folder with Export.csv (HUD HMIS CSV)       -> harbor-housing hmis-csv (zipped here)
// Each is sent with `?wait=60`; the line says applied, partly applied or refused, with the first
// reason the hub gave. Nothing here decides what is right: read the reasons.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import AdmZip from 'adm-zip';

const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const hub = (flag('--hub') ?? process.env.HUB_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const asJson = args.includes('--json') && args.splice(args.indexOf('--json'), 1);
const folder = args[0];
if (!folder) {
  console.error('usage: npm run try-samples -- <folder> [--hub <url>] [--json]');
  process.exit(2);
}

/** Every sample under `dir`: files, and HMIS export folders as one sample each. */
function samples(dir) {
  const names = readdirSync(dir).sort();
  if (names.includes('Export.csv')) {
    return [{ path: dir, kind: 'hmis' }];
  }
  return names.flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      return samples(full);
    }
    if (/\.(hl7|txt)$/i.test(name)) {
      return [{ path: full, kind: 'hl7' }];
    }
    if (/\.(json|xml)$/i.test(name)) {
      return [{ path: full, kind: 'fhir' }];
    }
    if (/\.csv$/i.test(name)) {
      return [{ path: full, kind: 'csv' }];
    }
    return [];
  });
}

/** Where a sample goes: partner, format, content type and body. */
function request(sample) {
  if (sample.kind === 'hmis') {
    const zip = new AdmZip();
    for (const name of readdirSync(sample.path).filter((n) => n.endsWith('.csv'))) {
      zip.addFile(name, readFileSync(path.join(sample.path, name)));
    }
    return { partner: 'harbor-housing', format: 'hmis-csv', type: 'application/zip', body: zip.toBuffer() };
  }
  const body = readFileSync(sample.path);
  if (sample.kind === 'hl7') {
    return { partner: 'northside-bh', format: 'hl7v2-adt', type: 'application/hl7-v2', body };
  }
  if (sample.kind === 'csv') {
    // A lone CSV: an HMIS file outside its export, zipped alone (the hub needs Export.csv beside it).
    const zip = new AdmZip();
    zip.addFile(path.basename(sample.path), body);
    return { partner: 'harbor-housing', format: 'hmis-csv', type: 'application/zip', body: zip.toBuffer() };
  }
  const text = body.toString('utf8');
  const xml = /\.xml$/i.test(sample.path);
  const message = xml
    ? /<Bundle[\s\S]*?<type\s+value="message"/.test(text)
    : /"type"\s*:\s*"message"/.test(text) && /"resourceType"\s*:\s*"Bundle"/.test(text);
  return {
    partner: 'northside-bh',
    format: message ? 'fhir-message' : 'fhir-transaction',
    type: xml ? 'application/fhir+xml' : 'application/fhir+json',
    body,
  };
}

/** Counts of an OperationOutcome's issues, and the first error's text. */
function summarize(status, answer) {
  const issues = Array.isArray(answer?.issue) ? answer.issue : [];
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  const first = errors[0];
  const reason = first
    ? [first.diagnostics ?? first.details?.text, first.expression?.join(', ')].filter(Boolean).join(' @ ')
    : undefined;
  const verdict =
    status === 200 && errors.length === 0
      ? 'applied'
      : status < 300 && errors.length < issues.length
        ? 'partly applied'
        : status === 202
          ? 'queued (not applied within the wait)'
          : 'refused';
  return { status, verdict, issues: issues.length, errors: errors.length, reason };
}

const rows = [];
for (const sample of samples(folder)) {
  const req = request(sample);
  const url = `${hub}/ingest/${req.partner}/${req.format}?wait=60`;
  let row;
  try {
    const res = await fetch(url, { method: 'POST', body: req.body, headers: { 'content-type': req.type } });
    const text = await res.text();
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = { issue: [{ severity: 'error', diagnostics: text.slice(0, 200) }] };
    }
    row = {
      file: path.relative(folder, sample.path) || path.basename(sample.path),
      format: req.format,
      ...summarize(res.status, answer),
    };
  } catch (err) {
    row = { file: sample.path, format: req.format, status: 0, verdict: 'no answer', reason: err.message };
  }
  rows.push(row);
  if (!asJson) {
    console.log(
      `${row.verdict.padEnd(14)} ${String(row.status).padEnd(4)} ${row.file}  [${row.format}]` +
        (row.reason
          ? `\n${' '.repeat(20)}${row.errors}/${row.issues} issues; first: ${row.reason.slice(0, 300)}`
          : ''),
    );
  }
}
if (asJson) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  const count = (v) => rows.filter((r) => r.verdict === v).length;
  console.log(
    `\n${rows.length} samples: ${count('applied')} applied, ${count('partly applied')} partly applied, ` +
      `${count('refused')} refused, ${rows.length - count('applied') - count('partly applied') - count('refused')} other`,
  );
}
