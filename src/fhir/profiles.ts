/**
 * Canonical URLs of the hub's conformance resources in `profiles/`. The JSON files there are the
 * source of truth; a unit test checks that these constants match them.
 */
export const HUB_CANONICAL_BASE = 'https://carecoord.example.org/fhir';

export const PROFILE = {
  task: `${HUB_CANONICAL_BASE}/StructureDefinition/hub-task`,
  carePlan: `${HUB_CANONICAL_BASE}/StructureDefinition/hub-careplan`,
} as const;

export const CODE_SYSTEM = {
  taskCode: `${HUB_CANONICAL_BASE}/CodeSystem/hub-task-code`,
  riskFlag: `${HUB_CANONICAL_BASE}/CodeSystem/hub-risk-flag`,
  careTeamRole: `${HUB_CANONICAL_BASE}/CodeSystem/hub-care-team-role`,
  communicationCategory: `${HUB_CANONICAL_BASE}/CodeSystem/hub-communication-category`,
  messageEvent: `${HUB_CANONICAL_BASE}/CodeSystem/hub-message-event`,
} as const;
