import { Queue } from 'bullmq';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CarePlan, Encounter, Task } from 'fhir/r4.js';
import type { FhirGateway } from '../../src/fhir/fhir-gateway.js';
import { removeSubscriptions } from '../../src/fhir/subscriptions.js';
import { sendMllp } from '../../src/mllp/mllp-server.js';
import { deliveryJobId, deliveryQueueName } from '../../src/routing/deliveries.queue.js';
import { INGEST_QUEUE } from '../../src/ingest/ingest.queue.js';
import { PLAN_CHANGES_QUEUE } from '../../src/routing/plan-changes.queue.js';
import { SUBSCRIPTIONS_QUEUE } from '../../src/subscriptions/subscriptions.queue.js';
import { TOPICS } from '../../src/subscriptions/topics.js';
import { ackTaskIdentifier } from '../../src/routing/acknowledge.js';
import { messageIdFor } from '../../src/routing/deliver-plan-change.js';
import { runHapiScript } from '../../src/startup/local-fhir-server.js';
import {
  adt,
  evvCsv,
  evvRow,
  hmisZip,
  IDENTIFIER_BASE,
  newPerson,
  servicePlan,
  type Person,
} from '../fixtures/ingest/samples.js';
import { partnerDir } from '../support/config-dirs.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { PartnerServer, type Received } from '../support/partner-server.js';
import { fhirBaseUrl, freePort, REPO_ROOT, testGateway, unique } from '../support/test-env.js';
import { createRedisConnection } from '../../src/queues/connection.js';
import { queueKeyPrefix } from '../../src/queues/queue-factory.js';
import { RedisClusterServers } from '../support/redis-cluster.js';
import { HubProcess, RedisServer, sleep, waitUntil, type FaultRedis } from './processes.js';

/** How much of everything: the short form runs in `npm test`, the long one from `npm run test:faults`. */
export interface FaultScale {
  readonly name: string;
  readonly participants: number;
  /** Plan versions (and EVV visits) sent per participant after the set-up. */
  readonly rounds: number;
  readonly hubProcesses: number;
  /** Rounds after which a hub process is killed with SIGKILL and started again. */
  readonly killAfterRounds: readonly number[];
  /** Rounds after which Redis is killed and started again. */
  readonly redisRestartAfterRounds: readonly number[];
  /** Rounds after which a hub process is stopped with SIGTERM (graceful) and started again. */
  readonly stopAfterRounds: readonly number[];
  /** Rounds after which one plan is changed by a direct write to the FHIR server (the capture path). */
  readonly directWriteAfterRounds: readonly number[];
  /** Rounds after which the FHIR server goes away for `fhirOutageMs`. */
  readonly fhirOutageAfterRounds: readonly number[];
  readonly fhirOutageMs: number;
  /** Stop the real HAPI server (bin/hapi stop/start) instead of cutting its connection. */
  readonly realFhirRestart: boolean;
  readonly jobLockMs: number;
  /**
   * INGEST_ATTEMPTS of the hub processes: shortened, a FHIR outage outlasts the retry budget, the
   * records of that round become dead letters, and the sender's resend must take them up again.
   */
  readonly ingestAttempts?: number;
  /** How long the whole run may take to settle after the last round. */
  readonly settleMs: number;
}

export const SHORT: FaultScale = {
  name: 'short',
  participants: 4,
  rounds: 6,
  hubProcesses: 2,
  killAfterRounds: [1, 4],
  stopAfterRounds: [5],
  directWriteAfterRounds: [2, 5],
  redisRestartAfterRounds: [2],
  fhirOutageAfterRounds: [3],
  fhirOutageMs: 6000,
  realFhirRestart: false,
  jobLockMs: 3000,
  // A record hit by the outage and several 503s can be in a 30-60 s backoff when the stream ends.
  settleMs: 180000,
};

export const LONG: FaultScale = {
  name: 'long',
  participants: 12,
  rounds: 20,
  hubProcesses: 3,
  killAfterRounds: [1, 3, 5, 8, 11, 14, 17],
  stopAfterRounds: [6, 13, 19],
  directWriteAfterRounds: [2, 6, 9, 15],
  redisRestartAfterRounds: [4, 12],
  fhirOutageAfterRounds: [7, 16],
  fhirOutageMs: 15000,
  realFhirRestart: true,
  jobLockMs: 5000,
  ingestAttempts: 4,
  settleMs: 600000,
};

/** The counts the run prints and the test asserts on. */
export interface FaultReport {
  readonly scale: string;
  readonly injected: {
    readonly hubKills: number;
    readonly redisRestarts: number;
    readonly fhirOutages: number;
    /** Rounds the sender sent again because they were not applied (after a long outage). */
    readonly resentRounds: number;
    /** Hub processes stopped gracefully (SIGTERM) while working. */
    readonly hubStops: number;
    /** Plan versions written to the FHIR server directly (the capture path). */
    readonly directWrites: number;
    /** Older plan versions resent after the newer one in the same batch. */
    readonly reorderedPlans: number;
    /** ADT messages sent over MLLP reusing a control id with new content. */
    readonly mllpReusedControlIds: number;
    /** HAPI requests answered 503 by the proxy. */
    readonly status503: number;
    readonly partnerFailures: { readonly status500: number; readonly dropped: number; readonly late: number };
  };
  readonly records: {
    readonly accepted: number;
    readonly onFhirOnce: number;
    readonly lost: number;
    readonly duplicated: number;
    readonly deadLettered: number;
  };
  /** Admissions (A01 over MLLP) each followed by its discharge (A03). */
  readonly admissions: {
    readonly sent: number;
    readonly finished: number;
    readonly notFinished: number;
    readonly missing: number;
  };
  readonly deliveries: {
    readonly expected: number;
    readonly deliveredOnce: number;
    /** Sent again after the partner had answered 200, where the hub may not have seen that answer (it came late, or a hub process or Redis crashed in between). */
    readonly resentUnseen: number;
    readonly superseded: number;
    readonly deadLettered: number;
    readonly lost: number;
    /** Raw receipts at the partners of a message it had already answered 200 in time, with no hub or Redis away in between. */
    readonly duplicated: number;
    readonly outOfOrder: number;
    /** Partners whose last applied version of a plan is not its newest (the refused plan aside). */
    readonly notOnLatest: number;
  };
  /**
   * The subscriber (northside-bh, by topic-based subscription): its numbered events, counted from
   * the raw receipts at its endpoint.
   */
  readonly subscription: {
    /** Events the hub numbered (`events-since-subscription-start`). */
    readonly events: number;
    /** Plan versions of the stream that must be among the events, and those that are not. */
    readonly expectedFocus: number;
    readonly missingFocus: number;
    /** Event numbers never answered 200 by the subscriber. */
    readonly lost: number;
    /** Receipts of an event already answered 200 in time, with no hub or Redis away in between. */
    readonly duplicated: number;
    readonly resentUnseen: number;
    /** Events first received after a higher-numbered one. */
    readonly outOfOrder: number;
  };
  readonly acknowledgmentTasks: {
    readonly expected: number;
    readonly matching: number;
    readonly missing: number;
    readonly duplicated: number;
  };
  readonly problems: readonly string[];
  /** What the hubs logged that bears on the problems (none when there are none). */
  readonly hubLog: readonly string[];
}

