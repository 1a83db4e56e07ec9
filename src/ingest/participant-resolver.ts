import type { Identifier, Patient } from 'fhir/r4.js';
import { HubError } from '../errors/hub-error.js';
import { FhirServerError, VersionConflictError } from '../fhir/fhir-errors.js';
import { anyOfIdentifiers, tokenOf } from '../fhir/hub-identifiers.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { IdentityLock } from './identity-lock.js';

/**
 * The record's identifiers point at more than one Patient, or at a Patient that holds a different
 * value for the same identifier system or a contradicting birth date. The hub reports this instead
 * of guessing: it never merges on a name alone.
 */
export class ParticipantConflictError extends HubError {
  constructor(message: string, element = 'Patient.identifier') {
    super('PARTICIPANT.CONFLICT', message, {
      status: 409,
      issues: [{ severity: 'error', code: 'conflict', diagnostics: message, expression: [element] }],
    });
  }
}

/**
 * The Patients a search found, each merged one (a `replaced-by` link, left by an HL7 A40) replaced
 * by the one it was merged into, once each: a record carrying a merged record's identifiers is
 * about the survivor.
 */
export async function survivorsOf(fhir: FhirGateway, found: readonly Patient[]): Promise<Patient[]> {
  const byId = new Map<string, Patient>();
  for (let patient of found) {
    for (let hops = 0; hops < 5; hops++) {
      const id = replacedBy(patient);
      if (!id) {
        break;
      }
      patient = byId.get(id) ?? (await fhir.read<Patient>('Patient', id));
    }
    byId.set(patient.id!, patient);
  }
  return [...byId.values()];
}

/** The id of the Patient a merged one was merged into (its `replaced-by` link), if it was. */
export function replacedBy(patient: Patient): string | undefined {
  const next = patient.link?.find((l) => l.type === 'replaced-by')?.other.reference;
  return /^Patient\/([^/]+)$/.exec(next ?? '')?.[1];
}

/** Systems of which a person has exactly one value (a second value means a different person). */
const SINGLE_VALUE_SYSTEMS_SUFFIX = ['/sid/medicaid', 'us-ssn'];

/** The one Patient a record is about, found or created by its identifiers. */
export interface ResolvedParticipant {
  readonly patientId: string;
  readonly created: boolean;
  /** The Patient's identifiers once resolved (what a plan delivery discloses of the participant). */
  readonly identifiers: readonly Identifier[];
}

const MAX_CONFLICT_RETRIES = 3;

/**
 * Finds the one Patient holding any of `identifiers` and adds the identifiers it lacks; creates
 * the Patient (conditionally, so two concurrent records for a new person make one) when none
 * does. More than one match is a {@link ParticipantConflictError}. `lock` serialises the creation
 * across hub processes; `'held'`: the caller holds it already, so the first look is itself the
 * conditional create (it finds the one match or makes the Patient, in the caller's batch of reads).
 */
