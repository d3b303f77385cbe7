// The gateway's sign-in: the gateway is a relying party of its own tenant, so the sign-in pages, MFA and Conditional
// Access run unchanged. `/t/{tenantId}/gateway/login?rd=<URL>` starts an authorization code flow with PKCE for the
// application that owns the return URL (rd), against the tenant's issuer; `/t/{tenantId}/gateway/callback` finishes
// it (code → tokens → verified ID token), creates the session (GatewaySessions.establish) and sends the browser to rd.
//
// The flow itself (state, nonce and PKCE verifier sealed in a short-lived cookie, the code exchange, the ID token's
// checks) is oidc/relying-party.ts, shared with the console's sign-in; here is what is the gateway's: a state cookie
// per flow (`portcullis-gw-signin-{first 12 characters of the state}`, Path `/t/{tenantId}/gateway/`) that also
// carries rd and its application, the client id being that application's, and rd checked at both ends: it must
// belong to an application registered for this tenant (no open redirect).
import {
  beginFlow,
  type FlowSpec,
  flowProblem,
  openFlow,
  type RelyingPartyDeps,
  redeemFlow,
} from '../oidc/relying-party.ts';
import type { GatewaySessions } from './ports.ts';
import type { GatewayRegistry } from './registry.ts';

export type { TenantEndpoints } from '../oidc/relying-party.ts';

const PURPOSE = 'gateway.signin-state';
const STATE_COOKIE = 'portcullis-gw-signin-';
const AGAIN = 'Go back to the application and try again.';

export interface LoginDeps extends RelyingPartyDeps {
  readonly registry: GatewayRegistry;
  readonly sessions: GatewaySessions;
}

/** What the gateway adds to the flow's sealed state. */
interface ReturnFields {
  readonly rd: string;
  readonly appId: string;
}

export type LoginResult =
  | { readonly kind: 'redirect'; readonly location: string; readonly setCookie: readonly string[] }
  | { readonly kind: 'problem'; readonly status: 400 | 502; readonly title: string; readonly message: string };

function flowOf(deps: LoginDeps, tenantId: string): FlowSpec {
  return {
    tenantId,
    purpose: PURPOSE,
    // One cookie per flow: sign-ins started in several tabs each keep their own state.
    cookieName: (state) => `${STATE_COOKIE}${state.slice(0, 12)}`,
    cookiePath: `${new URL(deps.publicUrl()).pathname.replace(/\/+$/, '')}/t/${tenantId}/gateway/`,
    redirectUri: deps.registry.callbackUrl(tenantId),
  };
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
  return beginFlow<ReturnFields>(deps, flowOf(deps, tenantId), {
    clientId: target.appId,
    now: input.now,
    promptLogin: !current.live && current.reason === 'ended',
    fields: { rd: target.url.href, appId: target.appId },
  });
}

/** GET /t/{tenantId}/gateway/callback?code=…&state=… (or ?error=…&state=…) */
export async function finishSignIn(
  deps: LoginDeps,
  input: { tenantId: string; query: Record<string, unknown>; cookieHeader: string | undefined; now: number },
): Promise<LoginResult> {
  const { tenantId } = input;
  const flow = flowOf(deps, tenantId);
  const opened = await openFlow<ReturnFields>(deps, flow, input);
  if (opened.kind !== 'open') return flowProblem(opened, AGAIN);
  const { state } = opened;
  const target = await returnTarget(deps, tenantId, state.rd);
  if (!target || target.appId !== state.appId) return badReturn();

  const redeemed = await redeemFlow(deps, flow, state, { clientId: state.appId, query: input.query });
  if (redeemed.kind !== 'signed-in') return flowProblem(redeemed, AGAIN);
  const { claims } = redeemed;
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string') : [];
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : (claims.iat ?? 0);
  const established = await deps.sessions.establish(
    { tenantId, userId: claims.sub, amr: amr.length > 0 ? amr : ['pwd'], authTime: authTime * 1000 },
    input.now,
  );
  return { kind: 'redirect', location: target.url.href, setCookie: [...established.setCookie, opened.clear] };
}
