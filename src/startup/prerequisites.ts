import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { promisify } from 'node:util';
import { checkRedis, type RedisTarget } from '../queues/connection.js';

const run = promisify(execFile);

/**
 * What a run needs from the machine: Redis always; Java and Maven to start HAPI here; Chromium for
 * the browser tests; redis-server and redis-cli for the tests' own Redis servers.
 */
export interface Needs {
  /** The Redis to reach; absent when the caller has checked it already. */
  readonly redis?: RedisTarget;
  /** No FHIR server answers, so the local HAPI server will be built and started. */
  readonly localFhirServer: boolean;
  /** The path of the Chromium the browser tests drive, when they will run. */
  readonly chromium?: string;
  /** Redis servers of the tests' own are started (the fault suite, the cluster test). */
  readonly redisServers?: boolean;
}

/**
 * Everything the machine lacks for this run, each with how to get it, found in one pass so a
 * newcomer reads one message instead of meeting one failure after another (README, Quick start).
 */
export async function missingPrerequisites(needs: Needs): Promise<string[]> {
  const missing: string[] = [];
  if (needs.redis !== undefined) {
    await checkRedis(needs.redis).catch((err: unknown) => {
      missing.push(`Redis: ${(err as Error).message} (apt-get install redis-server, or set REDIS_URL)`);
    });
  }
  if (needs.localFhirServer) {
    const java = await versionOf('java', ['-version']);
    const major = Number(/version "(?:1\.)?(\d+)/.exec(java ?? '')?.[1] ?? 0);
    if (major < 17) {
      missing.push(
        `Java 17 or later, to run the local HAPI server: ${java ? `found ${java.split('\n')[0]}` : 'no java on PATH'} (apt-get install openjdk-17-jre-headless, or set FHIR_BASE_URL to a running R4 server)`,
      );
    }
    if ((await versionOf('mvn', ['-v'])) === undefined) {
      missing.push('Maven, to build the local HAPI server: no mvn on PATH (apt-get install maven)');
    }
  }
  if (needs.redisServers) {
    const absent: string[] = [];
    for (const command of ['redis-server', 'redis-cli']) {
      if ((await versionOf(command, ['--version'])) === undefined) {
        absent.push(command);
      }
    }
    if (absent.length > 0) {
      missing.push(
        `${absent.join(' and ')}, to start the fault suite's and the cluster test's own Redis: not on PATH (apt-get install redis-server)`,
      );
    }
  }
  if (needs.chromium !== undefined) {
    await access(needs.chromium, constants.X_OK).catch(() => {
      missing.push(
        `Chromium, for the staff pages' browser tests: none at ${needs.chromium} (npm ci installs one with the dev dependencies, or set CHROMIUM_PATH)`,
      );
    });
  }
  return missing;
}

/** The version banner a command prints (`java -version` writes it to stderr), or undefined when it cannot run. */
async function versionOf(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 15000, env: process.env });
    return `${stdout}${stderr}`.trim();
  } catch {
    return undefined;
  }
}
