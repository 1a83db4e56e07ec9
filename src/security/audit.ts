import type { AuditEvent } from 'fhir/r4.js';
import type { RefusedAccess } from '../http/middleware/partner-auth.js';

/**
 * A refused request as a security-alert AuditEvent (DICOM 110113): who asked (when the token said),
 * for what, and why it was refused, so an auditor can list refusals per partner.
 */
export function accessRefusal(refused: RefusedAccess, at: Date): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    type: {
      system: 'http://dicom.nema.org/resources/ontology/DCM',
      code: '110113',
      display: 'Security Alert',
    },
    action: 'E',
    recorded: at.toISOString(),
    outcome: '4',
    outcomeDesc: refused.reason,
    agent: [
      {
        ...(refused.partnerId
          ? { who: { reference: `Organization/${refused.partnerId}` } }
          : { who: { display: 'unauthenticated client' } }),
        requestor: true,
      },
    ],
    source: { observer: { display: 'Care coordination hub' } },
    entity: [{ what: { display: `${refused.method} ${refused.path.slice(0, 200)}` } }],
  };
}
