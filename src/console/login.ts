// The console's sign-in, as the gateway's (gateway/login.ts): the console is a relying party of its own tenant, so the
// sign-in pages, MFA and Conditional Access (for the console's appId, console-app.ts) run unchanged.
// `/t/{tenantId}/console/signin` starts an authorization code flow with PKCE; `/t/{tenantId}/console/callback`
// finishes it (code → tokens → verified ID token), checks that the browser's Portcullis session is the one the
// sign-in ran in and that the user holds an admin role, and starts the console session (session.ts).
//
// The flow's secrets (state, nonce, PKCE verifier) travel in a short-lived cookie sealed with the tenant's data key,
// so any node can finish a flow another started.
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { builtInRole } from '../directory/roles.ts';
import { issuerFor } from '../oidc/provider.ts';
import { CONSOLE_APP_ID, consoleCallbackUrl, consoleUrl } from './console-app.ts';
import { type ConsoleKeyring, type ConsoleSessions, readCookie, sameText } from './session.ts';

/** How long a started sign-in may take before its state cookie is gone. */
export const SIGN_IN_STATE_SECONDS = 30 * 60;
const PURPOSE = 'console.signin-state';
const STATE_COOKIE = 'portcullis-console-signin';

/** The tenant's own token and key endpoints, reached in-process (plugin.ts uses Fastify's inject). */
export interface TenantEndpoints {
  token(tenantId: string, form: Record<string, string>): Promise<{ status: number; body: unknown }>;
  jwks(tenantId: string): Promise<JSONWebKeySet>;
}

export interface ConsoleLoginDeps {
  readonly consoleSessions: ConsoleSessions;
  readonly keyring: ConsoleKeyring;
  readonly endpoints: TenantEndpoints;
  /** The user's admin role template ids and name, from the directory. */
  user(tenantId: string, userId: string): Promise<{ roles: readonly string[]; name: string } | undefined>;
  publicUrl(): string;
}

interface SignInState {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  /** Epoch ms after which the state is refused. */
  readonly until: number;
}

export type ConsoleLoginResult =
  | { readonly kind: 'redirect'; readonly location: string; readonly setCookie: readonly string[] }
  | {
      readonly kind: 'problem';
      readonly status: 400 | 403 | 502;
      readonly title: string;
      readonly message: string;
      readonly setCookie?: readonly string[];
    };

const b64url = (bytes: Buffer) => bytes.toString('base64url');

function stateCookie(deps: ConsoleLoginDeps, tenantId: string, value: string, maxAge: number): string {
  const secure = deps.publicUrl().startsWith('https:');
  return [
    `${secure ? '__Secure-' : ''}${STATE_COOKIE}=${value}`,
    `Path=${new URL(consoleUrl(deps.publicUrl(), tenantId)).pathname}`,
    `Max-Age=${maxAge}`,
    ...(secure ? ['Secure'] : []),
    'HttpOnly',
    // Lax: the callback arrives by a top-level navigation, and a sign-in may have started on the issuer's pages.
    'SameSite=Lax',
  ].join('; ');
}

/** GET /t/{tenantId}/console/signin */
export async function startConsoleSignIn(
  deps: ConsoleLoginDeps,
  input: { tenantId: string; cookieHeader: string | undefined; now: number },
): Promise<ConsoleLoginResult> {
  const { tenantId } = input;
  // A Portcullis session that is over (expired, revoked, another browser's) asks for credentials, not single sign-on.
  const current = await deps.consoleSessions.portcullisSession(tenantId, input.cookieHeader, input.now);
  const ended = !current.live && current.present;
  const state: SignInState = {
    state: b64url(randomBytes(24)),
    nonce: b64url(randomBytes(24)),
    verifier: b64url(randomBytes(32)),
    until: input.now + SIGN_IN_STATE_SECONDS * 1000,
  };
  const sealed = await deps.keyring.encrypt(tenantId, JSON.stringify(state), PURPOSE);
  const params = new URLSearchParams({
    client_id: CONSOLE_APP_ID,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: consoleCallbackUrl(deps.publicUrl(), tenantId),
    state: state.state,
    nonce: state.nonce,
    code_challenge: b64url(createHash('sha256').update(state.verifier).digest()),
    code_challenge_method: 'S256',
    ...(ended ? { prompt: 'login' } : {}),
  });
  return {
    kind: 'redirect',
    location: `${issuerFor(deps.publicUrl(), tenantId)}/auth?${params}`,
    setCookie: [stateCookie(deps, tenantId, sealed, SIGN_IN_STATE_SECONDS)],
  };
}

