// The partner and coordination folders the bench hubs run on, in a temporary folder:
// - the shipped partner files (config/partners), so the coordination rules (tier chairs, calendar
//   agencies) stay consistent with them, with their `outbound` pointed at the bench receiver;
// - ten receiving partners bench-r01 .. bench-r10 (webhook to the receiver), for fan-outs;
// - a copy of config/coordination, unchanged (copied so edits in the checkout during a run do not
//   reach the running hubs).
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './options.mjs';

export const SECRET_ENV = 'BENCH_WEBHOOK_SECRET';

export const RECEIVERS = Array.from({ length: 10 }, (_, i) => `bench-r${String(i + 1).padStart(2, '0')}`);

/** Writes `<dir>/partners` and `<dir>/coordination`; `receiverUrl(partnerId)` is each partner's webhook URL. */
export function writeConfigDirs(dir, receiverUrl) {
  const partners = path.join(dir, 'partners');
  const coordination = path.join(dir, 'coordination');
  mkdirSync(partners, { recursive: true });
  const outbound = (id) => ({
    transport: 'webhook',
    url: receiverUrl(id),
    secretEnv: SECRET_ENV,
    receives: ['plan-change'],
    // Far enough out that no acknowledgment deadline fires during a run.
    ackWithinHours: 72,
  });
  const shipped = [];
  for (const file of readdirSync(path.join(REPO_ROOT, 'config/partners'))) {
    if (!file.endsWith('.yaml')) {
      continue;
    }
    const data = parse(readFileSync(path.join(REPO_ROOT, 'config/partners', file), 'utf8'));
    data.outbound = outbound(data.id);
    writeFileSync(path.join(partners, file), stringify(data));
    shipped.push(data.id);
  }
  for (const id of RECEIVERS) {
    const data = {
      id,
      name: `Bench receiver ${id}`,
      kind: 'other',
      inbound: { formats: [] },
      outbound: outbound(id),
    };
    writeFileSync(path.join(partners, `${id}.yaml`), stringify(data));
  }
  cpSync(path.join(REPO_ROOT, 'config/coordination'), coordination, { recursive: true });
  return { partners, coordination, shipped };
}
