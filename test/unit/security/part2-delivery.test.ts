import { describe, expect, it } from '@jest/globals';
import type { CarePlan, Communication, Patient } from 'fhir/r4.js';
import { buildDelivery } from '../../../src/routing/deliver-plan-change.js';

const BASE = 'https://carecoord.example.org';

describe('what a delivery discloses', () => {
  const plan: CarePlan = {
    resourceType: 'CarePlan',
    id: '7',
    status: 'active',
    intent: 'plan',
    subject: { reference: 'Patient/1' },
  };
  const notice: Communication = {
    resourceType: 'Communication',
    id: 'n',
    status: 'completed',
    recipient: [{ reference: 'Organization/sunrise-hcbs' }, { reference: 'Organization/harbor-housing' }],
  };
  const patient: Patient = {
    resourceType: 'Patient',
    id: '1',
    identifier: [
      { system: `${BASE}/sid/medicaid`, value: 'MCD1' },
      { system: `${BASE}/sid/northside-bh/mrn`, value: 'MRN-SUD-1' },
      { system: `${BASE}/sid/sunrise-hcbs/member`, value: 'MEM1' },
    ],
  };
  const req = {
    partnerId: 'sunrise-hcbs',
    carePlanId: '7',
    version: '1',
    notice: 'Communication/n',
    patient: 'Patient/1',
    altersDelivery: true,
  };

  const captured = { plan, notice, identifiers: patient.identifier ?? [] };

  it('leaves out identifiers a Part 2 program issued, and names only the recipient', () => {
    const delivery = buildDelivery(BASE, req, captured, ['northside-bh']);
    expect(delivery.participant.identifiers.map((i) => i.value)).toEqual(['MCD1', 'MEM1']);
    expect(delivery.notice.recipient).toEqual([{ reference: 'Organization/sunrise-hcbs' }]);
  });

  it('gives a Part 2 program its own identifiers back', () => {
    const delivery = buildDelivery(BASE, { ...req, partnerId: 'northside-bh' }, captured, ['northside-bh']);
    expect(delivery.participant.identifiers.map((i) => i.value)).toContain('MRN-SUD-1');
  });
});