/** A killed hub process or Redis: gone at `from`, back at `to` (ms since the epoch). */
interface Away {
  readonly from: number;
  readonly to: number;
}

const SENDER = 'sunrise-hcbs';
/** HMIS living situation 410 (rental, no subsidy): enrolled while housed, so no housing-loss review blocks the plan. */
const RENTING = '410';
const RECIPIENTS = ['northside-bh', 'harbor-housing'] as const;
/** One participant whose plan versions harbor-housing refuses outright: those are dead letters. */
const REFUSED = 0;
/** How long a sender waits for its round to be applied before it sends it all again. */
const RESEND_AFTER_MS = 30_000;

interface Stream {
  readonly people: Person[];
  readonly planIds: Map<string, string>;
  /** Records the hub accepted: plan versions by participant tag, visit ids. */
  readonly acceptedPlans: Map<string, number[]>;
  readonly acceptedVisits: string[];
  /** Visits admitted (A01 over MLLP, reusing one control id) and then discharged (A03 over HTTP). */
  readonly admissions: string[];
  /** Plan versions written straight to the FHIR server, not through the hub. */
  readonly directWrites: Array<{ readonly tag: string; readonly version: string }>;
}

/**
 * Pushes a stream of plan versions and EVV visits through a group of hub processes while faults
 * are injected (hub processes killed, Redis killed, the FHIR server away, partners failing), then
 * checks the outcome against what the hub accepted. See test/faults/README.md.
 */
