import { Router } from 'express';
import type { FhirResource } from 'fhir/r4.js';
import { ForbiddenError, HubError } from '../../errors/hub-error.js';
import type { FhirGateway } from '../../fhir/fhir-gateway.js';
import { disclosure } from '../../security/audit.js';
import { partnerMayRead, shownTo } from '../../security/read-access.js';
import type { RefusedAccess } from '../../security/audit.js';
import { sendFhir } from '../fhir-format.js';

export interface PartnerReadDeps {
  readonly fhir: FhirGateway;
  readonly identifierBase: string;
  readonly now: () => Date;
  readonly onRefused: (refused: RefusedAccess) => void;
  /** Partners that are 42 CFR Part 2 programs (their place on a care team is Part 2 information). */
  readonly part2Programs: readonly string[];
}

/** Resource types a partner may read through the hub: the participant's shared record. */
export const READABLE_TYPES = [
  'Patient',
  'CarePlan',
  'CareTeam',
  'Task',
  'Communication',
  'Flag',
  'Goal',
  'Encounter',
  'Observation',
] as const;

/**
 * `GET /fhir/<type>/<id>` for partners: a read through the hub, allowed when the partner is on the
 * participant's care team (and, for 42 CFR Part 2 data, named by an active Consent). Each read is
 * an AuditEvent; each refusal is a 403 and an AuditEvent. Needs the token middleware in front
 * (the partner is `res.locals.partnerId`).
 */
export function partnerReadRoutes(deps: PartnerReadDeps): Router {
  const router = Router();
  router.get('/fhir/:type/:id', async (req, res) => {
    const partnerId = res.locals.partnerId as string | undefined;
    const { type, id } = req.params;
    if (
      !partnerId ||
      !(READABLE_TYPES as readonly string[]).includes(type) ||
      !/^[A-Za-z0-9.-]{1,64}$/.test(id)
    ) {
      throw new HubError('READ.NOT_FOUND', `No readable ${type.slice(0, 40)} here`, {
        status: 404,
        issues: [
          {
            severity: 'error',
            code: 'not-found',
            diagnostics: `Readable types: ${READABLE_TYPES.join(', ')}`,
          },
        ],
      });
    }
    const resource = await deps.fhir.read<FhirResource>(type as FhirResource['resourceType'], id);
    const decision = await partnerMayRead(deps, partnerId, resource, `${type}/${id}`);
    if (!decision.allowed) {
      deps.onRefused({ partnerId, method: req.method, path: req.path, reason: decision.reason });
      throw new ForbiddenError('READ.FORBIDDEN', decision.reason);
    }
    const patient = decision.patient;
    await deps.fhir.create(
      disclosure(
        { partnerId, patient, what: `${type}/${id}`, labels: resource.meta?.security ?? [] },
        deps.now(),
      ),
    );
    // The version read, for caches and for If-Match on a later edit of the shared plan.
    if (resource.meta?.versionId) {
      res.set('ETag', `W/"${resource.meta.versionId}"`);
    }
    if (resource.meta?.lastUpdated) {
      res.set('Last-Modified', new Date(resource.meta.lastUpdated).toUTCString());
    }
    sendFhir(req, res, 200, await shownTo(deps, partnerId, resource, deps.part2Programs));
  });
  return router;
}
