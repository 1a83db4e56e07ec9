import type { Identifier } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { mapReferences, relativeReference } from '../fhir/references.js';

/**
 * A record's relative references (`Condition/f201`) name resources either on the shared server (a
 * partner pointing at the plan it received) or on the sender's own (an EHR export). Those the
 * shared server holds are kept; the others become logical references, by the sender's id scoped
 * to the sender (`<base>/sid/<partner>/<Type>`), so the write never fails on a dangling
 * reference and the meaning is kept (README, "FHIR transactions and batches"). One search per
 * referenced type.
 */
export async function groundReferences<T>(
  fhir: FhirGateway,
  values: readonly T[],
  scoped: (resourceType: string, id: string) => Identifier,
): Promise<T[]> {
  const wanted = new Map<string, Set<string>>();
  for (const value of values) {
    mapReferences(value, (ref) => {
      const named = relativeReference(ref.reference ?? '');
      if (named) {
        wanted.set(named.type, (wanted.get(named.type) ?? new Set()).add(named.id));
      }
      return ref;
    });
  }
  if (wanted.size === 0) {
    return [...values];
  }
  const held = new Set<string>();
  for (const [type, ids] of wanted) {
    const found = await fhir.search(
      type,
      { _id: [...ids].join(','), _elements: 'id' },
      Number.POSITIVE_INFINITY,
    );
    for (const r of found) {
      held.add(`${type}/${r.id}`);
    }
  }
  return values.map((value) =>
    mapReferences(value, (ref) => {
      const named = relativeReference(ref.reference ?? '');
      if (!named || held.has(`${named.type}/${named.id}`)) {
        return ref;
      }
      const { reference: _dangling, ...rest } = ref;
      return {
        ...rest,
        type: rest.type ?? named.type,
        identifier: rest.identifier ?? scoped(named.type, named.id),
      };
    }),
  );
}
