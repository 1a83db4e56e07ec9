import type { BundleEntry, CarePlan, FhirResource, Meta, OperationOutcomeIssue } from 'fhir/r4.js';
import { mergeCarePlans } from '../coordination/plan-merge.js';
import { HubError } from '../errors/hub-error.js';
import { ResourceNotFoundError } from '../fhir/fhir-errors.js';
import type { FhirGateway } from '../fhir/fhir-gateway.js';
import type { HeldLookup } from './source-order.js';
import type { ResourceWrite } from '../mappers/types.js';

/**
 * Optimistic concurrency for the shared CarePlan. A write that names the version it edited
 * (`baseVersion`) is never a blind last-writer-wins update:
 *
 * - stored version = base: the plan is written as sent, with `If-Match` on that version;
 * - stored version newer: the base is read back and both edits are merged three-way
 *   ({@link mergeCarePlans}); the merged plan is written with `If-Match` on the stored version;
 * - both edits changed the same element or activity differently: the record is refused
 *   (HubError 409 `PLAN.CONFLICT`, one issue per element), which the ingest worker treats as
 *   permanent, so it lands in the rejected list with the conflicts named.
 *
 * A writer that slips in between the read and the write makes the transaction fail with a
 * version conflict (412/409); the ingest writer retries, and the retry reads the newer version.
 *
 * Returns the transaction entry to use, or undefined when the write is not a versioned CarePlan
 * edit, or no plan with its identifier is stored yet (then it is written as any other, source-order.ts).
 */
export async function versionedPlanEntry(
  fhir: FhirGateway,
  held: HeldLookup,
  write: ResourceWrite,
  resource: FhirResource,
  record: readonly ResourceWrite[],
): Promise<BundleEntry | undefined> {
  const base = write.baseVersion;
  if (!base || resource.resourceType !== 'CarePlan') {
    return undefined;
  }
  const stored = (await held(write)) as CarePlan[];
  const [current] = stored;
  if (!current?.id || stored.length > 1) {
    return undefined;
  }
  const currentVersion = current.meta?.versionId ?? '';
  if (currentVersion === base) {
    return entry(write, { ...resource, id: current.id }, current, base);
  }

  const result = mergeCarePlans(
    await readBase(fhir, current, base),
    current,
    await resolveRecordReferences(fhir, resource, write, record),
  );
  if ('conflicts' in result) {
    throw planConflict(current.id, base, currentVersion, result.conflicts);
  }
  return entry(
    write,
    { ...result.merged, meta: { ...serverless(current.meta), ...resource.meta } },
    current,
    currentVersion,
  );
}

/** `PUT CarePlan/<id>` with `If-Match`: the server refuses it if the plan moved on meanwhile. */
function entry(write: ResourceWrite, plan: CarePlan, current: CarePlan, version: string): BundleEntry {
  return {
    fullUrl: write.fullUrl,
    resource: { ...plan, id: current.id },
    request: { method: 'PUT', url: `CarePlan/${current.id}`, ifMatch: `W/"${version}"` },
  };
}

async function readBase(fhir: FhirGateway, current: CarePlan, base: string): Promise<CarePlan> {
  try {
    return await fhir.vread<CarePlan>('CarePlan', current.id!, base);
  } catch (err) {
    if (err instanceof ResourceNotFoundError) {
      const message = `CarePlan ${current.id} has no version ${base} (the message's meta.versionId); it is at version ${current.meta?.versionId}`;
      throw new HubError('PLAN.BASE_UNKNOWN', message, {
        status: 422,
        cause: err,
        issues: [
          {
            severity: 'error',
            code: 'not-found',
            diagnostics: message,
            expression: ['CarePlan.meta.versionId'],
          },
        ],
      });
    }
    throw err;
  }
}

/** The refusal: one issue per element both edits changed, each naming it. */
function planConflict(id: string, base: string, current: string, conflicts: readonly string[]): HubError {
  const issues: OperationOutcomeIssue[] = conflicts.map((element) => ({
    severity: 'error',
    code: 'conflict',
    diagnostics: `CarePlan changed since version ${base} by another edit (now version ${current}): ${element} was changed by both edits`,
    expression: [`CarePlan.${element.split(' ')[0]}`],
  }));
  return new HubError(
    'PLAN.CONFLICT',
    `CarePlan/${id} changed since version ${base} (now ${current}): ${conflicts.join(', ')} changed by both`,
    { status: 409, issues },
  );
}

/**
 * The incoming plan refers to other resources of the same record by their `urn:uuid:` fullUrls;
 * the stored versions refer to them as `Type/id`. Those already on the server are re-pointed at
 * `Type/id` before merging, so an unchanged reference does not look changed.
 */
async function resolveRecordReferences(
  fhir: FhirGateway,
  resource: FhirResource,
  self: ResourceWrite,
  record: readonly ResourceWrite[],
): Promise<CarePlan> {
  const json = JSON.stringify(resource);
  const targets: Record<string, string> = {};
  for (const other of record) {
    if (other === self || !json.includes(`"${other.fullUrl}"`)) {
      continue;
    }
    const type = other.resource.resourceType;
    const [found] = await fhir.search(type, {
      identifier: `${other.identifier.system}|${other.identifier.value}`,
    });
    if (found?.id) {
      targets[other.fullUrl] = `${type}/${found.id}`;
    }
  }
  return JSON.parse(json, (key, value: unknown) =>
    key === 'reference' && typeof value === 'string' && value in targets ? targets[value] : value,
  ) as CarePlan;
}

/** Meta without what the server sets itself. */
function serverless(meta: Meta | undefined): Meta {
  const { versionId: _versionId, lastUpdated: _lastUpdated, ...rest } = meta ?? {};
  return rest;
}
