import type { Resource } from 'fhir/r4.js';
import { VersionConflictError } from './fhir-errors.js';
import type { FhirGateway } from './fhir-gateway.js';

const ATTEMPTS = 4;

/**
 * Read-modify-write without losing another writer's change: `change` applied to the version read
 * is written with If-Match on that version; when someone changed the resource in between (412, or
 * 409 from some servers) it is read again and `change` applied to what is there now. `change`
 * answers `undefined` when nothing is left to do (a Task someone else closed meanwhile); the
 * resource as it stands is then returned unchanged. See docs/architecture.md, "Concurrent writers".
 */
export async function changeResource<T extends Resource>(
  fhir: Pick<FhirGateway, 'read' | 'update'>,
  read: T,
  change: (current: T) => T | undefined,
): Promise<T> {
  let current = read;
  for (let attempt = 1; ; attempt++) {
    const changed = change(current);
    if (!changed) {
      return current;
    }
    try {
      return await fhir.update<T>(changed, { ifMatch: current.meta?.versionId });
    } catch (err) {
      if (!(err instanceof VersionConflictError) || attempt >= ATTEMPTS) {
        throw err;
      }
      current = await fhir.read<T>(current.resourceType, current.id!);
    }
  }
}
