import type { Identifier, Patient } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { anyOfIdentifiers, hubSystem } from '../fhir/hub-identifiers.js';
import type { MappedRecord } from '../mappers/types.js';
import { mergeParticipant } from './merge-participant.js';
import { holdsAnotherValue, survivorsOf } from './participant-resolver.js';

/**
 * An engineer's decision on a record held for an identity conflict (README, "Identity review"):
 * - `same`: the record's person is Patient `patientId` ({@link adoptParticipant});
 * - `different`: the record's person is none of the Patients its identifiers point at
 *   ({@link asNewParticipant}), with a corrected value for any identifier system the engineer gives.
 */
export type IdentityDecision =
  | { readonly kind: 'same'; readonly patientId: string }
  | { readonly kind: 'different'; readonly corrected?: Readonly<Record<string, string>> };

const usable = (identifiers: readonly Identifier[]): Identifier[] =>
  identifiers.filter((i) => i.system && i.value);

/** The Patients (merged ones replaced by their survivors) holding any of the identifiers. */
export async function participantsMatching(
  fhir: FhirGateway,
  identifiers: readonly Identifier[],
): Promise<Patient[]> {
  const ids = usable(identifiers);
  if (ids.length === 0) {
    return [];
  }
  const found = await fhir.search<Patient>('Patient', {
    identifier: anyOfIdentifiers(ids),
  });
  return survivorsOf(fhir, found);
}

/**
 * `same`: every other Patient the record's identifiers point at is another record of this person
 * and is merged into the chosen one (as an HL7 A40 would); then the chosen Patient gets the
 * record's identifiers it lacks, except a second value of a one-value system (its own stands).
 * The record's birth date is not held against it: the engineer has looked.
 * @returns the chosen Patient's id
 */
export async function adoptParticipant(
  fhir: FhirGateway,
  identifierBase: string,
  patientId: string,
  identifiers: readonly Identifier[],
  at: string,
): Promise<string> {
  const ids = usable(identifiers);
  const [chosen] = await survivorsOf(fhir, [await fhir.read<Patient>('Patient', patientId)]);
  for (const other of await participantsMatching(fhir, ids)) {
    if (other.id !== chosen!.id) {
      const held = ids.filter((i) =>
        other.identifier?.some((e) => e.system === i.system && e.value === i.value),
      );
      await mergeParticipant(fhir, identifierBase, chosen!.id!, held, at);
    }
  }
  const patient = await fhir.read<Patient>('Patient', chosen!.id!);
  const missing = ids.filter(
    (i) =>
      !patient.identifier?.some((e) => e.system === i.system && e.value === i.value) &&
      !holdsAnotherValue(patient, i),
  );
  if (missing.length > 0) {
    await fhir.update<Patient>(
      { ...patient, identifier: [...(patient.identifier ?? []), ...missing] },
      { ifMatch: patient.meta?.versionId },
    );
  }
  return patient.id!;
}

/**
 * `different`: each identifier of the record that one of the Patients it points at holds is
 * replaced by its corrected value when the engineer gave one, else kept marked: under the hub's
 * `disputed-identifier` system (value `system|value`), which no record carries, so nothing finds
 * the new participant by it. The record then makes a participant of its own.
 */
export async function asNewParticipant(
  fhir: FhirGateway,
  identifierBase: string,
  mapped: MappedRecord,
  corrected: Readonly<Record<string, string>> = {},
): Promise<MappedRecord> {
  const matches = await participantsMatching(fhir, mapped.participant.identifiers);
  const disputed = (i: Identifier): boolean =>
    matches.some((p) => p.identifier?.some((e) => e.system === i.system && e.value === i.value));
  const identifiers = mapped.participant.identifiers.map((i): Identifier => {
    if (!i.system || !disputed(i)) {
      return i;
    }
    const fixed = corrected[i.system];
    return fixed
      ? { ...i, value: fixed }
      : { system: hubSystem(identifierBase, 'disputed-identifier'), value: `${i.system}|${i.value}` };
  });
  return { ...mapped, participant: { ...mapped.participant, identifiers } };
}
