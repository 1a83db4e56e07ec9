import type { Identifier, Task } from 'fhir/r4.js';
import { createHash } from 'node:crypto';
import type { PartnerConfig, PartnerRegistry } from '../config/partners.js';
import { HubError } from '../errors/hub-error.js';
import { HUB_OWNED, INBOUND_WRITABLE, mayWrite } from '../fhir/inbound-writable.js';
import type { MappedRecord, ResourceWrite } from '../mappers/types.js';

/**
 * The one write boundary (docs: README "Threat model"): what an inbound record may write, checked
 * for every record on every path (HTTP, MLLP, `$process-message`, replays) before anything reaches
 * the FHIR server. Pure: the same record and partners always give the same answer.
 *
 * - Resource types: a record writes only the clinical and coordination resources of
 *   {@link INBOUND_WRITABLE}, and other types as sent when its partner's file says
 *   `uncoordinated: store`. The hub alone writes the shared CareTeam, Consents, Provenance,
 *   AuditEvents, Subscriptions, Organizations and the participant's Patient (linked, never
 *   overwritten).
 * - Identifiers: nothing a record writes may carry an identifier in the hub's namespace
 *   (`<base>/sid/hub/`) or in another partner's (`<base>/sid/<other>/`), on the participant too.
 * - Identity is the sender's: a resource is written on a key in the sender's namespace. A key in
 *   any other system (a sender's own URL, an OID) is scoped to the sender ({@link scopedKey}), so
 *   two partners' `Task|T-1` never meet and no partner can overwrite another's resource. The one
 *   exception is the shared CarePlan: an agency edits the plan it received under the plan's own
 *   identifier, stating the version it edited (`baseVersion`); decision rights and change control
 *   decide whether the edit stands.
 * - Tasks: a record opens or changes only Tasks its own agency owns, or refers a participant to
 *   another agency: a Task it requests, owned by that agency, which it may withdraw but not move on.
 * - Care team: a record puts only its own agency (or its staff) on the care team, and only through
 *   the record kinds its partner file names (`inbound.careTeamJoins`).
 */
export { INBOUND_WRITABLE };

/**
 * Task codes only the hub issues: a partner-made "acknowledge plan change" Task would be taken for
 * the hub's own (the rest-hook follows that code), and escalation reviews, huddle actions and
 * coordinator assignments are the operating model's, not an agency's.
 */
const HUB_ONLY_TASK_CODES: ReadonlySet<string> = new Set([
  'acknowledge-plan-change',
  'escalation-review',
  'huddle-action',
  'assign-coordinator',
]);

function hasHubOnlyCode(w: ResourceWrite): boolean {
  const code = (w.resource as { code?: { coding?: Array<{ code?: string }> } }).code;
  return (code?.coding ?? []).some((c) => c.code !== undefined && HUB_ONLY_TASK_CODES.has(c.code));
}

/** What a referrer may set on a referral: it asks, and may withdraw; only the owner moves it on. */
export const REFERRER_STATUSES: ReadonlySet<Task['status']> = new Set(['draft', 'requested', 'cancelled']);

/**
 * A referral the sender makes to another agency (the SDOH Clinical Care IG's Task for referral
 * management): the sender is the requester, the owner another partner, the status one a requester
 * may set (README, "Referrals").
 */
export function isReferral(ctx: Pick<BoundaryContext, 'sender' | 'partnerIds'>, task: Task): boolean {
  const owner = task.owner?.reference;
  return (
    task.requester?.reference === `Organization/${ctx.sender}` &&
    REFERRER_STATUSES.has(task.status) &&
    ctx.partnerIds.some((id) => id !== ctx.sender && owner === `Organization/${id}`)
  );
}

/** Who is sending, and whose namespaces it must stay out of. */
export interface BoundaryContext {
  readonly sender: string;
  readonly format: string;
  /** Every configured partner id (the sender's included). */
  readonly partnerIds: readonly string[];
  /** The record kinds the sender's file lets it join a care team through (`inbound.careTeamJoins`). */
  readonly careTeamJoins: readonly string[];
  readonly identifierBase: string;
  /** The sender's file says `uncoordinated: store`: it may also write types the hub does not coordinate. */
  readonly storesUncoordinated: boolean;
}

