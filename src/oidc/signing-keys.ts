// Per-tenant signing keys for ID tokens and JWT access tokens (RS256 and ES256, generated with jose), stored
// encrypted with the tenant's data key in `signing_keys`, plus the tenant's cookie-signing key. Rotation adds a new
// generation that signs from then on; the previous generation stays in the JWKS so tokens it signed still verify,
// and older ones are retired (no longer published).
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Keyring } from '../crypto/keyring.ts';
import type { TenantScope } from '../store/tenant-scope.ts';

/**
 * RS256 is the default `id_token_signed_response_alg` of OpenID Connect clients (Core §2), so relying parties that
 * configure nothing verify it; ES256 is there for clients that ask for it (and for JWT access tokens if configured).
 */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256'] as const;
/** Not a JOSE algorithm: marks the row holding the key that signs oidc-provider's cookies (never published). */
const COOKIE_KEY_ALG = 'cookie-hmac';

export interface TenantKeys {
  /** Private JWKs, newest generation first (oidc-provider signs with the first key of the wanted algorithm). */
  readonly jwks: readonly JWK[];
  /** Cookie-signing secrets, newest first (the first signs; all verify). */
  readonly cookieKeys: readonly string[];
}

function purpose(kid: string): string {
  return `signing_keys.jwk:${kid}`;
}

async function newGeneration(scope: TenantScope, keyring: Keyring, now: number): Promise<void> {
  const rows = [];
  for (const alg of SIGNING_ALGORITHMS) {
    const { privateKey } = await generateKeyPair(alg, {
      extractable: true,
      ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
    });
    const kid = randomUUID();
    const jwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
    rows.push({ id: kid, alg, jwk: JSON.stringify(jwk) });
  }
  const cookieKid = randomUUID();
  rows.push({ id: cookieKid, alg: COOKIE_KEY_ALG, jwk: randomBytes(32).toString('base64url') });
  for (const row of rows) {
    const jwk_ciphertext = await keyring.encrypt(scope.tenantId, row.jwk, purpose(row.id));
    await scope
      .insertInto('signing_keys', { id: row.id, alg: row.alg, jwk_ciphertext, created_at: now, retired_at: null })
      .execute();
  }
}

/** The tenant's keys, creating the first generation when it has none. */
export async function loadSigningKeys(scope: TenantScope, keyring: Keyring): Promise<TenantKeys> {
  let rows = await activeRows(scope);
  if (rows.length === 0) {
    await newGeneration(scope, keyring, scope.now());
    rows = await activeRows(scope);
  }
  const jwks: JWK[] = [];
  const cookieKeys: string[] = [];
  for (const row of rows) {
    const text = await keyring.decryptText(scope.tenantId, row.jwk_ciphertext, purpose(row.id));
    if (row.alg === COOKIE_KEY_ALG) cookieKeys.push(text);
    else jwks.push(JSON.parse(text) as JWK);
  }
  return { jwks, cookieKeys };
}

function activeRows(scope: TenantScope) {
  return scope
    .selectFrom('signing_keys')
    .select(['id', 'alg', 'jwk_ciphertext', 'created_at'])
    .where('retired_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}

/**
 * Makes a new key generation active. Keys of the generation before it stay published (tokens it signed keep
 * verifying until they expire, at most a refresh token's lifetime for ID tokens a client kept); anything older is
 * retired. Returns the key ids now published. The caller drops its cached provider so the new keys are used.
 */
export async function rotateSigningKeys(scope: TenantScope, keyring: Keyring): Promise<{ kids: string[] }> {
  const now = scope.now();
  const before = await activeRows(scope);
  // The generation that just stopped signing keeps its place; strictly older ones go.
  const previous = before.length > 0 ? before[0].created_at : undefined;
  await newGeneration(scope, keyring, Math.max(now, (previous ?? 0) + 1));
  if (previous !== undefined) {
    await scope
      .updateTable('signing_keys', { retired_at: now })
      .where('retired_at', 'is', null)
      .where('created_at', '<', previous)
      .execute();
  }
  const after = await activeRows(scope);
  return { kids: after.filter((r) => r.alg !== COOKIE_KEY_ALG).map((r) => r.id) };
}
