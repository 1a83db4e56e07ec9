#!/usr/bin/env node
// A reference subscriber a partner can run against the hub (README, "Subscriptions"): it
// subscribes to a topic, listens for notifications, checks the handshake, prints each event, and
// keeps the last event number in a state file. Started again after being down, it asks $events
// for everything it missed, so it sees every event once and in order; a gap in live notifications
// is filled the same way. Node 20+, no dependencies.
//
//   node scripts/reference-subscriber.mjs --hub http://127.0.0.1:3000 --partner northside-bh \
//     --listen 4100 --endpoint http://127.0.0.1:4100/notify [--token <access token>] \
//     [--topic <canonical>] [--filter 'Task?code=<code>'] [--state ./subscriber-state.json]
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    hub: { type: 'string' },
    partner: { type: 'string' },
    token: { type: 'string' },
    listen: { type: 'string', default: '4100' },
    endpoint: { type: 'string' },
    topic: {
      type: 'string',
      default: 'https://carecoord.example.org/fhir/SubscriptionTopic/careplan-changed',
    },
    // backport-filter-criteria, e.g. CarePlan?patient:identifier=<system>|<value>
    filter: { type: 'string' },
    heartbeat: { type: 'string', default: '60' },
    state: { type: 'string', default: 'subscriber-state.json' },
  },
});
if (!args.hub || !args.endpoint || (!args.partner && !args.token)) {
  process.stderr.write(
    'usage: reference-subscriber.mjs --hub <url> --endpoint <url> (--partner <id> | --token <token>)\n',
  );
  process.exit(2);
}

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
const headers = {
  accept: 'application/fhir+json',
  ...(args.token ? { authorization: `Bearer ${args.token}` } : { 'x-partner-id': args.partner }),
};
const state = (() => {
  try {
    return JSON.parse(readFileSync(args.state, 'utf8'));
  } catch {
    return { subscription: undefined, last: 0 };
  }
})();
const save = () => writeFileSync(args.state, JSON.stringify(state, null, 2));
const print = (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

async function hub(method, path, body) {
  const res = await fetch(`${args.hub}/fhir${path}`, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The status entry's parameters of a notification Bundle, by name. */
function statusOf(bundle) {
  const parameters = bundle?.entry?.[0]?.resource?.parameter ?? [];
  const one = (name) => parameters.find((p) => p.name === name);
  return {
    type: one('type')?.valueCode,
    events: parameters
      .filter((p) => p.name === 'notification-event')
      .map((e) => ({
        number: Number(e.part.find((p) => p.name === 'event-number').valueString),
        focus: e.part.find((p) => p.name === 'focus')?.valueReference?.reference,
      })),
  };
}

/** Takes events in order: a number already seen is skipped, a gap is filled from $events first. */
async function take(events) {
  for (const event of events.sort((a, b) => a.number - b.number)) {
    if (event.number <= state.last) {
      continue;
    }
    if (event.number > state.last + 1) {
      await catchUp(event.number - 1);
    }
    print(`event ${event.number}: ${event.focus}`);
    state.last = event.number;
    save();
  }
}

async function catchUp(until) {
  const range = `eventsSinceNumber=${state.last + 1}${until ? `&eventsUntilNumber=${until}` : ''}`;
  const replay = await hub('GET', `/Subscription/${state.subscription}/$events?${range}`);
  if (replay.status !== 200) {
    throw new Error(`$events answered ${replay.status}`);
  }
  const { events } = statusOf(replay.body);
  if (events.length > 0) {
    print(`catching up: events ${events[0].number} to ${events.at(-1).number}`);
  }
  await take(events);
}

let taking = Promise.resolve();
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    // Answer at once: the hub waits for this answer, and work done before it only delays the next.
    res.writeHead(200).end();
    const { type, events } = statusOf(JSON.parse(body || '{}'));
    if (type === 'handshake') {
      print('handshake received: the subscription is active');
    } else if (type === 'heartbeat') {
      print('heartbeat');
    } else if (type === 'event-notification') {
      // One at a time: notifications may arrive together, and events are taken in order.
      taking = taking.then(() => take(events)).catch((err) => print(`could not take events: ${err.message}`));
    }
  });
});

await new Promise((resolve) => server.listen(Number(args.listen), resolve));
print(`listening on ${args.listen}`);
if (state.subscription && (await hub('GET', `/Subscription/${state.subscription}`)).status === 200) {
  print(`subscription ${state.subscription} exists; asking for what was missed since event ${state.last}`);
  taking = taking.then(() => catchUp());
  await taking;
} else {
  const created = await hub('POST', '/Subscription', {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'reference subscriber',
    criteria: args.topic,
    ...(args.filter
      ? {
          _criteria: {
            extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: args.filter }],
          },
        }
      : {}),
    channel: {
      type: 'rest-hook',
      endpoint: args.endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'id-only' }] },
      extension: [{ url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: Number(args.heartbeat) }],
    },
  });
  if (created.status !== 201) {
    print(`the hub refused the subscription: ${JSON.stringify(created.body)}`);
    process.exit(1);
  }
  Object.assign(state, { subscription: created.body.id, last: 0 });
  save();
  print(`subscribed: Subscription/${state.subscription}`);
}
