import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../../src/config/load-config.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

interface Compose {
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      environment?: Record<string, string>;
      ports?: string[];
      volumes?: string[];
    }
  >;
}

/**
 * Each HAPI setting the hub depends on: how fhir-server/ (npm start) sets it, and what the compose
 * HAPI must be given for the same behaviour (the image's property, under hapi.fhir).
 */
const DEPENDED_ON: ReadonlyArray<[string, string, unknown]> = [
  ['setReuseCachedSearchResultsForMillis(null)', 'reuse_cached_search_results_millis', -1],
  ['ClientIdStrategyEnum.ANY', 'client_id_strategy', 'ANY'],
  ['setAllowExternalReferences(true)', 'allow_external_references', true],
  ['setAllowMultipleDelete(true)', 'allow_multiple_delete', true],
  ['setExpungeEnabled(true)', 'expunge_enabled', true],
  ['SubscriptionChannelType.RESTHOOK', 'subscription.resthook_enabled', true],
];

/** This machine cannot run Docker, so the compose file is checked here for what can drift. */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8')) as Compose;

  it('runs HAPI (pinned, same version as fhir-server/), Postgres, Redis and the hub', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['hapi', 'hub', 'postgres', 'redis']);
    const pom = readFileSync(path.join(repoRoot, 'fhir-server/pom.xml'), 'utf8');
    const hapiVersion = /<artifactId>hapi-fhir<\/artifactId>\s*<version>([^<]+)<\/version>/.exec(pom)?.[1];
    expect(compose.services.hapi?.image).toBe(`hapiproject/hapi:v${hapiVersion}-1`);
    expect(compose.services.hapi?.environment?.SPRING_DATASOURCE_URL).toMatch(
      /^jdbc:postgresql:\/\/postgres:/,
    );
  });

  it('configures the hub only with variables the hub reads', () => {
    const env = Object.keys(compose.services.hub?.environment ?? {});
    expect(env.length).toBeGreaterThan(0);
    for (const name of env) {
      expect(Object.keys(CONFIG_VARIABLES)).toContain(name);
    }
    expect(compose.services.hub?.environment?.FHIR_BASE_URL).toBe('http://hapi:8080/fhir');
  });

  describe('gives the compose HAPI what fhir-server/ sets and the hub depends on', () => {
    const localServer = readFileSync(
      path.join(repoRoot, 'fhir-server/src/main/java/org/carecoord/fhirserver/FhirServerConfig.java'),
      'utf8',
    );
    const hapi = JSON.parse(compose.services.hapi!.environment!.SPRING_APPLICATION_JSON!) as {
      hapi: { fhir: Record<string, unknown> };
    };
    const property = (name: string): unknown =>
      name
        .split('.')
        .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], hapi.hapi.fhir);

    it.each(DEPENDED_ON)('%s', (javaSetting, name, value) => {
      expect(localServer).toContain(javaSetting);
      expect({ [name]: property(name) }).toEqual({ [name]: value });
    });
  });

  it('publishes MLLP and mounts the configuration rather than baking it in', () => {
    const hub = compose.services.hub!;
    expect(hub.ports).toContain('2575:2575');
    expect(hub.volumes).toContain('./config:/app/config:ro');
  });
});
