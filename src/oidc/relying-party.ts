// Portcullis as a relying party of its own tenant: the authorization code flow with PKCE that the gateway's sign-in
// (gateway/login.ts) and the admin console's (console/login.ts) both run against the tenant's issuer, so the sign-in
// pages, MFA and Conditional Access apply to them unchanged. A caller names what differs (FlowSpec: the state cookie's
// name and path, the keyring purpose, the callback; the client id per flow) and keeps its own checks, session and
// pages. The steps, in order:
//   beginFlow   state, nonce and PKCE verifier (plus the caller's fields) sealed with the tenant's data key
//               (AES-256-GCM) into a short-lived cookie, so any node can finish a flow another started; the redirect
//               to the issuer's authorization endpoint
//   openFlow    at the callback: the state cookie that ?state= names, opened, compared with ?state= in constant time,
//               refused once expired
//   redeemFlow  ?error= from the issuer, or the code exchanged at the tenant's token endpoint (in process) and the ID
//               token verified against the tenant's keys (signature, issuer, audience), then its nonce
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { issuerFor } from './provider.ts';

/** How long a started sign-in may take before its state cookie is gone (the sign-in pages' own limit is an hour). */
export const SIGN_IN_STATE_SECONDS = 30 * 60;

/** The tenant's own token and key endpoints, reached in-process (see `injectedEndpoints`). */
export interface TenantEndpoints {
  token(tenantId: string, form: Record<string, string>): Promise<{ status: number; body: unknown }>;
  jwks(tenantId: string): Promise<JSONWebKeySet>;
}

/** What the flow needs from its caller's dependencies (both callers' deps objects have these). */
export interface RelyingPartyDeps {
  readonly keyring: {
    encrypt(tenantId: string, plaintext: string, purpose: string): Promise<string>;
    decryptText(tenantId: string, ciphertext: string, purpose: string): Promise<string>;
  };
  readonly endpoints: TenantEndpoints;
  publicUrl(): string;
}

/** One caller's flow in one tenant. */
export interface FlowSpec {
  readonly tenantId: string;
  /** The keyring purpose the state is sealed under: one caller's state does not open in another's callback. */
  readonly purpose: string;
  /** The state cookie's name given the flow's state, without the `__Secure-` prefix that https adds. */
  cookieName(state: string): string;
  /** The state cookie's Path: the callback's folder, so the cookie is sent nowhere else. */
  readonly cookiePath: string;
  /** The callback registered for the client (redirect_uri). */
  readonly redirectUri: string;
}

/** What the state cookie holds besides the caller's own fields. */
export interface FlowState {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  /** Epoch ms after which the state is refused. */
  readonly until: number;
}

/** Where a started flow sends the browser; both callers' results accept it as it is. */
export interface FlowRedirect {
  readonly kind: 'redirect';
  readonly location: string;
  readonly setCookie: readonly string[];
}

/** The pages a failed flow ends on; both callers' results accept it as it is. */
export interface FlowProblem {
  readonly kind: 'problem';
  readonly status: 400 | 502;
  readonly title: string;
  readonly message: string;
}

export type OpenedFlow<T> =
  /** `clear` (the Set-Cookie that deletes the state cookie) once the cookie has been opened. */
  | { readonly kind: 'expired'; readonly clear?: string }
  | { readonly kind: 'open'; readonly state: FlowState & T; readonly clear: string };

export type RedeemedFlow =
  /** The issuer answered ?error= (its first 64 characters). */
  | { readonly kind: 'declined'; readonly error: string }
  /** No usable code, or an ID token of another flow (nonce) or without a subject. */
  | { readonly kind: 'expired' }
  /** The token endpoint refused the code, or the ID token did not verify. */
  | { readonly kind: 'failed' }
  | { readonly kind: 'signed-in'; readonly claims: JWTPayload & { readonly sub: string } };

const b64url = (bytes: Buffer) => bytes.toString('base64url');
const STATE = /^[A-Za-z0-9_-]{32}$/;

function stateCookie(deps: RelyingPartyDeps, flow: FlowSpec, state: string, value: string, maxAge: number): string {
  const secure = deps.publicUrl().startsWith('https:');
  return [
    `${secure ? '__Secure-' : ''}${flow.cookieName(state)}=${value}`,
    `Path=${flow.cookiePath}`,
    `Max-Age=${maxAge}`,
    ...(secure ? ['Secure'] : []),
    'HttpOnly',
    // Lax: the callback arrives by a top-level navigation, and a sign-in may have started on the issuer's pages.
    'SameSite=Lax',
  ].join('; ');
}

/** Starts a flow for `clientId`: the redirect to the issuer's authorization URL, setting the sealed state's cookie. */
export async function beginFlow<T extends object>(
  deps: RelyingPartyDeps,
  flow: FlowSpec,
  input: { readonly clientId: string; readonly now: number; readonly promptLogin: boolean; readonly fields: T },
): Promise<FlowRedirect> {
  const state = {
    state: b64url(randomBytes(24)),
    nonce: b64url(randomBytes(24)),
    verifier: b64url(randomBytes(32)),
    ...input.fields,
    until: input.now + SIGN_IN_STATE_SECONDS * 1000,
  };
  const sealed = await deps.keyring.encrypt(flow.tenantId, JSON.stringify(state), flow.purpose);
  const params = new URLSearchParams({
    client_id: input.clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: flow.redirectUri,
    state: state.state,
    nonce: state.nonce,
    code_challenge: b64url(createHash('sha256').update(state.verifier).digest()),
    code_challenge_method: 'S256',
    ...(input.promptLogin ? { prompt: 'login' } : {}),
  });
  return {
    kind: 'redirect',
    location: `${issuerFor(deps.publicUrl(), flow.tenantId)}/auth?${params}`,
    setCookie: [stateCookie(deps, flow, state.state, sealed, SIGN_IN_STATE_SECONDS)],
  };
}

