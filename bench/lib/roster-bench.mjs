// (f) The huddle roster at scale: `count` participants seeded straight into HAPI (a Patient and an
// active hub care team each; a risk Flag on every third, an open Task on every other), then the
// hub's /roster and /ui/roster read again and again, beside the baseline of the same run: the
// full read of the FHIR server every request made before the roster index (buildRoster).
// The seed uses an identifier base of its own, read by a hub process of its own, so no other hub
// (tests, the bench's main hub) sees its care teams; its Tasks are cancelled at the end.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { mapLimit, progress, sleep, summarize } from './stats.mjs';

const PER_BUNDLE = 100;

function seedBundle(codes, base, from, count, dueAt) {
  const entry = [];
  const tasks = [];
  for (let i = from; i < from + count; i++) {
    const patient = `urn:uuid:${randomUUID()}`;
    entry.push({
      fullUrl: patient,
      resource: { resourceType: 'Patient', name: [{ text: `Roster Bench ${i}` }] },
      request: { method: 'POST', url: 'Patient' },
    });
    entry.push({
      resource: {
        resourceType: 'CareTeam',
        status: 'active',
        identifier: [{ system: `${base}/sid/hub/care-team`, value: randomUUID() }],
        subject: { reference: patient },
        participant: [{ member: { reference: 'Organization/sunrise-hcbs' } }],
      },
      request: { method: 'POST', url: 'CareTeam' },
    });
    if (i % 3 === 0) {
      entry.push({
        resource: {
          resourceType: 'Flag',
          status: 'active',
          code: {
            coding: [{ system: codes.riskFlag, code: i % 2 ? 'self-harm-risk' : 'recent-ed-contact' }],
          },
          subject: { reference: patient },
          period: { start: new Date().toISOString() },
        },
        request: { method: 'POST', url: 'Flag' },
      });
    }
    if (i % 2 === 0) {
      const task = {
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        code: { coding: [{ system: codes.taskCode, code: 'documentation-24h' }] },
        for: { reference: patient },
        restriction: { period: { end: dueAt } },
      };
      tasks.push(entry.length);
      entry.push({ resource: task, request: { method: 'POST', url: 'Task' } });
    }
  }
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry }, tasks };
}

async function fhirPost(baseUrl, body) {
  const res = await fetch(baseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    throw new Error(`seeding the roster: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  }
  return res.json();
}

/** Times `reads` GETs of `url` one after another; each must answer 200. Counts what /roster lists. */
async function timeReads(url, reads) {
  const ms = [];
  const listed = new Set();
  let bytes = 0;
  for (let i = 0; i < reads; i++) {
    const started = performance.now();
    const res = await fetch(url);
    const body = await res.text();
    ms.push(performance.now() - started);
    if (res.status !== 200) {
      throw new Error(`GET ${url}: HTTP ${res.status} ${body.slice(0, 200)}`);
    }
    bytes = body.length;
    if (body.startsWith('{')) {
      listed.add(JSON.parse(body).entries.length);
    }
  }
  return { ...summarize(ms), bytes, listed: [...listed] };
}

/**
 * @param {{ dist: (p: string) => Promise<any>, fhirBaseUrl: string, hub: { url: string },
 *   identifierBase: string, coordination: any, count: number, reads: number }} o
 */
export async function rosterBench(o) {
  const { CODE_SYSTEM } = await o.dist('fhir/profiles.js');
  const { FhirGateway } = await o.dist('fhir/fhir-gateway.js');
  const { buildRoster } = await o.dist('coordination/roster-service.js');
  const dueAt = new Date(Date.now() + 86_400_000).toISOString();
  const started = Date.now();
  const bundles = [];
  for (let from = 0; from < o.count; from += PER_BUNDLE) {
    bundles.push(
      seedBundle(CODE_SYSTEM, o.identifierBase, from, Math.min(PER_BUNDLE, o.count - from), dueAt),
    );
  }
  const taskIds = (
    await mapLimit(bundles, 2, async ({ bundle, tasks }) => {
      const answer = await fhirPost(o.fhirBaseUrl, bundle);
      return tasks.map((i) => answer.entry[i].response.location.split('/_history')[0]);
    })
  ).flat();
  const seedMs = Date.now() - started;
  progress(`(f) seeded ${o.count} participants in ${seedMs} ms`);
  try {
    const fhir = new FhirGateway({ baseUrl: o.fhirBaseUrl, timeoutMs: 120_000, retry: { retries: 1 } });
    const deps = { fhir, identifierBase: o.identifierBase, config: o.coordination, now: () => new Date() };
    // The first read builds the index (a full read); those after catch up and rank what is kept.
    const t0 = performance.now();
    const first = await fetch(`${o.hub.url}/roster`);
    const firstMs = performance.now() - t0;
    const listed = (await first.json()).entries.length;
    const fullRead = [];
    let fullReadListed = 0;
    for (let i = 0; i < Math.max(3, Math.ceil(o.reads / 10)); i++) {
      const t = performance.now();
      fullReadListed = (await buildRoster(deps)).length;
      fullRead.push(performance.now() - t);
    }
    await sleep(500);
    const api = await timeReads(`${o.hub.url}/roster`, o.reads);
    const page = await timeReads(`${o.hub.url}/ui/roster`, o.reads);
    const agency = await timeReads(`${o.hub.url}/roster?agency=sunrise-hcbs&flag=self-harm-risk`, o.reads);
    // A caller paging the ranked roster (all of it ranked at each read, one part answered).
    const part = await timeReads(`${o.hub.url}/roster?limit=100`, o.reads);
    return {
      participants: o.count,
      listed,
      fullReadListed,
      seedMs,
      firstReadMs: firstMs,
      fullRead: summarize(fullRead),
      api,
      page,
      agency,
      part,
    };
  } finally {
    // Cancelled, so no later roster (of tests on this server) counts the seeded Tasks as open.
    for (let i = 0; i < taskIds.length; i += 500) {
      await fhirPost(o.fhirBaseUrl, {
        resourceType: 'Bundle',
        type: 'batch',
        entry: taskIds.slice(i, i + 500).map((ref) => ({
          request: { method: 'PATCH', url: ref },
          resource: {
            resourceType: 'Parameters',
            parameter: [
              {
                name: 'operation',
                part: [
                  { name: 'type', valueCode: 'replace' },
                  { name: 'path', valueString: 'Task.status' },
                  { name: 'value', valueCode: 'cancelled' },
                ],
              },
            ],
          },
        })),
      });
    }
  }
}
