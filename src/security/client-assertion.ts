import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { PartnerConfig, PartnerRegistry } from '../config/partners.js';

/** SMART Backend Services asymmetric client authentication accepts these algorithms. */
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'];
/** An assertion may be valid at most this long (SMART: no more than five minutes). */
const MAX_LIFETIME_SECONDS = 300;
/** How far a partner's clock may be off: an assertion is accepted this long past its `exp`. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** Why a client assertion was refused, as an OAuth 2.0 error. */
export class ClientAuthError extends Error {
  constructor(
    readonly oauthError: 'invalid_client' | 'invalid_request',
    message: string,
  ) {
    super(message);
    this.name = 'ClientAuthError';
  }
}

export interface VerifiedAssertion {
  readonly partner: PartnerConfig & { auth: NonNullable<PartnerConfig['auth']> };
  readonly jti: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/**
 * Verifies SMART Backend Services client assertions (RFC 7523 JWTs): issuer and subject are the
 * partner id, the audience is the hub's token endpoint, signed RS384 or ES384 with one of the
 * partner's registered keys, unexpired, valid no longer than five minutes, with a `jti` (the caller
 * checks it was not used before).
 */
export function assertionVerifier(
  partners: PartnerRegistry,
): (assertion: string, audience: string, now: Date) => Promise<VerifiedAssertion> {
  const keySets = new Map<string, JWTVerifyGetKey>();
  const keysOf = (partner: PartnerConfig & { auth: NonNullable<PartnerConfig['auth']> }): JWTVerifyGetKey => {
    let keys = keySets.get(partner.id);
    if (!keys) {
      keys = partner.auth.jwks
        ? createLocalJWKSet({ keys: partner.auth.jwks.keys })
        : createRemoteJWKSet(new URL(partner.auth.jwksUrl!), {
            timeoutDuration: 5000,
            cooldownDuration: 30_000,
          });
      keySets.set(partner.id, keys);
    }
    return keys;
  };

  return async (assertion, audience, now) => {
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(assertion).iss;
    } catch {
      throw new ClientAuthError('invalid_request', 'client_assertion is not a JWT');
    }
    const partner = issuer ? partners.get(issuer) : undefined;
    if (!partner?.auth) {
      throw new ClientAuthError('invalid_client', `no partner "${issuer ?? ''}" is registered for tokens`);
    }
    const registered = { ...partner, auth: partner.auth };
    try {
      const { payload } = await jwtVerify(assertion, keysOf(registered), {
        algorithms: ASSERTION_ALGORITHMS,
        issuer: partner.id,
        subject: partner.id,
        audience,
        currentDate: now,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'jti'],
      });
      if (payload.exp! - now.getTime() / 1000 > MAX_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
        throw new ClientAuthError(
          'invalid_client',
          `client assertion may be valid for at most ${MAX_LIFETIME_SECONDS} s`,
        );
      }
      return { partner: registered, jti: payload.jti!, expiresAt: payload.exp! };
    } catch (err) {
      if (err instanceof ClientAuthError) {
        throw err;
      }
      throw new ClientAuthError('invalid_client', `client assertion refused: ${describeJoseError(err)}`);
    }
  };
}

/** jose's errors by code, in words a partner's engineer can act on. */
function describeJoseError(err: unknown): string {
  const e = err as { code?: string; claim?: string; message?: string };
  const words: Record<string, string> = {
    ERR_JWT_EXPIRED: 'it has expired',
    ERR_JWT_CLAIM_VALIDATION_FAILED: `claim "${e.claim ?? '?'}" is wrong (${e.message ?? ''})`,
    ERR_JWS_SIGNATURE_VERIFICATION_FAILED: "the signature does not verify with the partner's registered keys",
    ERR_JOSE_ALG_NOT_ALLOWED: `only ${ASSERTION_ALGORITHMS.join(' or ')} signatures are accepted`,
    ERR_JWKS_NO_MATCHING_KEY: "no registered key matches the assertion's kid and algorithm",
  };
  return (e.code && words[e.code]) ?? e.message ?? 'it could not be verified';
}