/** The boundary's view of a sender: its id, the record's format and its file's care-team joins. */
export function boundaryContext(
  sender: PartnerConfig,
  format: string,
  partners: PartnerRegistry,
  identifierBase: string,
): BoundaryContext {
  return {
    sender: sender.id,
    format,
    partnerIds: partners.all().map((p) => p.id),
    careTeamJoins: sender.inbound.careTeamJoins ?? [],
    identifierBase,
    storesUncoordinated: sender.inbound.uncoordinated === 'store',
  };
}

/** One refusal: where in the record, which rule, and why. */
export interface BoundaryViolation {
  readonly field: string;
  readonly rule: 'resource-type' | 'identifier-namespace' | 'task-owner' | 'care-team-member';
  readonly message: string;
}

/** The record as it may be written (keys scoped to the sender), or what it may not do. */
export type BoundaryResult =
  | { readonly allowed: true; readonly mapped: MappedRecord }
  | { readonly allowed: false; readonly violations: readonly BoundaryViolation[] };

export function checkWriteBoundary(ctx: BoundaryContext, mapped: MappedRecord): BoundaryResult {
  const violations: BoundaryViolation[] = [];
  const own = `${ctx.identifierBase}/sid/${ctx.sender}/`;
  const foreignNamespace = (system: string | undefined): string | undefined => {
    if (!system) {
      return undefined;
    }
    if (system.startsWith(`${ctx.identifierBase}/sid/hub/`)) {
      return "the hub's";
    }
    const other = ctx.partnerIds.find(
      (id) => id !== ctx.sender && system.startsWith(`${ctx.identifierBase}/sid/${id}/`),
    );
    return other ? `partner ${other}'s` : undefined;
  };

  mapped.participant.identifiers.forEach((identifier, i) => {
    const whose = foreignNamespace(identifier.system);
    if (whose) {
      violations.push({
        field: `Patient.identifier[${i}]`,
        rule: 'identifier-namespace',
        message: `${identifier.system} is ${whose} namespace: a partner names the participant by shared identifiers or its own`,
      });
    }
  });

  mapped.writes.forEach((w, i) => {
    const type = w.resource.resourceType;
    const where = `${type}[${i}]`;
    if (!mayWrite(type, ctx.storesUncoordinated)) {
      violations.push({
        field: `${where}.resourceType`,
        rule: 'resource-type',
        message: HUB_OWNED.has(type)
          ? `${type} is written by the hub only`
          : `${type} is not a resource the hub coordinates; a partner record may write ${[...INBOUND_WRITABLE].join(', ')} (or, with uncoordinated: store in its file, other types as sent)`,
      });
      return;
    }
    const sharedPlanEdit = type === 'CarePlan' && w.baseVersion !== undefined;
    for (const [j, identifier] of identifiersOf(w).entries()) {
      const whose = foreignNamespace(identifier.system);
      const editsAnotherAgencysPlan = sharedPlanEdit && whose?.startsWith('partner ');
      if (whose && !editsAnotherAgencysPlan) {
        violations.push({
          field: `${where}.identifier[${j}]`,
          rule: 'identifier-namespace',
          message: `${identifier.system} is ${whose} namespace; a partner writes under its own (${own})`,
        });
      }
    }
    if (type === 'Task' && hasHubOnlyCode(w)) {
      violations.push({
        field: `${where}.code`,
        rule: 'task-owner',
        message: `Tasks coded ${[...HUB_ONLY_TASK_CODES].join(', ')} are opened by the hub only`,
      });
    }
    if (type === 'Task') {
      const task = w.resource;
      const owner = task.owner?.reference;
      if (owner !== undefined && owner !== `Organization/${ctx.sender}` && !isReferral(ctx, task)) {
        violations.push({
          field: `${where}.owner`,
          rule: 'task-owner',
          message: `a partner opens or changes only Tasks its own agency owns (Organization/${ctx.sender}), or refers to another agency (requester Organization/${ctx.sender}, status ${[...REFERRER_STATUSES].join(', ')}); not ${owner.slice(0, 80)}${task.requester?.reference ? ` requested by ${task.requester.reference.slice(0, 80)}` : ''} (${task.status})`,
        });
      }
    }
  });

  (mapped.careTeamMembers ?? []).forEach((m, i) => {
    const agency = m.member.reference;
    if (agency?.startsWith('Organization/') && agency !== `Organization/${ctx.sender}`) {
      violations.push({
        field: `CareTeam.participant[${i}].member`,
        rule: 'care-team-member',
        message: `a record puts only its own agency on the care team, not ${agency.slice(0, 80)}`,
      });
    }
  });

  if (violations.length > 0) {
    return { allowed: false, violations };
  }
  // A join through a record kind the partner's file does not name is not made: the record is.
  const { careTeamMembers, ...rest } = mapped;
  const joins = ctx.careTeamJoins.includes(ctx.format) && careTeamMembers ? { careTeamMembers } : {};
  return {
    allowed: true,
    mapped: { ...rest, ...joins, writes: mapped.writes.map((w) => scoped(ctx, own, w)) },
  };
}

