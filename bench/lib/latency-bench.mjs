// (b) Plan-change-to-delivery latency. A pool of participants, each with a service plan from the
// HCBS provider (sunrise-hcbs) and a shared CareTeam naming k receiving partners (bench-r01..),
// so that every new plan version goes to exactly k partners (the changing partner is not sent its
// own change). Plan changes arrive through the hub (POST /ingest/sunrise-hcbs/service-plan) at a
// fixed rate, round-robin over the pool; each changes the weekly hours, a change that alters
// delivery (so each recipient also gets an acknowledgment Task, as in production).
// Measured per delivery: version written (the CarePlan's meta.lastUpdated, stamped by the FHIR
// server) -> webhook received at the partner; and ingest POST -> received. Stage timings come
// from the BullMQ jobs in Redis (plan-changes job, deliveries-<partner> job).
import { RECEIVERS } from './config-dirs.mjs';
import { IDENTIFIER_BASE, newPerson, servicePlan } from './samples.mjs';
import { sleep, summarize, waitFor } from './stats.mjs';

async function fhirJson(url, init = {}) {
  const res = await globalThis.fetch(url, {
    ...init,
    headers: { accept: 'application/fhir+json', 'content-type': 'application/fhir+json', ...init.headers },
  });
  const text = await res.text();
  if (res.status >= 300) {
    throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${text.slice(0, 300)}`);
  }
  return JSON.parse(text);
}

async function postPlans(hubUrl, plans, wait) {
  const res = await globalThis.fetch(
    `${hubUrl}/ingest/sunrise-hcbs/service-plan${wait ? `?wait=${wait}` : ''}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ plans }) },
  );
  return { status: res.status, outcome: await res.json().catch(() => ({})) };
}

/** `size` participants whose plan changes go to `fanout` receiving partners. */
export async function setupPool({ hubUrl, fhirBaseUrl, queues, size, fanout }) {
  const people = Array.from({ length: size }, newPerson);
  const { status, outcome } = await postPlans(
    hubUrl,
    people.map((p) => servicePlan(p, 1)),
    60,
  );
  if (status !== 200) {
    throw new Error(
      `pool set-up: service plans answered ${status}: ${JSON.stringify(outcome).slice(0, 400)}`,
    );
  }
  const applied = (outcome.issue ?? []).map((i) => ({
    patient: /Patient\/([^,\s]+)/.exec(i.diagnostics ?? '')?.[1],
    carePlan: /CarePlan\/([^,\s]+)/.exec(i.diagnostics ?? '')?.[1],
  }));
  const pool = [];
  for (const [i, person] of people.entries()) {
    const { patient, carePlan } = applied[i] ?? {};
    if (!patient || !carePlan) {
      throw new Error(`pool set-up: no Patient/CarePlan in ${JSON.stringify(outcome.issue?.[i])}`);
    }
    const system = `${IDENTIFIER_BASE}/sid/hub/care-team`;
    const found = await fhirJson(
      `${fhirBaseUrl}/CareTeam?identifier=${encodeURIComponent(`${system}|${patient}`)}`,
    );
    const team = found.entry?.[0]?.resource;
    if (!team) {
      throw new Error(`pool set-up: no shared CareTeam for Patient/${patient}`);
    }
    team.participant = [
      ...(team.participant ?? []),
      ...RECEIVERS.slice(0, fanout).map((id) => ({
        role: [
          {
            coding: [
              { system: `${IDENTIFIER_BASE}/fhir/CodeSystem/hub-care-team-role`, code: 'care-manager' },
            ],
          },
        ],
        member: { reference: `Organization/${id}` },
      })),
    ];
    await fhirJson(`${fhirBaseUrl}/CareTeam/${team.id}`, { method: 'PUT', body: JSON.stringify(team) });
    pool.push({ person, patient, carePlan, revision: 1 });
  }
  await queues.waitIdle();
  return { fanout, members: pool };
}