export async function runFaultScenario(scale: FaultScale, log: (line: string) => void): Promise<FaultReport> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const problems: string[] = [];
  const failures = { status500: 0, dropped: 0, late: 0 };
  /**
   * When a killed hub process or Redis was away: from the moment the kill had finished until it
   * was back. A 200 that arrives in that window may never be recorded (Redis could not take the
   * delivered mark; the sender had died), so a resend after it is one at-least-once allows.
   */
  const away: Away[] = [];
  try {
    // FAULT_REDIS_CLUSTER=1: a three-master Redis Cluster (README "Redis Cluster") instead of one server.
    const redis: FaultRedis =
      process.env.FAULT_REDIS_CLUSTER === '1'
        ? await RedisClusterServers.onFreePorts()
        : new RedisServer(await freePort());
    await redis.start();
    cleanups.push(() => redis.stop());

    const proxy = new FaultProxy(fhirBaseUrl());
    const proxiedFhir = await proxy.start();
    cleanups.push(() => proxy.stop());
    const fhir = testGateway(fhirBaseUrl(), 4);

    // Partners: northside answers 500 to every 5th request, drops every 7th connection and
    // accepts every 9th only after the hub stopped waiting; harbor refuses one participant's plan
    // outright (422: a dead letter) and accepts the rest.
    const northside = new PartnerServer('fhir-message');
    const harbor = new PartnerServer('fhir-message');
    let refusedPlan = '';
    northside.script = (n) => {
      if (n % 5 === 0) {
        failures.status500++;
        return { status: 500 };
      }
      if (n % 7 === 0) {
        failures.dropped++;
        return 'drop';
      }
      if (n % 9 === 0) {
        failures.late++;
        return { acceptAfterMs: 2500 };
      }
      return undefined;
    };
    harbor.script = (_n, body) =>
      refusedPlan && body.includes(`CarePlan/${refusedPlan}`)
        ? { status: 422, body: '{"error":"unknown program"}' }
        : undefined;
    const outbound = (url: string) => (p: { outbound: Record<string, unknown> }) => {
      p.outbound = {
        ...p.outbound,
        url,
        timeoutMs: 1000,
        maxAttempts: 12,
        backoffMs: 250,
        circuit: { failureThreshold: 50, windowMs: 10000, cooldownMs: 500 },
      };
    };
    const northsideUrl = await northside.start();
    const partners = partnerDir({
      'northside-bh': outbound(northsideUrl),
      'harbor-housing': outbound(await harbor.start()),
      'sunrise-hcbs': (p: Record<string, unknown>) => delete p.outbound,
    });
    cleanups.push(
      () => northside.stop(),
      () => harbor.stop(),
    );

    const prefix = `{${unique('faults')}}`;
    const ports = await Promise.all(Array.from({ length: scale.hubProcesses }, () => freePort()));
    const env = {
      FHIR_BASE_URL: proxiedFhir,
      FHIR_AUTOSTART: 'false',
      FHIR_TIMEOUT_MS: '5000',
      FHIR_RETRIES: '2',
      REDIS_URL: redis.url,
      REDIS_CLUSTER: String(redis.cluster),
      QUEUE_PREFIX: prefix,
      QUEUE_JOB_LOCK_MS: String(scale.jobLockMs),
      PARTNER_CONFIG_DIR: partners,
      AUTH_REQUIRED: 'false',
      DEMO_INBOX: 'false',
      RATE_LIMIT_PER_MINUTE: '100000',
      // Every delivery attempt is logged at debug: a failing report shows those of its plans.
      LOG_LEVEL: 'debug',
      HUB_PUBLIC_URL: `http://127.0.0.1:${ports[0]}`,
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...(scale.ingestAttempts ? { INGEST_ATTEMPTS: String(scale.ingestAttempts) } : {}),
    };
    const mllpPorts = await Promise.all(ports.map(() => freePort()));
    const hubs = ports.map((port, i) => new HubProcess(`hub-${i + 1}`, port, env, mllpPorts[i]));
    for (const hub of hubs) {
      await hub.start();
    }
    cleanups.push(
      () => removeSubscriptions(fhir, prefix),
      () => Promise.all(hubs.map((h) => h.stop())),
    );
    const logDir = process.env.FAULT_LOG_DIR;
    if (logDir) {
      // Cleanups run last first: the logs are saved once the hubs have stopped.
      cleanups.push(async () => hubs.forEach((h) => h.saveLog(logDir)));
    }
    log(
      `${hubs.length} hub processes, ${redis.cluster ? 'Redis Cluster' : 'Redis'} on ${redis.url} (AOF), FHIR through ${proxiedFhir}`,
    );

    const queueRedis = createRedisConnection(redis, 'worker');
    queueRedis.on('error', () => undefined);
    cleanups.push(async () => queueRedis.disconnect());
    const queue = (name: string): Queue => {
      const q = new Queue(name, {
        connection: queueRedis,
        prefix: queueKeyPrefix(prefix, name, redis.cluster),
      });
      // Redis is restarted on purpose: the views reconnect, nothing to report.
      q.on('error', () => undefined);
      cleanups.push(() => q.close());
      return q;
    };
    const ingestQueue = queue(INGEST_QUEUE);
    const deliveryQueues = new Map(RECIPIENTS.map((id) => [id, queue(deliveryQueueName(id))]));
    const allQueues = [
      ingestQueue,
      queue(PLAN_CHANGES_QUEUE),
      ...deliveryQueues.values(),
      queue(SUBSCRIPTIONS_QUEUE),
    ];
    // When the run does not settle, say where things stand before giving up.
    const diagnosed = async (wait: () => Promise<void>): Promise<void> => {
      try {
        await wait();
      } catch (err) {
        for (const q of allQueues) {
          const counts = await q.getJobCounts();
          // Failed jobs, and jobs still retrying (delayed), with why their last attempt failed.
          const stuck = [...(await q.getFailed(0, 3)), ...(await q.getDelayed(0, 3))];
          log(
            `${q.name}: ${JSON.stringify(counts)} ${stuck
              .map(
                (j) =>
                  `${j.id} (${j.attemptsMade} attempts): ${j.failedReason ?? ''} ${j.stacktrace?.at(-1)?.slice(0, 600) ?? ''}`,
              )
              .join(' | ')}`,
          );
        }
        for (const hub of hubs) {
          log(
            `${hub.name} (${hub.running ? 'running' : 'down'}) errors: ${hub.logged(40).slice(-8).join('\n')}`,
          );
        }
        throw err;
      }
    };

    // The hub to send to: any that is up (a client retries on another replica).
    let next = 0;
    const post = async (path: string, body: string | Buffer, contentType: string): Promise<Response> => {
      for (let attempt = 0; ; attempt++) {
        const hub = hubs[next++ % hubs.length]!;
        if (!hub.running) {
          continue;
        }
        try {
          const res = await fetch(`${hub.url}${path}`, {
            method: 'POST',
            body,
            headers: { 'content-type': contentType },
          });
          if (res.status < 500 || attempt > 40) {
            return res;
          }
        } catch (err) {
          if (attempt > 40) {
            throw err;
          }
        }
        await sleep(500);
      }
    };

    // An MLLP sender fails over to another hub when one does not answer, as an interface engine does.
    const sendOverMllp = async (message: string): Promise<string> => {
      for (let attempt = 0; ; attempt++) {
        const hub = hubs[next++ % hubs.length]!;
        if (hub.running) {
          try {
            return await sendMllp('127.0.0.1', hub.mllpPort, message, 10000);
          } catch (err) {
            if (attempt > 40) {
              throw err;
            }
          }
        }
        await sleep(250);
      }
    };
    const accepted = (res: Response) => res.status === 202 || res.status === 200;

    // Set-up: each participant's first plan version from the HCBS provider, an admission from the
    // BH clinic and an enrolment at the housing program put all three agencies on the care team.
    const stream: Stream = {
      people: [],
      planIds: new Map(),
      acceptedPlans: new Map(),
      acceptedVisits: [],
      admissions: [],
      directWrites: [],
    };
    for (let i = 0; i < scale.participants; i++) {
      stream.people.push(newPerson());
    }
    const plan = (p: Person, round: number) => ({
      ...servicePlan(p),
      planVersion: String(round),
      services: [
        {
          ...(servicePlan(p).services as Array<Record<string, unknown>>)[0],
          serviceUnitQuantity: 10 + round,
        },
      ],
    });
    const mustApply = async (what: string, res: Response): Promise<void> => {
      if (res.status !== 200) {
        throw new Error(`set-up ${what}: ${res.status} ${await res.text()}`);
      }
    };
    await mustApply(
      'plans',
      await post(
        `/ingest/${SENDER}/service-plan?wait=60`,
        JSON.stringify({ plans: stream.people.map((p) => plan(p, 1)) }),
        'application/json',
      ),
    );
    for (const p of stream.people) {
      await mustApply(
        'admission',
        await post(
          '/ingest/northside-bh/hl7v2-adt?wait=60',
          adt(p, { trigger: 'A01', controlId: `C${p.tag}`, visitNumber: `V${p.tag}` }),
          'application/hl7-v2',
        ),
      );
      await mustApply(
        'housing enrolment',
        await post('/ingest/harbor-housing/hmis-csv?wait=60', hmisZip(p, RENTING), 'application/zip'),
      );
      const [carePlan] = await fhir.search<CarePlan>('CarePlan', { identifier: `SP-${p.tag}` });
      if (!carePlan?.id) {
        throw new Error(`set-up: no CarePlan for SP-${p.tag}`);
      }
      stream.planIds.set(p.tag, carePlan.id);
      stream.acceptedPlans.set(p.tag, []);
    }
    refusedPlan = stream.planIds.get(stream.people[REFUSED]!.tag)!;
    // northside-bh also follows every plan by subscription (issue 20); its endpoint fails as its
    // delivery endpoint does, and the checks count its events from what the endpoint received.
    const subscribed = await fetch(`${hubs[0]!.url}/fhir/Subscription`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', 'x-partner-id': 'northside-bh' },
      body: JSON.stringify({
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'fault run',
        criteria: TOPICS.carePlanChanged,
        channel: { type: 'rest-hook', endpoint: `${new URL(northsideUrl).origin}/notify` },
      }),
    });
    if (subscribed.status !== 201) {
      throw new Error(`set-up subscription: ${subscribed.status} ${await subscribed.text()}`);
    }
    const subscriptionId = ((await subscribed.json()) as { id: string }).id;
    log(`set up ${stream.people.length} participants`);

    // The stream: every round, a new plan version and a visit for every participant, then the
    // faults of that round while the hub is working on it. Senders' habits come with it: the
    // previous version is resent after the new one in the same batch; one participant is admitted
    // over MLLP by an engine whose control-id counter was reset (every round reuses `1`) and
    // discharged right after over HTTP; and HAPI answers a few requests 503 meanwhile.
    let fhirOutages = 0;
    const injected = { reorderedPlans: 0, status503: 0, mllpReusedIds: 0, stops: 0 };
    // One round's traffic. A sender that sees its round not applied after a while sends it all
    // again, as senders do after an outage (`again`): the hub must take up what became a dead
    // letter and ignore what it already has.
    const sendRound = async (round: number, again: boolean): Promise<void> => {
      const visits = stream.people.map((p) => `VIS-${p.tag}-${round}`);
      if (!again) {
        proxy.inject(...Array.from({ length: 3 }, () => ({ kind: 'status', status: 503 }) as const));
        injected.status503 += 3;
      }
      const plans = await post(
        `/ingest/${SENDER}/service-plan`,
        JSON.stringify({
          plans: [
            ...stream.people.map((p) => plan(p, round)),
            ...stream.people.map((p) => plan(p, round - 1)),
          ],
        }),
        'application/json',
      );
      if (again) {
        // counted once
      } else if (accepted(plans)) {
        stream.people.forEach((p) => stream.acceptedPlans.get(p.tag)!.push(round));
        injected.reorderedPlans += stream.people.length;
      } else {
        problems.push(`round ${round}: plans answered ${plans.status} ${await plans.text()}`);
      }
      const admitted = stream.people[round % stream.people.length]!;
      const admission = `ADM-${admitted.tag}-${round}`;
      const day = `202505${String(round).padStart(2, '0')}`;
      const ack = await sendOverMllp(
        adt(admitted, { trigger: 'A01', controlId: '1', visitNumber: admission, eventAt: `${day}080000` }),
      );
      injected.mllpReusedIds += again ? 0 : 1;
      const discharge = await post(
        '/ingest/northside-bh/hl7v2-adt',
        adt(admitted, {
          trigger: 'A03',
          controlId: `D-${admission}`,
          visitNumber: admission,
          eventAt: `${day}160000`,
          dischargeAt: `${day}155500`,
        }),
        'application/hl7-v2',
      );
      if (again) {
        // counted once
      } else if (ack.includes('|AA|') && accepted(discharge)) {
        stream.admissions.push(admission);
      } else {
        problems.push(
          `round ${round}: admission ACK ${ack.replaceAll('\r', ' ')}, discharge ${discharge.status}`,
        );
      }
      const evv = await post(
        `/ingest/${SENDER}/evv-csv`,
        evvCsv(
          ...stream.people.map((p, i) =>
            evvRow(p, visits[i]!, 'COMPLETED', `2025-04-${String(round).padStart(2, '0')}`, true),
          ),
        ),
        'text/csv',
      );
      if (again) {
        // counted once
      } else if (accepted(evv)) {
        stream.acceptedVisits.push(...visits);
      } else {
        problems.push(`round ${round}: visits answered ${evv.status} ${await evv.text()}`);
      }
    };
    let resentRounds = 0;
    for (let round = 2; round <= scale.rounds + 1; round++) {
      await sendRound(round, false);
      const after = round - 1;
      if (scale.killAfterRounds.includes(after)) {
        const victim = hubs[after % hubs.length]!;
        await sleep(200 + (after % 3) * 150);
        await victim.kill();
        const gone = Date.now();
        log(`round ${round}: killed ${victim.name} (SIGKILL)`);
        await sleep(1000);
        // Away until the second it stays down: what it sent before dying arrives within that.
        away.push({ from: gone, to: Date.now() });
        await victim.start();
        log(`round ${round}: ${victim.name} started again`);
      }
      if (scale.stopAfterRounds.includes(after)) {
        const victim = hubs[(after + 1) % hubs.length]!;
        await sleep(300);
        const stopping = Date.now();
        await victim.stop();
        injected.stops++;
        log(`round ${round}: stopped ${victim.name} (SIGTERM) under load, in ${Date.now() - stopping} ms`);
        await victim.start();
      }
      if (scale.redisRestartAfterRounds.includes(after)) {
        await sleep(300);
        const gone = await redis.restart(1500);
        away.push({ from: gone, to: Date.now() });
        log(`round ${round}: Redis killed and started again`);
      }
      if (scale.fhirOutageAfterRounds.includes(after)) {
        await sleep(300);
        fhirOutages++;
        if (process.env.FAULT_HAPI_PAIR === '1') {
          // Two HAPI nodes behind HAProxy (scripts/hapi-pair): one stops, the other carries on.
          const pair = (...args: string[]) =>
            promisify(execFile)(path.join(REPO_ROOT, 'scripts/hapi-pair'), args, { timeout: 300_000 });
          await pair('stop-node', '1');
          log(`round ${round}: HAPI node 1 of 2 stopped`);
          await sleep(scale.fhirOutageMs);
          await pair('start-node', '1');
          log(`round ${round}: HAPI node 1 started again`);
        } else if (scale.realFhirRestart) {
          await runHapiScript(['stop']);
          log(`round ${round}: HAPI stopped`);
          await sleep(scale.fhirOutageMs);
          await runHapiScript(['start']);
          await runHapiScript(['wait', '300']);
          log(`round ${round}: HAPI started again`);
        } else {
          await proxy.pause();
          log(`round ${round}: FHIR server unreachable for ${scale.fhirOutageMs} ms`);
          await sleep(scale.fhirOutageMs);
          await proxy.resume();
        }
      }
      // The next version is sent once this one is on the server, as an agency edits its plan.
      let sentAt = Date.now();
      let resentThisRound = 0;
      await diagnosed(() =>
        waitUntil(
          `round ${round} applied`,
          async () => {
            if (Date.now() - sentAt > RESEND_AFTER_MS) {
              sentAt = Date.now();
              resentRounds++;
              resentThisRound++;
              log(`round ${round}: not applied after ${RESEND_AFTER_MS / 1000} s, sent again`);
              await sendRound(round, true);
            }
            // Applied, as the senders can see it: every plan on this version, every visit and the
            // discharge on the server.
            for (const p of stream.people) {
              const current = await fhir.read<CarePlan>('CarePlan', stream.planIds.get(p.tag)!);
              const visit = `VIS-${p.tag}-${round}`;
              if (
                !current.description?.endsWith(`version ${round}`) ||
                (await fhir.search<Encounter>('Encounter', { identifier: visit })).length === 0
              ) {
                return false;
              }
            }
            const admitted = stream.people[round % stream.people.length]!;
            const [admission] = await fhir.search<Encounter>('Encounter', {
              identifier: `${IDENTIFIER_BASE}/sid/northside-bh/visit|ADM-${admitted.tag}-${round}`,
            });
            // A discharge still not applied after two resends is left to the final checks, which
            // name it, rather than holding the run until it times out.
            return admission?.status === 'finished' || resentThisRound >= 2;
          },
          scale.settleMs,
        ),
      );
      // The capture path: an agency edits a plan on the shared server itself, not through the hub;
      // the hub must notice (subscription or catch-up scan) and deliver that version like any other.
      if (scale.directWriteAfterRounds.includes(round - 1)) {
        const edited = stream.people[(round + 1) % stream.people.length]!;
        const current = await fhir.read<CarePlan>('CarePlan', stream.planIds.get(edited.tag)!);
        // A new end date: a change partners must acknowledge, as a plan's period is.
        const written = await fhir.update<CarePlan>({
          ...current,
          description: `${current.description} direct`,
          period: { ...current.period, end: `2027-01-${String(round).padStart(2, '0')}` },
        });
        stream.directWrites.push({ tag: edited.tag, version: written.meta!.versionId! });
        log(`round ${round}: CarePlan/${current.id} edited on the FHIR server directly`);
      }
    }
    log('stream sent; waiting for the queues to settle');
    // Directly written versions reach the hub by subscription or by its catch-up scan (at most a
    // minute or so later): wait until their plan changes opened the acknowledgment Tasks.
    await diagnosed(() =>
      waitUntil(
        'direct writes captured',
        async () => {
          for (const { tag, version } of stream.directWrites) {
            for (const partnerId of RECIPIENTS) {
              const id = ackTaskIdentifier(IDENTIFIER_BASE, partnerId, stream.planIds.get(tag)!, version);
              if (
                (await fhir.search<Task>('Task', { identifier: `${id.system}|${id.value}` })).length === 0
              ) {
                return false;
              }
            }
          }
          return true;
        },
        scale.settleMs,
      ),
    );

    await diagnosed(() =>
      waitUntil(
        'queues settled',
        async () => {
          for (const q of allQueues) {
            // A job scheduler's next run (the Task feed's, every few seconds) is not backlog; at
            // most one per scheduler, so a few jobs read say whether anything else is queued.
            const jobs = await q.getJobs(
              ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'],
              0,
              10,
            );
            if (jobs.some((j) => !j.id?.startsWith('repeat:'))) {
              return false;
            }
          }
          return true;
        },
        scale.settleMs,
      ),
    );

    const report = await verify(
      fhir,
      stream,
      hubs,
      { ingestQueue, deliveryQueues },
      { northside, harbor },
      away,
      subscriptionId,
    );
    return {
      ...report,
      scale: scale.name,
      injected: {
        hubKills: hubs.reduce((n, h) => n + h.kills, 0),
        redisRestarts: redis.restarts,
        fhirOutages,
        hubStops: injected.stops,
        resentRounds,
        directWrites: stream.directWrites.length,
        reorderedPlans: injected.reorderedPlans,
        mllpReusedControlIds: injected.mllpReusedIds,
        status503: injected.status503,
        partnerFailures: failures,
      },
      problems: [...problems, ...report.problems],
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => log(`clean-up failed: ${(err as Error).message}`));
    }
  }
}

