import type { HubConfig } from '../config/load-config.js';
import { loadPartners } from '../config/partners.js';
import { createRedisConnection } from '../queues/connection.js';
import { getDeadLetter, listDeadLetters, replayDeadLetter } from '../queues/dead-letters.js';
import { allQueues, closeQueues, createQueues } from '../startup/queues.js';

export const DEAD_LETTERS_USAGE = `usage:
  npm run hub -- dead-letters list [<queue>]          failed jobs, newest first (all queues, or one)
  npm run hub -- dead-letters show <queue> <jobId>    one, with the partner's answers per attempt
  npm run hub -- dead-letters replay <queue> <jobId>  put it back with fresh attempts (same message id)`;

/**
 * The engineer's dead-letter commands, against the hub's Redis (REDIS_URL, QUEUE_PREFIX) like the
 * `/admin/dead-letters` API. Prints JSON; returns the exit code.
 */
export async function runDeadLetters(
  args: readonly string[],
  config: HubConfig,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const [command, queueName, jobId] = args;
  if (
    !command ||
    !['list', 'show', 'replay'].includes(command) ||
    (command !== 'list' && (!queueName || !jobId))
  ) {
    process.stderr.write(`${DEAD_LETTERS_USAGE}\n`);
    return 2;
  }
  const partners = await loadPartners(config.partnerConfigDir, env);
  const redis = createRedisConnection(config.redis, 'producer');
  await redis.connect();
  const queues = createQueues(redis, config.redis.queuePrefix, partners);
  try {
    const every = allQueues(queues);
    const queue = every.find((q) => q.name === queueName);
    if (queueName && !queue) {
      process.stderr.write(`hub: no queue "${queueName}" (queues: ${every.map((q) => q.name).join(', ')})\n`);
      return 2;
    }
    switch (command) {
      case 'list':
        print(await listDeadLetters(queue ? [queue] : every));
        return 0;
      case 'show': {
        const letter = await getDeadLetter(queue!, jobId!);
        print(letter ?? { error: `no dead letter ${queueName}/${jobId}` });
        return letter ? 0 : 1;
      }
      default: {
        const replayed = await replayDeadLetter(queue!, jobId!);
        print(
          replayed
            ? { replayed: `${queueName}/${jobId}` }
            : { error: `no dead letter ${queueName}/${jobId}` },
        );
        return replayed ? 0 : 1;
      }
    }
  } finally {
    await closeQueues([], queues);
    redis.disconnect();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
