import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors/hub-error.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, repoRoot);
  } catch (err) {
    if (err instanceof ConfigError) {
      return err.problems;
    }
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives local defaults and starts the local FHIR server only when FHIR_BASE_URL is unset', () => {
    const config = loadConfig({}, repoRoot);
    expect(config.fhir.baseUrl).toBe('http://127.0.0.1:8080/fhir');
    expect(config.fhir.autostart).toBe(true);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.redis.queuePrefix).toBe('{hub}');
    expect(config.http.port).toBe(3000);
    expect(config.http.publicUrl).toBeUndefined();
    expect(config.partnerConfigDir).toBe(path.join(repoRoot, 'config/partners'));
    // The demo partners have no keys, so the demo runs open; real partner files turn tokens on.
    expect(config.http.authRequired).toBe(false);
    expect(loadConfig({ PARTNER_CONFIG_DIR: 'config/partners' }, repoRoot).http.authRequired).toBe(true);
    expect(Object.isFrozen(config.fhir)).toBe(true);

    const external = loadConfig({ FHIR_BASE_URL: 'https://fhir.example.org/r4/' }, repoRoot);
    expect(external.fhir.baseUrl).toBe('https://fhir.example.org/r4');
    expect(external.fhir.autostart).toBe(false);
  });

  it('names the variable of each wrong value and reports all of them at once', () => {
    const problems = problemsOf({
      REDIS_URL: 'http://127.0.0.1:6379',
      PORT: '70000',
      FHIR_BASE_URL: 'not a url',
      LOG_LEVEL: 'loud',
      FHIR_AUTOSTART: 'maybe',
      PARTNER_CONFIG_DIR: 'no/such/folder',
    });
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/REDIS_URL=.* must use redis:\/\/ or rediss:\/\//);
    expect(problems.join('\n')).toMatch(/PORT="70000" must be a whole number from 0 to 65535/);
    expect(problems.join('\n')).toMatch(/FHIR_BASE_URL="not a url" is not a URL/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL="loud" must be one of/);
    expect(problems.join('\n')).toMatch(/FHIR_AUTOSTART="maybe" must be true or false/);
    expect(problems.join('\n')).toMatch(/PARTNER_CONFIG_DIR: folder .*no\/such\/folder does not exist/);
  });

  it('takes several Redis URLs only for a cluster, whose prefix must be one hash tag', () => {
    const cluster = loadConfig(
      { REDIS_CLUSTER: 'true', REDIS_URL: 'redis://127.0.0.1:7001,redis://127.0.0.1:7002' },
      repoRoot,
    );
    expect(cluster.redis).toMatchObject({
      cluster: true,
      url: 'redis://127.0.0.1:7001,redis://127.0.0.1:7002',
    });
    expect(loadConfig({}, repoRoot).redis.cluster).toBe(false);

    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:7001,redis://127.0.0.1:7002' })).toEqual([
      'REDIS_URL names 2 servers: only a cluster has several (set REDIS_CLUSTER=true)',
    ]);
    expect(
      problemsOf({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://127.0.0.1:7001,http://x' }).join(),
    ).toMatch(/REDIS_URL="http:\/\/x\/" must use redis:\/\//);
    // Without one hash tag the hub's own keys would fall in many slots, and its transactions fail.
    expect(problemsOf({ REDIS_CLUSTER: 'true', QUEUE_PREFIX: 'hub' }).join()).toMatch(
      /QUEUE_PREFIX="hub" is not valid/,
    );
    expect(loadConfig({ QUEUE_PREFIX: 'hub' }, repoRoot).redis.queuePrefix).toBe('hub');
  });

  it('never shows a password from a URL in its messages', () => {
    const problems = problemsOf({ REDIS_URL: 'http://:s3cret@127.0.0.1:6379' });
    expect(problems.join('\n')).not.toContain('s3cret');
    expect(problems.join('\n')).toContain('REDIS_URL');
  });
});
