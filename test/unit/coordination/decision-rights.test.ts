import { beforeAll, describe, expect, it } from '@jest/globals';
import AdmZip from 'adm-zip';
import type { FhirResource } from 'fhir/r4.js';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InboundFormat } from '../../../src/config/inbound-formats.js';
import { loadPartners, PartnerRegistry, type PartnerConfig } from '../../../src/config/partners.js';
import {
  codesOf,
  holdsRight,
  loadDecisionRights,
  missingRights,
  owningAgency,
  rightOfTaskCode,
  rightsExercised,
  type DecisionRightsConfig,
} from '../../../src/coordination/decision-rights.js';
import { ConfigError } from '../../../src/errors/hub-error.js';
import { CODE_SYSTEM } from '../../../src/fhir/profiles.js';
import { defaultFormats } from '../../../src/ingest/format-registry.js';
import type { MappedRecord, ResourceWrite } from '../../../src/mappers/types.js';
import {
  adt,
  crisisUpdate,
  evvCsv,
  evvRow,
  fhirMessage,
  fhirTaskMessage,
  hmisZip,
  MESSAGE_PATIENT,
  newPerson,
  servicePlan,
  type Person,
} from '../../fixtures/ingest/samples.js';
import { GOLDEN_DIR, goldenInput } from '../../support/golden.js';

const root = path.resolve(import.meta.dirname, '../../..');
const shipped = path.join(root, 'config/coordination/decision-rights.yaml');

/** A write of `resource`, as a mapper would hand it to the guard. */
function write(resource: Record<string, unknown>, n = 0): ResourceWrite {
  return {
    fullUrl: `urn:uuid:w${n}`,
    identifier: { system: 'https://example.org/w', value: String(n) },
    resource: resource as unknown as FhirResource,
  };
}

const coded = (system: string, code: string): { coding: { system: string; code: string }[] } => ({
  coding: [{ system, code }],
});
const task = (code: string): Record<string, unknown> => ({
  resourceType: 'Task',
  status: 'requested',
  intent: 'order',
  code: coded(CODE_SYSTEM.taskCode, code),
});
const carePlan = (...categories: string[]): Record<string, unknown> => ({
  resourceType: 'CarePlan',
  status: 'active',
  intent: 'plan',
  ...(categories.length > 0 ? { category: categories.map((c) => coded('https://example.org/kind', c)) } : {}),
});
const medicationStatement = { resourceType: 'MedicationStatement', status: 'active' };