/** Every identifier a write carries: its key and what its resource lists. */
function identifiersOf(w: ResourceWrite): Identifier[] {
  const listed = (w.resource as { identifier?: Identifier | Identifier[] }).identifier;
  return [w.identifier, ...(Array.isArray(listed) ? listed : listed ? [listed] : [])];
}

/** The write on a key of the sender's: its own namespace as is, any other system scoped to it. */
function scoped(ctx: BoundaryContext, own: string, w: ResourceWrite): ResourceWrite {
  const system = w.identifier.system ?? '';
  const sharedPlanEdit = w.resource.resourceType === 'CarePlan' && w.baseVersion !== undefined;
  if (system.startsWith(own) || sharedPlanEdit) {
    return w;
  }
  const key = scopedKey(ctx, w.identifier);
  const listed = (w.resource as { identifier?: Identifier[] }).identifier ?? [];
  return {
    ...w,
    identifier: key,
    resource: { ...w.resource, identifier: [...listed, key] } as ResourceWrite['resource'],
  };
}

/**
 * `<base>/sid/<sender>/key|<digest of system|value>`: the sender-scoped identity of a resource it
 * named in a system the hub cannot tie to one partner. The identifier it sent stays on the resource.
 */
export function scopedKey(
  ctx: Pick<BoundaryContext, 'sender' | 'identifierBase'>,
  id: Identifier,
): Identifier {
  const digest = createHash('sha256')
    .update(`${id.system ?? ''}|${id.value ?? ''}`)
    .digest('hex');
  return { system: `${ctx.identifierBase}/sid/${ctx.sender}/key`, value: digest.slice(0, 40) };
}

/** A record outside the boundary: 403, one issue per violation, naming the entry and the rule. */
export class BoundaryRefusedError extends HubError {
  readonly violations: readonly BoundaryViolation[];

  constructor(location: string, violations: readonly BoundaryViolation[]) {
    super(
      'BOUNDARY.REFUSED',
      `${location}: ${violations.map((v) => `${v.field}: ${v.message}`).join('; ')}`,
      {
        status: 403,
        issues: violations.map((v) => ({
          severity: 'error',
          code: 'forbidden',
          diagnostics: `${location} ${v.field} (rule ${v.rule}): ${v.message}`,
          expression: [v.field],
        })),
      },
    );
    this.violations = violations;
  }
}

/** The record scoped to its sender, or a {@link BoundaryRefusedError}. */
export function withinWriteBoundary(
  ctx: BoundaryContext,
  mapped: MappedRecord,
  location: string,
): MappedRecord {
  const result = checkWriteBoundary(ctx, mapped);
  if (!result.allowed) {
    throw new BoundaryRefusedError(location, result.violations);
  }
  return result.mapped;
}
