import type { Communication, Task } from 'fhir/r4.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import { hubSystem } from '../fhir/hub-identifiers.js';
import { CODE_SYSTEM } from '../fhir/profiles.js';
import { computeEvidence, dayStart, type EvidenceQuery, type EvidenceReport } from './evidence.js';

export interface EvidenceDeps {
  readonly fhir: FhirGateway;
  readonly identifierBase: string;
  readonly now: () => Date;
}

const MAX_PAGES = 40;

/**
 * The evidence report of a period: the hub's Tasks and its huddle logs and escalation notices
 * changed since the period began (a Task created in the period may have closed after it), then
 * {@link computeEvidence}.
 */
export async function buildEvidence(deps: EvidenceDeps, q: EvidenceQuery): Promise<EvidenceReport> {
  const since = `ge${new Date(dayStart(q.from, q)).toISOString()}`;
  const category = (code: string): string => `${CODE_SYSTEM.communicationCategory}|${code}`;
  const [tasks, huddles, escalations] = await Promise.all([
    deps.fhir.search<Task>(
      'Task',
      {
        code: `${CODE_SYSTEM.taskCode}|`,
        _lastUpdated: since,
        ...(q.agency ? { owner: `Organization/${q.agency}` } : {}),
        _count: 500,
      },
      MAX_PAGES,
    ),
    deps.fhir.search<Communication>(
      'Communication',
      { category: category('huddle-log'), _lastUpdated: since, _count: 500 },
      MAX_PAGES,
    ),
    deps.fhir.search<Communication>(
      'Communication',
      { category: category('escalation-notice'), _lastUpdated: since, _count: 500 },
      MAX_PAGES,
    ),
  ]);
  return computeEvidence(
    {
      tasks,
      communications: [...huddles, ...escalations],
      escalationNoticeSystem: hubSystem(deps.identifierBase, 'escalation-notice'),
    },
    q,
    deps.now(),
  );
}