describe('decision rights', () => {
  let partners: PartnerRegistry;
  let rights: DecisionRightsConfig;
  let housing: PartnerConfig;
  let bh: PartnerConfig;
  let hcbs: PartnerConfig;

  beforeAll(async () => {
    partners = await loadPartners(path.join(root, 'config/partners'), {});
    rights = await loadDecisionRights(shipped, partners);
    housing = partners.get('harbor-housing')!;
    bh = partners.get('northside-bh')!;
    hcbs = partners.get('sunrise-hcbs')!;
  });

  describe('the shipped map', () => {
    it('loads against the demo partners, with a right for every plan-change kind', () => {
      expect(Object.keys(rights.rights).sort()).toEqual([
        'authorization',
        'crisis-escalation',
        'discharge-follow-up',
        'home-visit',
        'housing-action',
        'medication-reconciliation',
        'plan-change',
        'plan-change-behavioral',
        'plan-change-housing',
        'plan-change-services',
        'referral',
        'services-check',
      ]);
    });

    it('classifies every post-discharge sprint step, so each has an owning agency among the demo partners', () => {
      const sprint = JSON.parse(
        readFileSync(path.join(root, 'config/coordination/post-discharge-sprint.json'), 'utf8'),
      ) as { action: { code: { coding: { code: string }[] }[] }[] };
      const team = ['harbor-housing', 'sunrise-hcbs', 'northside-bh'];
      const owners = sprint.action.map((a) => {
        const code = a.code[0]!.coding[0]!.code;
        return [code, owningAgency(rights, partners, rightOfTaskCode(rights, code)!, team)];
      });
      expect(owners).toEqual([
        ['discharge-summary', 'northside-bh'],
        ['medication-reconciliation', 'northside-bh'],
        ['immediate-risk-review', 'northside-bh'],
        ['first-visit-confirmed', 'sunrise-hcbs'],
        ['home-environment-check', 'sunrise-hcbs'],
        ['services-active-check', 'sunrise-hcbs'],
      ]);
    });

    it('refuses harbor-housing a MedicationStatement and a medication reconciliation Task, naming the right', () => {
      const writes = [
        write(
          { resourceType: 'Observation', status: 'final', code: coded('http://loinc.org', '71802-3') },
          0,
        ),
        write(medicationStatement, 1),
        write(task('medication-reconciliation'), 2),
      ];
      const message =
        'partner harbor-housing (housing) does not hold the decision right "medication-reconciliation" ' +
        "(Reconcile the participant's medication list across agencies); holders: behavioral-health, hcbs-provider";
      expect(missingRights(rights, housing, writes)).toEqual([
        { field: 'writes[1] (MedicationStatement)', message, right: 'medication-reconciliation' },
        {
          field: 'writes[2] (Task.code medication-reconciliation)',
          message,
          right: 'medication-reconciliation',
        },
      ]);
    });

    it('allows northside-bh (and sunrise-hcbs) the same writes', () => {
      const writes = [write(medicationStatement, 0), write(task('medication-reconciliation'), 1)];
      expect(missingRights(rights, bh, writes)).toEqual([]);
      expect(missingRights(rights, hcbs, writes)).toEqual([]);
    });

    it('scopes plan changes by CarePlan.category: each agency changes its own part', () => {
      const refused = (p: PartnerConfig, ...categories: string[]): string[] =>
        missingRights(rights, p, [write(carePlan(...categories))]).map((m) => `${m.field} ${m.right}`);
      expect(refused(housing, 'housing')).toEqual([]);
      expect(refused(housing)).toEqual(['writes[0] (CarePlan) plan-change']);
      expect(refused(housing, 'services')).toEqual([
        'writes[0] (CarePlan.category services) plan-change-services',
      ]);
      expect(refused(bh, 'behavioral-health')).toEqual([]);
      expect(refused(bh)).toEqual([]);
      expect(refused(bh, 'behavioral-health', 'housing')).toEqual([
        'writes[0] (CarePlan.category housing) plan-change-housing',
      ]);
      expect(refused(hcbs, 'services')).toEqual([]);
      expect(refused(hcbs, 'behavioral-health')).toEqual([
        'writes[0] (CarePlan.category behavioral-health) plan-change-behavioral',
      ]);
    });

    it('refuses a crisis escalation from housing and a housing action from the BH clinic', () => {
      const crisis = write({
        resourceType: 'Communication',
        status: 'completed',
        category: [coded(CODE_SYSTEM.communicationCategory, 'crisis-update')],
      });
      expect(missingRights(rights, housing, [crisis]).map((m) => m.field)).toEqual([
        'writes[0] (Communication.category crisis-update)',
      ]);
      expect(missingRights(rights, bh, [write(task('housing-follow-up'))])).toEqual([
        {
          field: 'writes[0] (Task.code housing-follow-up)',
          message:
            'partner northside-bh (behavioral-health) does not hold the decision right "housing-action" ' +
            '(Act on housing (housing follow-up after a housing loss)); holders: housing',
          right: 'housing-action',
        },
      ]);
    });
  });

  describe('codesOf', () => {
    it('reads every coding code of code, category and type, from any system, each once', () => {
      expect(codesOf(task('medication-reconciliation') as unknown as FhirResource)).toEqual([
        'medication-reconciliation',
      ]);
      const request = {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/1' },
        code: { coding: [{ system: 'http://snomed.info/sct', code: '308440001' }, { code: 'local-1' }] },
        category: [coded('http://snomed.info/sct', '410606002'), { text: 'no coding' }],
      };
      expect(codesOf(request as unknown as FhirResource)).toEqual(['308440001', 'local-1', '410606002']);
      const episode = {
        resourceType: 'EpisodeOfCare',
        status: 'active',
        patient: { reference: 'Patient/1' },
        type: [coded('https://a.example.org', 'rrh'), coded('https://b.example.org', 'rrh')],
      };
      expect(codesOf(episode as unknown as FhirResource)).toEqual(['rrh']);
      expect(
        codesOf({
          resourceType: 'Encounter',
          status: 'finished',
          class: { code: 'HH' },
          type: [coded('http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', 'T1019-U3')],
        }),
      ).toEqual(['T1019-U3']);
    });

    it('reads a bare Coding too (AuditEvent.type), and nothing from a resource without codes', () => {
      expect(
        codesOf({
          resourceType: 'AuditEvent',
          type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110113' },
          recorded: '2026-01-01T00:00:00Z',
          agent: [],
          source: { observer: {} },
        }),
      ).toEqual(['110113']);
      expect(codesOf({ resourceType: 'Patient', name: [{ family: 'Doe' }] })).toEqual([]);
    });
  });

  describe('rightsExercised', () => {
    const config: DecisionRightsConfig = {
      rights: {
        a: { description: 'A', holders: ['housing'], owner: 'housing' },
        b: { description: 'B', holders: ['county'], owner: 'county' },
        c: { description: 'C', holders: ['county'], owner: 'county' },
      },
      actions: [
        { right: 'a', resourceType: 'CarePlan' },
        { right: 'b', resourceType: 'CarePlan', code: 'x' },
        { right: 'c', resourceType: 'CarePlan', code: 'y' },
        { right: 'c', resourceType: 'Task', code: 'x' },
      ],
    };

    it('classifies by the coded actions a write carries a code of, else by its type’s uncoded ones', () => {
      const writes = [
        write(carePlan('x'), 0),
        write(carePlan(), 1),
        write(carePlan('other'), 2),
        write(carePlan('x', 'y'), 3),
        write(task('other'), 4),
        write(task('x'), 5),
        write({ resourceType: 'Flag', status: 'active', code: coded('https://example.org', 'x') }, 6),
      ];
      expect(rightsExercised(config, writes)).toEqual([
        { right: 'b', index: 0, resourceType: 'CarePlan', code: 'x' },
        { right: 'a', index: 1, resourceType: 'CarePlan' },
        { right: 'a', index: 2, resourceType: 'CarePlan' },
        { right: 'b', index: 3, resourceType: 'CarePlan', code: 'x' },
        { right: 'c', index: 3, resourceType: 'CarePlan', code: 'y' },
        { right: 'c', index: 5, resourceType: 'Task', code: 'x' },
      ]);
    });
  });

  describe('holdsRight', () => {
    const config: DecisionRightsConfig = {
      rights: { r: { description: 'R', holders: ['county', 'northside-bh'], owner: 'county' } },
      actions: [],
    };

    it('holds by kind or by id; an undefined right is held by no one', () => {
      expect(holdsRight(config, { id: 'any-county', kind: 'county' }, 'r')).toBe(true);
      expect(holdsRight(config, { id: 'northside-bh', kind: 'behavioral-health' }, 'r')).toBe(true);
      expect(holdsRight(config, { id: 'other-bh', kind: 'behavioral-health' }, 'r')).toBe(false);
      expect(holdsRight(config, { id: 'any-county', kind: 'county' }, 'nope')).toBe(false);
      expect(holdsRight(config, { id: 'any-county', kind: 'county' }, 'toString')).toBe(false);
    });
  });

  describe('owningAgency', () => {
    const partner = (id: string, kind: PartnerConfig['kind']): PartnerConfig => ({
      id,
      name: id,
      kind,
      inbound: { formats: [] },
    });
    const registry = new PartnerRegistry([
      partner('bh-one', 'behavioral-health'),
      partner('bh-two', 'behavioral-health'),
      partner('home-care', 'hcbs-provider'),
      partner('county-cm', 'county'),
      partner('shelter', 'housing'),
    ]);
    const config: DecisionRightsConfig = {
      rights: {
        byKind: {
          description: 'K',
          holders: ['hcbs-provider', 'behavioral-health'],
          owner: 'behavioral-health',
        },
        byId: { description: 'I', holders: ['behavioral-health'], owner: 'bh-two' },
        countyOwned: { description: 'C', holders: ['county', 'hcbs-provider'], owner: 'county' },
      },
      actions: [],
    };

    it('prefers the owner (first in CareTeam order) over a holder listed earlier', () => {
      expect(owningAgency(config, registry, 'byKind', ['home-care', 'bh-two', 'bh-one'])).toBe('bh-two');
      expect(owningAgency(config, registry, 'byId', ['bh-one', 'bh-two'])).toBe('bh-two');
    });

    it('falls back to the first holder on the team, skipping agencies it does not know', () => {
      expect(owningAgency(config, registry, 'countyOwned', ['stranger', 'shelter', 'home-care'])).toBe(
        'home-care',
      );
      expect(owningAgency(config, registry, 'byId', ['shelter', 'bh-one'])).toBe('bh-one');
    });

    it('is undefined when no one on the team holds the right, or the right is not defined', () => {
      expect(owningAgency(config, registry, 'countyOwned', ['shelter', 'bh-one'])).toBeUndefined();
      expect(owningAgency(config, registry, 'countyOwned', [])).toBeUndefined();
      expect(owningAgency(config, registry, 'nope', ['county-cm'])).toBeUndefined();
    });
  });

  describe('loadDecisionRights', () => {
    function file(text: string): string {
      const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'rights-')), 'decision-rights.yaml');
      writeFileSync(f, text);
      return f;
    }
    async function problems(text: string): Promise<string[]> {
      const err = await loadDecisionRights(file(text), partners).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
    const right = (name: string, holders: string, owner: string): string =>
      `  ${name}:\n    description: R\n    holders: [${holders}]\n    owner: ${owner}`;

    it('names every schema problem by its pointer', async () => {
      expect(
        await problems(
          [
            'rights:',
            '  a:',
            '    holders: []',
            '    owner: housing',
            '    colour: blue',
            'actions:',
            '  - { right: a, resourceType: task, code: " x" }',
            '  - { resourceType: Task }',
          ].join('\n'),
        ),
      ).toEqual(
        expect.arrayContaining([
          'decision-rights.yaml: /rights/a/description is required',
          'decision-rights.yaml: /rights/a/colour is not a known field',
          'decision-rights.yaml: /rights/a/holders must NOT have fewer than 1 items',
          'decision-rights.yaml: /actions/0/resourceType must match pattern "^[A-Z][A-Za-z]+$"',
          expect.stringMatching(/^decision-rights\.yaml: \/actions\/0\/code must match pattern/),
          'decision-rights.yaml: /actions/1/right is required',
        ]),
      );
      expect(await problems('rights: {}\nactions: []\n')).toEqual([
        'decision-rights.yaml: /rights must NOT have fewer than 1 properties',
      ]);
      expect(await problems('rights: [unclosed')).toEqual([
        expect.stringMatching(/^decision-rights\.yaml: /),
      ]);
    });

    it('lists every cross-field problem at once, each with its pointer', async () => {
      const text = [
        'rights:',
        right('a', 'housing, hospital, northside-bh', 'housing'),
        right('b', 'county', 'nobody'),
        right('c', 'county', 'housing'),
        right('d', 'behavioral-health', 'northside-bh'),
        right('e', 'harbor-housing', 'housing'),
        right('Bad_Name', 'county', 'county'),
        'actions:',
        '  - { right: a, resourceType: Task, code: x }',
        '  - { right: undefined-right, resourceType: Task }',
        '  - { right: a, resourceType: Task, code: y }',
        '  - { right: a, resourceType: Task, code: x }',
        '  - { right: d, resourceType: Task, code: x }',
        '  - { right: d, resourceType: MedicationStatement }',
        '  - { right: d, resourceType: MedicationStatement }',
      ].join('\n');
      expect(await problems(text)).toEqual([
        'decision-rights.yaml: /rights/a/holders/1 "hospital" is neither a partner kind nor a partner id',
        'decision-rights.yaml: /rights/b/owner "nobody" is neither a partner kind nor a partner id',
        'decision-rights.yaml: /rights/c/owner "housing" does not hold the right: add it to /rights/c/holders',
        'decision-rights.yaml: /rights/e/owner "housing" does not hold the right: add it to /rights/e/holders',
        'decision-rights.yaml: /rights/Bad_Name is not a valid right name: use lowercase letters, digits and hyphens',
        'decision-rights.yaml: /actions/1/right "undefined-right" is not defined under /rights',
        'decision-rights.yaml: /actions/3 repeats /actions/0',
        'decision-rights.yaml: /actions/6 repeats /actions/5',
      ]);
    });

    it('accepts an owner given by partner id whose kind holds the right, and holders by partner id', async () => {
      const config = await loadDecisionRights(
        file(
          [
            'rights:',
            right('d', 'behavioral-health', 'northside-bh'),
            right('e', 'harbor-housing', 'harbor-housing'),
            'actions: []',
          ].join('\n'),
        ),
        partners,
      );
      expect(Object.keys(config.rights)).toEqual(['d', 'e']);
    });
  });

  describe('the demo partners’ own records, mapped by the actual mappers', () => {
    const formats = defaultFormats();

    /** Every record `body` holds for `partner` in `format`, parsed and mapped as the hub does. */
    function mapped(partner: PartnerConfig, format: InboundFormat, body: Buffer | string): MappedRecord[] {
      const h = formats[format]!;
      const parsed = h.parse(Buffer.from(body), partner);
      expect({ format, rejected: parsed.rejected }).toEqual({ format, rejected: [] });
      expect(parsed.accepted.length).toBeGreaterThan(0);
      return parsed.accepted.map((a) =>
        h.map(a.record, { partner, identifierBase: 'https://carecoord.example.org' }),
      );
    }
    const json = (value: unknown): string => JSON.stringify(value);
    function goldenZip(name: string): Buffer {
      const zip = new AdmZip();
      const dir = path.join(GOLDEN_DIR, 'hmis', name);
      for (const f of readdirSync(dir)) {
        zip.addFile(`export/${f}`, readFileSync(path.join(dir, f)));
      }
      return zip.toBuffer();
    }
    const communication = (person: Person, partnerId: string, category: string): Record<string, unknown> => ({
      resourceType: 'Communication',
      identifier: [
        { system: `https://${partnerId}.example.org/notes`, value: `N-${person.tag}-${category}` },
      ],
      status: 'completed',
      category: [coded(CODE_SYSTEM.communicationCategory, category)],
      subject: { reference: MESSAGE_PATIENT },
      sender: { reference: `Organization/${partnerId}` },
      payload: [{ contentString: category }],
    });
    const sharedPlan = (person: Person, partnerId: string, category?: string): Record<string, unknown> => ({
      resourceType: 'CarePlan',
      identifier: [{ system: 'https://sunrise-hcbs.example.org/plan', value: `P-${person.tag}` }],
      status: 'active',
      intent: 'plan',
      ...(category ? { category: [coded('https://carecoord.example.org/plan-kind', category)] } : {}),
      subject: { reference: MESSAGE_PATIENT },
      author: { reference: 'Organization/sunrise-hcbs' },
      activity: [
        { detail: { status: 'scheduled', performer: [{ reference: `Organization/${partnerId}` }] } },
      ],
    });

    /** What each demo partner sends today, in each of its formats. */
    function demoRecords(person: Person): Record<string, [InboundFormat, Buffer | string][]> {
      return {
        'harbor-housing': [
          ['hmis-csv', hmisZip(person)],
          ...['housed', 'exit-homeless', 'cls-homeless'].map((n): [InboundFormat, Buffer] => [
            'hmis-csv',
            goldenZip(n),
          ]),
          [
            'fhir-message',
            json(
              fhirMessage(person, 'harbor-housing', 'communication', [
                communication(person, 'harbor-housing', 'service-disruption'),
                communication(person, 'harbor-housing', 'acknowledgment'),
              ]),
            ),
          ],
          [
            'fhir-message',
            json(
              fhirMessage(person, 'harbor-housing', 'careplan-update', [
                sharedPlan(person, 'harbor-housing', 'housing'),
              ]),
            ),
          ],
        ],
        'northside-bh': [
          ...(['A01', 'A04', 'A08', 'A03'] as const).map((trigger): [InboundFormat, string] => [
            'hl7v2-adt',
            adt(person, { trigger, controlId: `C-${trigger}`, visitNumber: `V-${person.tag}` }),
          ]),
          ...['a01-admit', 'a03-discharge', 'a04-ed-visit', 'a08-update', 'a11-cancel-admit'].map(
            (n): [InboundFormat, string] => ['hl7v2-adt', goldenInput('hl7v2', `${n}.input.hl7`)],
          ),
          ['crisis-update', json(crisisUpdate(person))],
          ['crisis-update', goldenInput('crisis-update', 'high-risk-evening.input.json')],
          ['crisis-update', goldenInput('crisis-update', 'informational.input.json')],
          ['fhir-message', json(fhirTaskMessage(person, 'northside-bh', 'Encounter/1'))],
          [
            'fhir-message',
            json(
              fhirMessage(person, 'northside-bh', 'encounter-discharge', [
                {
                  resourceType: 'Encounter',
                  identifier: [{ system: 'https://northside.example.org/visit', value: `V-${person.tag}` }],
                  status: 'finished',
                  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
                  subject: { reference: MESSAGE_PATIENT },
                  period: { start: '2025-03-10T09:00:00Z', end: '2025-03-14T15:00:00Z' },
                },
                communication(person, 'northside-bh', 'contact'),
              ]),
            ),
          ],
          // An edit of the shared plan without a kind category (adding a medication activity).
          [
            'fhir-message',
            json(
              fhirMessage(person, 'northside-bh', 'careplan-update', [sharedPlan(person, 'northside-bh')]),
            ),
          ],
          [
            'fhir-transaction',
            json({
              resourceType: 'Bundle',
              type: 'transaction',
              entry: [
                {
                  fullUrl: 'urn:uuid:p',
                  resource: { resourceType: 'Patient' },
                  request: {
                    method: 'PUT',
                    url: `Patient?identifier=https://northside.example.org/mrn|${person.mrn}`,
                  },
                },
                {
                  resource: {
                    resourceType: 'Encounter',
                    status: 'finished',
                    subject: { reference: 'urn:uuid:p' },
                  },
                  request: {
                    method: 'POST',
                    url: 'Encounter',
                    ifNoneExist: `identifier=https://northside.example.org/visit|${person.tag}`,
                  },
                },
              ],
            }),
          ],
        ],
        'sunrise-hcbs': [
          ['service-plan', json(servicePlan(person))],
          ['service-plan', goldenInput('service-plan', 'plan-with-risks.input.json')],
          [
            'evv-csv',
            evvCsv(
              evvRow(person, `V1-${person.tag}`, 'COMPLETED', '2025-03-04', true),
              evvRow(person, `V2-${person.tag}`, 'NS', '2025-03-05'),
              evvRow(person, `V3-${person.tag}`, 'MISSED', '2025-03-06'),
              evvRow(person, `V4-${person.tag}`, 'CXL', '2025-03-07'),
              evvRow(person, `V5-${person.tag}`, 'SCHEDULED', '2025-03-08'),
            ),
          ],
          ['crisis-update', json(crisisUpdate(person))],
          ['crisis-update', goldenInput('crisis-update', 'high-risk-evening.input.json')],
          [
            'fhir-message',
            json(
              fhirMessage(person, 'sunrise-hcbs', 'careplan-update', [sharedPlan(person, 'sunrise-hcbs')]),
            ),
          ],
          [
            'fhir-message',
            json(
              fhirMessage(person, 'sunrise-hcbs', 'careplan-update', [
                sharedPlan(person, 'sunrise-hcbs', 'services'),
              ]),
            ),
          ],
          [
            'fhir-message',
            json(
              fhirMessage(person, 'sunrise-hcbs', 'communication', [
                communication(person, 'sunrise-hcbs', 'service-disruption'),
                communication(person, 'sunrise-hcbs', 'acknowledgment'),
              ]),
            ),
          ],
          ['fhir-message', json(fhirTaskMessage(person, 'sunrise-hcbs', 'Encounter/1'))],
        ],
      };
    }

    it.each(['harbor-housing', 'northside-bh', 'sunrise-hcbs'])(
      '%s is refused none of its own records, in every format it sends',
      (id) => {
        const partner = partners.get(id)!;
        const records = demoRecords(newPerson())[id]!;
        expect(new Set(records.map(([format]) => format))).toEqual(new Set(partner.inbound.formats));
        const all = records.flatMap(([format, body]) => mapped(partner, format, body));
        expect(all.flatMap((m) => missingRights(rights, partner, m.writes))).toEqual([]);
        // The records do exercise rights: the check above is not vacuous.
        const exercised = new Set(all.flatMap((m) => rightsExercised(rights, m.writes).map((x) => x.right)));
        expect([...exercised].sort()).toEqual(
          {
            'harbor-housing': ['housing-action', 'plan-change-housing'],
            'northside-bh': ['crisis-escalation', 'medication-reconciliation', 'plan-change'],
            'sunrise-hcbs': [
              'crisis-escalation',
              'home-visit',
              'medication-reconciliation',
              'plan-change',
              'plan-change-services',
            ],
          }[id],
        );
      },
    );

    it('refuses harbor-housing’s medication reconciliation Task message, naming the right', () => {
      const person = newPerson();
      const [record] = mapped(
        housing,
        'fhir-message',
        json(fhirTaskMessage(person, 'harbor-housing', 'Encounter/1')),
      );
      expect(missingRights(rights, housing, record!.writes)).toEqual([
        {
          field: 'writes[0] (Task.code medication-reconciliation)',
          message: expect.stringMatching(
            /^partner harbor-housing \(housing\) does not hold the decision right "medication-reconciliation"/,
          ),
          right: 'medication-reconciliation',
        },
      ]);
    });
  });
});
