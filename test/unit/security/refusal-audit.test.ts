import type { AuditEvent } from 'fhir/r4.js';
import { RefusalAudit } from '../../../src/security/refusal-audit.js';

function auditWith(now: { at: number }): { written: AuditEvent[]; audit: RefusalAudit } {
  const written: AuditEvent[] = [];
  const audit = new RefusalAudit(
    async (event) => written.push(event),
    () => new Date(now.at),
    () => undefined,
  );
  return { written, audit };
}

describe('RefusalAudit', () => {
  it('writes the first refusal of each partner and target at once, even within one minute', () => {
    const now = { at: Date.parse('2026-12-03T10:00:00Z') };
    const { written, audit } = auditWith(now);
    audit.record({
      partnerId: 'sunrise-hcbs',
      method: 'GET',
      path: '/partners/sunrise-hcbs/tasks',
      reason: 'lacks scope',
    });
    now.at += 1000;
    audit.record({
      partnerId: 'sunrise-hcbs',
      method: 'GET',
      path: '/partners/harbor-housing/tasks',
      reason: 'cannot act as harbor-housing',
    });
    audit.close();
    expect(written.map((e) => e.outcomeDesc)).toEqual(['lacks scope', 'cannot act as harbor-housing']);
  });

  it('counts repeats of one kind into a summary written when the minute ends', () => {
    const now = { at: Date.parse('2026-12-03T10:00:00Z') };
    const { written, audit } = auditWith(now);
    for (let i = 0; i < 5; i++) {
      audit.record({
        partnerId: 'sunrise-hcbs',
        method: 'GET',
        path: '/partners/harbor-housing/tasks',
        reason: 'no',
      });
    }
    expect(written).toHaveLength(1);
    now.at += 61_000;
    audit.flush(false);
    expect(written).toHaveLength(2);
    expect(written[1]!.outcomeDesc).toMatch(/^4 more refusals like this/);
    audit.close();
  });

  it('counts an anonymous caller rotating paths as one kind', () => {
    const now = { at: Date.parse('2026-12-03T10:00:00Z') };
    const { written, audit } = auditWith(now);
    for (let i = 0; i < 50; i++) {
      audit.record({ method: 'POST', path: `/ingest/partner-${i}/hl7v2-adt`, reason: 'no access token' });
    }
    audit.close();
    expect(written).toHaveLength(2);
    expect(written[1]!.outcomeDesc).toMatch(/^49 more refusals/);
  });
});