async function verify(
  fhir: FhirGateway,
  stream: Stream,
  hubs: readonly HubProcess[],
  queues: { ingestQueue: Queue; deliveryQueues: ReadonlyMap<string, Queue> },
  servers: { northside: PartnerServer; harbor: PartnerServer },
  away: readonly Away[],
  subscriptionId: string,
): Promise<Omit<FaultReport, 'scale' | 'injected'>> {
  const problems: string[] = [];
  const refusedPlan = stream.planIds.get(stream.people[REFUSED]!.tag);
  const records = { accepted: 0, onFhirOnce: 0, lost: 0, duplicated: 0, deadLettered: 0 };
  const deliveries = {
    expected: 0,
    deliveredOnce: 0,
    resentUnseen: 0,
    superseded: 0,
    deadLettered: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    notOnLatest: 0,
  };
  const acks = { expected: 0, matching: 0, missing: 0, duplicated: 0 };
  const expectedFocus: string[] = [];
  const failedIngest = await queues.ingestQueue.getFailed(0, -1);
  records.deadLettered = failedIngest.length;
  for (const job of failedIngest) {
    problems.push(
      `dead letter ${job.id} (${job.data.format} ${job.data.location}): ${job.failedReason?.slice(0, 200)}`,
    );
  }

  for (const p of stream.people) {
    const planId = stream.planIds.get(p.tag)!;
    // Every version by number: a server may answer `_history` from a count cached for a minute.
    const current = await fhir.read<CarePlan>('CarePlan', planId);
    const history = await Promise.all(
      Array.from({ length: Number(current.meta!.versionId) }, (_, i) =>
        fhir.vread<CarePlan>('CarePlan', planId, String(i + 1)),
      ),
    );
    const versions = history
      .map((plan) => {
        const [, round, direct] = /version (\d+)( direct)?$/.exec(plan.description ?? '') ?? [];
        return { version: plan.meta!.versionId!, round: Number(round), direct: direct !== undefined };
      })
      .sort((a, b) => Number(a.version) - Number(b.version));
    for (const round of stream.acceptedPlans.get(p.tag)!) {
      records.accepted++;
      const n = versions.filter((v) => v.round === round && !v.direct).length;
      if (n === 1) {
        records.onFhirOnce++;
      } else if (n === 0) {
        records.lost++;
        problems.push(`plan ${planId} round ${round}: not on the FHIR server`);
      } else {
        records.duplicated++;
        problems.push(`plan ${planId} round ${round}: ${n} versions`);
      }
    }
    // Every version the stream made goes to both recipients (the sender excepted).
    for (const { version } of versions.filter((v) => v.round >= 2)) {
      expectedFocus.push(`CarePlan/${planId}/_history/${version}`);
      for (const partnerId of RECIPIENTS) {
        deliveries.expected++;
        const server = partnerId === 'northside-bh' ? servers.northside : servers.harbor;
        const messageId = messageIdFor({ partnerId, carePlanId: planId, version });
        const receipts = server.received.filter((r) => r.messageId === messageId);
        const queue = queues.deliveryQueues.get(partnerId)!;
        const jobId = deliveryJobId(partnerId, planId, version);
        const job = await queue.getJob(jobId);
        const resends = resendsAfterSuccess(
          receipts,
          away,
          answersTheHubMissed(receipts, job ? (await queue.getJobLogs(jobId)).logs : []),
        );
        deliveries.resentUnseen += resends.unseen;
        deliveries.duplicated += resends.needless;
        if (resends.needless > 0) {
          problems.push(
            `${partnerId} received CarePlan/${planId}/_history/${version} ${resends.needless} more time(s) after answering 200 ` +
              `(${timeline(receipts, away)})`,
          );
        }
        const applied = server.applied.includes(messageId);
        const state = job ? await job.getState() : 'missing';
        const returned = job?.returnvalue as { status?: string } | undefined;
        if (applied) {
          deliveries.deliveredOnce++;
        } else if (state === 'failed') {
          deliveries.deadLettered++;
        } else if (state === 'completed' && returned?.status === 'superseded') {
          deliveries.superseded++;
        } else if (server.ignoredAsStale.includes(messageId)) {
          // It reached the partner, which finished it only after applying a newer version.
          deliveries.superseded++;
        } else {
          deliveries.lost++;
          problems.push(`delivery of CarePlan/${planId}/_history/${version} to ${partnerId}: ${state}`);
        }
        acks.expected++;
        const ackId = ackTaskIdentifier(IDENTIFIER_BASE, partnerId, planId, version);
        const tasks = await fhir.search<Task>('Task', { identifier: `${ackId.system}|${ackId.value}` });
        if (tasks.length === 1) {
          acks.matching++;
        } else if (tasks.length === 0) {
          acks.missing++;
          problems.push(`no acknowledgment Task for ${partnerId} on CarePlan/${planId}/_history/${version}`);
        } else {
          acks.duplicated++;
        }
      }
    }
    // Order: the versions of this plan as they reached each partner (retries of one version may
    // repeat it; an older one after a newer one is out of order), and where each partner ended.
    const newest = Math.max(...versions.map((v) => Number(v.version)));
    for (const [partnerId, server] of [
      ['northside-bh', servers.northside],
      ['harbor-housing', servers.harbor],
    ] as const) {
      const order = server.arrivals.filter((a) => a.carePlan === `CarePlan/${planId}`).map((a) => a.version);
      if (order.some((v, i) => i > 0 && v < Math.max(...order.slice(0, i)))) {
        deliveries.outOfOrder++;
        problems.push(`${partnerId} was sent CarePlan/${planId} versions in the order ${order.join(', ')}`);
      }
      const last = server.applied
        .map((id) =>
          versions.find((v) => messageIdFor({ partnerId, carePlanId: planId, version: v.version }) === id),
        )
        .filter((v) => v !== undefined)
        .at(-1);
      if (planId !== refusedPlan && Number(last?.version) !== newest) {
        deliveries.notOnLatest++;
        problems.push(`${partnerId} ended on version ${last?.version} of CarePlan/${planId}, not ${newest}`);
      }
    }
  }

  const subscription = await subscriptionReport(hubs, servers.northside, subscriptionId, expectedFocus, away);
  problems.push(...subscription.problems);

  for (const visit of stream.acceptedVisits) {
    records.accepted++;
    const n = (await fhir.search<Encounter>('Encounter', { identifier: visit })).length;
    if (n === 1) {
      records.onFhirOnce++;
    } else if (n === 0) {
      records.lost++;
      problems.push(`visit ${visit}: no Encounter`);
    } else {
      records.duplicated++;
      problems.push(`visit ${visit}: ${n} Encounters`);
    }
  }
  // Each admission was discharged right after it was sent: whatever retries and orders the hub
  // went through, the Encounter must end finished, once.
  const admissions = { sent: stream.admissions.length, finished: 0, notFinished: 0, missing: 0 };
  for (const visit of stream.admissions) {
    const found = await fhir.search<Encounter>('Encounter', {
      identifier: `${IDENTIFIER_BASE}/sid/northside-bh/visit|${visit}`,
    });
    if (found.length === 0) {
      admissions.missing++;
      problems.push(`admission ${visit}: no Encounter`);
    } else if (found.length === 1 && found[0]!.status === 'finished') {
      admissions.finished++;
    } else {
      admissions.notFinished++;
      problems.push(`admission ${visit}: ${found.map((e) => e.status).join(', ')} after its discharge`);
    }
  }
  return {
    records,
    admissions,
    deliveries,
    subscription: subscription.counts,
    acknowledgmentTasks: acks,
    problems,
    hubLog: hubLinesAbout(hubs, problems),
  };
}

