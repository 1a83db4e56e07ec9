import type { PartnerConfig } from '../../config/partners.js';

/** What the hub makes of an EVV visit status. */
export const VISIT_STATUSES = ['completed', 'missed', 'cancelled', 'scheduled'] as const;
export type VisitStatus = (typeof VISIT_STATUSES)[number];

/**
 * Status words common in EVV aggregator exports. Partners add or override codes in
 * `codeTranslations.visitStatus`. A bare "cancelled" is deliberately absent: a visit the agency
 * cancelled is a missed visit for the person, one the person cancelled is not, so the partner
 * must say which its code means.
 */
export const DEFAULT_VISIT_STATUSES: Readonly<Record<string, VisitStatus>> = {
  COMPLETED: 'completed',
  COMPLETE: 'completed',
  VERIFIED: 'completed',
  MISSED: 'missed',
  NOSHOW: 'missed',
  'NO-SHOW': 'missed',
  'NO SHOW': 'missed',
  SCHEDULED: 'scheduled',
  'CLIENT-CANCELLED': 'cancelled',
  'PARTICIPANT-CANCELLED': 'cancelled',
};

/**
 * The hub status of a partner's local status code: the partner's table first (exact code, then
 * upper case), then the defaults (case-insensitive). Undefined when neither knows the code.
 */
export function translateVisitStatus(partner: PartnerConfig, local: string): VisitStatus | undefined {
  const table = partner.codeTranslations?.visitStatus ?? {};
  const code = local.trim();
  const translated = table[code] ?? table[code.toUpperCase()] ?? DEFAULT_VISIT_STATUSES[code.toUpperCase()];
  return (VISIT_STATUSES as readonly string[]).includes(translated ?? '')
    ? (translated as VisitStatus)
    : undefined;
}
