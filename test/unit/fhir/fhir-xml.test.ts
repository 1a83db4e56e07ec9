import { describe, expect, it } from '@jest/globals';
import { readFhirXml, writeFhirXml } from '../../../src/fhir/fhir-xml.js';

const NS = 'xmlns="http://hl7.org/fhir"';

function read(xml: string): Record<string, unknown> {
  const result = readFhirXml(xml);
  if ('issues' in result) {
    throw new Error(JSON.stringify(result.issues));
  }
  return result.resource;
}

function issuesOf(xml: string): Array<{ field: string; message: string }> {
  const result = readFhirXml(xml);
  return 'issues' in result ? result.issues : [];
}

describe('readFhirXml', () => {
  it('reads a Bundle of resources into their JSON form, repeats as arrays and narrative kept as XHTML', () => {
    const resource = read(`<?xml version="1.0" encoding="UTF-8"?>
      <!-- an export -->
      <Bundle ${NS}>
        <id value="b1"/>
        <type value="collection"/>
        <entry>
          <fullUrl value="http://example.org/fhir/Patient/p1"/>
          <resource>
            <Patient>
              <id value="p1"/>
              <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">Sally &amp; <b>Person</b></div></text>
              <identifier><system value="https://ehr.example.org/mrn"/><value value="M-1"/></identifier>
              <active value="true"/>
              <name><given value="Sally"/><given value="Ann"/></name>
              <multipleBirthInteger value="2"/>
            </Patient>
          </resource>
        </entry>
        <entry>
          <resource>
            <Observation>
              <status value="final"/>
              <code><text value="weight"/></code>
              <valueQuantity><value value="71.50"/><unit value="kg"/></valueQuantity>
            </Observation>
          </resource>
        </entry>
      </Bundle>`);
    expect(resource).toEqual({
      resourceType: 'Bundle',
      id: 'b1',
      type: 'collection',
      entry: [
        {
          fullUrl: 'http://example.org/fhir/Patient/p1',
          resource: {
            resourceType: 'Patient',
            id: 'p1',
            text: {
              status: 'generated',
              div: '<div xmlns="http://www.w3.org/1999/xhtml">Sally &amp; <b>Person</b></div>',
            },
            identifier: [{ system: 'https://ehr.example.org/mrn', value: 'M-1' }],
            active: true,
            name: [{ given: ['Sally', 'Ann'] }],
            multipleBirthInteger: 2,
          },
        },
        {
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'weight' },
            valueQuantity: { value: 71.5, unit: 'kg' },
          },
        },
      ],
    });
  });

  it("splits a primitive's id and extensions into the JSON underscore property", () => {
    const resource = read(`<Patient ${NS}>
      <birthDate id="bd" value="1970-03-30"><extension url="https://example.org/time"><valueTime value="14:35:45"/></extension></birthDate>
      <name><given value="A"/><given><extension url="https://example.org/absent"><valueCode value="unknown"/></extension></given></name>
    </Patient>`);
    expect(resource).toEqual({
      resourceType: 'Patient',
      birthDate: '1970-03-30',
      _birthDate: { id: 'bd', extension: [{ url: 'https://example.org/time', valueTime: '14:35:45' }] },
      name: [
        {
          given: ['A', null],
          _given: [null, { extension: [{ url: 'https://example.org/absent', valueCode: 'unknown' }] }],
        },
      ],
    });
  });

  it('names, by path, every element R4 does not define instead of dropping it', () => {
    expect(
      issuesOf(`<Bundle ${NS}><type value="batch"/><entry><resource><Patient>
        <gender value="female"/><nickname value="Sal"/><active value="yes"/><birthDate value="1970" note="x"/>
      </Patient></resource></entry></Bundle>`),
    ).toEqual([
      { field: 'Bundle.entry[0].resource.Patient.nickname', message: 'is not an element R4 defines here' },
      { field: 'Bundle.entry[0].resource.Patient.active', message: '"yes" is not a boolean (true or false)' },
      {
        field: 'Bundle.entry[0].resource.Patient.birthDate@note',
        message: 'is not an attribute R4 defines here',
      },
    ]);
    expect(issuesOf(`<Patient ${NS}><gender value="male"/><gender value="female"/></Patient>`)).toEqual([
      { field: 'Patient.gender', message: 'may appear once, appears 2 times' },
    ]);
    expect(issuesOf(`<Bundle ${NS}><entry><resource><Spaceship/></resource></entry></Bundle>`)).toEqual([
      { field: 'Bundle.entry[0].resource.Spaceship', message: 'Spaceship is not an R4 resource type' },
    ]);
  });

  it('refuses elements nested past any FHIR resource before parsing them', () => {
    const deep = `<Patient ${NS}>${'<extension url="u">'.repeat(100000)}${'</extension>'.repeat(100000)}</Patient>`;
    expect(issuesOf(deep)).toEqual([{ field: 'XML', message: 'elements nest deeper than 128' }]);
  });

  it('refuses what is not a FHIR XML document: not well-formed, another namespace, a DOCTYPE', () => {
    expect(issuesOf(`<Patient ${NS}><id value="a"/>`)[0]!.message).toMatch(/^not well-formed XML at line 1/);
    expect(issuesOf('<Patient xmlns="urn:other"/>')[0]!.message).toMatch(/FHIR namespace/);
    expect(
      issuesOf(
        `<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Patient ${NS}><id value="&x;"/></Patient>`,
      ),
    ).toEqual([{ field: 'XML', message: 'a DOCTYPE is not allowed in FHIR XML' }]);
  });
});

describe('writeFhirXml', () => {
  it('writes a resource with its elements in R4 order and its text escaped', () => {
    expect(
      writeFhirXml({
        resourceType: 'OperationOutcome',
        issue: [
          { diagnostics: 'a < b & c', code: 'invalid', severity: 'error', expression: ['Patient.name'] },
        ],
      }),
    ).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><OperationOutcome xmlns="http://hl7.org/fhir"><issue>' +
        '<severity value="error"/><code value="invalid"/><diagnostics value="a &lt; b &amp; c"/>' +
        '<expression value="Patient.name"/></issue></OperationOutcome>',
    );
  });
});
