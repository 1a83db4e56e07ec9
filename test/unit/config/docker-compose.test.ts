import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../../src/config/load-config.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

interface Compose {
  services: Record<string, { image?: string; build?: unknown; environment?: Record<string, string> }>;
}

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
});
