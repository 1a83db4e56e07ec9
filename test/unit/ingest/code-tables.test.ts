import { describe, expect, it } from '@jest/globals';
import type { PartnerConfig } from '../../../src/config/partners.js';
import { codeTableProblems } from '../../../src/ingest/code-tables.js';

const partner = (codeTranslations: PartnerConfig['codeTranslations']): PartnerConfig => ({
  id: 'clinic',
  name: 'Clinic',
  kind: 'behavioral-health',
  inbound: { formats: ['hl7v2-adt', 'evv-csv'] },
  codeTranslations,
});
const RISK_FLAGS = ['safeguarding-concern', 'caregiver-stress'];

describe('codeTableProblems', () => {
  it('passes tables whose every entry translates to a code the hub knows', () => {
    expect(
      codeTableProblems(
        [
          partner({
            visitStatus: { NS: 'missed' },
            riskFlag: { FALL: 'safeguarding-concern' },
            'hl7.patientClass': { R: 'HH' },
            'hl7.administrativeSex': { '2': 'female' },
            'hl7.dischargeDisposition': { '01': 'home' },
          }),
        ],
        RISK_FLAGS,
      ),
    ).toEqual([]);
  });

  it('names a misspelt target and a table the hub does not read, by file and path', () => {
    expect(
      codeTableProblems(
        [partner({ 'hl7.administrativeSex': { F: 'femal' }, visitStatuses: { NS: 'missed' } })],
        RISK_FLAGS,
      ),
    ).toEqual([
      'clinic.yaml: /codeTranslations/hl7.administrativeSex/F "femal" is not one of male, female, other, unknown',
      'clinic.yaml: /codeTranslations/visitStatuses is not a table the hub reads (visitStatus, riskFlag, hl7.patientClass, hl7.administrativeSex, hl7.dischargeDisposition)',
    ]);
  });
});