/** Plan ids, as the problems name them. */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * The first place to look when something went wrong: each hub's last errors (a shutdown that
 * timed out, a job that failed), then every line any hub logged about a plan a problem names
 * (its deliveries' attempts, failures and stalls), in time order across the hubs.
 */
function hubLinesAbout(hubs: readonly HubProcess[], problems: readonly string[]): string[] {
  if (problems.length === 0) {
    return [];
  }
  const plans = [...new Set(problems.flatMap((p) => p.match(UUID) ?? []))];
  const timeOf = (line: string): string => /"time":"([^"]+)"/.exec(line)?.[1] ?? '';
  const aboutPlans = hubs
    .flatMap((h) => h.mentioning(plans).map((line) => ({ at: timeOf(line), line: `${h.name}: ${line}` })))
    .sort((a, b) => a.at.localeCompare(b.at))
    .map((l) => `hub log: ${l.line}`);
  return [
    ...hubs.flatMap((h) =>
      h
        .logged()
        .slice(-10)
        .map((line) => `hub error: ${h.name}: ${line}`),
    ),
    ...aboutPlans.slice(-300),
  ];
}

/**
 * The subscriber's events: every number the hub gave out answered 200 at least once, none sent
 * again after an answer the hub saw, first received in increasing order, and every plan version
 * of the stream among them.
 */
