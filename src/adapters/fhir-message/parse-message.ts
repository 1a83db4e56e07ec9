import type { FieldIssue, ParseResult } from '../types.js';
import { readFhirDocument } from '../../fhir/fhir-xml.js';
import type { PartnerConfig } from '../../config/partners.js';
import { entryKeys, splitCoordinated } from './coordinated.js';
import { MESSAGE_EVENTS, type FhirMessageRecord, type JsonResource, type MessageEvent } from './types.js';

/**
 * Reads a FHIR message (`Bundle.type = message`, MessageHeader first). The participant comes as a
 * Patient entry; every resource (Patient included) must carry an identifier with system and
 * value, so the hub links the participant and writes each resource idempotently. Problems name the element (`Bundle.entry[2].resource.identifier`).
 * @see https://hl7.org/fhir/R4/messaging.html
 */
export function parseFhirMessage(body: Buffer, partner?: PartnerConfig): ParseResult<FhirMessageRecord> {
  const read = readFhirDocument(body);
  if ('issues' in read) {
    return reject('message', read.issues, body);
  }
  const bundle = read.resource;
  const issues: FieldIssue[] = [];
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'message') {
    issues.push({ field: 'Bundle.type', message: 'must be a Bundle of type "message"' });
    return reject('message', issues, body);
  }
  const entries = Array.isArray(bundle.entry) ? (bundle.entry as Array<Record<string, unknown>>) : [];
  const header = entries[0]?.resource as Record<string, unknown> | undefined;
  if (header?.resourceType !== 'MessageHeader') {
    return reject(
      'message',
      [{ field: 'Bundle.entry[0].resource', message: 'the first entry must be a MessageHeader' }],
      body,
    );
  }
  const messageId = typeof header.id === 'string' ? header.id : undefined;
  if (!messageId) {
    issues.push({
      field: 'MessageHeader.id',
      message: 'is required: it identifies the message for de-duplication and the response',
    });
  }
  const coding = header.eventCoding as { code?: string } | undefined;
  const event = coding?.code;
  if (!event || !(MESSAGE_EVENTS as readonly string[]).includes(event)) {
    issues.push({
      field: 'MessageHeader.eventCoding.code',
      message: `must be one of ${MESSAGE_EVENTS.join(', ')}`,
    });
  }
  const rest = entries.slice(1).map((e, i) => ({
    index: i + 1,
    fullUrl: e.fullUrl as string | undefined,
    resource: e.resource as JsonResource | undefined,
  }));
  if (rest.length === 0) {
    issues.push({ field: 'Bundle.entry', message: 'the message carries no resource' });
  }
  if (!rest.some((e) => e.resource?.resourceType === 'Patient')) {
    issues.push({
      field: 'Bundle.entry',
      message: 'the message must carry the participant as a Patient with an identifier',
    });
  }
  const firstPatient = rest.find((e) => e.resource?.resourceType === 'Patient');
  for (const e of rest) {
    if (e.resource?.resourceType === 'Patient' && e !== firstPatient) {
      issues.push({
        field: `Bundle.entry[${e.index}].resource`,
        message:
          'a message is about one participant: a second Patient is not accepted (send one message per person)',
      });
    }
    if (!e.resource || typeof e.resource.resourceType !== 'string') {
      issues.push({
        field: `Bundle.entry[${e.index}].resource`,
        message: 'is missing or has no resourceType',
      });
      continue;
    }
    const hasIdentifier = (e.resource.identifier ?? []).some((i) => i.system && i.value);
    if (!hasIdentifier) {
      issues.push({
        field: `Bundle.entry[${e.index}].resource.identifier`,
        message: `${e.resource.resourceType} needs an identifier with system and value so it can be written idempotently`,
      });
    }
  }
  if (issues.length > 0) {
    return {
      accepted: [],
      rejected: [
        {
          location: `message ${messageId ?? '(no id)'}`,
          sourceId: messageId,
          issues,
          raw: body.toString('utf8'),
        },
      ],
    };
  }
  const sender = (header.sender as { reference?: string } | undefined)?.reference;
  const location = `message ${messageId}`;
  // Types the hub does not coordinate are skipped or stored, as the sender's file says; what only
  // the hub writes stays, for the write boundary to refuse the message it was meant with.
  const { kept, skipped, outside } = splitCoordinated(
    rest.map((e) => ({ ...e, resource: e.resource!, keys: entryKeys(e.fullUrl, e.resource!) })),
    location,
    { storesUncoordinated: partner?.inbound.uncoordinated === 'store', keepHubOwned: true },
  );
  return {
    accepted: [
      {
        location,
        sourceId: messageId!,
        record: {
          messageId: messageId!,
          event: event as MessageEvent,
          ...(sender ? { sender } : {}),
          entries: kept.map((e) => ({ ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}), resource: e.resource })),
          ...(Object.keys(outside).length > 0 ? { outside } : {}),
        },
      },
    ],
    rejected: [],
    skipped,
  };
}

function reject(location: string, issues: FieldIssue[], body: Buffer): ParseResult<FhirMessageRecord> {
  return { accepted: [], rejected: [{ location, issues, raw: body.toString('utf8') }] };
}
