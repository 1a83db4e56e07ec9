import express, { Router } from 'express';
import type { AuditEvent } from 'fhir/r4.js';
import type { FhirGateway } from '../../fhir/fhir-gateway.js';
import type { StaffLogin } from '../../security/staff-login.js';
import type { TokenStore } from '../../security/token-store.js';
import { validBody } from '../validate-body.js';
import { loginSchema } from '../request-schemas.js';

export interface StaffRouteDeps {
  readonly fhir: FhirGateway;
  readonly login: StaffLogin;
  readonly sessions: TokenStore;
  readonly now: () => Date;
}

/** A working day: staff sign in again the next one. */
export const STAFF_SESSION_SECONDS = 8 * 3600;

/**
 * - `POST /staff/login` `{username, password}`: a staff session (bearer token, 8 hours) with the
 *   account's role; a wrong user name or password is the same 401.
 * - `GET /audit/participants/:id`: every AuditEvent about a participant, newest first (auditors).
 */
export function staffRoutes(deps: StaffRouteDeps): Router {
  const router = Router();
  router.post('/staff/login', express.json({ limit: '4kb' }), async (req, res) => {
    const { username, password } = validBody<{ username: string; password: string }>(loginSchema, req.body);
    const account = await deps.login.signIn(username, password);
    const token = await deps.sessions.issue(
      account.username,
      [account.role],
      STAFF_SESSION_SECONDS,
      deps.now(),
    );
    res.set('cache-control', 'no-store').json({
      access_token: token,
      token_type: 'bearer',
      expires_in: STAFF_SESSION_SECONDS,
      role: account.role,
      name: account.name,
    });
  });

  router.get('/audit/participants/:id', async (req, res) => {
    const events = await deps.fhir.search<AuditEvent>('AuditEvent', {
      entity: `Patient/${req.params.id}`,
      _sort: '-date',
      _count: '200',
    });
    res.json(
      events.map((e) => ({
        recorded: e.recorded,
        type: e.type.display ?? e.type.code,
        outcome: e.outcome,
        who:
          e.agent.find((a) => a.requestor)?.who?.reference ?? e.agent.find((a) => a.requestor)?.who?.display,
        what: e.entity?.[0]?.what?.reference ?? e.entity?.[0]?.what?.display,
        ...(e.outcomeDesc ? { detail: e.outcomeDesc } : {}),
        labels: e.entity?.[0]?.securityLabel?.map((l) => l.code) ?? [],
      })),
    );
  });
  return router;
}