/** At the callback: the flow's state from its cookie, if ?state= names a cookie of this flow that has not expired. */
export async function openFlow<T extends object>(
  deps: RelyingPartyDeps,
  flow: FlowSpec,
  input: { readonly query: Record<string, unknown>; readonly cookieHeader: string | undefined; readonly now: number },
): Promise<OpenedFlow<T>> {
  const stateParam = typeof input.query.state === 'string' ? input.query.state : '';
  if (!STATE.test(stateParam)) return { kind: 'expired' };
  const secure = deps.publicUrl().startsWith('https:');
  const sealed = readCookie(input.cookieHeader, `${secure ? '__Secure-' : ''}${flow.cookieName(stateParam)}`);
  if (!sealed) return { kind: 'expired' };
  let state: FlowState & T;
  try {
    state = JSON.parse(await deps.keyring.decryptText(flow.tenantId, sealed, flow.purpose)) as FlowState & T;
  } catch {
    return { kind: 'expired' };
  }
  // Only Portcullis seals these, but what does not have the shape fails closed rather than throwing.
  if (
    typeof state?.state !== 'string' ||
    typeof state.nonce !== 'string' ||
    typeof state.verifier !== 'string' ||
    typeof state.until !== 'number'
  ) {
    return { kind: 'expired' };
  }
  const clear = stateCookie(deps, flow, stateParam, '', 0);
  if (!sameText(state.state, stateParam) || input.now > state.until) return { kind: 'expired', clear };
  return { kind: 'open', state, clear };
}

/** Finishes an opened flow of `clientId`: the issuer's answer, the code exchanged, the ID token verified. */
export async function redeemFlow(
  deps: RelyingPartyDeps,
  flow: FlowSpec,
  state: FlowState,
  input: { readonly clientId: string; readonly query: Record<string, unknown> },
): Promise<RedeemedFlow> {
  const { query } = input;
  if (typeof query.error === 'string') return { kind: 'declined', error: query.error.slice(0, 64) };
  if (typeof query.code !== 'string' || query.code === '' || query.code.length > 512) return { kind: 'expired' };

  const tokens = await deps.endpoints.token(flow.tenantId, {
    grant_type: 'authorization_code',
    code: query.code,
    redirect_uri: flow.redirectUri,
    client_id: input.clientId,
    code_verifier: state.verifier,
  });
  const idToken = (tokens.body as { id_token?: unknown } | undefined)?.id_token;
  if (tokens.status !== 200 || typeof idToken !== 'string') return { kind: 'failed' };
  // Verified although it came straight from our own token endpoint: the code, not the channel, is what an attacker
  // could have swapped. oidc-provider stamps tokens with the system time, so they are checked against it too.
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, createLocalJWKSet(await deps.endpoints.jwks(flow.tenantId)), {
      issuer: issuerFor(deps.publicUrl(), flow.tenantId),
      audience: input.clientId,
    }));
  } catch {
    return { kind: 'failed' };
  }
  const { sub } = payload;
  if (!sameText(String(payload.nonce ?? ''), state.nonce) || typeof sub !== 'string') return { kind: 'expired' };
  return { kind: 'signed-in', claims: { ...payload, sub } };
}

/** The page for a flow that did not finish; `again` is the caller's sentence on what to do next. */
export function flowProblem(
  outcome: { readonly kind: 'expired' | 'failed' } | { readonly kind: 'declined'; readonly error: string },
  again: string,
): FlowProblem {
  switch (outcome.kind) {
    case 'expired':
      return { kind: 'problem', status: 400, title: 'This sign-in has expired', message: again };
    case 'declined':
      return {
        kind: 'problem',
        status: 400,
        title: 'Sign-in did not complete',
        message: `The sign-in ended with '${outcome.error}'. ${again}`,
      };
    case 'failed':
      return {
        kind: 'problem',
        status: 502,
        title: 'Sign-in did not complete',
        message: `The sign-in could not be completed. ${again}`,
      };
  }
}

/** The tenant's token and key endpoints through the server's own routes, without a network hop (Fastify inject). */
export function injectedEndpoints(
  app: {
    inject(request: {
      method: 'GET' | 'POST';
      url: string;
      headers?: Record<string, string>;
      payload?: string;
    }): Promise<{ statusCode: number; json(): unknown }>;
  },
  caller: string,
): TenantEndpoints {
  return {
    async token(tenantId, form) {
      const response = await app.inject({
        method: 'POST',
        url: `/t/${tenantId}/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(form).toString(),
      });
      let body: unknown;
      try {
        body = response.json();
      } catch {
        body = undefined;
      }
      return { status: response.statusCode, body };
    },
    async jwks(tenantId) {
      const response = await app.inject({ method: 'GET', url: `/t/${tenantId}/jwks` });
      if (response.statusCode !== 200) throw new Error(`${caller}: the tenant's keys answered ${response.statusCode}`);
      return response.json() as JSONWebKeySet;
    },
  };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
