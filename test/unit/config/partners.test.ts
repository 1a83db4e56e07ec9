import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { loadPartners, parsePartner } from '../../../src/config/partners.js';
import { ConfigError } from '../../../src/errors/hub-error.js';
import { partnerDir } from '../../support/config-dirs.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

describe('partner configuration', () => {
  it('loads the demo partners shipped with the hub', async () => {
    const registry = await loadPartners(path.join(repoRoot, 'config/partners'));
    expect(
      registry
        .all()
        .map((p) => p.kind)
        .sort(),
    ).toEqual(['behavioral-health', 'hcbs-provider', 'housing']);
    expect(registry.get('northside-bh')?.identifiers?.assigningAuthorities?.MCD).toBe('medicaid');
  });

  it('names the file and the field of every problem', () => {
    const problems = parsePartner(
      'acme.yaml',
      ['id: acme', 'kind: hospital', 'inbound:', '  formats: [hl7v2-adt, fax]', 'colour: blue'].join('\n'),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'acme.yaml: /name is required',
        'acme.yaml: /colour is not a known field',
        expect.stringMatching(/^acme\.yaml: \/kind must be one of hcbs-provider, /),
        expect.stringMatching(/^acme\.yaml: \/inbound\/formats\/1 must be one of fhir-message, /),
      ]),
    );
  });

  it('refuses a time zone setting that is not an IANA zone when the file loads, not on each record', () => {
    const file = (zone: unknown): string =>
      [
        'id: acme',
        'name: Acme',
        'kind: other',
        'inbound:',
        '  formats: [hl7v2-adt]',
        'fieldOverrides:',
        `  hl7.timezone: ${JSON.stringify(zone)}`,
        `  hmis.timezone: America/Chicago`,
      ].join('\n');
    expect(parsePartner('acme.yaml', file('Mars/Olympus'))).toEqual([
      'acme.yaml: /fieldOverrides/hl7.timezone "Mars/Olympus" is not an IANA time zone (for example America/Chicago)',
    ]);
    expect(parsePartner('acme.yaml', file(7))).toEqual([
      'acme.yaml: /fieldOverrides/hl7.timezone "7" is not an IANA time zone (for example America/Chicago)',
    ]);
    expect(parsePartner('acme.yaml', file('America/Denver'))).not.toBeInstanceOf(Array);
  });

  it('refuses a file whose name does not match its id, and YAML that does not parse', () => {
    expect(
      parsePartner('other.yaml', 'id: acme\nname: Acme\nkind: other\ninbound:\n  formats: []\n'),
    ).toEqual(['other.yaml: /id is "acme", so the file must be named acme.yaml']);
    expect(parsePartner('acme.yaml', 'id: [unclosed')).toEqual([
      expect.stringMatching(/^acme\.yaml: not valid YAML/),
    ]);
  });

  it('fails start-up with every problem of every file, naming PARTNER_CONFIG_DIR', async () => {
    const err = await loadPartners(path.join(repoRoot, 'test/fixtures/partners-invalid')).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(['PARTNER_CONFIG_DIR broken.yaml: /inbound is required']);
  });

  it.each([
    ['http://partner.example.org/hub-events', false],
    ['http://10.1.2.3/hook', false],
    ['https://partner.example.org/hub-events', true],
    ['http://127.0.0.1:9000/hook', true],
    ['http://localhost:9000/hook', true],
  ])('takes outbound url %s only over TLS or to this machine (%s)', async (url, ok) => {
    const dir = partnerDir({
      'northside-bh': (p) => {
        p.outbound.url = url;
      },
    });
    const loaded = await loadPartners(dir).then(
      () => [],
      (e: unknown) => (e as ConfigError).problems,
    );
    expect(loaded).toEqual(ok ? [] : [expect.stringContaining('/outbound/url must be https://')]);
  });
});
