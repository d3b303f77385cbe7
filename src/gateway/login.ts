// The gateway's sign-in: the gateway is a relying party of its own tenant, so the sign-in pages, MFA and Conditional
// Access run unchanged. `/t/{tenantId}/gateway/login?rd=<URL>` starts an authorization code flow with PKCE for the
// application that owns the return URL (rd), against the tenant's issuer; `/t/{tenantId}/gateway/callback` finishes
// it (code → tokens → verified ID token), creates the session (GatewaySessions.establish) and sends the browser to rd.
//
// The flow's secrets (state, nonce, PKCE verifier, return URL) travel in a short-lived cookie sealed with the
// tenant's data key (AES-256-GCM), so any node can finish a flow another started. rd must belong to an application
// registered for this tenant (no open redirect), and is checked again at the callback.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { issuerFor } from '../oidc/provider.ts';
import type { GatewaySessions } from './ports.ts';
import type { GatewayRegistry } from './registry.ts';

/** How long a started sign-in may take before its state cookie is gone (the sign-in pages' own limit is an hour). */
export const SIGN_IN_STATE_SECONDS = 30 * 60;
const PURPOSE = 'gateway.signin-state';
const STATE_COOKIE = 'portcullis-gw-signin-';

/** The tenant's own token and key endpoints, reached in-process (plugin.ts uses Fastify's inject). */
export interface TenantEndpoints {
  token(tenantId: string, form: Record<string, string>): Promise<{ status: number; body: unknown }>;
  jwks(tenantId: string): Promise<JSONWebKeySet>;
}

export interface LoginDeps {
  readonly registry: GatewayRegistry;
  readonly sessions: GatewaySessions;
  readonly keyring: {
    encrypt(tenantId: string, plaintext: string, purpose: string): Promise<string>;
    decryptText(tenantId: string, ciphertext: string, purpose: string): Promise<string>;
  };
  readonly endpoints: TenantEndpoints;
  publicUrl(): string;
}

interface SignInState {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly rd: string;
  readonly appId: string;
  /** Epoch ms after which the state is refused. */
  readonly until: number;
}

export type LoginResult =
  | { readonly kind: 'redirect'; readonly location: string; readonly setCookie: readonly string[] }
  | { readonly kind: 'problem'; readonly status: 400 | 502; readonly title: string; readonly message: string };

const b64url = (bytes: Buffer) => bytes.toString('base64url');

