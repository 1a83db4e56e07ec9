import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { CodeSystem, StructureDefinition, ValueSet } from 'fhir/r4.js';
import { readProfiles } from '../../../src/fhir/load-profiles.js';
import { CODE_SYSTEM, PROFILE } from '../../../src/fhir/profiles.js';

const profilesDir = path.resolve(import.meta.dirname, '../../../profiles');

describe('profiles/', () => {
  it('loads code systems before value sets before profiles', async () => {
    const types = (await readProfiles(profilesDir)).map((r) => r.resourceType);
    expect(types.lastIndexOf('CodeSystem')).toBeLessThan(types.indexOf('ValueSet'));
    expect(types.lastIndexOf('ValueSet')).toBeLessThan(types.indexOf('StructureDefinition'));
  });

  it('holds every canonical URL the code refers to, with ids matching the URL tail', async () => {
    const resources = (await readProfiles(profilesDir)) as Array<CodeSystem | ValueSet | StructureDefinition>;
    const urls = resources.map((r) => r.url);
    for (const url of [...Object.values(PROFILE), ...Object.values(CODE_SYSTEM)]) {
      expect(urls).toContain(url);
    }
    for (const r of resources) {
      expect(r.url).toMatch(new RegExp(`/${r.resourceType}/${r.id}$`));
    }
  });

  it('keeps code system counts and codes consistent', async () => {
    const codeSystems = (await readProfiles(profilesDir)).filter(
      (r): r is CodeSystem => r.resourceType === 'CodeSystem',
    );
    for (const cs of codeSystems) {
      const codes = (cs.concept ?? []).map((c) => c.code);
      expect(new Set(codes).size).toBe(codes.length);
      expect(cs.count).toBe(codes.length);
    }
  });

  it('makes the Task profile require owner, due time, focus, subject and code', async () => {
    const profiles = (await readProfiles(profilesDir)) as StructureDefinition[];
    const task = profiles.find((r) => r.resourceType === 'StructureDefinition' && r.id === 'hub-task')!;
    const required = task.differential!.element.filter((e) => e.min === 1).map((e) => e.path);
    expect(required).toEqual(
      expect.arrayContaining([
        'Task.owner',
        'Task.restriction.period.end',
        'Task.focus',
        'Task.for',
        'Task.code',
      ]),
    );
  });
});
