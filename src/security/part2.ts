import type { Coding, Consent, FhirResource, Resource } from 'fhir/r4.js';
import type { MappedRecord } from '../mappers/types.js';

/**
 * 42 CFR Part 2: substance-use disorder records from a Part 2 program carry the `42CFRPart2`
 * security label (and restricted confidentiality), and may be disclosed to a recipient only while
 * an active Consent names it. What is disclosed carries the labels and the prohibition on
 * redisclosure, so the recipient can honour them.
 */
export const PART2_LABEL: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  code: '42CFRPart2',
  display: '42 CFR Part2',
};
export const RESTRICTED: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
  code: 'R',
  display: 'restricted',
};

/** The notice 42 CFR 2.32 requires with each disclosure made with the patient's consent. */
export const REDISCLOSURE_NOTICE =
  '42 CFR part 2 prohibits unauthorized use or disclosure of these records. This information has been disclosed to you from records protected by federal confidentiality rules (42 CFR part 2). The federal rules prohibit you from making any further disclosure of information in this record that identifies a patient as having or having had a substance use disorder either directly, by reference to publicly available information, or through verification of such identification by another person unless further disclosure is expressly permitted by the written consent of the individual whose information is being disclosed or as otherwise permitted by 42 CFR part 2.';

export function isPart2(resource: Resource): boolean {
  return (
    resource.meta?.security?.some((c) => c.system === PART2_LABEL.system && c.code === PART2_LABEL.code) ??
    false
  );
}

/** The resource with the Part 2 label and restricted confidentiality added (kept once). */
export function withPart2Labels<T extends Resource>(resource: T): T {
  const others = (resource.meta?.security ?? []).filter(
    (c) =>
      !(c.system === PART2_LABEL.system && c.code === PART2_LABEL.code) && c.system !== RESTRICTED.system,
  );
  return { ...resource, meta: { ...resource.meta, security: [...others, PART2_LABEL, RESTRICTED] } };
}

/** A Part 2 program's record: every resource it writes is labelled. */
export function labelPart2(mapped: MappedRecord): MappedRecord {
  return {
    ...mapped,
    writes: mapped.writes.map((w) => ({ ...w, resource: withPart2Labels<FhirResource>(w.resource) })),
  };
}

/**
 * Whether one of the participant's Consents lets Part 2 data go to `partnerId` at `at`: active, a
 * permit naming the partner as an actor, in its period, and covering the Part 2 label (or all data).
 */
export function consentPermits(consents: readonly Consent[], partnerId: string, at: Date): boolean {
  return consents.some((c) => {
    const p = c.provision;
    const inPeriod =
      (!p?.period?.start || Date.parse(p.period.start) <= at.getTime()) &&
      (!p?.period?.end || at.getTime() <= Date.parse(p.period.end));
    const covers =
      !p?.securityLabel?.length ||
      p.securityLabel.some((l) => l.system === PART2_LABEL.system && l.code === PART2_LABEL.code);
    return (
      c.status === 'active' &&
      p?.type === 'permit' &&
      inPeriod &&
      covers &&
      (p.actor ?? []).some((a) => a.reference.reference === `Organization/${partnerId}`)
    );
  });
}

/** A Part 2 disclosure Consent: the participant permits `partnerId` to receive Part 2 data. */
export function part2Consent(patient: string, partnerId: string, at: Date, until?: string): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: patient },
    dateTime: at.toISOString(),
    policy: [{ uri: 'https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2' }],
    provision: {
      type: 'permit',
      period: { start: at.toISOString(), ...(until ? { end: until } : {}) },
      actor: [
        {
          role: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }],
          },
          reference: { reference: `Organization/${partnerId}` },
        },
      ],
      securityLabel: [PART2_LABEL],
    },
  };
}
