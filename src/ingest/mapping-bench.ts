import type { BundleEntry, OperationOutcome } from 'fhir/r4.js';
import type { InboundFormat } from '../config/inbound-formats.js';
import type { PartnerConfig } from '../config/partners.js';
import { dryRun, validateReport, type DryRunReport } from './dry-run.js';
import type { FormatHandlers } from './formats.js';
import { compareTraffic, parseCandidate, type GateReport } from './mapping-compare.js';

/** A sample tried on the bench: the partner's active file, and a candidate file when given. */
export interface BenchRequest {
  readonly partner: PartnerConfig;
  readonly format: InboundFormat;
  readonly sample: Buffer;
  /** A candidate partner file (YAML), or nothing to try the active file alone. */
  readonly candidateText?: string;
  readonly identifierBase: string;
  readonly formats: FormatHandlers;
  /** The FHIR server's `$validate`, to check every resource against the profiles. */
  readonly validate?: (resource: NonNullable<BundleEntry['resource']>) => Promise<OperationOutcome>;
}

export interface BenchReport {
  /** What the active file writes and rejects. */
  readonly active: DryRunReport;
  /** What the candidate writes and rejects, and each record compared with the active file. */
  readonly candidate?: { readonly report: DryRunReport; readonly comparison: GateReport };
  /** Why the candidate file cannot be used (schema, YAML, another partner's id). */
  readonly candidateProblems?: readonly string[];
}

/**
 * The mapping test bench (README, "The engineer's console"): a pasted sample through the active
 * partner file and a candidate one, side by side, validated against the profiles, before the
 * candidate is activated with the release gate. Writes nothing.
 */
export async function benchSample(req: BenchRequest): Promise<BenchReport> {
  const handler = req.formats[req.format]!;
  const run = async (partner: PartnerConfig): Promise<DryRunReport> => {
    const report = dryRun(req.sample, partner, req.format, handler, req.identifierBase);
    return req.validate ? validateReport(report, req.validate) : report;
  };
  const active = await run(req.partner);
  if (!req.candidateText?.trim()) {
    return { active };
  }
  const candidate = parseCandidate(req.partner.id, 'candidate', req.candidateText);
  if (Array.isArray(candidate)) {
    return { active, candidateProblems: candidate };
  }
  const batch = { format: req.format, receivedAt: new Date().toISOString(), body: req.sample };
  return {
    active,
    candidate: {
      report: await run(candidate),
      comparison: compareTraffic([batch], req.partner, candidate, req.formats, req.identifierBase),
    },
  };
}
