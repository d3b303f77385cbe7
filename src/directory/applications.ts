// Applications of one tenant: the OIDC clients (public or confidential, redirect URIs, allowed grants) and their
// client secrets — returned once at creation, stored only as hashes, verified in constant time.
import { randomUUID } from 'node:crypto';
import type { TenantScope } from '../store/tenant-scope.ts';
import { ApplicationRepository, type ApplicationRow } from './application-repository.ts';
import { generateClientSecret, secretMatches } from './client-secret.ts';
import {
  graphTime,
  invalid,
  optionalText,
  type Page,
  type PageRequest,
  pageSize,
  requiredText,
  show,
  toPage,
} from './validate.ts';

export type ClientType = 'public' | 'confidential';
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
/**
 * How the application's ID tokens are signed (OpenID Connect's `id_token_signed_response_alg`). RS256 is the default,
 * the one OpenID Connect gives a client that registers none and the one every relying-party library checks; ES256
 * is for clients that ask for it: its signature costs a fraction of RS256's CPU, which makes a refresh about a third
 * cheaper at the token endpoint (docs/benchmarks.md), and its tokens are shorter. Each tenant has a key of each kind
 * (src/oidc/signing-keys.ts).
 */
export const ID_TOKEN_SIGNING_ALGORITHMS = ['RS256', 'ES256'] as const;
export type IdTokenSigningAlgorithm = (typeof ID_TOKEN_SIGNING_ALGORITHMS)[number];
export const DEFAULT_ID_TOKEN_SIGNING_ALGORITHM: IdTokenSigningAlgorithm = 'RS256';

/** Graph's `passwordCredential`, without the secret (which exists only in the create/addSecret answer). */
export interface PasswordCredential {
  readonly keyId: string;
  readonly displayName: string | null;
  readonly hint: string;
  readonly startDateTime: string;
  readonly endDateTime: string;
}

export interface Application {
  /** Object id. */
  readonly id: string;
  /** The OAuth `client_id`. */
  readonly appId: string;
  readonly displayName: string;
  readonly clientType: ClientType;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  readonly grantTypes: readonly GrantType[];
  readonly idTokenSignedResponseAlg: IdTokenSigningAlgorithm;
  readonly passwordCredentials: readonly PasswordCredential[];
  readonly createdDateTime: string;
}

/** An application with what client authentication needs (Applications.getClient). */
export interface ClientRecord {
  readonly application: Application;
  /**
   * The stored secret list as read (hashes and validity, JSON): it changes whenever a secret is added or removed,
   * so it names the secret set the check below uses. Holds hashes only, yet is not for display.
   */
  readonly secretsVersion: string;
  /**
   * Whether `secret` is one of the client's secrets valid now (the store's clock), compared in constant time against
   * every stored hash. Always false for a public client.
   */
  matchesSecret(secret: string): boolean;
}

export interface NewApplication {
  displayName: string;
  clientType: ClientType;
  redirectUris?: readonly string[];
  postLogoutRedirectUris?: readonly string[];
  /** Default: authorization_code and refresh_token. client_credentials needs a confidential client. */
  grantTypes?: readonly string[];
  /** Default RS256 (ID_TOKEN_SIGNING_ALGORITHMS). */
  idTokenSignedResponseAlg?: string;
  /** Default true: a confidential client gets its first secret. False: none until addSecret (Graph's way). */
  initialSecret?: boolean;
}

export interface NewSecretOptions {
  displayName?: string;
  /** Default 730 (two years, as Graph's addPassword); 1 to 3650. */
  lifetimeDays?: number;
  /** Instead of lifetimeDays: when the secret expires (epoch ms; after now, at most 3650 days ahead). */
  endTime?: number;
}

export interface IssuedSecret {
  readonly application: Application;
  readonly credential: PasswordCredential;
  /** The secret itself: shown once, never stored or returned again. */
  readonly secretText: string;
}

interface StoredSecret {
  keyId: string;
  displayName: string | null;
  hint: string;
  hash: string;
  start: number;
  end: number;
}