export async function resolveParticipant(
  fhir: FhirGateway,
  identifiers: readonly Identifier[],
  demographics: Patient | undefined,
  lock?: IdentityLock | 'held',
): Promise<ResolvedParticipant> {
  const usable = identifiers.filter((i) => i.system && i.value);
  if (usable.length === 0) {
    throw new HubError('PARTICIPANT.NO_IDENTIFIER', 'The record carries no identifier of the participant', {
      status: 422,
      issues: [
        { severity: 'error', code: 'required', diagnostics: 'No participant identifier in the record' },
      ],
    });
  }
  const query = anyOfIdentifiers(usable);
  const patient: Patient = { ...demographics, resourceType: 'Patient', identifier: [...usable] };
  // Encoded: a system holding `%20` (an assigning authority with spaces) must reach the server as
  // written, not decoded into a system no identifier has.
  const ifNoneExist = `identifier=${usable.map(tokenOf).join(',')}`;
  const createdAs = (resource: Patient): ResolvedParticipant => ({
    patientId: resource.id!,
    created: true,
    identifiers: resource.identifier ?? usable,
  });

  for (let attempt = 0; ; attempt++) {
    let found: Patient[] | undefined;
    if (attempt === 0 && lock === 'held') {
      // Several Patients match (412), the create lost a race (409), or the server refuses the
      // record as a new Patient (a 4xx: demographics it cannot take, a query it does not do):
      // searched below instead, as a known participant needs no create.
      const first = await fhir.createIfNoneExist(patient, ifNoneExist).catch((err: unknown) => {
        if (err instanceof FhirServerError && !err.transient) {
          return undefined;
        }
        throw err;
      });
      if (first?.created) {
        return createdAs(first.resource);
      }
      found = first && [first.resource];
    }
    const matches = await survivorsOf(
      fhir,
      found ?? (await fhir.search<Patient>('Patient', { identifier: query })),
    );
    if (matches.length > 1) {
      // Which participants is for staff to see in the identity review, not for the sender.
      throw new ParticipantConflictError(
        `The record's identifiers match ${matches.length} participants; they must be reconciled before this record can be applied`,
      );
    }
    const existing = matches[0];
    if (!existing) {
      // A new person: created under the identity lock, and only if no Patient holds any of the
      // identifiers yet (the conditional create looks again in the same call), so two first records
      // arriving together with different identifiers make one Patient, not two.
      const create = async (): Promise<ResolvedParticipant | undefined> => {
        try {
          const { resource, created } = await fhir.createIfNoneExist(patient, ifNoneExist);
          return created ? createdAs(resource) : undefined;
        } catch (err) {
          // Several Patients match (412), or HAPI refused the second of two simultaneous
          // conditional creates (409): look again.
          if (err instanceof VersionConflictError) {
            return undefined;
          }
          throw err;
        }
      };
      const made = lock && lock !== 'held' ? await lock(usable, create) : await create();
      if (made) {
        return made;
      }
      if (attempt >= MAX_CONFLICT_RETRIES) {
        // The server says someone holds the identifiers, but its searches do not find them.
        throw new Error('the new participant could neither be created nor found; retrying later');
      }
      continue; // another record created the person meanwhile: link to that Patient
    }
    checkSingleValueSystems(existing, usable);
    checkBirthDate(existing, demographics);
    const missing = usable.filter(
      (i) => !(existing.identifier ?? []).some((e) => e.system === i.system && e.value === i.value),
    );
    const held = [...(existing.identifier ?? []), ...missing];
    if (missing.length === 0) {
      return { patientId: existing.id!, created: false, identifiers: held };
    }
    try {
      await fhir.update<Patient>({ ...existing, identifier: held }, { ifMatch: existing.meta?.versionId });
      return { patientId: existing.id!, created: false, identifiers: held };
    } catch (err) {
      // Another record updated the same Patient first: read it again and retry.
      if (err instanceof VersionConflictError && attempt < MAX_CONFLICT_RETRIES) {
        continue;
      }
      throw err;
    }
  }
}

/** Whether `patient` holds another value of `id`'s system where a person has only one (Medicaid ID, SSN). */
export function holdsAnotherValue(patient: Patient, id: Identifier): boolean {
  return (
    SINGLE_VALUE_SYSTEMS_SUFFIX.some((suffix) => id.system?.endsWith(suffix)) &&
    (patient.identifier ?? []).some((e) => e.system === id.system && e.value !== id.value)
  );
}

function checkSingleValueSystems(existing: Patient, incoming: readonly Identifier[]): void {
  for (const id of incoming) {
    if (holdsAnotherValue(existing, id)) {
      throw new ParticipantConflictError(
        `The participant this record names already holds a different ${id.system} identifier; ` +
          'the identifiers must be reconciled before this record can be applied',
      );
    }
  }
}

/**
 * The same identifier with a contradicting birth date is not the same person until someone says
 * so. Dates are compared at the precision both sides have (a year-only date agrees with any date
 * in that year).
 */
function checkBirthDate(existing: Patient, incoming: Patient | undefined): void {
  const held = existing.birthDate;
  const sent = incoming?.birthDate;
  if (!held || !sent) {
    return;
  }
  const precision = Math.min(held.length, sent.length);
  if (held.slice(0, precision) !== sent.slice(0, precision)) {
    // The stored birth date is another agency's record: the sender is told only that it differs.
    throw new ParticipantConflictError(
      `The participant this record names holds a different birth date than the record's ${sent}; ` +
        'the participant must be reconciled before this record can be applied',
      'Patient.birthDate',
    );
  }
}
