import { VISIT_STATUSES } from '../adapters/evv/visit-status.js';
import type { PartnerConfig } from '../config/partners.js';
import { CODE_TABLE_TARGETS } from '../mappers/hl7v2/adt-to-fhir.js';

/**
 * The partner code tables the hub reads (`codeTranslations`), each with the codes its entries may
 * translate to. A table the hub does not read, or a target it does not know, is a typo that would
 * otherwise pass start-up and fail (or silently lose) records later: each is named when the
 * partner files load (README, "Partner files").
 */
export function codeTableProblems(
  partners: readonly PartnerConfig[],
  riskFlags: readonly string[],
): string[] {
  const targets: Readonly<Record<string, readonly string[]>> = {
    visitStatus: VISIT_STATUSES,
    riskFlag: riskFlags,
    ...CODE_TABLE_TARGETS,
  };
  return partners.flatMap((partner) =>
    Object.entries(partner.codeTranslations ?? {}).flatMap(([table, entries]) => {
      const allowed = targets[table];
      const at = `${partner.id}.yaml: /codeTranslations/${table}`;
      if (!allowed) {
        return [`${at} is not a table the hub reads (${Object.keys(targets).join(', ')})`];
      }
      return Object.entries(entries)
        .filter(([, target]) => !allowed.includes(target))
        .map(([local, target]) => `${at}/${local} "${target}" is not one of ${allowed.join(', ')}`);
    }),
  );
}