const DAY_MS = 86_400_000;
const DEFAULT_SECRET_DAYS = 730;
const MAX_URIS = 256;
// Entra limits a redirect URI to 256 characters.
const MAX_URI_LENGTH = 256;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * RFC 6749 §3.1.2: absolute, no fragment. Like Entra: https, or http only on loopback; no wildcards. Public (native)
 * clients may also use a private-use scheme with a dot in it (RFC 8252 §7.1), e.g. `com.example.app:/callback`.
 */
function redirectUri(field: string, value: unknown, clientType: ClientType): string {
  const text = requiredText(field, value, MAX_URI_LENGTH);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`${field}: ${show(text)} is not an absolute URI`);
  }
  if (text.includes('#')) throw invalid(`${field}: ${show(text)} must not contain a fragment (#)`);
  if (text.includes('*')) throw invalid(`${field}: ${show(text)} must not contain a wildcard`);
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') return text;
  if (scheme === 'http') {
    if (LOOPBACK.has(url.hostname)) return text;
    throw invalid(`${field}: ${show(text)} must use https (http is allowed only for localhost)`);
  }
  if (clientType === 'public' && scheme.includes('.') && !['javascript', 'data', 'file'].includes(scheme)) return text;
  throw invalid(
    `${field}: ${show(text)} must use https` +
      (clientType === 'public' ? ' or a private-use scheme such as com.example.app:/callback' : ''),
  );
}

function uriList(field: string, value: unknown, clientType: ClientType): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(`${field}: must be a list of URIs but it is ${show(value)}`);
  if (value.length > MAX_URIS) throw invalid(`${field}: at most ${MAX_URIS} URIs, but it has ${value.length}`);
  return [...new Set(value.map((v, i) => redirectUri(`${field}[${i}]`, v, clientType)))];
}

function clientTypeOf(value: unknown): ClientType {
  if (value === 'public' || value === 'confidential') return value;
  throw invalid(`clientType: must be 'public' or 'confidential' but it is ${show(value)}`);
}

function grantTypes(value: unknown, clientType: ClientType, redirectUris: readonly string[]): GrantType[] {
  const list = value === undefined ? ['authorization_code', 'refresh_token'] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw invalid(`grantTypes: must be a non-empty list of ${GRANT_TYPES.join(', ')} but it is ${show(value)}`);
  }
  const grants = [...new Set(list)] as GrantType[];
  for (const [i, grant] of grants.entries()) {
    if (!GRANT_TYPES.includes(grant)) {
      throw invalid(`grantTypes[${i}]: must be one of ${GRANT_TYPES.join(', ')} but it is ${show(grant)}`);
    }
  }
  if (grants.includes('client_credentials') && clientType === 'public') {
    throw invalid('grantTypes: client_credentials needs a confidential client (a public client has no secret)');
  }
  if (grants.includes('refresh_token') && !grants.includes('authorization_code')) {
    throw invalid('grantTypes: refresh_token comes only with authorization_code');
  }
  if (grants.includes('authorization_code') && redirectUris.length === 0) {
    throw invalid('redirectUris: the authorization_code grant needs at least one redirect URI');
  }
  return grants;
}

function idTokenAlgorithm(value: unknown): IdTokenSigningAlgorithm {
  if (ID_TOKEN_SIGNING_ALGORITHMS.includes(value as IdTokenSigningAlgorithm)) return value as IdTokenSigningAlgorithm;
  throw invalid(
    `idTokenSignedResponseAlg: must be one of ${ID_TOKEN_SIGNING_ALGORITHMS.join(', ')} but it is ${show(value)}`,
  );
}

/** The stored algorithm: null (the column's default, for applications made before it existed) is RS256. */
function storedIdTokenAlgorithm(value: string | null): IdTokenSigningAlgorithm {
  return value === null ? DEFAULT_ID_TOKEN_SIGNING_ALGORITHM : idTokenAlgorithm(value);
}

function lifetime(value: unknown): number {
  if (value === undefined) return DEFAULT_SECRET_DAYS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 3650) {
    throw invalid(`lifetimeDays: must be a whole number of days from 1 to 3650 but it is ${show(value)}`);
  }
  return value;
}

function endTime(value: unknown, now: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= now || value > now + 3650 * DAY_MS) {
    throw invalid('endDateTime: must be in the future, at most 3650 days from now');
  }
  return value;
}

