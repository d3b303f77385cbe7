// The admin console as a directory application of each tenant: a public client (authorization code + PKCE, no
// secret) with one well-known appId, the same in every tenant, so Conditional Access policies can name it
// (`conditions.applications.includeApplications: ["a0c1d3e5-0c0a-4c0e-9a0d-000000c0a501"]`) and an exported policy
// means the same thing in every Portcullis tenant — as Entra's well-known first-party app ids do. It is created on the
// first console sign-in, and its redirect URIs follow the public URL.
import { randomUUID } from 'node:crypto';
import { ApplicationRepository } from '../directory/application-repository.ts';
import { isUniqueViolation } from '../store/errors.ts';
import type { TenantScope } from '../store/tenant-scope.ts';

/** The console's client id (appId) in every tenant. */
export const CONSOLE_APP_ID = 'a0c1d3e5-0c0a-4c0e-9a0d-000000c0a501';
export const CONSOLE_APP_NAME = 'Portcullis admin console';

/** `{publicUrl}/t/{tenantId}/console/`: where the console lives (and where sign-out returns to). */
export function consoleUrl(publicUrl: string, tenantId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/t/${tenantId}/console/`;
}

export function consoleCallbackUrl(publicUrl: string, tenantId: string): string {
  return `${consoleUrl(publicUrl, tenantId)}callback`;
}

/**
 * Makes sure the tenant has the console application with this public URL's callback and sign-out return address.
 * Written straight to the repository: the appId is fixed rather than generated, and an http callback on a
 * non-loopback host (a development setup the configuration already warns about) must not stop the console.
 */
export async function ensureConsoleApplication(scope: TenantScope, publicUrl: string): Promise<void> {
  const repo = new ApplicationRepository(scope);
  const callback = consoleCallbackUrl(publicUrl, scope.tenantId);
  const home = consoleUrl(publicUrl, scope.tenantId);
  const existing = await repo.getByAppId(CONSOLE_APP_ID);
  if (existing === undefined) {
    const now = scope.now();
    try {
      await repo.insert({
        id: randomUUID(),
        app_id: CONSOLE_APP_ID,
        display_name: CONSOLE_APP_NAME,
        client_type: 'public',
        redirect_uris: JSON.stringify([callback]),
        post_logout_redirect_uris: JSON.stringify([home]),
        grant_types: JSON.stringify(['authorization_code']),
        client_secrets: '[]',
        id_token_signed_response_alg: null,
        created_at: now,
        modified_at: now,
      });
    } catch (error) {
      // Another node (or request) created it first.
      if (!isUniqueViolation(error)) throw error;
    }
    return;
  }
  const redirects = JSON.parse(existing.redirect_uris) as string[];
  const logouts = JSON.parse(existing.post_logout_redirect_uris) as string[];
  if (redirects.includes(callback) && logouts.includes(home) && existing.client_type === 'public') return;
  await repo.update(existing.id, {
    client_type: 'public',
    redirect_uris: JSON.stringify([...new Set([...redirects, callback])]),
    post_logout_redirect_uris: JSON.stringify([...new Set([...logouts, home])]),
    client_secrets: '[]',
    modified_at: scope.now(),
  });
}
