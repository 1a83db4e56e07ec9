import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Bundle, FhirResource } from 'fhir/r4.js';
import type { FhirGateway } from './fhir-gateway.js';

/** Conformance resources the hub loads, in dependency order: code systems before value sets before profiles. */
const LOAD_ORDER = [
  'CodeSystem',
  'ValueSet',
  'SearchParameter',
  'StructureDefinition',
  'PlanDefinition',
  'ActivityDefinition',
];

/** Reads every conformance resource (`*.json`) directly in `dir`, sorted in load order. */
export async function readProfiles(dir: string): Promise<FhirResource[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const resources = await Promise.all(
    files.map(async (file) => {
      const resource = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as FhirResource;
      if (!LOAD_ORDER.includes(resource.resourceType) || !resource.id) {
        throw new Error(`${file}: expected a conformance resource with an id, got ${resource.resourceType}`);
      }
      return resource;
    }),
  );
  return resources.sort((a, b) => LOAD_ORDER.indexOf(a.resourceType) - LOAD_ORDER.indexOf(b.resourceType));
}

/**
 * Puts the hub's profiles, code systems and value sets on the FHIR server in one transaction of
 * PUTs by id: idempotent (the server keeps the version when nothing changed), and all or none.
 * @returns how many resources were sent
 */
export async function loadProfiles(gateway: FhirGateway, dir: string): Promise<number> {
  const resources = await readProfiles(dir);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => ({
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
    })),
  };
  await gateway.transaction(bundle);
  return resources.length;
}
