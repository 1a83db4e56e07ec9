import type { RedisClient } from '../queues/connection.js';
import { createHash } from 'node:crypto';
import { buildAck, ackCodeFor } from '../adapters/hl7v2/ack.js';
import { firstComponent, readHeader } from '../adapters/hl7v2/normalize.js';
import type { MllpHandler, MllpPeer } from './mllp-server.js';
import { trace } from '@opentelemetry/api';
import { inSpan, SpanKind } from '../tracing/tracing.js';
import type { PartnerRegistry } from '../config/partners.js';
import type { RefusedAccess } from '../security/audit.js';
import { isAllowed, parseAllowList } from '../config/network-allow-list.js';
import type { IngestService } from '../ingest/ingest-service.js';

export interface MllpIngestDeps {
  readonly ingest: IngestService;
  readonly partners: PartnerRegistry;
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly now: () => Date;
  /** AUTH_REQUIRED: a partner is heard only from its `inbound.mllpAllowFrom` networks. */
  readonly requireAllowList: boolean;
  /** Records a refused connection (an AuditEvent). */
  readonly onRefused?: (refused: RefusedAccess) => void;
}

/** How long the ACK of a control id is remembered: senders resend within minutes or hours, not weeks. */
const ACK_MEMORY_SECONDS = 7 * 24 * 3600;

/**
 * The MLLP listener's handler: finds the partner by MSH-4 (its `inbound.hl7SendingFacilities`),
 * queues the message durably through the ingest service, and answers `AA` (commit accept) or a
 * NAK naming the fields. The same message resent under its MSH-10 gets the ACK it got the first
 * time, without being applied again (unless its job became a dead letter: then it is queued
 * again); a different message reusing the MSH-10 is applied. A partner with an allow-list
 * (always, when authentication is required) is heard only from those networks.
 */
export function mllpIngestHandler(deps: MllpIngestDeps): MllpHandler {
  const allowLists = new Map(
    deps.partners
      .all()
      .map((p) => [p.id, p.inbound.mllpAllowFrom ? parseAllowList(p.inbound.mllpAllowFrom).list : undefined]),
  );
  return (message, peer) =>
    inSpan(
      'MLLP message',
      { 'network.peer.address': peer.address },
      () => handle(message, peer),
      SpanKind.SERVER,
    );

  async function handle(message: string, peer: MllpPeer): Promise<string> {
    const header = readHeader(message);
    const facility = firstComponent(header.fields[4], header.delimiters);
    const partner = deps.partners.all().find((p) => p.inbound.hl7SendingFacilities?.includes(facility));
    if (!partner) {
      return buildAck(message, {
        code: 'AR',
        at: deps.now(),
        issues: [{ field: 'MSH-4', message: `Unknown sending facility "${facility}"` }],
      });
    }
    const allowList = allowLists.get(partner.id);
    if ((allowList || deps.requireAllowList) && !(allowList && isAllowed(allowList, peer.address))) {
      const reason = `MLLP from ${peer.address} is not on ${partner.id}'s allow-list (inbound.mllpAllowFrom)`;
      deps.onRefused?.({ partnerId: partner.id, method: 'MLLP', path: `MSH-4 ${facility}`, reason });
      // The sender is not told which partner owns that MSH-4: the audit says it, the ACK does not.
      const told = `messages from sending facility "${facility}" are not accepted from ${peer.address}`;
      return buildAck(message, { code: 'AR', at: deps.now(), issues: [{ field: 'MSH-4', message: told }] });
    }
    const controlId = firstComponent(header.fields[10], header.delimiters);
    trace.getActiveSpan()?.setAttributes({ 'hub.partner': partner.id, 'hl7.message_control_id': controlId });
    const key = `${deps.prefix}:mllp-ack:${partner.id}:${controlId}`;
    const fingerprint = contentFingerprint(header.text, header.delimiters.field);
    if (controlId) {
      const previous = parseRemembered(await deps.redis.get(key));
      // The same message again (the sender missed our ACK): the same answer, nothing applied twice,
      // unless its job became a dead letter (FHIR away past the retry budget): then the resend is
      // queued again. Another message under a used control id (an interface engine reset its
      // counter) is processed like any other: never a silent AA for a message that was not written.
      if (previous?.fingerprint === fingerprint && !(await deps.ingest.anyFailed(previous.jobIds ?? []))) {
        return previous.ack;
      }
    }
    const report = await deps.ingest.ingest(partner.id, 'hl7v2-adt', Buffer.from(message, 'utf8'));
    const issues = report.records.flatMap((r) => (r.status === 'rejected' ? r.issues : []));
    const ack = buildAck(message, {
      code: report.records.length === 0 ? 'AR' : ackCodeFor(issues),
      at: deps.now(),
      issues,
    });
    if (controlId) {
      const jobIds = report.records.flatMap((r) => ('jobId' in r ? [r.jobId] : []));
      const remembered: RememberedAck = { fingerprint, ack, jobIds };
      await deps.redis.set(key, JSON.stringify(remembered), 'EX', ACK_MEMORY_SECONDS);
    }
    return ack;
  }
}

interface RememberedAck {
  readonly fingerprint: string;
  readonly ack: string;
  /** The ingest jobs the message became (absent in ACKs remembered by an older hub). */
  readonly jobIds?: readonly string[];
}

function parseRemembered(text: string | null): RememberedAck | undefined {
  if (!text) {
    return undefined;
  }
  try {
    return JSON.parse(text) as RememberedAck;
  } catch {
    return undefined; // an ACK remembered by an older hub: treated as not seen
  }
}

/**
 * What identifies a message's content: every segment as sent, but MSH-7 (the time of sending),
 * which some engines set anew when they resend the same message.
 */
function contentFingerprint(text: string, fieldSeparator: string): string {
  const [msh = '', ...rest] = text.split('\r');
  const fields = msh.split(fieldSeparator);
  if (fields.length > 6) {
    fields[6] = '';
  }
  return createHash('sha256')
    .update([fields.join(fieldSeparator), ...rest].join('\r'))
    .digest('hex');
}

/**
 * Who may open an MLLP connection at all: with authentication required every partner is heard
 * only from its `inbound.mllpAllowFrom`, so an address on none of them is closed before a byte is
 * read; the per-partner check on MSH-4 follows for each message.
 */
export function mllpAdmission(
  partners: PartnerRegistry,
  requireAllowList: boolean,
): { acceptFrom?: (address: string) => boolean } {
  if (!requireAllowList) {
    return {};
  }
  const lists = partners
    .all()
    .flatMap((p) => (p.inbound.mllpAllowFrom ? [parseAllowList(p.inbound.mllpAllowFrom).list] : []));
  return { acceptFrom: (address) => lists.some((list) => isAllowed(list, address)) };
}
