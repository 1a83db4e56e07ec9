import { describe, expect, it } from '@jest/globals';
import type { Bundle, BundleEntry, Resource, Task } from 'fhir/r4.js';
import {
  answeredOrSearch,
  owedByQuery,
  openCrisisUpdatesQuery,
  searchesAfterWrite,
} from '../../../src/coordination/rules-searches.js';
import { searchUrl, UNKEPT_PAGE, wholeSearchset, type FhirGateway } from '../../../src/fhir/fhir-gateway.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';

const PATIENT = 'Patient/p1';
const plan: Resource = { resourceType: 'CarePlan' };
const note = (code: string): Resource =>
  ({
    resourceType: 'Communication',
    status: 'completed',
    category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code }] }],
  }) as Resource;

/** A gateway that records the searches it is asked for and finds nothing. */
function searching(): { fhir: FhirGateway; asked: string[] } {
  const asked: string[] = [];
  const fhir = {
    search: async (resourceType: string, params: Record<string, string>) => {
      asked.push(searchUrl({ resourceType, params }));
      return [];
    },
  } as unknown as FhirGateway;
  return { fhir, asked };
}

describe("the rules' searches a record's transaction makes for them", () => {
  it('asks for the obligations a plan version or a documentation note may answer, and the open crisis updates of a crisis update', () => {
    expect(searchesAfterWrite('sunrise-hcbs', PATIENT, [plan], [])).toEqual([
      owedByQuery(PATIENT, ['plan-change-review'], 'Organization/sunrise-hcbs'),
    ]);
    expect(searchesAfterWrite('sunrise-hcbs', PATIENT, [note('contact')], [])).toEqual([
      owedByQuery(PATIENT, ['documentation-24h'], 'Organization/sunrise-hcbs'),
    ]);
    const crisis = { type: 'crisis-update', at: '2026-12-07T10:00:00Z' } as never;
    expect(searchesAfterWrite('northside-bh', PATIENT, [note('crisis-update')], [crisis])).toEqual([
      openCrisisUpdatesQuery(PATIENT, 'northside-bh'),
    ]);
    // A Flag, or a notice of no record kind, answers nothing: nothing to search.
    expect(searchesAfterWrite('sunrise-hcbs', PATIENT, [{ resourceType: 'Flag' }], [])).toEqual([]);
  });

  it('takes an answered search by its URL and searches what was not answered', async () => {
    const { fhir, asked } = searching();
    const owed = owedByQuery(PATIENT, ['plan-change-review'], 'Organization/sunrise-hcbs');
    const task: Task = { resourceType: 'Task', id: 't1', status: 'requested', intent: 'order' };
    const answered = { [searchUrl(owed)]: [task] };
    expect(await answeredOrSearch(fhir, answered, owed)).toEqual([task]);
    expect(asked).toEqual([]);
    const crisis = openCrisisUpdatesQuery(PATIENT, 'sunrise-hcbs');
    expect(await answeredOrSearch(fhir, answered, crisis)).toEqual([]);
    expect(await answeredOrSearch(fhir, undefined, owed)).toEqual([]);
    expect(asked).toEqual([searchUrl(crisis), searchUrl(owed)]);
  });

  it('trusts an answered page only when it holds every match', () => {
    const task: Task = { resourceType: 'Task', id: 't1', status: 'requested', intent: 'order' };
    const page = (more: Partial<Bundle>): Bundle => ({
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [{ resource: task }],
      ...more,
    });
    const owed = owedByQuery(PATIENT, ['plan-change-review'], 'Organization/sunrise-hcbs');
    expect(wholeSearchset(page({ total: 1 }), owed)).toEqual([task]);
    expect(wholeSearchset(page({}), owed)).toEqual([task]);
    expect(wholeSearchset(page({ resourceType: 'Bundle', type: 'searchset', entry: [] }), owed)).toEqual([]);
    expect(wholeSearchset(page({ link: [{ relation: 'next', url: 'x' }] }), owed)).toBeUndefined();
    expect(wholeSearchset(page({ total: 3 }), owed)).toBeUndefined();
    expect(wholeSearchset({ resourceType: 'OperationOutcome' }, owed)).toBeUndefined();
    expect(wholeSearchset(undefined, owed)).toBeUndefined();
  });

  it('takes a page that holds as many matches as the search asked for as one that may have more (the server kept no next page)', () => {
    const task = (id: string): BundleEntry => ({
      resource: { resourceType: 'Task', id, status: 'requested', intent: 'order' },
      search: { mode: 'match' },
    });
    const patient: BundleEntry = {
      resource: { resourceType: 'Patient', id: 'p1' },
      search: { mode: 'include' },
    };
    const page = (...entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry });
    const ofTwo = { resourceType: 'Task', params: { patient: PATIENT, _count: 2 } };
    expect(wholeSearchset(page(task('a'), patient), ofTwo)).toHaveLength(2);
    expect(wholeSearchset(page(task('a'), task('b')), ofTwo)).toBeUndefined();
    expect(wholeSearchset(page(task('a'), task('b'), patient), ofTwo)).toBeUndefined();
    // A search that names no page size cannot tell.
    expect(
      wholeSearchset(page(task('a')), { resourceType: 'Task', params: { patient: PATIENT } }),
    ).toBeUndefined();
    expect(openCrisisUpdatesQuery(PATIENT, 'sunrise-hcbs').params._count).toBe(UNKEPT_PAGE);
    expect(owedByQuery(PATIENT, ['documentation-24h'], 'Organization/x').params._count).toBe(UNKEPT_PAGE);
  });
});
