import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HubConfig } from '../config/load-config.js';
import { loadPartners } from '../config/partners.js';
import { defaultFormats } from '../ingest/format-registry.js';
import { IngestService, reportToOutcome } from '../ingest/ingest-service.js';
import { RejectedStore } from '../ingest/rejected-store.js';
import { createLogger } from '../logging/logger.js';
import { createRedisConnection } from '../queues/connection.js';
import { createIngestQueue, createIngestQueueEvents } from '../ingest/ingest.queue.js';

export const REJECTED_USAGE = `usage:
  npm run hub -- rejected list [<partnerId>]        rejected records, newest first
  npm run hub -- rejected show <id>                 one, with its field errors and the record as received
  npm run hub -- rejected replay <id> [<file>]      replay it (or the corrected record in <file>)
  npm run hub -- rejected discard <id>`;

/**
 * The engineer's commands for rejected records, against the hub's Redis like `/admin/rejected`.
 * A replay goes through the ingest queue, so a running hub applies it. Prints JSON.
 */
export async function runRejected(
  args: readonly string[],
  config: HubConfig,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const [command, arg, file] = args;
  if (!command || !['list', 'show', 'replay', 'discard'].includes(command) || (command !== 'list' && !arg)) {
    process.stderr.write(`${REJECTED_USAGE}\n`);
    return 2;
  }
  const redis = createRedisConnection(config.redis, 'producer');
  await redis.connect();
  const prefix = config.redis.queuePrefix;
  const rejected = new RejectedStore(redis, prefix);
  try {
    if (command === 'list') {
      print(await rejected.list(arg ? { partnerId: arg, limit: 500 } : { limit: 500 }));
      return 0;
    }
    const rejection = await rejected.get(arg!);
    if (!rejection) {
      print({ error: `no rejected record ${arg}` });
      return 1;
    }
    if (command === 'show') {
      print(rejection);
      return 0;
    }
    if (command === 'discard') {
      print({ discarded: await rejected.remove(rejection.id) });
      return 0;
    }
    const queue = createIngestQueue(redis, prefix);
    // Never run: the CLI does not wait for the replay to be applied (a running hub applies it).
    const queueEvents = createIngestQueueEvents(createRedisConnection(config.redis, 'worker'), prefix, false);
    const ingest = new IngestService({
      partners: await loadPartners(config.partnerConfigDir, env),
      formats: defaultFormats(),
      queue,
      queueEvents,
      rejected,
      logger: createLogger('silent'),
      identifierBase: config.identifierBase,
    });
    try {
      const corrected = file ? await readFile(path.resolve(env.INIT_CWD ?? process.cwd(), file)) : undefined;
      const report = await ingest.replay(rejection, corrected);
      print(reportToOutcome(report));
      return report.records.some((r) => r.status === 'accepted') ? 0 : 1;
    } finally {
      await queueEvents.close();
      await queue.close();
    }
  } finally {
    redis.disconnect();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