/** One cell: `rate` plan changes per second for `durationS` seconds over `pool`. */
export async function runLatencyCell({ hubUrl, receiver, queues, pool, rate, durationS }) {
  const byPlan = new Map(pool.members.map((m) => [m.carePlan, m]));
  const expected = new Map();
  const received = [];
  const listener = (d) => {
    if (byPlan.has(d.carePlanId)) {
      received.push(d);
    }
  };
  receiver.listeners.add(listener);
  const changes = Math.max(1, Math.round(rate * durationS));
  const posts = [];
  const postFailures = [];
  const t0 = Date.now() + 50;
  for (let i = 0; i < changes; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) {
      await sleep(wait);
    }
    const member = pool.members[i % pool.members.length];
    member.revision++;
    const key = `${member.carePlan}|${member.revision}`;
    const postedAt = Date.now();
    expected.set(key, { postedAt, scheduledAt: due });
    posts.push(
      postPlans(hubUrl, [servicePlan(member.person, member.revision)]).then(
        ({ status, outcome }) => {
          if (status !== 202) {
            postFailures.push(`${status} ${JSON.stringify(outcome).slice(0, 200)}`);
          }
        },
        (err) => postFailures.push(err.message),
      ),
    );
  }
  const lastPostAt = Date.now();
  await Promise.all(posts);
  const want = changes * pool.fanout;
  let complete = true;
  await waitFor(() => received.length >= want, {
    timeoutMs: 120000,
    intervalMs: 100,
    what: 'deliveries',
  }).catch(() => {
    complete = false;
  });
  const drainMs = await queues.waitIdle();
  receiver.listeners.delete(listener);

  const samples = [];
  const seen = new Set();
  let duplicates = 0;
  let unexpected = 0;
  for (const d of received) {
    const key = `${d.carePlanId}|${d.version}`;
    const e = expected.get(key);
    if (!e) {
      unexpected++;
      continue;
    }
    if (seen.has(`${key}|${d.partnerId}`)) {
      duplicates++;
      continue;
    }
    seen.add(`${key}|${d.partnerId}`);
    samples.push({ ...d, postedAt: e.postedAt });
  }
  const stages = await stageTimings(queues, samples);
  // A version not received is either superseded (the partner already had a newer one) or missing.
  let superseded = 0;
  const missingStates = {};
  for (const key of expected.keys()) {
    const [carePlanId, version] = key.split('|');
    for (const partnerId of RECEIVERS.slice(0, pool.fanout)) {
      if (seen.has(`${key}|${partnerId}`)) {
        continue;
      }
      const job = await queues
        .queue(`deliveries-${partnerId}`)
        .getJob(`delivery.${partnerId}.${carePlanId}.${version}`);
      if (job?.returnvalue?.status === 'superseded') {
        superseded++;
      } else {
        const state = job ? await job.getState() : 'no delivery job';
        missingStates[state] = (missingStates[state] ?? 0) + 1;
      }
    }
  }
  return {
    rate,
    fanout: pool.fanout,
    durationS,
    planChanges: changes,
    postLagMs: lastPostAt - (t0 + ((changes - 1) * 1000) / rate),
    expectedDeliveries: want,
    delivered: samples.length,
    missing: want - samples.length - superseded,
    missingStates,
    superseded,
    duplicates,
    unexpected,
    complete,
    postFailures: postFailures.length,
    firstPostFailure: postFailures[0],
    drainMs,
    writtenToDeliveredMs: summarize(samples.map((s) => s.receivedAt - s.lastUpdated).filter(Number.isFinite)),
    postedToDeliveredMs: summarize(samples.map((s) => s.receivedAt - s.postedAt)),
    // From the hub's own write answering (its plan-change job queued at once) to the partner.
    answeredToDeliveredMs: stages.answeredToDelivered,
    stagesMs: stages.summary,
  };
}

/** Where a delivery's time went, from the jobs' timestamps (all on the same machine's clock). */
async function stageTimings(queues, samples) {
  const parts = {
    'ingest POST -> version written': [],
    'version written -> plan-change queued': [],
    'plan-change wait': [],
    'plan-change job start -> deliveries queued (capture)': [],
    'plan-change job (diff, Provenance, notice, ack Tasks, fan-out)': [],
    'delivery queued -> delivery job start': [],
    'delivery job start -> partner received': [],
    'partner received -> delivery job done': [],
  };
  const answered = [];
  const planJobs = new Map();
  for (const s of samples) {
    let plan = planJobs.get(`${s.carePlanId}|${s.version}`);
    if (!plan) {
      plan = await queues.queue('plan-changes').getJob(`careplan.${s.carePlanId}.${s.version}`);
      planJobs.set(`${s.carePlanId}|${s.version}`, plan);
    }
    const delivery = await queues
      .queue(`deliveries-${s.partnerId}`)
      ?.getJob(`delivery.${s.partnerId}.${s.carePlanId}.${s.version}`);
    parts['ingest POST -> version written'].push(s.lastUpdated - s.postedAt);
    if (plan) {
      parts['version written -> plan-change queued'].push(plan.timestamp - s.lastUpdated);
      parts['plan-change wait'].push(plan.processedOn - plan.timestamp);
      parts['plan-change job (diff, Provenance, notice, ack Tasks, fan-out)'].push(
        plan.finishedOn - plan.processedOn,
      );
    }
    if (plan) {
      answered.push(s.receivedAt - plan.timestamp);
    }
    if (plan && delivery) {
      parts['plan-change job start -> deliveries queued (capture)'].push(
        delivery.timestamp - plan.processedOn,
      );
    }
    if (delivery) {
      parts['delivery queued -> delivery job start'].push(delivery.processedOn - delivery.timestamp);
      parts['delivery job start -> partner received'].push(s.receivedAt - delivery.processedOn);
      if (delivery.finishedOn) {
        parts['partner received -> delivery job done'].push(delivery.finishedOn - s.receivedAt);
      }
    }
  }
  const summary = Object.fromEntries(
    Object.entries(parts).map(([k, v]) => [k, summarize(v.filter(Number.isFinite))]),
  );
  return { summary, answeredToDelivered: summarize(answered.filter(Number.isFinite)) };
}
