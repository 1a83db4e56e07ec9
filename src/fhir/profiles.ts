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
  taskStatus: `${HUB_CANONICAL_BASE}/CodeSystem/hub-task-status`,
} as const;

/**
 * Extensions the hub reads. `plan-change-control` is what a CarePlan version answering a plan-change
 * review must carry (operating rule 7, README): sub-extensions `whatChanged` (string), `risk` (string, 1..*),
 * `control` (complex: `description` string and `owner` Reference(Organization), 1..*).
 */
export const EXTENSION = {
  planChangeControl: `${HUB_CANONICAL_BASE}/StructureDefinition/plan-change-control`,
  /** When the source says the state a resource holds was true (dateTime); the writer's order key. */
  sourceTime: `${HUB_CANONICAL_BASE}/StructureDefinition/source-time`,
  /** The sender's version number of the record a resource holds (integer); an order key too. */
  sourceVersion: `${HUB_CANONICAL_BASE}/StructureDefinition/source-version`,
} as const;
