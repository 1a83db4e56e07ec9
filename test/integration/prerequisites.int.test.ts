/**
 * Issue 18, a fresh machine: what it lacks for a run is named all at once, each with how to get it.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { missingPrerequisites } from '../../src/startup/prerequisites.js';
import { redisTarget } from '../support/test-env.js';

describe('missingPrerequisites', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  it('names nothing on a machine that has it all', async () => {
    expect(
      await missingPrerequisites({ redis: redisTarget(), localFhirServer: true, redisServers: true }),
    ).toEqual([]);
  });

  it('names everything a bare machine lacks, in one list, with how to get each', async () => {
    process.env.PATH = '/nonexistent';
    const missing = await missingPrerequisites({
      redis: { url: 'redis://127.0.0.1:1', cluster: false },
      localFhirServer: true,
      chromium: '/nonexistent/chromium',
      redisServers: true,
    });
    expect(missing.map((m) => m.split(':')[0])).toEqual([
      'Redis',
      'Java 17 or later, to run the local HAPI server',
      'Maven, to build the local HAPI server',
      "redis-server and redis-cli, to start the fault suite's and the cluster test's own Redis",
      "Chromium, for the staff pages' browser tests",
    ]);
    expect(missing.join('\n')).toMatch(/apt-get install openjdk-17-jre-headless/);
  });
});
