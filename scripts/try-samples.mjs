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
//
// An HMIS export is also checked on the FHIR server (the round trip): every Client.csv row is a
// Patient there or a rejection naming its row, and every Exit.csv and CurrentLivingSituation.csv
// row an Observation or a named rejection; anything else is counted as lost. The server is
// `--fhir` (default FHIR_BASE_URL, else http://127.0.0.1:8080/fhir); identifiers are built on
// IDENTIFIER_BASE as the hub builds them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { parse as parseCsv } from 'csv-parse/sync';

const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const hub = (flag('--hub') ?? process.env.HUB_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const fhirBase = (flag('--fhir') ?? process.env.FHIR_BASE_URL ?? 'http://127.0.0.1:8080/fhir').replace(
  /\/$/,
  '',
);
const identifierBase = (process.env.IDENTIFIER_BASE ?? 'https://carecoord.example.org').replace(/\/$/, '');
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

/** HMIS files checked on the server, with the key column and the identifier the hub writes. */
const ROUND_TRIP = [
  { file: 'Client.csv', key: 'PersonalID', type: 'Patient', recordType: 'hmis-personal-id' },
  { file: 'Exit.csv', key: 'ExitID', type: 'Observation', recordType: 'hmis-exit' },
  {
    file: 'CurrentLivingSituation.csv',
    key: 'CurrentLivingSitID',
    type: 'Observation',
    recordType: 'hmis-current-living-situation',
  },
];

/** Each file's rows: on the server, refused with the row named, or lost. Deleted rows are not counted. */
async function roundTrip(dir, partner, answer) {
  const diagnostics = (Array.isArray(answer?.issue) ? answer.issue : [])
    .filter((i) => i.severity === 'error')
    .map((i) => i.diagnostics ?? '');
  const result = {};
  for (const spec of ROUND_TRIP) {
    const file = path.join(dir, spec.file);
    if (!existsSync(file)) {
      continue;
    }
    const rows = parseCsv(readFileSync(file), { columns: true, bom: true, relax_column_count: true });
    const counts = { rows: 0, onServer: 0, refused: 0, lost: [] };
    for (const [i, row] of rows.entries()) {
      if (row.DateDeleted) {
        continue;
      }
      counts.rows += 1;
      const at = new RegExp(`\\b${spec.file.replace('.', '\\.')} row ${i + 2}\\b`);
      // A row this export refused counts as refused, even if an earlier export wrote the same id.
      if (diagnostics.some((d) => at.test(d))) {
        counts.refused += 1;
        continue;
      }
      const system = `${identifierBase}/sid/${partner}/${spec.recordType}`;
      const found = row[spec.key]
        ? await fetch(
            `${fhirBase}/${spec.type}?identifier=${encodeURIComponent(`${system}|${row[spec.key]}`)}&_summary=count`,
          )
            .then((r) => r.json())
            .then((b) => b.total > 0)
        : false;
      if (found) {
        counts.onServer += 1;
      } else {
        counts.lost.push(`row ${i + 2}`);
      }
    }
    result[spec.file] = counts;
  }
  return result;
}

const rows = [];
for (const sample of samples(folder)) {
  const req = request(sample);
  const url = `${hub}/ingest/${req.partner}/${req.format}?wait=60`;
  let row;
  try {
    const res = await fetch(url, {
      method: 'POST',
      body: req.body,
      headers: { 'content-type': req.type, accept: 'application/fhir+json' },
    });
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
      ...(sample.kind === 'hmis' ? { roundTrip: await roundTrip(sample.path, req.partner, answer) } : {}),
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
    for (const [file, c] of Object.entries(row.roundTrip ?? {})) {
      console.log(
        `${' '.repeat(20)}round trip ${file}: ${c.rows} rows, ${c.onServer} on the server, ` +
          `${c.refused} refused by row, ${c.lost.length} lost${c.lost.length ? ` (${c.lost.join(', ')})` : ''}`,
      );
    }
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
