import type { Communication, Task } from 'fhir/r4.js';
import type { PartnerRegistry } from '../config/partners.js';
import { ForbiddenError, HubError, UnknownPartnerError } from '../errors/hub-error.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubIdentifier } from '../fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { closeObligation, isOpen } from './obligations.js';

export interface CompleteDeps {
  readonly fhir: FhirGateway;
  readonly partners: PartnerRegistry;
  readonly identifierBase: string;
  readonly now: () => Date;
}

/** How an agency closes an obligation: done, or refused by the participant with how it was handled. */
export type ObligationReport =
  | { readonly outcome: 'completed'; readonly by: string; readonly note?: string }
  | {
      readonly outcome: 'participant-refused';
      readonly by: string;
      readonly reason: string;
      readonly handling: string;
    };

/**
 * Closes an obligation Task on behalf of its owning agency, stamped on time or late. A refusal is
 * also recorded as a `refusal` record (the documentation standard asks for one) about the Task.
 * Only the owning agency may close it (a Task owned by a person or nobody is closed by staff); a
 * closed Task answers 409.
 */
export async function reportObligation(
  deps: CompleteDeps,
  taskId: string,
  report: ObligationReport,
): Promise<Task> {
  const partner = deps.partners.get(report.by);
  if (!partner) {
    throw new UnknownPartnerError('by', report.by);
  }
  const task = await deps.fhir.read<Task>('Task', taskId);
  if (!isOpen(task)) {
    throw new HubError('TASK.CLOSED', `Task/${taskId} is already ${task.status}`, {
      status: 409,
      issues: [
        { severity: 'error', code: 'conflict', diagnostics: `Task/${taskId} is already ${task.status}` },
      ],
    });
  }
  // Only the owning agency closes an agency's Task. A Task owned by a person (an escalation review
  // owned by the coordinator of the day) or by nobody is closed by staff, never through this door.
  const owner = /^Organization\/([A-Za-z0-9.-]+)$/.exec(task.owner?.reference ?? '')?.[1];
  if (owner !== report.by) {
    const message = owner
      ? `Task/${taskId} is owned by ${owner}; ${report.by} may not close it`
      : `Task/${taskId} is not owned by an agency; only staff may close it`;
    throw new ForbiddenError('TASK.NOT_OWNER', message, 'by');
  }
  const at = deps.now();
  const by = { reference: `Organization/${partner.id}`, display: partner.name };
  const closed = closeObligation(
    task,
    report.outcome === 'completed'
      ? { outcome: 'completed', at, by, ...(report.note ? { note: report.note } : {}) }
      : { outcome: 'participant-refused', at, by, reason: report.reason, handling: report.handling },
  );
  const stored = await deps.fhir.update(closed, { ifMatch: task.meta?.versionId ?? '' });
  if (report.outcome === 'participant-refused') {
    const identifier = hubIdentifier(deps.identifierBase, 'refusal-record', `Task-${taskId}`);
    const record: Communication = {
      resourceType: 'Communication',
      identifier: [identifier],
      status: 'completed',
      category: [{ coding: [{ system: CODE_SYSTEM.communicationCategory, code: 'refusal' }] }],
      ...(task.for ? { subject: task.for } : {}),
      about: [{ reference: `Task/${taskId}` }],
      sent: at.toISOString(),
      sender: by,
      payload: [
        { contentString: `Refused: ${task.description ?? 'a step'}. Reason: ${report.reason}` },
        { contentString: `How it was handled: ${report.handling}` },
      ],
    };
    await deps.fhir.upsertByIdentifier(record, identifier);
  }
  return stored;
}
