import express, { Router } from 'express';
import type { Patient } from 'fhir/r4.js';
import {
  decideIdentity,
  heldForReview,
  type IdentityChoice,
  type IdentityDecisionDeps,
} from '../../ingest/identity-decision.js';
import type { RejectedStore } from '../../ingest/rejected-store.js';
import { findRejection } from './ingest.routes.js';
import { refuseFields } from '../validate-body.js';

export interface IdentityRouteDeps extends IdentityDecisionDeps {
  readonly rejected: RejectedStore;
}

const person = (p: Patient): object => ({
  id: p.id,
  identifiers: p.identifier ?? [],
  name: p.name ?? [],
  birthDate: p.birthDate,
});

/**
 * The identity review for scripts (behind the admin guard), as `/ui/identities` does it:
 * `GET /admin/identities` lists the records held for an identity conflict beside the participants
 * they point at; `POST /admin/identities/:id` decides one (`same` with `patientId`, `different`
 * with optional `corrected` values by identifier system, or `discard`), with a `reason`.
 */
export function identityRoutes(deps: IdentityRouteDeps): Router {
  const router = Router();
  router.get('/admin/identities', async (_req, res) => {
    res.json(
      (await heldForReview(deps, 100)).map(({ rejection, participant, matches }) => ({
        id: rejection.id,
        partnerId: rejection.partnerId,
        format: rejection.format,
        location: rejection.location,
        heldAt: rejection.rejectedAt,
        issues: rejection.issues,
        record: {
          identifiers: participant?.identifiers ?? [],
          name: participant?.demographics?.name ?? [],
          birthDate: participant?.demographics?.birthDate,
        },
        matches: matches.map(person),
      })),
    );
  });
  router.post('/admin/identities/:id', express.json({ limit: '16kb' }), async (req, res) => {
    const rejection = await findRejection(deps.rejected, req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const reason = typeof body.reason === 'string' ? body.reason.trim().slice(0, 500) : '';
    const patientId = typeof body.patientId === 'string' ? body.patientId : '';
    const corrected =
      body.corrected && typeof body.corrected === 'object'
        ? Object.fromEntries(
            Object.entries(body.corrected as Record<string, unknown>).filter(
              (e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '',
            ),
          )
        : {};
    const choice: IdentityChoice | undefined =
      body.decision === 'same' && /^[A-Za-z0-9.-]{1,64}$/.test(patientId)
        ? { kind: 'same', patientId }
        : body.decision === 'different'
          ? { kind: 'different', corrected }
          : body.decision === 'discard'
            ? { kind: 'discard' }
            : undefined;
    refuseFields(
      [...(choice ? [] : ['decision']), ...(reason ? [] : ['reason'])],
      'decision (same with patientId, different or discard) and reason must be given',
    );
    res.json(await decideIdentity(deps, rejection, choice!, 'admin API', reason));
  });
  return router;
}