async function subscriptionReport(
  hubs: readonly HubProcess[],
  subscriber: PartnerServer,
  subscriptionId: string,
  expectedFocus: readonly string[],
  away: readonly Away[],
): Promise<{ counts: FaultReport['subscription']; problems: string[] }> {
  const problems: string[] = [];
  const hub = hubs.find((h) => h.running)!;
  const res = await fetch(`${hub.url}/fhir/Subscription/${subscriptionId}/$status`, {
    headers: { 'x-partner-id': 'northside-bh' },
  });
  const status = (await res.json()) as {
    entry?: Array<{ resource?: { parameter?: Array<{ name: string; valueString?: string }> } }>;
  };
  const events = Number(
    status.entry?.[0]?.resource?.parameter?.find((p) => p.name === 'events-since-subscription-start')
      ?.valueString ?? 0,
  );
  const counts = {
    events,
    expectedFocus: expectedFocus.length,
    missingFocus: 0,
    lost: 0,
    duplicated: 0,
    resentUnseen: 0,
    outOfOrder: 0,
  };
  for (let n = 1; n <= events; n++) {
    const receipts = subscriber.notifications.filter((r) => r.messageId === `event-${n}`);
    if (!receipts.some((r) => r.status === 200)) {
      counts.lost++;
      problems.push(`subscription event ${n} never reached the subscriber`);
    }
    const resends = resendsAfterSuccess(receipts, away);
    counts.duplicated += resends.needless;
    counts.resentUnseen += resends.unseen;
    if (resends.needless > 0) {
      problems.push(
        `subscription event ${n} received ${resends.needless} more time(s) after answering 200 (${timeline(receipts, away)})`,
      );
    }
  }
  const taken = subscriber.notifications
    .filter((r) => r.status === 200)
    .sort((a, b) => a.arrivedAt - b.arrivedAt);
  const firsts = [...new Set(taken.map((r) => Number(r.version)))];
  counts.outOfOrder = firsts.filter((n, i) => i > 0 && n < Math.max(...firsts.slice(0, i))).length;
  if (counts.outOfOrder > 0) {
    problems.push(`subscription events first received in the order ${firsts.join(', ')}`);
  }
  const focus = new Set(taken.map((r) => r.path));
  for (const f of expectedFocus.filter((f) => !focus.has(f))) {
    counts.missingFocus++;
    problems.push(`no subscription event for ${f}`);
  }
  return { counts, problems };
}

