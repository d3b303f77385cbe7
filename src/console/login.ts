// The console's sign-in, as the gateway's (gateway/login.ts): the console is a relying party of its own tenant, so the
// sign-in pages, MFA and Conditional Access (for the console's appId, console-app.ts) run unchanged.
// `/t/{tenantId}/console/signin` starts an authorization code flow with PKCE; `/t/{tenantId}/console/callback`
// finishes it (code → tokens → verified ID token), checks that the browser's Portcullis session is the one the
// sign-in ran in and that the user holds an admin role, and starts the console session (session.ts).
//
// The flow itself (state, nonce and PKCE verifier sealed in a short-lived cookie, the code exchange, the ID token's
// checks) is oidc/relying-party.ts, shared with the gateway's sign-in; here is what is the console's: one state cookie
// (`portcullis-console-signin`, Path `/t/{tenantId}/console/`), the console's fixed client id and callback, and what
// the callback does after the ID token.
import { builtInRole } from '../directory/roles.ts';
import {
  beginFlow,
  type FlowSpec,
  flowProblem,
  openFlow,
  type RelyingPartyDeps,
  redeemFlow,
} from '../oidc/relying-party.ts';
import { CONSOLE_APP_ID, consoleCallbackUrl, consoleUrl } from './console-app.ts';
import type { ConsoleSessions } from './session.ts';

const PURPOSE = 'console.signin-state';
const STATE_COOKIE = 'portcullis-console-signin';
const AGAIN = 'Open the admin console again to sign in.';

export interface ConsoleLoginDeps extends RelyingPartyDeps {
  readonly consoleSessions: ConsoleSessions;
  /** The user's admin role template ids and name, from the directory. */
  user(tenantId: string, userId: string): Promise<{ roles: readonly string[]; name: string } | undefined>;
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

function flowOf(deps: ConsoleLoginDeps, tenantId: string): FlowSpec {
  return {
    tenantId,
    purpose: PURPOSE,
    cookieName: () => STATE_COOKIE,
    cookiePath: new URL(consoleUrl(deps.publicUrl(), tenantId)).pathname,
    redirectUri: consoleCallbackUrl(deps.publicUrl(), tenantId),
  };
}

/** GET /t/{tenantId}/console/signin */
export async function startConsoleSignIn(
  deps: ConsoleLoginDeps,
  input: { tenantId: string; cookieHeader: string | undefined; now: number },
): Promise<ConsoleLoginResult> {
  const { tenantId } = input;
  // A Portcullis session that is over (expired, revoked, another browser's) asks for credentials, not single sign-on.
  const current = await deps.consoleSessions.portcullisSession(tenantId, input.cookieHeader, input.now);
  return beginFlow(deps, flowOf(deps, tenantId), {
    clientId: CONSOLE_APP_ID,
    now: input.now,
    promptLogin: !current.live && current.present,
    fields: {},
  });
}

/** GET /t/{tenantId}/console/callback?code=…&state=… (or ?error=…&state=…) */
export async function finishConsoleSignIn(
  deps: ConsoleLoginDeps,
  input: { tenantId: string; query: Record<string, unknown>; cookieHeader: string | undefined; now: number },
): Promise<ConsoleLoginResult> {
  const { tenantId } = input;
  const flow = flowOf(deps, tenantId);
  const opened = await openFlow(deps, flow, input);
  if (opened.kind !== 'open') {
    // The state cookie is deleted once it has been opened (a stale or mismatched state), not before.
    return { ...flowProblem(opened, AGAIN), ...(opened.clear === undefined ? {} : { setCookie: [opened.clear] }) };
  }
  const { clear } = opened;
  const redeemed = await redeemFlow(deps, flow, opened.state, { clientId: CONSOLE_APP_ID, query: input.query });
  if (redeemed.kind === 'expired') return flowProblem(redeemed, AGAIN);
  if (redeemed.kind !== 'signed-in') return { ...flowProblem(redeemed, AGAIN), setCookie: [clear] };
  const userId = redeemed.claims.sub;

  // The console rides on the Portcullis session the sign-in ran in: this browser's, live, and the same user's.
  const current = await deps.consoleSessions.portcullisSession(tenantId, input.cookieHeader, input.now);
  if (!current.live || current.session.userId !== userId) {
    return { ...flowProblem({ kind: 'failed' }, AGAIN), setCookie: [clear] };
  }

  const user = await deps.user(tenantId, userId);
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
