import type { Communication, Resource } from 'fhir/r4.js';
import { searchUrl, UNKEPT_PAGE, type FhirGateway, type SearchRequest } from '../fhir/fhir-gateway.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import type { HubEvent } from '../mappers/types.js';
import { RECORD_KINDS } from './documentation.rules.js';

/**
 * The searches the coordination rules make about a record they are handed, built in one place so
 * the record's own transaction can make them after its writes (README, "Reads in one batch") and
 * the rules find the answers by the same URL. A search the transaction did not answer (an older
 * job, a record written another way, a different guess of what the record wrote) is made by the
 * rules themselves: the answers only spare a request, they never decide anything.
 */

/** Search results a transaction answered after its writes, by {@link searchUrl}. */
export type AnsweredSearches = Readonly<Record<string, readonly Resource[]>>;

/** Task states in which an obligation is still owed, as the rules search for them. */
export const OWED = ['requested', 'received', 'accepted', 'in-progress'];

/** The participant's obligations of `codes` the sender (`Organization/<id>`) still owes. */
export function owedByQuery(patient: string, codes: readonly string[], sender: string): SearchRequest {
  return {
    resourceType: 'Task',
    params: {
      patient,
      code: codes.map((c) => `${CODE_SYSTEM.taskCode}|${c}`).join(','),
      owner: sender,
      status: OWED.join(','),
      // Named, so the transaction's unkept answer tells whether it holds them all.
      _count: UNKEPT_PAGE,
    },
  };
}

/** The next crisis updates the agency still owes for the participant (each update asks for the next). */
export function openCrisisUpdatesQuery(patient: string, partnerId: string): SearchRequest {
  return {
    resourceType: 'Task',
    params: {
      patient,
      code: `${CODE_SYSTEM.taskCode}|crisis-update`,
      requester: `Organization/${partnerId}`,
      status: OWED.join(','),
      // Named, so the transaction's unkept answer tells whether it holds them all.
      _count: UNKEPT_PAGE,
    },
  };
}

/** What the record sent of a written resource, as far as its answers go. */
interface SentAs {
  readonly resourceType: string;
  readonly category?: Communication['category'];
}

/**
 * The obligation codes the record's written resources may answer: plan-change reviews for a
 * CarePlan version, documentation for a Communication of a record kind (or one whose categories
 * are not known). `written`: each write's resource type and, when known, what the record sent.
 */
export function answerableCodes(
  written: readonly { readonly type: string | undefined; readonly sent: SentAs | undefined }[],
): string[] {
  const codes = new Set<string>();
  for (const { type, sent } of written) {
    if (type === 'CarePlan') {
      codes.add('plan-change-review');
    }
    if (
      type === 'Communication' &&
      (sent?.resourceType !== 'Communication' || recordKinds(sent).length > 0)
    ) {
      codes.add('documentation-24h');
    }
  }
  return [...codes];
}

/** The record kinds (documentation-rules' kinds) a Communication's categories name. */
export function recordKinds(c: Pick<Communication, 'category'>): string[] {
  return (c.category ?? [])
    .flatMap((cat) => (cat.coding ?? []).filter((x) => x.system === CODE_SYSTEM.communicationCategory))
    .map((x) => x.code ?? '')
    .filter((k) => (RECORD_KINDS as readonly string[]).includes(k));
}

/**
 * What the rules will search about a record the writer is about to write for `partnerId`: the
 * obligations its resources may answer, and the crisis updates a crisis update answers.
 */
export function searchesAfterWrite(
  partnerId: string,
  patient: string,
  written: readonly Resource[],
  events: readonly HubEvent[],
): SearchRequest[] {
  const codes = answerableCodes(written.map((r) => ({ type: r.resourceType, sent: r })));
  return [
    ...(codes.length > 0 ? [owedByQuery(patient, codes, `Organization/${partnerId}`)] : []),
    ...(events.some((e) => e.type === 'crisis-update') ? [openCrisisUpdatesQuery(patient, partnerId)] : []),
  ];
}

/** The search's answer from the record's transaction, or the search made now. */
export function answeredOrSearch<T extends Resource>(
  fhir: FhirGateway,
  answered: AnsweredSearches | undefined,
  search: SearchRequest,
): Promise<T[]> {
  const known = answered?.[searchUrl(search)];
  return known ? Promise.resolve([...known] as T[]) : fhir.search<T>(search.resourceType, search.params);
}
