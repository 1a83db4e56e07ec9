import express, { Router, type Response } from 'express';
import type { PartnerRegistry } from '../../config/partners.js';
import {
  ASSERTION_ALGORITHMS,
  CLOCK_TOLERANCE_SECONDS,
  ClientAuthError,
  type VerifiedAssertion,
} from '../../security/client-assertion.js';
import { grantable } from '../../security/scopes.js';
import type { TokenStore } from '../../security/token-store.js';

export interface AuthRouteDeps {
  readonly partners: PartnerRegistry;
  readonly tokens: TokenStore;
  /** The hub's public base URL: the token endpoint's URL is the audience assertions must name. */
  readonly publicUrl: string;
  readonly now: () => Date;
  readonly verifyAssertion: (assertion: string, audience: string, now: Date) => Promise<VerifiedAssertion>;
}

/** Access tokens live five minutes; a partner asks for a new one with a new assertion. */
export const TOKEN_LIFETIME_SECONDS = 300;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** An OAuth 2.0 error answer (RFC 6749 section 5.2); the token endpoint speaks OAuth, not FHIR. */
function oauthError(res: Response, status: number, error: string, description: string): void {
  res.status(status).set('cache-control', 'no-store').json({ error, error_description: description });
}

/**
 * SMART Backend Services (client-credentials with a signed JWT assertion):
 * - `GET /.well-known/smart-configuration` (also under `/fhir`): where the token endpoint is and
 *   what it accepts;
 * - `POST /auth/token` (form): `grant_type=client_credentials`, `client_assertion_type` jwt-bearer,
 *   `client_assertion`, optional `scope`; answers a short-lived bearer token with the granted scopes.
 * @see https://hl7.org/fhir/smart-app-launch/backend-services.html
 */
export function authRoutes(deps: AuthRouteDeps): Router {
  const router = Router();
  const tokenEndpoint = `${deps.publicUrl}/auth/token`;

  // At the server root and under the FHIR base, where SMART clients look for it.
  router.get(['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration'], (_req, res) => {
    res.json({
      token_endpoint: tokenEndpoint,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
      scopes_supported: [...new Set(deps.partners.all().flatMap((p) => p.auth?.scopes ?? []))],
      capabilities: ['client-confidential-asymmetric'],
    });
  });

  router.post('/auth/token', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    const text = (key: string): string => (typeof form[key] === 'string' ? form[key] : '');
    if (text('grant_type') !== 'client_credentials') {
      oauthError(res, 400, 'unsupported_grant_type', 'grant_type must be client_credentials');
      return;
    }
    if (text('client_assertion_type') !== JWT_BEARER || !text('client_assertion')) {
      oauthError(
        res,
        400,
        'invalid_request',
        `client_assertion_type must be ${JWT_BEARER}, with a client_assertion`,
      );
      return;
    }
    const now = deps.now();
    let verified: VerifiedAssertion;
    try {
      verified = await deps.verifyAssertion(text('client_assertion'), tokenEndpoint, now);
    } catch (err) {
      if (err instanceof ClientAuthError) {
        oauthError(res, err.oauthError === 'invalid_client' ? 401 : 400, err.oauthError, err.message);
        return;
      }
      throw err;
    }
    // Remembered as long as the assertion is accepted at all: until `exp` plus the clock tolerance.
    const acceptedUntil = verified.expiresAt + CLOCK_TOLERANCE_SECONDS;
    if (!(await deps.tokens.firstUse(verified.partner.id, verified.jti, acceptedUntil, now))) {
      oauthError(res, 401, 'invalid_client', 'client assertion replayed: its jti was used before');
      return;
    }
    const requested = text('scope').split(/\s+/).filter(Boolean);
    const scopes = grantable(requested, verified.partner.auth.scopes);
    if (scopes.length === 0) {
      oauthError(
        res,
        400,
        'invalid_scope',
        `none of the requested scopes is allowed for ${verified.partner.id}`,
      );
      return;
    }
    const token = await deps.tokens.issue(verified.partner.id, scopes, TOKEN_LIFETIME_SECONDS, now);
    res.set('cache-control', 'no-store').json({
      access_token: token,
      token_type: 'bearer',
      expires_in: TOKEN_LIFETIME_SECONDS,
      scope: scopes.join(' '),
    });
  });
  return router;
}