/**
 * One message's receipts and the away windows among them, in ms from the first receipt (for instance
 * `200 at 0 ms, answered at 3; 200 late at 1250, answered at 1251; away from 1900 to 3500`), so a reported
 * duplicate shows what the hub could have known.
 */
function timeline(receipts: readonly Received[], away: readonly Away[]): string {
  const first = Math.min(...receipts.map((r) => r.arrivedAt));
  const last = Math.max(...receipts.map((r) => r.arrivedAt));
  const events = [
    ...receipts.map((r) => ({
      at: r.arrivedAt,
      text: `${r.status}${r.late ? ' late' : ''} at ${r.arrivedAt - first}, answered at ${r.answeredAt - first}`,
    })),
    ...away
      .filter((c) => c.to >= first && c.from <= last)
      .map((c) => ({ at: c.from, text: `away from ${c.from - first} to ${c.to - first}` })),
  ];
  return events
    .sort((a, b) => a.at - b.at)
    .map((e) => e.text)
    .join('; ');
}

/**
 * How many of the partner's timely 200s the hub, by its own record, never saw: the delivery job
 * logs each attempt that ended without a usable answer as an `ambiguous` failure (no answer in
 * time, the connection broke, the answer's body broke off). Dropped connections and late answers
 * account for some of those; any more means a 200 the partner sent in time reached a hub too busy
 * to read it before its own timeout. A hub that resent after taking a 200 logged no such failure,
 * so that resend is still counted.
 */
