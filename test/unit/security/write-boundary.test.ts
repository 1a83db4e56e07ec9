import { describe, expect, it } from '@jest/globals';
import type { CarePlan, Task } from 'fhir/r4.js';
import type { MappedRecord } from '../../../src/mappers/types.js';
import { checkWriteBoundary, scopedKey } from '../../../src/security/write-boundary.js';

const BASE = 'https://carecoord.example.org';
const ctx = {
  sender: 'northside-bh',
  format: 'fhir-message',
  partnerIds: ['northside-bh', 'sunrise-hcbs'],
  careTeamJoins: ['hl7v2-adt'],
  identifierBase: BASE,
  storesUncoordinated: false,
};

function record(writes: MappedRecord['writes'], extra: Partial<MappedRecord> = {}): MappedRecord {
  return {
    participant: { identifiers: [{ system: `${BASE}/sid/medicaid`, value: 'M1' }] },
    writes,
    events: [],
    ...extra,
  };
}

const task = (system: string, owner = 'Organization/northside-bh'): MappedRecord['writes'][number] => {
  const identifier = { system, value: 'T-1' };
  const resource: Task = {
    resourceType: 'Task',
    identifier: [identifier],
    status: 'requested',
    intent: 'order',
    owner: { reference: owner },
  };
  return { fullUrl: 'urn:uuid:t', identifier, resource };
};

describe('the write boundary', () => {
  it("keeps a key in the sender's own namespace, and scopes any other system to the sender", () => {
    const own = checkWriteBoundary(ctx, record([task(`${BASE}/sid/northside-bh/task`)]));
    expect(own.allowed && own.mapped.writes[0]!.identifier.system).toBe(`${BASE}/sid/northside-bh/task`);
    const foreign = checkWriteBoundary(ctx, record([task('https://ehr.example.org/task')]));
    expect(foreign.allowed).toBe(true);
    const written = foreign.allowed ? foreign.mapped.writes[0]! : undefined;
    const key = scopedKey(ctx, { system: 'https://ehr.example.org/task', value: 'T-1' });
    expect(written?.identifier).toEqual(key);
    // The identifier the sender used stays on the resource, beside the scoped key.
    expect((written?.resource as Task).identifier).toEqual([
      { system: 'https://ehr.example.org/task', value: 'T-1' },
      key,
    ]);
    // Another sender with the same foreign identifier gets another key: no collision, no overwrite.
    expect(
      scopedKey({ ...ctx, sender: 'sunrise-hcbs' }, { system: 'https://ehr.example.org/task', value: 'T-1' }),
    ).not.toEqual(key);
  });

  it("lets an agency edit the shared plan under another agency's identifier only as a versioned edit", () => {
    const identifier = { system: `${BASE}/sid/sunrise-hcbs/careplan`, value: 'P-1' };
    const plan: CarePlan = {
      resourceType: 'CarePlan',
      identifier: [identifier],
      status: 'active',
      intent: 'plan',
      subject: { reference: 'x' },
    };
    const blind = checkWriteBoundary(ctx, record([{ fullUrl: 'urn:uuid:p', identifier, resource: plan }]));
    expect(blind.allowed).toBe(false);
    const edit = checkWriteBoundary(
      ctx,
      record([{ fullUrl: 'urn:uuid:p', identifier, resource: plan, baseVersion: '3' }]),
    );
    expect(edit.allowed && edit.mapped.writes[0]!.identifier).toEqual(identifier);
  });

  it('applies a record without its care-team join when the partner file does not name its kind', () => {
    const members = [{ role: 'bh-clinician', member: { reference: 'Organization/northside-bh' } }];
    const viaMessage = checkWriteBoundary(ctx, record([], { careTeamMembers: members }));
    expect(viaMessage.allowed && viaMessage.mapped.careTeamMembers).toBeUndefined();
    const viaAdt = checkWriteBoundary(
      { ...ctx, format: 'hl7v2-adt' },
      record([], { careTeamMembers: members }),
    );
    expect(viaAdt.allowed && viaAdt.mapped.careTeamMembers).toEqual(members);
  });

  it('names every violation of a record, not only the first', () => {
    const result = checkWriteBoundary(
      ctx,
      record([task(`${BASE}/sid/hub/ack-task`, 'Organization/sunrise-hcbs')], {
        careTeamMembers: [{ role: 'care-manager', member: { reference: 'Organization/sunrise-hcbs' } }],
      }),
    );
    expect(result.allowed ? [] : result.violations.map((v) => v.rule)).toEqual([
      'identifier-namespace',
      'identifier-namespace',
      'task-owner',
      'care-team-member',
    ]);
  });

  it('writes a type the hub does not coordinate only for a partner whose file says store, never a hub-owned one', () => {
    const write = (resourceType: string): MappedRecord['writes'][number] => {
      const identifier = { system: `${BASE}/sid/northside-bh/${resourceType}`, value: 'X-1' };
      return {
        fullUrl: 'urn:uuid:x',
        identifier,
        resource: { resourceType, identifier: [identifier] } as never,
      };
    };
    const verdict = (storesUncoordinated: boolean, type: string): boolean =>
      checkWriteBoundary({ ...ctx, storesUncoordinated }, record([write(type)])).allowed;
    expect([verdict(false, 'Immunization'), verdict(true, 'Immunization')]).toEqual([false, true]);
    expect([verdict(true, 'Consent'), verdict(true, 'CareTeam'), verdict(true, 'Provenance')]).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('lets a partner refer to another agency, asking or withdrawing, but not move the referral on', () => {
    const referral = (
      status: Task['status'],
      owner: string,
      requester = 'Organization/northside-bh',
    ): boolean => {
      const write = task(`${BASE}/sid/northside-bh/referral`, owner);
      (write.resource as Task).status = status;
      (write.resource as Task).requester = { reference: requester };
      return checkWriteBoundary(ctx, record([write])).allowed;
    };
    expect(referral('requested', 'Organization/sunrise-hcbs')).toBe(true);
    expect(referral('cancelled', 'Organization/sunrise-hcbs')).toBe(true);
    // Accepting or completing is the owner's to say; an unknown agency is not a partner to refer to.
    expect(referral('accepted', 'Organization/sunrise-hcbs')).toBe(false);
    expect(referral('completed', 'Organization/sunrise-hcbs')).toBe(false);
    expect(referral('requested', 'Organization/unknown-cbo')).toBe(false);
    // A Task for another agency "requested" by a third one is not the sender's referral.
    expect(referral('requested', 'Organization/sunrise-hcbs', 'Organization/sunrise-hcbs')).toBe(false);
  });
});
