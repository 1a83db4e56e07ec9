/** The inbound formats a partner may be configured for. */
export const INBOUND_FORMATS = [
  'fhir-message',
  'fhir-transaction',
  'hl7v2-adt',
  'crisis-update',
  'service-plan',
  'evv-csv',
  'hmis-csv',
] as const;
export type InboundFormat = (typeof INBOUND_FORMATS)[number];