function answersTheHubMissed(receipts: readonly Received[], jobLogs: readonly string[]): number {
  const ambiguous = jobLogs.filter((line) => line.startsWith('ambiguous failure')).length;
  const explained = receipts.filter((r) => r.status === 0 || (r.status === 200 && r.late)).length;
  return Math.max(0, ambiguous - explained);
}

/**
 * Receipts of one message that came after the partner had already answered it 200. A resend is
 * `unseen` when the hub may not have seen that answer: it came after the hub stopped waiting, a
 * hub process or Redis was away between the answer and the resend, or the hub logged the attempt
 * as one it got no answer to (`hubMissed` of them, {@link answersTheHubMissed}). Any other is
 * `needless`: a duplicate the hub sent although it knew the partner had the message.
 */
function resendsAfterSuccess(
  receipts: readonly Received[],
  away: readonly Away[],
  hubMissed = 0,
): { unseen: number; needless: number } {
  const counts = { unseen: 0, needless: 0 };
  // The hub stops sending once it sees a 200, so the 200s it missed are the first timely ones.
  let missed = hubMissed;
  const inOrder = [...receipts]
    .sort((a, b) => a.arrivedAt - b.arrivedAt)
    .map((r) => {
      if (r.status === 200 && !r.late && missed > 0) {
        missed--;
        return { ...r, unseen: true };
      }
      return { ...r, unseen: r.late };
    });
  let lastSuccess: (typeof inOrder)[number] | undefined;
  for (const r of inOrder) {
    if (lastSuccess) {
      const success = lastSuccess;
      const seen = !success.unseen && !away.some((w) => w.to >= success.arrivedAt && w.from <= r.arrivedAt);
      counts[seen ? 'needless' : 'unseen']++;
    }
    if (r.status === 200 && (!lastSuccess || lastSuccess.unseen)) {
      lastSuccess = r;
    }
  }
  return counts;
}

/** The report as the lines the run prints. */
export function describeReport(r: FaultReport): string {
  const d = r.deliveries;
  return [
    `fault run (${r.scale})`,
    `injected: ${r.injected.hubKills} hub processes killed (SIGKILL), ${r.injected.redisRestarts} Redis restarts, ` +
      `${r.injected.hubStops} stopped under load (SIGTERM), ${r.injected.fhirOutages} FHIR outages ` +
      `(${r.injected.resentRounds} rounds sent again after them), ` +
      `${r.injected.status503} HAPI 503s, ${r.injected.directWrites} plan versions written to HAPI directly, ` +
      `${r.injected.reorderedPlans} older plan versions resent after newer ones, ` +
      `${r.injected.mllpReusedControlIds} MLLP messages reusing a control id, partner faults: ${r.injected.partnerFailures.status500} HTTP 500, ` +
      `${r.injected.partnerFailures.dropped} dropped connections, ${r.injected.partnerFailures.late} answers after the timeout`,
    `records: ${r.records.accepted} accepted, ${r.records.onFhirOnce} on the FHIR server exactly once, ` +
      `${r.records.lost} lost, ${r.records.duplicated} duplicated, ${r.records.deadLettered} dead-lettered`,
    `admissions then discharges: ${r.admissions.sent} sent, ${r.admissions.finished} finished, ` +
      `${r.admissions.notFinished} not finished, ${r.admissions.missing} missing`,
    `deliveries: ${d.expected} expected, ${d.deliveredOnce} delivered (${d.resentUnseen} resent after an answer ` +
      `the hub could not see: late, or a hub or Redis away in between; ignored by message id), ${d.superseded} superseded by a newer version, ` +
      `${d.deadLettered} dead-lettered, ${d.lost} lost, ${d.duplicated} duplicated (raw receipts), ${d.outOfOrder} sent out of order, ` +
      `${d.notOnLatest} partners not on a plan's newest version`,
    `subscription: ${r.subscription.events} events numbered, ${r.subscription.expectedFocus} plan versions expected among them ` +
      `(${r.subscription.missingFocus} missing), ${r.subscription.lost} lost, ${r.subscription.duplicated} duplicated (raw receipts), ` +
      `${r.subscription.resentUnseen} resent after an answer the hub could not see, ${r.subscription.outOfOrder} out of order`,
    `acknowledgment Tasks: ${r.acknowledgmentTasks.expected} expected, ${r.acknowledgmentTasks.matching} matching, ` +
      `${r.acknowledgmentTasks.missing} missing, ${r.acknowledgmentTasks.duplicated} duplicated`,
    ...r.problems.map((p) => `problem: ${p}`),
    ...r.hubLog,
  ].join('\n');
}
