/**
 * Issue 13: no input can stall the hub. Each adapter reads 1 MiB pathological bodies (runs of
 * spaces, escape characters, delimiters, quotes) in time proportional to a normal body of the same
 * size: a super-linear pattern shows as a ratio in the hundreds (40,000 spaces in an MSH line took
 * the old HL7 splitter about 10 s). Compared within one run, never against a wall-clock limit.
 */
import { describe, expect, it } from '@jest/globals';
import AdmZip from 'adm-zip';
import { performance } from 'node:perf_hooks';
import type { InboundFormat } from '../../../src/config/inbound-formats.js';
import type { PartnerConfig } from '../../../src/config/partners.js';
import { defaultFormats } from '../../../src/ingest/format-registry.js';
import {
  adt,
  crisisUpdate,
  evvCsv,
  evvRow,
  EVV_HEADER,
  fhirTaskMessage,
  hmisFiles,
  newPerson,
  servicePlan,
} from '../../fixtures/ingest/samples.js';

const MIB = 1024 * 1024;
/** How much slower than a normal body of the same size a hostile one may be read. */
const MAX_RATIO = 10;
/** Below this a normal read is noise; ratios are taken against at least this. */
const NOISE_MS = 50;

const partner: PartnerConfig = {
  id: 'sunrise-hcbs',
  name: 'Sunrise',
  kind: 'hcbs-provider',
  inbound: {
    formats: [
      'hl7v2-adt',
      'service-plan',
      'crisis-update',
      'evv-csv',
      'hmis-csv',
      'fhir-message',
      'fhir-transaction',
    ],
  },
  identifiers: { assigningAuthorities: { MCD: 'medicaid', NBH: 'mrn' } },
  fieldOverrides: { 'hl7.timezone': 'America/Chicago', 'evv.timezone': 'America/Chicago' },
};
const formats = defaultFormats();
const person = newPerson();

/** Repeats `unit` until the body is about `size` bytes. */
function fill(unit: string, size = MIB): string {
  return unit.repeat(Math.max(1, Math.ceil(size / unit.length)));
}

function zip(files: Record<string, string>): Buffer {
  const z = new AdmZip();
  for (const [name, text] of Object.entries(files)) {
    z.addFile(`export/${name}`, Buffer.from(text, 'utf8'));
  }
  return z.toBuffer();
}

/** Parses (and maps what was accepted), returning the milliseconds it took. */
function timeRead(format: InboundFormat, body: Buffer): number {
  const handler = formats[format]!;
  const start = performance.now();
  const parsed = handler.parse(body, partner);
  for (const r of parsed.accepted.slice(0, 50)) {
    try {
      handler.map(r.record, { partner, identifierBase: 'https://carecoord.example.org' });
    } catch {
      // a refusal is an answer; only the time matters here
    }
  }
  return performance.now() - start;
}

const msh = 'MSH|^~\\&|NBHEHR|NORTHSIDE|HUB|CARECOORD|20250310143000||ADT^A01^ADT_A01|C1|P|2.5.1';
const plan = servicePlan(person);
const planJson = JSON.stringify(plan);
const hmis = hmisFiles(person);

