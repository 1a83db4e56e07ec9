import type { CodeableConcept, Identifier } from 'fhir/r4.js';
import type { FilterName, TopicInfo } from './topics.js';

// A subscription's filters (the backport's `backport-filter-criteria`, `<Type>?<name>=<value>`
// joined by `&`): read from the request, written back on the resource, matched against each
// event. Pure.

/** What a subscription narrows its topic to; every filter given must match. */
export interface SubscriptionFilter {
  /** `Patient/<id>` on the hub's FHIR base. */
  readonly patient?: string;
  /** `<system>|<value>`: the participant holds this identifier. */
  readonly patientIdentifier?: string;
  /** `<system>|<code>` or `<code>`: the Task's code. */
  readonly code?: string;
}

const FIELDS: Readonly<Record<FilterName, keyof SubscriptionFilter>> = {
  patient: 'patient',
  'patient:identifier': 'patientIdentifier',
  code: 'code',
};

const VALUES: Readonly<Record<FilterName, { readonly pattern: RegExp; readonly shape: string }>> = {
  patient: { pattern: /^Patient\/[A-Za-z0-9.-]{1,64}$/, shape: 'Patient/<id>' },
  'patient:identifier': { pattern: /^[^|\s]{1,256}\|[^|\s]{1,256}$/, shape: '<system>|<value>' },
  code: { pattern: /^([^|\s]{1,256}\|)?[^|\s]{1,64}$/, shape: '<system>|<code> or <code>' },
};

/** The filter of every criteria string, or what is wrong with them. */
export function readFilters(
  criteria: readonly string[],
  topic: TopicInfo,
): { readonly filter: SubscriptionFilter } | { readonly problems: readonly string[] } {
  const problems: string[] = [];
  const filter: Record<string, string> = {};
  for (const text of criteria) {
    const [, type, query] = /^([A-Za-z]+)\?(.+)$/.exec(text) ?? [];
    if (type !== topic.resourceType || !query) {
      problems.push(`"${text.slice(0, 100)}" is not ${topic.resourceType}?<name>=<value>`);
      continue;
    }
    for (const pair of query.split('&')) {
      const at = pair.indexOf('=');
      const name = pair.slice(0, at) as FilterName;
      let value = '';
      try {
        value = decodeURIComponent(pair.slice(at + 1));
      } catch {
        // left empty: refused below as not of the filter's shape
      }
      if (at < 1 || !topic.filters.includes(name)) {
        problems.push(`this topic filters by ${topic.filters.join(', ')}; not "${pair.slice(0, 100)}"`);
      } else if (!VALUES[name].pattern.test(value)) {
        problems.push(`${name} must be ${VALUES[name].shape}`);
      } else if (filter[FIELDS[name]] !== undefined) {
        problems.push(`${name} is given twice`);
      } else {
        filter[FIELDS[name]] = value;
      }
    }
  }
  return problems.length > 0 ? { problems } : { filter };
}

/** The criteria string that states the filter, for the subscription read back; none without one. */
export function filterCriteria(filter: SubscriptionFilter, resourceType: string): string | undefined {
  const pairs = (Object.entries(FIELDS) as Array<[FilterName, keyof SubscriptionFilter]>).flatMap(
    ([name, field]) => (filter[field] ? [`${name}=${encodeURIComponent(filter[field])}`] : []),
  );
  return pairs.length > 0 ? `${resourceType}?${pairs.join('&')}` : undefined;
}

/** What an event is matched on: its participant, the participant's identifiers, the focus's code. */
export interface EventFacts {
  readonly patient: string;
  /** Read only when a filter asks for them. */
  readonly identifiers: () => Promise<readonly Identifier[]>;
  readonly code?: CodeableConcept;
}

export async function filterTakes(filter: SubscriptionFilter, facts: EventFacts): Promise<boolean> {
  if (filter.patient && filter.patient !== facts.patient) {
    return false;
  }
  if (filter.code) {
    const [system, code] = filter.code.includes('|') ? filter.code.split('|') : [undefined, filter.code];
    const codings = facts.code?.coding ?? [];
    if (!codings.some((c) => c.code === code && (system === undefined || c.system === system))) {
      return false;
    }
  }
  if (filter.patientIdentifier) {
    const [system, value] = filter.patientIdentifier.split('|');
    return (await facts.identifiers()).some((i) => i.system === system && i.value === value);
  }
  return true;
}
