import { createHash } from 'node:crypto';
import type { FhirResource, Identifier, Reference } from 'fhir/r4.js';
import type { SharedIdentifierKind } from '../config/partners.js';
import type { MappingContext, ResourceWrite } from './types.js';

/** `<base>/sid/<partnerId>/<recordType>`: where a partner's own record ids live. */
export function sourceSystem(ctx: MappingContext, recordType: string): string {
  return `${ctx.identifierBase}/sid/${ctx.partner.id}/${recordType}`;
}

/** A partner-local identifier of a record. */
export function sourceIdentifier(ctx: MappingContext, recordType: string, value: string): Identifier {
  return { system: sourceSystem(ctx, recordType), value };
}

/**
 * The system of a shared identifier kind. Medicaid IDs and SSNs are one namespace for every
 * agency; MRNs and HMIS PersonalIDs belong to the agency that issued them.
 */
export function sharedIdentifierSystem(ctx: MappingContext, kind: SharedIdentifierKind): string {
  switch (kind) {
    case 'medicaid':
      return `${ctx.identifierBase}/sid/medicaid`;
    case 'ssn':
      return 'http://hl7.org/fhir/sid/us-ssn';
    case 'mrn':
      return sourceSystem(ctx, 'mrn');
    case 'hmis-personal-id':
      return sourceSystem(ctx, 'hmis-personal-id');
  }
}

/** A `urn:uuid:` derived from an identifier: the same identifier always gives the same fullUrl. */
export function fullUrlFor(identifier: Identifier): string {
  const hex = createHash('sha256').update(`${identifier.system}|${identifier.value}`).digest('hex');
  // Format as an RFC 4122 name-based UUID (version 5 bits, variant 10xx).
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Pairs a resource with the identifier it is written on (added to `identifier` if missing). */
export function resourceWrite<T extends FhirResource>(resource: T, identifier: Identifier): ResourceWrite {
  const existing = (resource as { identifier?: Identifier[] | Identifier }).identifier;
  const list = Array.isArray(existing) ? existing : existing ? [existing] : [];
  const has = list.some((i) => i.system === identifier.system && i.value === identifier.value);
  const withId =
    Array.isArray(existing) || existing === undefined
      ? { ...resource, identifier: has ? list : [identifier, ...list] }
      : resource; // resources whose identifier is a single value carry it already
  return { fullUrl: fullUrlFor(identifier), identifier, resource: withId };
}

/** The partner as an Organization reference (`Organization/<partnerId>`). */
export function partnerRef(ctx: MappingContext): Reference {
  return { reference: `Organization/${ctx.partner.id}`, display: ctx.partner.name };
}

/** A partner's translation of a local code into the hub's code, per table; undefined if none. */
export function translateCode(ctx: MappingContext, table: string, localCode: string): string | undefined {
  return ctx.partner.codeTranslations?.[table]?.[localCode];
}