/** GET /t/{tenantId}/console/callback?code=…&state=… (or ?error=…&state=…) */
export async function finishConsoleSignIn(
  deps: ConsoleLoginDeps,
  input: { tenantId: string; query: Record<string, unknown>; cookieHeader: string | undefined; now: number },
): Promise<ConsoleLoginResult> {
  const { tenantId, query } = input;
  const expired: ConsoleLoginResult = {
    kind: 'problem',
    status: 400,
    title: 'This sign-in has expired',
    message: 'Open the admin console again to sign in.',
  };
  const stateParam = typeof query.state === 'string' ? query.state : '';
  if (!/^[A-Za-z0-9_-]{32}$/.test(stateParam)) return expired;
  const secure = deps.publicUrl().startsWith('https:');
  const sealed = readCookie(input.cookieHeader, `${secure ? '__Secure-' : ''}${STATE_COOKIE}`);
  if (!sealed) return expired;
  let state: SignInState;
  try {
    state = JSON.parse(await deps.keyring.decryptText(tenantId, sealed, PURPOSE)) as SignInState;
  } catch {
    return expired;
  }
  const clear = stateCookie(deps, tenantId, '', 0);
  if (!sameText(state.state, stateParam) || input.now > state.until) return { ...expired, setCookie: [clear] };
  if (typeof query.error === 'string') {
    return {
      kind: 'problem',
      status: 400,
      title: 'Sign-in did not complete',
      message: `The sign-in ended with '${query.error.slice(0, 64)}'. Open the admin console again to sign in.`,
      setCookie: [clear],
    };
  }
  if (typeof query.code !== 'string' || query.code === '' || query.code.length > 512) return expired;

  const failed: ConsoleLoginResult = {
    kind: 'problem',
    status: 502,
    title: 'Sign-in did not complete',
    message: 'The sign-in could not be completed. Open the admin console again to sign in.',
    setCookie: [clear],
  };
  const tokens = await deps.endpoints.token(tenantId, {
    grant_type: 'authorization_code',
    code: query.code,
    redirect_uri: consoleCallbackUrl(deps.publicUrl(), tenantId),
    client_id: CONSOLE_APP_ID,
    code_verifier: state.verifier,
  });
  const idToken = (tokens.body as { id_token?: unknown } | undefined)?.id_token;
  if (tokens.status !== 200 || typeof idToken !== 'string') return failed;
  // Verified although it came from our own token endpoint: the code, not the channel, is what could be swapped.
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, createLocalJWKSet(await deps.endpoints.jwks(tenantId)), {
      issuer: issuerFor(deps.publicUrl(), tenantId),
      audience: CONSOLE_APP_ID,
    }));
  } catch {
    return failed;
  }
  if (!sameText(String(payload.nonce ?? ''), state.nonce) || typeof payload.sub !== 'string') return expired;

  // The console rides on the Portcullis session the sign-in ran in: this browser's, live, and the same user's.
  const current = await deps.consoleSessions.portcullisSession(tenantId, input.cookieHeader, input.now);
  if (!current.live || current.session.userId !== payload.sub) return failed;

  const user = await deps.user(tenantId, payload.sub);
  const roles = (user?.roles ?? []).filter((role) => builtInRole(role) !== undefined);
  if (!user || roles.length === 0) {
    return {
      kind: 'problem',
      status: 403,
      title: 'No admin role',
      message:
        `You are signed in as ${user?.name ?? 'a user of this tenant'}, but you hold no admin role in this tenant, ` +
        'so the admin console is not available to you. Ask a Global Administrator to assign you a role.',
      setCookie: [clear, deps.consoleSessions.cleared(tenantId)],
    };
  }
  const cookie = await deps.consoleSessions.establish(tenantId, current.session);
  return { kind: 'redirect', location: consoleUrl(deps.publicUrl(), tenantId), setCookie: [cookie, clear] };
}