function secretsOf(row: ApplicationRow): StoredSecret[] {
  return JSON.parse(row.client_secrets) as StoredSecret[];
}

function toCredential(s: StoredSecret): PasswordCredential {
  return {
    keyId: s.keyId,
    displayName: s.displayName,
    hint: s.hint,
    startDateTime: graphTime(s.start),
    endDateTime: graphTime(s.end),
  };
}

function toApplication(row: ApplicationRow): Application {
  return {
    id: row.id,
    appId: row.app_id,
    displayName: row.display_name,
    clientType: row.client_type,
    redirectUris: JSON.parse(row.redirect_uris),
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris),
    grantTypes: JSON.parse(row.grant_types),
    idTokenSignedResponseAlg: storedIdTokenAlgorithm(row.id_token_signed_response_alg),
    passwordCredentials: secretsOf(row).map(toCredential),
    createdDateTime: graphTime(row.created_at),
  };
}

export class Applications {
  readonly #scope: TenantScope;
  readonly #repo: ApplicationRepository;
  constructor(scope: TenantScope) {
    this.#scope = scope;
    this.#repo = new ApplicationRepository(scope);
  }

  /**
   * Registers a client. A confidential client gets its first secret, in `secretText`: the only time it is shown.
   */
  async create(input: NewApplication): Promise<{ application: Application; secretText?: string }> {
    const displayName = requiredText('displayName', input?.displayName, 256);
    const clientType = clientTypeOf(input.clientType);
    const redirectUris = uriList('redirectUris', input.redirectUris, clientType);
    const postLogout = uriList('postLogoutRedirectUris', input.postLogoutRedirectUris, clientType);
    const grants = grantTypes(input.grantTypes, clientType, redirectUris);
    const idTokenAlg =
      input.idTokenSignedResponseAlg === undefined
        ? DEFAULT_ID_TOKEN_SIGNING_ALGORITHM
        : idTokenAlgorithm(input.idTokenSignedResponseAlg);
    const now = this.#scope.now();
    const issued =
      clientType === 'confidential' && input.initialSecret !== false ? this.#newSecret({}, now) : undefined;
    const row: ApplicationRow = {
      id: randomUUID(),
      app_id: randomUUID(),
      display_name: displayName,
      client_type: clientType,
      redirect_uris: JSON.stringify(redirectUris),
      post_logout_redirect_uris: JSON.stringify(postLogout),
      grant_types: JSON.stringify(grants),
      client_secrets: JSON.stringify(issued ? [issued.stored] : []),
      id_token_signed_response_alg: idTokenAlg,
      created_at: now,
      modified_at: now,
    };
    await this.#repo.insert(row);
    const application = toApplication(row);
    return issued ? { application, secretText: issued.secret } : { application };
  }

  async get(id: string): Promise<Application | undefined> {
    const row = await this.#repo.get(id);
    return row && toApplication(row);
  }

  /** By OAuth client_id. */
  async getByAppId(appId: string): Promise<Application | undefined> {
    const row = await this.#repo.getByAppId(appId);
    return row && toApplication(row);
  }

