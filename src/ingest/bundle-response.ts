import type { Bundle, BundleEntryResponse, OperationOutcome } from 'fhir/r4.js';
import { PARTICIPANT_REF } from '../mappers/types.js';
import { reportToOutcome, statusOf, type IngestReport, type RecordResult } from './ingest-service.js';

/**
 * The answer FHIR defines for a transaction or batch sent to the hub's FHIR base (README, "FHIR
 * transactions and batches"):
 * - a transaction applied whole is a `transaction-response`, one entry per request entry in
 *   order, with its status (`201 Created` for a first version, `200 OK` otherwise) and location;
 *   a transaction refused, or not applied within the wait, is an OperationOutcome (422, 403, 202);
 * - a batch is always a `batch-response` (200): each entry's status, location and, for an entry
 *   refused, queued or skipped, an OperationOutcome saying why;
 * - a Bundle that could not be read at all is an OperationOutcome, as from `/ingest`.
 */
export function bundleResponse(
  type: 'transaction' | 'batch',
  entryCount: number,
  report: IngestReport,
): { status: number; body: Bundle | OperationOutcome } {
  const whole = report.records.length > 0 && report.records.every((r) => r.entries);
  const applied = report.records.every((r) => r.status === 'applied' || r.status === 'skipped');
  if (!whole || (type === 'transaction' && !applied)) {
    return { status: statusOf(report), body: reportToOutcome(report) };
  }
  const entry = Array.from({ length: entryCount }, (_, index) => ({
    response: entryResponse(report, index),
  }));
  return {
    status: 200,
    body: { resourceType: 'Bundle', type: `${type}-response`, timestamp: new Date().toISOString(), entry },
  };
}

function entryResponse(report: IngestReport, index: number): BundleEntryResponse {
  const record = report.records.find((r) => r.entries?.some((e) => e.index === index));
  if (!record) {
    // Every entry is in some record; one that is not was never read, and says so.
    return {
      status: '400 Bad Request',
      outcome: {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'processing', diagnostics: `entry ${index} was not read` }],
      },
    };
  }
  const explained = (status: string): BundleEntryResponse => ({
    status,
    outcome: reportToOutcome({ ...report, records: [record] }),
  });
  switch (record.status) {
    case 'applied':
      return appliedEntry(record, record.entries!.find((e) => e.index === index)!.fullUrl);
    case 'accepted':
      return explained('202 Accepted');
    case 'rejected':
      return explained(record.forbidden ? '403 Forbidden' : '422 Unprocessable Entity');
    case 'skipped':
      // Nothing was stored, by policy (README, "FHIR transactions and batches"): not a failure.
      return explained('200 OK');
  }
}

/** Where an applied entry is on the shared server: its write, or the participant's Patient. */
function appliedEntry(
  record: Extract<RecordResult, { status: 'applied' }>,
  fullUrl: string | undefined,
): BundleEntryResponse {
  const written =
    fullUrl === PARTICIPANT_REF ? record.outcome.patient : fullUrl && record.outcome.written[fullUrl];
  if (!written) {
    return { status: '200 OK' };
  }
  const version = record.outcome.versions[written];
  return version
    ? {
        status: version === '1' ? '201 Created' : '200 OK',
        location: `${written}/_history/${version}`,
        etag: `W/"${version}"`,
      }
    : { status: '200 OK', location: written };
}
