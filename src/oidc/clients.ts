// The directory's applications as oidc-provider clients, and client authentication against the stored hashes.
// oidc-provider compares `client_secret` with `Client#compareClientSecret`; each tenant's Client class gets a
// version that checks the directory's hashes (SHA-256, constant time, expiry) instead, and the metadata carries a
// placeholder that no one knows, so the real secret is never in memory or in the database in clear.
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import type Provider from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import {
  type Application,
  type Applications,
  type ClientRecord,
  ID_TOKEN_SIGNING_ALGORITHMS,
  type IdTokenSigningAlgorithm,
} from '../directory/applications.ts';

const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:/i;

/** Secret sets remembered for client authentication (see directoryClients); beyond this the map starts again. */
const MAX_SECRET_SETS = 10_000;

export function clientMetadata(app: Application, placeholder: string): AdapterPayload {
  const native = app.redirectUris.some((uri) => PRIVATE_USE_SCHEME.test(uri));
  const confidential = app.clientType === 'confidential';
  return {
    client_id: app.appId,
    client_name: app.displayName,
    application_type: native ? 'native' : 'web',
    redirect_uris: [...app.redirectUris],
    post_logout_redirect_uris: [...app.postLogoutRedirectUris],
    grant_types: [...app.grantTypes],
    response_types: app.grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: confidential ? 'client_secret_basic' : 'none',
    id_token_signed_response_alg: app.idTokenSignedResponseAlg,
    ...(confidential ? { client_secret: placeholder } : {}),
  };
}

/**
 * Client lookup for the payload adapter's `Client` model, plus the hashed-secret check installed on the provider.
 *
 * The secret is checked against the application row read by the lookup in the same request, not read again:
 * oidc-provider finds the client (Client.find → adapter → lookup, on every request: only static clients are kept)
 * before it authenticates it. The lookup names the row's secret set in the metadata's placeholder secret — an
 * HMAC, under a random key made per provider and never shown, of the client id and the stored secret list — and
 * keeps the set's check under that name. oidc-provider keeps Client objects by their metadata, so a client whose
 * secrets were added, removed or changed (here or on another node) gets a new placeholder and a new check on the
 * next lookup; the old ones can no longer be reached. Nothing about a presented secret is kept: each request
 * hashes it and compares it with the hashes of the set, and expiry is judged at that moment. A placeholder with no
 * remembered set (the map was cleared) falls back to reading the row.
 */
export function directoryClients(applications: Applications): {
  lookup: (clientId: string) => Promise<AdapterPayload | undefined>;
  install: (provider: Provider) => void;
} {
  const key = createSecretKey(randomBytes(32));
  const secretSets = new Map<string, ClientRecord>();
  /**
   * Never a valid secret (256 bits no one knows). It only satisfies oidc-provider's schema (a confidential client
   * "has" a secret) and names the secret set; symmetric (HS*) algorithms, which would use it as a key, are disabled
   * in the provider configuration.
   */
  const placeholderFor = (client: ClientRecord) =>
    createHmac('sha256', key).update(`${client.application.appId}\n${client.secretsVersion}`).digest('base64url');
  return {
    async lookup(clientId) {
      const client = await applications.getClient(clientId);
      if (!client) return undefined;
      if (client.application.clientType !== 'confidential') return clientMetadata(client.application, '');
      const placeholder = placeholderFor(client);
      if (!secretSets.has(placeholder)) {
        if (secretSets.size >= MAX_SECRET_SETS) secretSets.clear();
        secretSets.set(placeholder, client);
      }
      return clientMetadata(client.application, placeholder);
    },
    install(provider) {
      // client_secret_basic and client_secret_post both arrive here (oidc-provider's client_auth.js).
      const prototype = provider.Client.prototype as unknown as {
        compareClientSecret(this: { clientId: string; clientSecret?: string }, actual: string): Promise<boolean>;
      };
      prototype.compareClientSecret = async function compareClientSecret(actual) {
        if (typeof actual !== 'string' || actual === '' || actual === this.clientSecret) return false;
        const known = this.clientSecret === undefined ? undefined : secretSets.get(this.clientSecret);
        if (known?.application.appId === this.clientId) return known.matchesSecret(actual);
        return (await applications.verifySecret(this.clientId, actual)) !== undefined;
      };
    },
  };
}

type IdTokenValidate = (jwt: string, client: { idTokenSignedResponseAlg: string }) => Promise<unknown>;

/**
 * Keeps an application's earlier ID tokens good as `id_token_hint` (at sign-out, or in an authorization request) after
 * its `idTokenSignedResponseAlg` changed. oidc-provider verifies a hint with the client's current algorithm only, so
 * a hint signed before the change would be refused and the user could not sign out from the app. A hint that fails
 * is verified once more, by oidc-provider's own check (signature with the tenant's keys, issuer, audience = this
 * client, subject), with the algorithm its header names — only when that is the tenant's other ID-token algorithm
 * (RS256 or ES256: asymmetric, never `none` or HS*) and the header has no `typ`, as oidc-provider's ID tokens have
 * none: the tenant's other JWTs (access tokens, `at+jwt`; logout and introspection tokens) name their type.
 */
export function acceptEarlierIdTokenAlgorithms(provider: Provider): void {
  const IdToken = provider.IdToken as unknown as { validate: IdTokenValidate };
  const validate = IdToken.validate.bind(IdToken);
  IdToken.validate = async (jwt, client) => {
    try {
      return await validate(jwt, client);
    } catch (error) {
      let header: { alg?: string; typ?: string };
      try {
        header = decodeProtectedHeader(jwt);
      } catch {
        throw error;
      }
      const { alg, typ } = header;
      const other = ID_TOKEN_SIGNING_ALGORITHMS.includes(alg as IdTokenSigningAlgorithm);
      if (!other || alg === client.idTokenSignedResponseAlg || typ !== undefined) throw error;
      // The client with the hint's algorithm; everything else (its id, for the audience check) is the client's.
      return validate(jwt, Object.create(client, { idTokenSignedResponseAlg: { value: alg } }));
    }
  };
}
