import { createHash } from 'node:crypto';
import type { FhirMessageRecord, JsonResource } from '../fhir-message/parse-message.js';
import type { FieldIssue, ParseResult } from '../types.js';

/** `identifier=system|value` in a conditional URL or `ifNoneExist`. */
const IDENTIFIER_CONDITION = /(?:^|[?&])identifier=([^&|]+)\|([^&]+)/;

/**
 * Reads a FHIR transaction Bundle from an agency EHR as one record (a transaction is all or
 * nothing, and the hub keeps it so: it is written in one transaction). Entries may create or
 * update (POST, PUT, conditional forms included); reads and deletes are refused, since partners
 * retire shared records by status, not by deleting them. Every resource needs an identifier, its
 * own or the one its conditional URL (`Patient?identifier=sys|val`, `ifNoneExist`) names, and the
 * participant must be in it as a Patient. Problems name the entry (`Bundle.entry[2].request.method`).
 * @see https://hl7.org/fhir/R4/http.html#transaction
 */
export function parseFhirTransaction(body: Buffer): ParseResult<FhirMessageRecord> {
  const raw = body.toString('utf8');
  let bundle: Record<string, unknown>;
  try {
    bundle = JSON.parse(raw) as Record<string, unknown>;
  } catch (err) {
    return rejectAll([{ field: 'Bundle', message: `not valid JSON: ${(err as Error).message}` }], raw);
  }
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'transaction') {
    return rejectAll([{ field: 'Bundle.type', message: 'must be a Bundle of type "transaction"' }], raw);
  }
  const identifier = bundle.identifier as { value?: string } | undefined;
  const sourceId =
    identifier?.value ??
    (typeof bundle.id === 'string' ? bundle.id : createHash('sha256').update(raw).digest('hex').slice(0, 32));
  const issues: FieldIssue[] = [];
  const entries: Array<{ fullUrl?: string; resource: JsonResource }> = [];
  const list = Array.isArray(bundle.entry) ? (bundle.entry as Array<Record<string, unknown>>) : [];
  if (list.length === 0) {
    issues.push({ field: 'Bundle.entry', message: 'the transaction holds no entry' });
  }
  list.forEach((entry, i) => {
    const where = `Bundle.entry[${i}]`;
    const request = entry.request as { method?: string; url?: string; ifNoneExist?: string } | undefined;
    const resource = entry.resource as JsonResource | undefined;
    if (request?.method !== 'POST' && request?.method !== 'PUT') {
      issues.push({
        field: `${where}.request.method`,
        message: `${request?.method ?? '(none)'} is not accepted: send POST or PUT (retire records by status, not DELETE)`,
      });
      return;
    }
    if (!resource || typeof resource.resourceType !== 'string') {
      issues.push({ field: `${where}.resource`, message: 'is missing or has no resourceType' });
      return;
    }
    if (!(request.url ?? '').startsWith(resource.resourceType)) {
      issues.push({ field: `${where}.request.url`, message: `must address ${resource.resourceType}` });
      return;
    }
    if (resource.resourceType === 'Patient' && entries.some((e) => e.resource.resourceType === 'Patient')) {
      issues.push({
        field: `${where}.resource`,
        message:
          'a transaction is about one participant: a second Patient is not accepted (send one per person)',
      });
      return;
    }
    const own = (resource.identifier ?? []).some((id) => id.system && id.value);
    const condition =
      IDENTIFIER_CONDITION.exec(request.url ?? '') ??
      IDENTIFIER_CONDITION.exec(`?${request.ifNoneExist ?? ''}`);
    if (!own && !condition) {
      issues.push({
        field: `${where}.resource.identifier`,
        message: `${resource.resourceType} needs an identifier (or a conditional URL on one) so it can be written idempotently`,
      });
      return;
    }
    const withIdentifier = own
      ? resource
      : {
          ...resource,
          identifier: [
            { system: decodeURIComponent(condition![1]!), value: decodeURIComponent(condition![2]!) },
          ],
        };
    entries.push({
      ...(typeof entry.fullUrl === 'string' ? { fullUrl: entry.fullUrl } : {}),
      resource: withIdentifier,
    });
  });
  if (issues.length === 0 && !entries.some((e) => e.resource.resourceType === 'Patient')) {
    issues.push({
      field: 'Bundle.entry',
      message: 'the transaction must carry the participant as a Patient with an identifier',
    });
  }
  const location = `transaction ${sourceId}`;
  if (issues.length > 0) {
    return { accepted: [], rejected: [{ location, sourceId, issues, raw }] };
  }
  // A transaction announces no event: it is read like a message that updates records.
  return {
    accepted: [{ location, sourceId, record: { messageId: sourceId, event: 'careplan-update', entries } }],
    rejected: [],
  };
}

function rejectAll(issues: FieldIssue[], raw: string): ParseResult<FhirMessageRecord> {
  return { accepted: [], rejected: [{ location: 'transaction', issues, raw }] };
}
