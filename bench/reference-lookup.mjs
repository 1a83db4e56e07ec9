// What a transaction's references cost HAPI on H2 as the database fills.
//
// Before a transaction's writes HAPI looks up every resource it references by id, in one query.
// With two or more references that query is an OR of (type, id) pairs, which H2 answered by reading
// the whole resource table until fhir-server/ rewrote it (fhir-server/README.md, "Database"). This
// starts a HAPI server of its own on H2 in a temporary folder (FHIR_PORT 8092), and times
// transactions writing one Flag with one reference (a single pair, always served from the index:
// the baseline) and with two, alternating, on the empty database and again after adding
// `resources` Basic resources. Two references should cost about what one does at any size.
//
//   node bench/reference-lookup.mjs [resources=100000] [transactions=300]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from './lib/stats.mjs';

const resources = Number(process.argv[2] ?? 100000);
const transactions = Number(process.argv[3] ?? 300);
const port = Number(process.env.FHIR_PORT ?? 8092);
const base = `http://127.0.0.1:${port}/fhir`;
const hapi = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fhir-server', 'bin', 'hapi');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-reference-lookup-'));
const env = { ...process.env, FHIR_PORT: String(port), FHIR_DATA_DIR: dataDir };

async function fhir(method, url, body) {
  const res = await globalThis.fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  }
}

function flagTransaction(references) {
  const flag = {
    resourceType: 'Flag',
    status: 'active',
    code: { text: 'bench' },
    subject: { reference: 'Patient/bench-patient' },
    ...(references > 1 ? { author: { reference: 'Organization/bench-org' } } : {}),
  };
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ resource: flag, request: { method: 'POST', url: 'Flag' } }],
  };
}

async function measure(label) {
  const times = { 1: [], 2: [] };
  for (let i = 0; i < transactions + 40; i++) {
    const references = (i % 2) + 1;
    const started = globalThis.performance.now();
    await fhir('POST', '', flagTransaction(references));
    if (i >= 40) {
      times[references].push(globalThis.performance.now() - started);
    }
  }
  const [one, two] = [summarize(times[1]), summarize(times[2])];
  console.log(
    `| ${label} | ${one.p50} / ${one.p95} | ${two.p50} / ${two.p95} | ${(two.p50 / one.p50).toFixed(2)} |`,
  );
}

async function seed(count) {
  const perTransaction = 500;
  for (let done = 0; done < count; done += perTransaction * 2) {
    await Promise.all(
      [0, 1].map((k) =>
        fhir('POST', '', {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: Array.from({ length: perTransaction }, (_, j) => ({
            resource: { resourceType: 'Basic', code: { text: `seed-${done + k * perTransaction + j}` } },
            request: { method: 'POST', url: 'Basic' },
          })),
        }),
      ),
    );
  }
}

try {
  execFileSync('bash', [hapi, 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  execFileSync('bash', [hapi, 'wait', '400'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  await fhir('PUT', '/Patient/bench-patient', { resourceType: 'Patient', id: 'bench-patient' });
  await fhir('PUT', '/Organization/bench-org', {
    resourceType: 'Organization',
    id: 'bench-org',
    name: 'Bench',
  });
  console.log(
    `\nOne Flag per transaction, ${transactions} transactions per row alternating one and two references; ms\n`,
  );
  console.log('| resources stored | 1 reference p50 / p95 | 2 references p50 / p95 | 2 / 1 at p50 |');
  console.log('| --- | --: | --: | --: |');
  await measure('about 0');
  await seed(resources);
  await measure(String(resources));
} finally {
  execFileSync('bash', [hapi, 'stop'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  rmSync(dataDir, { recursive: true, force: true });
}
