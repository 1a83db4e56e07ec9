// The floor for ingest: the same FHIR resources the hub writes for a record, POSTed straight to
// the FHIR server as one transaction per record, at the hub's concurrency. Records are parsed and
// mapped with the hub's own adapters and mappers (dist/ingest/format-registry.js), and each
// transaction holds what the hub's writer puts in its one: the participant (conditional create
// on its first identifier), every mapped resource as a conditional update on its identifier,
// the shared CareTeam with the record's members, and a Provenance naming the partner and record.
// What the floor leaves out is exactly the hub's overhead: HTTP ingest, queueing in Redis, the
// participant search, the CareTeam read, the coordination guard, and what follows a write.
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { mapLimit, summarize } from './stats.mjs';

const PARTICIPANT_REF = 'urn:hub:participant';

function replaceRefs(value, from, to) {
  return JSON.parse(JSON.stringify(value, (_k, v) => (v === from ? to : v)));
}

/** One transaction Bundle per accepted record of `bodies` (already generated request bodies). */
export async function rawTransactions(dist, partners, format, partnerId, bodies, identifierBase) {
  const { defaultFormats } = await dist('ingest/format-registry.js');
  const { hubIdentifier, tokenOf } = await dist('fhir/hub-identifiers.js');
  const { CODE_SYSTEM } = await dist('fhir/profiles.js');
  const handler = defaultFormats()[format];
  const partner = partners.get(partnerId);
  const bundles = [];
  for (const { body } of bodies) {
    const parsed = handler.parse(body, partner);
    for (const r of parsed.accepted) {
      const mapped = handler.map(r.record, { partner, identifierBase });
      const patientUrl = `urn:uuid:${randomUUID()}`;
      const usable = mapped.participant.identifiers.filter((i) => i.system && i.value);
      const first = usable[0];
      const entries = mapped.writes.map((w) => ({
        fullUrl: w.fullUrl,
        resource: replaceRefs(w.resource, PARTICIPANT_REF, patientUrl),
        request: { method: 'PUT', url: `${w.resource.resourceType}?identifier=${tokenOf(w.identifier)}` },
      }));
      const members = mapped.careTeamMembers ?? [];
      if (members.length > 0) {
        const id = hubIdentifier(identifierBase, 'care-team', randomUUID());
        entries.push({
          resource: {
            resourceType: 'CareTeam',
            identifier: [id],
            name: 'Shared care team',
            status: 'active',
            subject: { reference: patientUrl },
            participant: members.map((m) => ({
              role: [{ coding: [{ system: CODE_SYSTEM.careTeamRole, code: m.role }] }],
              member: m.member,
              ...(m.period ? { period: m.period } : {}),
            })),
          },
          request: { method: 'PUT', url: `CareTeam?identifier=${tokenOf(id)}` },
        });
      }
      const provenanceId = `prov-${createHash('sha256')
        .update([partnerId, format, r.sourceId, randomUUID()].join('|'))
        .digest('hex')
        .slice(0, 40)}`;
      entries.push({
        resource: {
          resourceType: 'Provenance',
          id: provenanceId,
          target: entries.map((e) => ({ reference: e.fullUrl ?? e.request.url })),
          recorded: new Date().toISOString(),
          activity: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE' }],
          },
          agent: [
            {
              type: {
                coding: [
                  {
                    system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
                    code: 'author',
                  },
                ],
              },
              who: { reference: `Organization/${partnerId}` },
            },
          ],
          entity: [
            {
              role: 'source',
              what: {
                identifier: { system: `${identifierBase}/sid/${partnerId}/${format}`, value: r.sourceId },
                display: `${format} ${r.location}`,
              },
            },
          ],
        },
        request: { method: 'PUT', url: `Provenance/${provenanceId}` },
      });
      entries.unshift({
        fullUrl: patientUrl,
        resource: { ...mapped.participant.demographics, resourceType: 'Patient', identifier: usable },
        request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${first.system}|${first.value}` },
      });
      bundles.push({ resourceType: 'Bundle', type: 'transaction', entry: entries });
    }
  }
  return bundles;
}

/** POSTs the bundles with `concurrency` at once; records/second, latency, failures. */
export async function postTransactions(baseUrl, bundles, concurrency) {
  const latencies = [];
  const failures = [];
  const start = performance.now();
  await mapLimit(bundles, concurrency, async (bundle) => {
    const t = performance.now();
    const res = await globalThis.fetch(baseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
      body: JSON.stringify(bundle),
    });
    const text = await res.text();
    latencies.push(performance.now() - t);
    if (res.status >= 300) {
      failures.push(`${res.status} ${text.slice(0, 300)}`);
    }
  });
  const elapsedMs = performance.now() - start;
  return {
    records: bundles.length,
    elapsedMs: Math.round(elapsedMs),
    recordsPerSecond: bundles.length / (elapsedMs / 1000),
    transactionMs: summarize(latencies),
    failed: failures.length,
    firstFailure: failures[0],
  };
}
