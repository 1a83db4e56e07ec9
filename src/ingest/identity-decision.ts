import { InvalidInputError } from '../errors/hub-error.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { staffEdit } from '../security/audit.js';
import { participantsMatching, type IdentityDecision } from './identity-review.js';
import type { IngestService } from './ingest-service.js';
import type { MappedRecord } from '../mappers/types.js';
import type { RejectedStore, StoredRejection } from './rejected-store.js';
import type { Patient } from 'fhir/r4.js';

/** What an engineer decides for a record held for an identity conflict (README, "Identity review"). */
export type IdentityChoice = IdentityDecision | { readonly kind: 'discard' };

export interface IdentityDecisionDeps {
  readonly fhir: FhirGateway;
  readonly rejected: Pick<RejectedStore, 'remove' | 'page'>;
  readonly ingest: Pick<IngestService, 'participantOf' | 'resolveIdentity'>;
  readonly now: () => Date;
}

/**
 * Carries out an engineer's decision, the same from the page and the API: "the same person" may
 * name only a participant the record points at; the record is applied as decided (or discarded)
 * and the decision is an AuditEvent with its reason.
 * @returns what was decided, in words, and the replay's logged message when one was made
 */
export async function decideIdentity(
  deps: IdentityDecisionDeps,
  rejection: StoredRejection,
  choice: IdentityChoice,
  by: string,
  reason: string,
): Promise<{ outcome: string; messageId?: string }> {
  const what = `identity review of rejected record ${rejection.id} (${rejection.partnerId} ${rejection.location})`;
  const audit = (outcome: string): Promise<unknown> =>
    deps.fhir.create(staffEdit({ staff: by, what: `${what}: ${outcome}`, reason }, deps.now()));
  if (choice.kind === 'discard') {
    await deps.rejected.remove(rejection.id);
    await audit('discarded');
    return { outcome: 'discarded' };
  }
  if (choice.kind === 'same') {
    const identifiers = deps.ingest.participantOf(rejection)?.identifiers ?? [];
    if (!(await participantsMatching(deps.fhir, identifiers)).some((p) => p.id === choice.patientId)) {
      throw new InvalidInputError(`Patient/${choice.patientId} is not a participant this record points at`, [
        {
          severity: 'error',
          code: 'value',
          diagnostics: `Patient/${choice.patientId} is not a participant this record points at`,
          expression: ['decision'],
        },
      ]);
    }
  }
  const report = await deps.ingest.resolveIdentity(rejection, { by, reason, decision: choice });
  const outcome =
    choice.kind === 'same' ? `the same person as Patient/${choice.patientId}` : 'a different person';
  await audit(outcome);
  return { outcome, ...(report.messageId ? { messageId: report.messageId } : {}) };
}

/** A record held for an identity conflict, the participant it names, and those its identifiers point at. */
export interface HeldRecord {
  readonly rejection: StoredRejection;
  readonly participant?: MappedRecord['participant'];
  readonly matches: readonly Patient[];
}

/** The newest records held for an identity conflict, each beside the participants it points at (page and API). */
export async function heldForReview(deps: IdentityDecisionDeps, limit: number): Promise<HeldRecord[]> {
  const held = await deps.rejected.page({ held: 'identity', limit });
  return Promise.all(
    held.items.map(async (rejection) => {
      const participant = deps.ingest.participantOf(rejection);
      const matches = participant ? await participantsMatching(deps.fhir, participant.identifiers) : [];
      return { rejection, ...(participant ? { participant } : {}), matches };
    }),
  );
}