const cases: Record<InboundFormat, { normal: Buffer; hostile: Record<string, Buffer> }> = {
  'hl7v2-adt': {
    normal: Buffer.from(fill(adt(person, { trigger: 'A01', controlId: 'C1', visitNumber: 'V1' }))),
    hostile: {
      'spaces in MSH': Buffer.from(`${msh}${' '.repeat(MIB)}x\rPID|1||1^^^MCD^MA\r`),
      'spaces between segments': Buffer.from(`${msh}${fill(' PID ')}\r`),
      'escape characters': Buffer.from(`${msh}\rPID|1||${fill('\\X')}^^^MCD^MA\r`),
      'field separators': Buffer.from(`${msh}\rPID${fill('|')}\r`),
      'repetitions and components': Buffer.from(`${msh}\rPID|1||${fill('~^&')}\r`),
      'blank lines': Buffer.from(`${msh}${fill('\r\n')}PID|1\r`),
      'MSH after MSH': Buffer.from(fill('MSH|^~\\&|\r')),
    },
  },
  'service-plan': {
    normal: Buffer.from(`{"plans":[${fill(`${planJson},`).slice(0, -1)}]}`),
    hostile: {
      whitespace: Buffer.from(`{"plans":[${planJson}${' '.repeat(MIB)}]}`),
      'escaped backslashes': Buffer.from(JSON.stringify({ ...plan, planId: fill('\\') })),
      'long goal text': Buffer.from(
        JSON.stringify({ ...plan, goals: [{ goalId: 'G', goal: fill('a '), target: 'x' }] }),
      ),
      'many empty plans': Buffer.from(`{"plans":[${fill('{},').slice(0, -1)}]}`),
    },
  },
  'crisis-update': {
    normal: Buffer.from(JSON.stringify({ ...crisisUpdate(person), presentingRisk: fill('calm night ') })),
    hostile: {
      whitespace: Buffer.from(`${JSON.stringify(crisisUpdate(person))}${' '.repeat(MIB)}`),
      'escaped quotes': Buffer.from(JSON.stringify({ ...crisisUpdate(person), updateId: fill('"') })),
      'many thresholds': Buffer.from(
        JSON.stringify({ ...crisisUpdate(person), thresholdsCrossed: fill('x,').split(',') }),
      ),
    },
  },
  'evv-csv': {
    normal: Buffer.from(
      evvCsv(...Array.from({ length: MIB / 120 }, (_, i) => evvRow(person, `V${i}`, 'COMPLETED'))),
    ),
    hostile: {
      quotes: Buffer.from(`${EVV_HEADER}\r\n"${fill('""')}"\r\n`),
      'unclosed quote': Buffer.from(`${EVV_HEADER}\r\n"${fill('a,')}\r\n`),
      commas: Buffer.from(`${EVV_HEADER}\r\n${fill(',')}\r\n`),
      spaces: Buffer.from(`${EVV_HEADER}\r\nV1,${' '.repeat(MIB)},x\r\n`),
      'blank lines': Buffer.from(`${EVV_HEADER}${fill('\r\n')}`),
    },
  },
  'hmis-csv': {
    normal: zip({
      ...hmis,
      'Client.csv': hmis['Client.csv'] + fill(hmis['Client.csv'].split('\r\n')[1]! + '\r\n'),
    }),
    hostile: {
      'spaces in a cell': zip({ ...hmis, 'Client.csv': `${hmis['Client.csv']}X,${' '.repeat(MIB)},\r\n` }),
      quotes: zip({ ...hmis, 'Client.csv': `${hmis['Client.csv']}"${fill('""')}"\r\n` }),
      commas: zip({ ...hmis, 'Client.csv': `${hmis['Client.csv']}${fill(',')}\r\n` }),
    },
  },
  'fhir-message': {
    normal: Buffer.from(
      JSON.stringify({
        ...fhirTaskMessage(person, 'sunrise-hcbs', 'Encounter/1'),
        padding: fill('words and more words '),
      }),
    ),
    hostile: {
      whitespace: Buffer.from(
        `${JSON.stringify(fhirTaskMessage(person, 'sunrise-hcbs', 'Encounter/1'))}${' '.repeat(MIB)}`,
      ),
      'many entries': Buffer.from(
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'message',
          entry: fill('x,')
            .split(',')
            .map(() => ({})),
        }),
      ),
      'escaped backslashes': Buffer.from(
        JSON.stringify({ resourceType: 'Bundle', type: 'message', id: fill('\\') }),
      ),
    },
  },
  'fhir-transaction': {
    normal: Buffer.from(
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: Array.from({ length: MIB / 200 }, (_, i) => ({
          resource: { resourceType: 'Patient', identifier: [{ system: 'urn:x', value: `P${i}` }] },
          request: { method: 'PUT', url: `Patient?identifier=urn:x|P${i}` },
        })),
      }),
    ),
    hostile: {
      'conditional URL of ampersands': Buffer.from(
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              resource: { resourceType: 'Task' },
              request: { method: 'PUT', url: `Task?${fill('&identifier=')}` },
            },
          ],
        }),
      ),
      'pipes in ifNoneExist': Buffer.from(
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              resource: { resourceType: 'Task' },
              request: { method: 'POST', url: 'Task', ifNoneExist: `identifier=${fill('|')}` },
            },
          ],
        }),
      ),
      whitespace: Buffer.from(`{"resourceType":"Bundle","type":"transaction"${' '.repeat(MIB)}}`),
    },
  },
};

describe('adapters read 1 MiB pathological bodies in linear time', () => {
  const rows = Object.entries(cases).flatMap(([format, c]) =>
    Object.entries(c.hostile).map(([what, body]) => [format as InboundFormat, what, body, c.normal] as const),
  );

  /** A normal body's read time per format, measured once (after a warm-up read). */
  const baselines = new Map<InboundFormat, number>();
  const baselineOf = (format: InboundFormat, normal: Buffer): number => {
    if (!baselines.has(format)) {
      timeRead(format, normal); // warm-up: the first read compiles the parser
      baselines.set(format, Math.max(NOISE_MS, timeRead(format, normal)));
    }
    return baselines.get(format)!;
  };

  it.each(rows)('%s: %s', (format, _what, body, normal) => {
    const baseline = baselineOf(format, normal);
    const hostile = timeRead(format, body);
    expect(hostile / baseline).toBeLessThanOrEqual(MAX_RATIO);
  });
});