function stateCookie(deps: LoginDeps, tenantId: string, state: string, value: string, maxAge: number): string {
  const secure = deps.publicUrl().startsWith('https:');
  const name = `${secure ? '__Secure-' : ''}${STATE_COOKIE}${state.slice(0, 12)}`;
  return [
    `${name}=${value}`,
    `Path=${new URL(deps.publicUrl()).pathname.replace(/\/+$/, '')}/t/${tenantId}/gateway/`,
    `Max-Age=${maxAge}`,
    ...(secure ? ['Secure'] : []),
    'HttpOnly',
    'SameSite=Lax',
  ].join('; ');
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

const badReturn = (): LoginResult => ({
  kind: 'problem',
  status: 400,
  title: 'Unknown return address',
  message: 'The address to return to after signing in does not belong to an application protected here.',
});

/** Checks rd: an absolute http(s) URL that a registered application of this tenant claims. */
async function returnTarget(deps: LoginDeps, tenantId: string, rd: unknown) {
  if (typeof rd !== 'string' || rd.length > 8192) return undefined;
  let url: URL;
  try {
    url = new URL(rd);
  } catch {
    return undefined;
  }
  const match = (await deps.registry.routes()).matchUrl(url);
  return match && match.entry.tenantId === tenantId ? { url, appId: match.entry.appId } : undefined;
}

/** GET /t/{tenantId}/gateway/login?rd=… */
export async function startSignIn(
  deps: LoginDeps,
  input: { tenantId: string; rd: unknown; cookieHeader: string | undefined; now: number },
): Promise<LoginResult> {
  const { tenantId } = input;
  const target = await returnTarget(deps, tenantId, input.rd);
  if (!target) return badReturn();
  await deps.registry.ensureCallback(tenantId, target.appId);
  // A session that is over (expired, revoked, another browser's) asks for credentials again, not single sign-on.
  const current = await deps.sessions.check(tenantId, input.cookieHeader, input.now);
  const ended = !current.live && current.reason === 'ended';

  const state: SignInState = {
    state: b64url(randomBytes(24)),
    nonce: b64url(randomBytes(24)),
    verifier: b64url(randomBytes(32)),
    rd: target.url.href,
    appId: target.appId,
    until: input.now + SIGN_IN_STATE_SECONDS * 1000,
  };
  const sealed = await deps.keyring.encrypt(tenantId, JSON.stringify(state), PURPOSE);
  const params = new URLSearchParams({
    client_id: target.appId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: deps.registry.callbackUrl(tenantId),
    state: state.state,
    nonce: state.nonce,
    code_challenge: b64url(createHash('sha256').update(state.verifier).digest()),
    code_challenge_method: 'S256',
    ...(ended ? { prompt: 'login' } : {}),
  });
  return {
    kind: 'redirect',
    location: `${issuerFor(deps.publicUrl(), tenantId)}/auth?${params}`,
    setCookie: [stateCookie(deps, tenantId, state.state, sealed, SIGN_IN_STATE_SECONDS)],
  };
}

/** GET /t/{tenantId}/gateway/callback?code=…&state=… (or ?error=…&state=…) */
export async function finishSignIn(
  deps: LoginDeps,
  input: { tenantId: string; query: Record<string, unknown>; cookieHeader: string | undefined; now: number },
): Promise<LoginResult> {
  const { tenantId, query } = input;
  const expired: LoginResult = {
    kind: 'problem',
    status: 400,
    title: 'This sign-in has expired',
    message: 'Go back to the application and try again.',
  };
  const stateParam = typeof query.state === 'string' ? query.state : '';
  if (!/^[A-Za-z0-9_-]{32}$/.test(stateParam)) return expired;
  const secure = deps.publicUrl().startsWith('https:');
  const sealed = readCookie(
    input.cookieHeader,
    `${secure ? '__Secure-' : ''}${STATE_COOKIE}${stateParam.slice(0, 12)}`,
  );
  if (!sealed) return expired;
  let state: SignInState;
  try {
    state = JSON.parse(await deps.keyring.decryptText(tenantId, sealed, PURPOSE)) as SignInState;
  } catch {
    return expired;
  }
  const clear = stateCookie(deps, tenantId, state.state, '', 0);
  if (!sameText(state.state, stateParam) || input.now > state.until) return expired;
  const target = await returnTarget(deps, tenantId, state.rd);
  if (!target || target.appId !== state.appId) return badReturn();

  if (typeof query.error === 'string') {
    return {
      kind: 'problem',
      status: 400,
      title: 'Sign-in did not complete',
      message: `The sign-in ended with '${query.error.slice(0, 64)}'. Go back to the application and try again.`,
    };
  }
  if (typeof query.code !== 'string' || query.code === '' || query.code.length > 512) return expired;

  const tokens = await deps.endpoints.token(tenantId, {
    grant_type: 'authorization_code',
    code: query.code,
    redirect_uri: deps.registry.callbackUrl(tenantId),
    client_id: state.appId,
    code_verifier: state.verifier,
  });
  const failed: LoginResult = {
    kind: 'problem',
    status: 502,
    title: 'Sign-in did not complete',
    message: 'The sign-in could not be completed. Go back to the application and try again.',
  };
  const idToken = (tokens.body as { id_token?: unknown } | undefined)?.id_token;
  if (tokens.status !== 200 || typeof idToken !== 'string') return failed;
  // Verified although it came straight from our own token endpoint: the code, not the channel, is what an attacker
  // could have swapped. oidc-provider stamps tokens with the system time, so they are checked against it too.
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, createLocalJWKSet(await deps.endpoints.jwks(tenantId)), {
      issuer: issuerFor(deps.publicUrl(), tenantId),
      audience: state.appId,
    }));
  } catch {
    return failed;
  }
  if (!sameText(String(payload.nonce ?? ''), state.nonce) || typeof payload.sub !== 'string') return expired;
  const amr = Array.isArray(payload.amr) ? payload.amr.filter((m): m is string => typeof m === 'string') : [];
  const authTime = typeof payload.auth_time === 'number' ? payload.auth_time : (payload.iat ?? 0);
  const established = await deps.sessions.establish(
    { tenantId, userId: payload.sub, amr: amr.length > 0 ? amr : ['pwd'], authTime: authTime * 1000 },
    input.now,
  );
  return { kind: 'redirect', location: target.url.href, setCookie: [...established.setCookie, clear] };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