  async list(request: PageRequest = {}): Promise<Page<Application>> {
    const top = pageSize(request.top);
    return toPage(await this.#repo.list(top + 1, request.after), top, (r) => r.id, toApplication);
  }

  /**
   * Changes name, redirect URIs, grants or the ID-token algorithm (the client type is fixed at creation); undefined
   * when not found.
   */
  async update(id: string, changes: Partial<Omit<NewApplication, 'clientType'>>): Promise<Application | undefined> {
    return this.#scope.transaction(async (tx) => {
      const repo = new ApplicationRepository(tx);
      const row = await repo.get(id);
      if (!row) return undefined;
      const current = toApplication(row);
      const redirectUris =
        changes?.redirectUris === undefined
          ? [...current.redirectUris]
          : uriList('redirectUris', changes.redirectUris, current.clientType);
      const postLogout =
        changes?.postLogoutRedirectUris === undefined
          ? [...current.postLogoutRedirectUris]
          : uriList('postLogoutRedirectUris', changes.postLogoutRedirectUris, current.clientType);
      const grants = grantTypes(changes?.grantTypes ?? current.grantTypes, current.clientType, redirectUris);
      await repo.update(id, {
        display_name:
          changes?.displayName === undefined ? row.display_name : requiredText('displayName', changes.displayName, 256),
        redirect_uris: JSON.stringify(redirectUris),
        post_logout_redirect_uris: JSON.stringify(postLogout),
        grant_types: JSON.stringify(grants),
        id_token_signed_response_alg:
          changes?.idTokenSignedResponseAlg === undefined
            ? current.idTokenSignedResponseAlg
            : idTokenAlgorithm(changes.idTokenSignedResponseAlg),
        modified_at: tx.now(),
      });
      const updated = await repo.get(id);
      return updated && toApplication(updated);
    });
  }

  async delete(id: string): Promise<boolean> {
    return this.#repo.delete(id);
  }

  /** Graph's addPassword: a new secret for a confidential client, shown once. Undefined when not found. */
  async addSecret(id: string, options: NewSecretOptions = {}): Promise<IssuedSecret | undefined> {
    return this.#scope.transaction(async (tx) => {
      const repo = new ApplicationRepository(tx);
      const row = await repo.get(id);
      if (!row) return undefined;
      if (row.client_type !== 'confidential') throw invalid('clientType: a public client has no secrets');
      const now = tx.now();
      const issued = this.#newSecret(options, now);
      const secrets = [...secretsOf(row), issued.stored];
      await repo.update(id, { client_secrets: JSON.stringify(secrets), modified_at: now });
      return {
        application: toApplication({ ...row, client_secrets: JSON.stringify(secrets) }),
        credential: toCredential(issued.stored),
        secretText: issued.secret,
      };
    });
  }

  /** Graph's removePassword; false when the application or the key is not there. */
  async removeSecret(id: string, keyId: string): Promise<boolean> {
    return this.#scope.transaction(async (tx) => {
      const repo = new ApplicationRepository(tx);
      const row = await repo.get(id);
      if (!row) return false;
      const secrets = secretsOf(row);
      const kept = secrets.filter((s) => s.keyId !== keyId);
      if (kept.length === secrets.length) return false;
      await repo.update(id, { client_secrets: JSON.stringify(kept), modified_at: tx.now() });
      return true;
    });
  }

  /**
   * The confidential client whose client_id and secret these are, or undefined: unknown client, public client,
   * wrong secret or expired secret all look the same. Every stored secret is compared, in constant time.
   */
  async verifySecret(appId: string, secret: string): Promise<Application | undefined> {
    if (typeof appId !== 'string' || typeof secret !== 'string' || secret.length === 0) return undefined;
    const client = await this.getClient(appId);
    if (!client) secretMatches(secret, 'A'.repeat(43)); // same work whether or not the client exists
    return client?.matchesSecret(secret) ? client.application : undefined;
  }

  /**
   * A client as the token endpoint needs it, from one read: the application, and a check of presented secrets
   * against the secrets read with it (so authenticating the client does not read the row a second time).
   */
  async getClient(appId: string): Promise<ClientRecord | undefined> {
    if (typeof appId !== 'string') return undefined;
    const row = await this.#repo.getByAppId(appId);
    if (!row) return undefined;
    const secrets = row.client_type === 'confidential' ? secretsOf(row) : [];
    const scope = this.#scope;
    return {
      application: toApplication(row),
      secretsVersion: row.client_secrets,
      matchesSecret(secret) {
        if (typeof secret !== 'string' || secret.length === 0) return false;
        const now = scope.now();
        let ok = false;
        for (const stored of secrets) {
          if (secretMatches(secret, stored.hash) && stored.start <= now && now < stored.end) ok = true;
        }
        return ok;
      },
    };
  }

  #newSecret(options: NewSecretOptions, now: number): { secret: string; stored: StoredSecret } {
    const { secret, hash, hint } = generateClientSecret();
    const displayName = optionalText('displayName', options.displayName, 256) ?? null;
    const end =
      options.endTime === undefined ? now + lifetime(options.lifetimeDays) * DAY_MS : endTime(options.endTime, now);
    return { secret, stored: { keyId: randomUUID(), displayName, hint, hash, start: now, end } };
  }
}
