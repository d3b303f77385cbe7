// One oidc-provider instance per tenant, configured for Portcullis: issuer `${publicUrl}/t/{tenantId}`, storage in
// the tenant's `oidc_payloads`, clients from the directory, keys from `signing_keys`, the sign-in pages as its
// interactions, and Conditional Access again at every refresh-token use.
import { createHmac } from 'node:crypto';
import Provider, {
  type Account,
  type Configuration,
  errors,
  interactionPolicy,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import type { Config } from '../config/load.ts';
import { ID_TOKEN_SIGNING_ALGORITHMS } from '../directory/applications.ts';
import { type Directory, directoryFor } from '../directory/directory.ts';
import { clearedSessionCookies, cookieScopeFor, readSessionCookies, serializeCookie } from '../session/cookies.ts';
import { html, page, trusted } from '../signin/html.ts';
import { problemPage } from '../signin/pages.ts';
import type { SignInServices } from '../signin/ports.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { acceptEarlierIdTokenAlgorithms, directoryClients } from './clients.ts';
import { payloadAdapter } from './payload-adapter.ts';
import { type GrantSignInContext, reevaluateAtRefresh, rememberAccountUser } from './refresh-check.ts';
import { httpContextOf } from './request-context.ts';
import { loadSigningKeys } from './signing-keys.ts';

/** The admin API as an OAuth resource: the audience of its access tokens. */
export const ADMIN_API_RESOURCE = 'api://portcullis';
/** The scope a client asks for to call the admin API (`.default`: every permission the app was given, as Entra). */
export const ADMIN_API_SCOPE = 'api://portcullis/.default';

/** Scopes beyond `openid`: standard ones, and `groups` / `roles` for the user's group ids and admin role ids. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'groups', 'roles'] as const;

/** oidc_payloads model under which the sign-in's device and client app are kept per grant. */
export const GRANT_CONTEXT_MODEL = 'PortcullisGrantContext';
/** oidc_payloads model for the sign-in pipeline's state between pages, keyed by interaction uid. */
export const SIGN_IN_STATE_MODEL = 'PortcullisSignIn';

/** The login check that sends every authorization request through the sign-in pages (see `signInPolicy`). */
export const CONDITIONAL_ACCESS_CHECK = 'conditional_access';

/**
 * oidc-provider's prompts, plus one login check: Conditional Access is evaluated for every authorization request,
 * also when the browser already has a session (single sign-on to another app, or the same app again from elsewhere).
 * Without it a signed-in user would get codes for any application without its policies being applied. The check
 * is satisfied only by the result of our own interaction (`conditionalAccess: true`); with `prompt=none` it answers
 * `interaction_required`.
 */
function signInPolicy() {
  const policy = interactionPolicy.base();
  policy
    .get('login')
    ?.checks.add(
      new interactionPolicy.Check(
        CONDITIONAL_ACCESS_CHECK,
        'Conditional Access is evaluated at every sign-in to an application',
        'interaction_required',
        (ctx) => ctx.oidc.result?.conditionalAccess !== true,
      ),
    );
  return policy;
}

export function issuerFor(publicUrl: string, tenantId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/t/${tenantId}`;
}

export interface TenantProvider {
  readonly tenantId: string;
  readonly issuer: string;
  readonly provider: Provider;
  readonly directory: Directory;
  readonly scope: TenantScope;
  /** The provider's Node request handler (mounted under the issuer's path). */
  readonly handle: ReturnType<Provider['callback']>;
  /** Server-side state of each sign-in between its pages, under the interaction uid (expires with it). */
  readonly signInStates: {
    get(uid: string): Promise<Record<string, unknown> | undefined>;
    put(uid: string, state: Record<string, unknown>): Promise<void>;
    delete(uid: string): Promise<void>;
  };
  /** The CSRF token of an interaction's forms: HMAC of its uid under the tenant's cookie key. */
  csrfToken(uid: string): string;
}

export interface ProviderOptions {
  readonly services: SignInServices;
  readonly config: Pick<Config, 'tokens'>;
  readonly publicUrl: string;
  readonly tenantId: string;
}

const SESSION_SECONDS = 24 * 60 * 60;
const INTERACTION_SECONDS = 60 * 60;

export async function createTenantProvider(options: ProviderOptions): Promise<TenantProvider> {
  const { services, tenantId } = options;
  const scope = services.store.forTenant(tenantId);
  const directory = directoryFor(scope);
  const issuer = issuerFor(options.publicUrl, tenantId);
  const secure = issuer.startsWith('https:');
  const cookiePath = new URL(issuer).pathname;
  const keys = await loadSigningKeys(scope, services.keyring);
  const clients = directoryClients(directory.applications);
  // A refresh reads the grant and then (refresh-check.ts) the grant's sign-in context: one statement for both.
  const Adapter = payloadAdapter(scope, clients.lookup, { readAlong: { Grant: GRANT_CONTEXT_MODEL } });
  const grantContexts = new Adapter(GRANT_CONTEXT_MODEL);
  const states = new Adapter(SIGN_IN_STATE_MODEL);
  const csrfKey = Buffer.from(keys.cookieKeys[0], 'utf8');
  const accessTokenSeconds = options.config.tokens.accessTokenMinutes * 60;
  const refreshTokenSeconds = options.config.tokens.refreshTokenDays * 24 * 60 * 60;

  const configuration: Configuration = {
    adapter: Adapter,
    jwks: { keys: keys.jwks.map((k) => ({ ...k })) as never },
    cookies: {
      keys: [...keys.cookieKeys],
      // Tenants share a host: each tenant's cookies stay under its own path and names.
      names: { session: '_pc_session', interaction: '_pc_interaction', resume: '_pc_resume' },
      long: { httpOnly: true, sameSite: 'lax', secure, path: cookiePath, signed: true },
      short: { httpOnly: true, sameSite: 'lax', secure, path: cookiePath, signed: true },
    },
    findAccount: (_ctx, sub) => findAccount(directory, tenantId, sub),
    claims: {
      // amr (RFC 8176: pwd, mfa, otp) is a claim like any other to oidc-provider's filter: listed so it reaches the ID token.
      openid: ['sub', 'tid', 'oid', 'amr'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
      groups: ['groups'],
      roles: ['roles'],
    },
    scopes: [...OIDC_SCOPES],
    // With a code flow the ID token would otherwise carry `sub` alone; relying parties want tid, groups and roles in it.
    conformIdTokenClaims: false,
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    // Asymmetric only: a client's `client_secret` here is a placeholder (see clients.ts), never an HMAC key.
    enabledJWA: {
      // What an application may register (its idTokenSignedResponseAlg): the two kinds of key each tenant has.
      idTokenSigningAlgValues: [...ID_TOKEN_SIGNING_ALGORITHMS],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
      authorizationSigningAlgValues: ['RS256', 'ES256'],
      requestObjectSigningAlgValues: ['RS256', 'ES256', 'PS256'],
      clientAuthSigningAlgValues: ['RS256', 'ES256', 'PS256'],
    },
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client introspects and revokes only its own tokens (a stranger's token answers `active: false` / is left
      // alone): tokens are bearer secrets, and one app has no business learning about another's.
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // `form` is oidc-provider's own logout form (a hidden xsrf field), not user input.
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = page({
            sessionOf: tenantId,
            title: 'Sign out',
            body: html`<h1>Sign out?</h1>
${trusted(form)}
<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<button type="submit" form="op.logoutForm" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" name="everywhere" value="yes" class="secondary">Sign out everywhere</button>
<p>"Sign out everywhere" also ends your sessions in other browsers and devices.</p>`,
          });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = page({
            title: 'Signed out',
            body: html`<h1>You have signed out</h1><p>You can close this window.</p>`,
          });
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, _client, oneOf) => {
          if (oneOf) return oneOf;
          const requested = String(ctx.oidc.params?.scope ?? '').split(' ');
          return requested.includes(ADMIN_API_SCOPE) ? ADMIN_API_RESOURCE : undefined;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resource) => {
          if (resource !== ADMIN_API_RESOURCE) throw new errors.InvalidTarget();
          // Admin API tokens go to applications acting as themselves (client credentials, and the roles an admin gave
          // the application), never to an application acting for a signed-in user: any registered client could
          // otherwise send an administrator a sign-in link and receive a token carrying the administrator's roles.
          // People use the admin console, which calls the API with its own session (docs/admin-api.md).
          if (ctx.oidc.params?.grant_type !== 'client_credentials') {
            throw new errors.InvalidTarget(
              'the admin API (api://portcullis) issues tokens only to applications by client credentials; people use the admin console',
            );
          }
          return {
            scope: ADMIN_API_SCOPE,
            audience: ADMIN_API_RESOURCE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: accessTokenSeconds,
            // The admin API is the only party that verifies these tokens (admin/auth.ts, against the tenant's JWKS,
            // whatever the algorithm); to the client an access token is opaque. ES256 signs in about a tenth of
            // RS256's time (0.09 ms against 0.8 ms here), which is most of a client-credential grant's cost
            // (docs/benchmarks.md). ID tokens stay RS256, what relying parties expect by default.
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    extraTokenClaims: async (_ctx, token) => ({
      tid: tenantId,
      ...('accountId' in token && token.accountId ? { oid: token.accountId } : {}),
    }),
    // Every client is registered by the tenant's admins (first party): consent is implied, as for Entra's
    // admin-consented apps. The sign-in pages still run every Conditional Access check.
    loadExistingGrant: async (ctx) => {
      const signIn = ctx.oidc.result?.signIn as GrantSignInContext | undefined;
      const sessions = options.services.sessions(tenantId);
      // A grant belongs to one Portcullis session. After a new sign-in in the same browser (the previous session
      // ended), the client's old grant is replaced, so refresh tokens from the ended session never come back.
      const grant = await loadOrCreateGrant(ctx, async (grantId) => {
        if (!signIn?.sessionHandle) return true;
        const covering = await sessions.checkGrant(grantId);
        if (!covering.live && covering.session?.handle === signIn.sessionHandle) {
          // The session ended while this sign-on was in flight (revoked, signed out): no code for it.
          throw new errors.AccessDenied('the sign-in session has ended');
        }
        return covering.live && covering.session.handle === signIn.sessionHandle;
      });
      if (grant?.jti && signIn) {
        await grantContexts.upsert(grant.jti, { grantId: grant.jti, ...signIn }, refreshTokenSeconds);
        // The grant (and so its refresh tokens) ends with the sign-in session: sign-out, revocation, time limits.
        if (signIn.sessionHandle) {
          await sessions.cover(
            { handle: signIn.sessionHandle },
            { grantId: grant.jti, oidcSessionId: ctx.oidc.session?.jti },
          );
        }
      }
      return grant;
    },
    // Refresh tokens for every client registered with the refresh_token grant (Entra: with offline_access; here the
    // registration decides, so no `prompt=consent` is needed for `offline_access`).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: (ctx) =>
      reevaluateAtRefresh(
        {
          services,
          tenantId,
          directory,
          grantContext: async (grantId) => (await grantContexts.find(grantId)) as GrantSignInContext | undefined,
        },
        ctx,
      ),
    ttl: {
      AccessToken: accessTokenSeconds,
      ClientCredentials: accessTokenSeconds,
      AuthorizationCode: 60,
      IdToken: accessTokenSeconds,
      Interaction: INTERACTION_SECONDS,
      Session: SESSION_SECONDS,
      Grant: refreshTokenSeconds,
      RefreshToken: refreshTokenSeconds,
    },
    interactions: { policy: signInPolicy(), url: (_ctx, interaction) => `${issuer}/signin/${interaction.uid}` },
    renderError: async (ctx, out) => {
      const http = httpContextOf(ctx.req);
      ctx.type = 'html';
      ctx.body = problemPage({
        title: 'Sign-in problem',
        message: `${out.error}${out.error_description ? `: ${out.error_description}` : ''}`,
        correlationId: http.correlationId,
        at: services.clock.now(),
      });
    },
  };

  const provider = new Provider(issuer, configuration);
  clients.install(provider);
  acceptEarlierIdTokenAlgorithms(provider);
  // Signing out ends the Portcullis session too (and with it the refresh tokens of its grants); "Sign out
  // everywhere" ends every session of the user. Runs after oidc-provider has accepted the form (its xsrf check).
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== '/session/end/confirm' || ctx.status >= 400) return;
    const body = (ctx.oidc as { body?: Record<string, unknown> } | undefined)?.body ?? {};
    if (!body.logout) return;
    const sessions = options.services.sessions(tenantId);
    const scope = cookieScopeFor(issuer, tenantId);
    const { sessionId, bindingSecret } = readSessionCookies(ctx.get('cookie'), scope);
    const check = await sessions.check(sessionId, bindingSecret);
    if (body.everywhere === 'yes' && check.live) await sessions.revokeAllForUser(check.session.userId);
    else await sessions.revoke(sessionId);
    for (const cookie of clearedSessionCookies(scope)) ctx.append('set-cookie', serializeCookie(cookie));
  });
  // URLs and secure cookies follow publicUrl: the mount sets X-Forwarded-Proto/Host from it (never from the client).
  provider.proxy = true;
  return {
    tenantId,
    issuer,
    provider,
    directory,
    scope,
    handle: provider.callback(),
    signInStates: {
      get: async (uid) => (await states.find(uid)) as Record<string, unknown> | undefined,
      put: (uid, state) => states.upsert(uid, state, INTERACTION_SECONDS) as Promise<void>,
      delete: (uid) => states.destroy(uid) as Promise<void>,
    },
    csrfToken: (uid) => createHmac('sha256', csrfKey).update(`csrf|${tenantId}|${uid}`).digest('base64url'),
  };
}

async function findAccount(directory: Directory, tenantId: string, sub: string): Promise<Account | undefined> {
  const user = await directory.users.get(sub);
  if (!user?.accountEnabled) return undefined;
  const account: Account = {
    accountId: user.id,
    async claims(_use, scope) {
      const scopes = new Set(scope.split(' '));
      return {
        sub: user.id,
        tid: tenantId,
        oid: user.id,
        name: user.displayName,
        preferred_username: user.userPrincipalName,
        ...(user.mail ? { email: user.mail } : {}),
        ...(scopes.has('groups') ? { groups: await directory.groups.transitiveGroupsOf(user.id) } : {}),
        ...(scopes.has('roles') ? { roles: await directory.roles.rolesOf(user.id) } : {}),
      };
    },
  };
  rememberAccountUser(account, user);
  return account;
}

/** The client's grant in this browser session, or a new one; `keep` says whether an existing one may be reused. */
async function loadOrCreateGrant(ctx: KoaContextWithOIDC, keep: (grantId: string) => Promise<boolean>) {
  const { provider, client, session } = ctx.oidc;
  if (!client || !session?.accountId) return undefined;
  const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
  let existing = grantId ? await provider.Grant.find(grantId) : undefined;
  if (existing?.jti && !(await keep(existing.jti))) {
    await existing.destroy();
    existing = undefined;
  }
  const grant = existing ?? new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  const requested = String(ctx.oidc.params?.scope ?? 'openid');
  const oidcScopes = requested.split(' ').filter((s) => (OIDC_SCOPES as readonly string[]).includes(s));
  grant.addOIDCScope(oidcScopes.join(' '));
  await grant.save();
  return grant;
}
