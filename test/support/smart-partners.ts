import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { randomUUID } from 'node:crypto';
import { partnerDir } from './config-dirs.js';

/** The demo partners, each with an ES384 key registered in a copy of their partner files. */
export interface SmartPartners {
  /** The partner folder to start the hub with (`PARTNER_CONFIG_DIR`). */
  readonly dir: string;
  /** A fresh access token of `partnerId` from the hub at `hubUrl` (SMART Backend Services). */
  token(hubUrl: string, partnerId: string): Promise<string>;
}

/** Registers a key for each partner id in a copy of the demo partner files. */
export async function smartPartners(
  ids: readonly string[],
  scopes: readonly string[] = ['system/*.cu', 'system/*.rs', 'system/Task.rus'],
  more: Record<string, (p: Record<string, unknown>) => void> = {},
): Promise<SmartPartners> {
  const keys = new Map<string, { kid: string; privateKey: CryptoKey }>();
  const edits: Record<string, (p: Record<string, unknown>) => void> = {};
  for (const id of ids) {
    const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
    const kid = `${id}-1`;
    keys.set(id, { kid, privateKey });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES384' };
    edits[id] = (p) => {
      p.auth = { jwks: { keys: [jwk] }, scopes: [...scopes] };
      more[id]?.(p);
    };
  }
  return {
    dir: partnerDir(edits),
    token: async (hubUrl, partnerId) => {
      const key = keys.get(partnerId)!;
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES384', kid: key.kid, typ: 'JWT' })
        .setIssuer(partnerId)
        .setSubject(partnerId)
        .setAudience(`${hubUrl}/auth/token`)
        .setJti(randomUUID())
        .setExpirationTime(Math.floor(Date.now() / 1000) + 240)
        .sign(key.privateKey);
      const res = await fetch(`${hubUrl}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }),
      });
      if (res.status !== 200) {
        throw new Error(`no token for ${partnerId}: ${res.status} ${await res.text()}`);
      }
      return ((await res.json()) as { access_token: string }).access_token;
    },
  };
}
