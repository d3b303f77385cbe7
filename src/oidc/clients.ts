// The directory's applications as oidc-provider clients, and client authentication against the stored hashes.
// oidc-provider compares `client_secret` with `Client#compareClientSecret`; each tenant's Client class gets a
// version that asks the directory (SHA-256 hash, constant time, expiry) instead, and the metadata carries a random
// placeholder that no one knows, so the real secret is never in memory or in the database in clear.
import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import type { Application, Applications } from '../directory/applications.ts';

/**
 * Never a valid secret: 256 random bits made per provider and never shown. It only satisfies oidc-provider's schema
 * (a confidential client "has" a secret); comparisons go to the directory, and symmetric (HS*) algorithms, which
 * would use it as a key, are disabled in the provider configuration.
 */
function placeholderSecret(): string {
  return randomBytes(32).toString('base64url');
}

const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:/i;

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
    ...(confidential ? { client_secret: placeholder } : {}),
  };
}

/** Client lookup for the payload adapter's `Client` model, plus the hashed-secret check installed on the provider. */
export function directoryClients(applications: Applications): {
  lookup: (clientId: string) => Promise<AdapterPayload | undefined>;
  install: (provider: Provider) => void;
} {
  const placeholder = placeholderSecret();
  return {
    async lookup(clientId) {
      const app = await applications.getByAppId(clientId);
      return app && clientMetadata(app, placeholder);
    },
    install(provider) {
      // client_secret_basic and client_secret_post both arrive here (oidc-provider's client_auth.js).
      const prototype = provider.Client.prototype as unknown as {
        compareClientSecret(this: { clientId: string }, actual: string): Promise<boolean>;
      };
      prototype.compareClientSecret = async function compareClientSecret(actual) {
        if (typeof actual !== 'string' || actual === placeholder) return false;
        return (await applications.verifySecret(this.clientId, actual)) !== undefined;
      };
    },
  };
}
