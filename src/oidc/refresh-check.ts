// Conditional Access at every refresh-token use (issue 3: "Conditional Access runs again at every refresh-token use
// with the caller's current IP"). oidc-provider asks `rotateRefreshToken(ctx)` once per refresh grant, after it has
// authenticated the client and found the token, grant and account, and before it issues anything: the check runs
// there, logs a non-interactive sign-in, and either allows (rotating the token) or throws invalid_grant.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Directory } from '../directory/directory.ts';
import type { User } from '../directory/users.ts';
import { ERROR_CODES } from '../errors.ts';
import type { BuiltInControl, ClientAppType } from '../policy/types.ts';
import { checkAccess } from '../signin/access.ts';
import { type DetectedPlatform, devicePlatformOf } from '../signin/device-platform.ts';
import type { SignInServices } from '../signin/ports.ts';
import { httpContextOf } from './request-context.ts';

/** What the interactive sign-in recorded for a grant, so later checks see the same device and client app. */
export interface GrantSignInContext {
  readonly devicePlatform: DetectedPlatform;
  readonly clientAppType: ClientAppType;
  /** The Portcullis session (session/) the grant belongs to: refreshes stop when it ends. */
  readonly sessionHandle?: string;
}

export interface RefreshCheckDeps {
  readonly services: SignInServices;
  readonly tenantId: string;
  readonly directory: Directory;
  readonly grantContext: (grantId: string) => Promise<GrantSignInContext | undefined>;
}

/** The directory user each oidc-provider Account was built from (see findAccount in provider.ts). */
const accountUsers = new WeakMap<object, User>();

/**
 * Remembers the user behind an Account. oidc-provider looks the account up (validateAccount) just before it asks
 * `rotateRefreshToken`, in the same request: the check reads the user from there instead of the store a second time.
 */
export function rememberAccountUser(account: object, user: User): void {
  accountUsers.set(account, user);
}

export async function reevaluateAtRefresh(deps: RefreshCheckDeps, ctx: KoaContextWithOIDC): Promise<true> {
  const { RefreshToken: token, Client: client } = ctx.oidc.entities;
  if (!token || !client) throw new errors.InvalidGrant('refresh token could not be checked');
  const http = httpContextOf(ctx.req);
  const now = deps.services.clock.now();
  const userId = token.accountId;
  const account = ctx.oidc.account;
  const found = account?.accountId === userId ? accountUsers.get(account) : undefined;
  const [user, subject, set, recorded, session] = await Promise.all([
    found ?? deps.directory.users.get(userId),
    deps.directory.subjectFor(userId),
    deps.services.policies(deps.tenantId),
    token.grantId ? deps.grantContext(token.grantId) : undefined,
    token.grantId ? deps.services.sessions(deps.tenantId).checkGrant(token.grantId, now) : undefined,
  ]);
  // The client was read from the directory (payload-adapter's Client lookup) earlier in this request.
  const app = { appId: client.clientId, displayName: client.clientName ?? client.clientId };
  if (!user || !subject) throw new errors.InvalidGrant('the user or application no longer exists');
  // The device is the one that signed in (the refresh comes from the app's server, whose User-Agent says nothing
  // about the user's device); the address is the caller's, now.
  const context = {
    appId: client.clientId,
    clientIp: http.clientIp,
    clientAppType: recorded?.clientAppType ?? ('browser' as const),
    devicePlatform: recorded?.devicePlatform ?? devicePlatformOf(http.userAgent),
  };
  const amr = token.amr ?? [];
  const satisfied: BuiltInControl[] = amr.includes('mfa') ? ['mfa'] : [];
  const { evaluation, verdict, country } = checkAccess(set, subject, context, satisfied, now);
  // The grant lives only as long as the sign-in session it came from, and only for that session's user; a grant no
  // session covers fails closed.
  const sessionEnded =
    session?.live !== true
      ? (session?.reason ?? 'unknown')
      : session.session.userId !== userId
        ? 'another user'
        : undefined;
  const errorCode = sessionEnded !== undefined ? 50173 : verdict.kind === 'allow' ? 0 : verdict.errorCode;
  await deps.services.signInLog.append({
    tenantId: deps.tenantId,
    at: now,
    correlationId: http.correlationId,
    user: { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName },
    app: { appId: app.appId, displayName: app.displayName },
    ipAddress: http.clientIp.text,
    country,
    userAgent: http.userAgent,
    clientAppType: context.clientAppType,
    devicePlatform: context.devicePlatform,
    isInteractive: false,
    errorCode,
    failureReason:
      sessionEnded !== undefined
        ? `refresh token refused: its sign-in session has ended (${sessionEnded})`
        : verdict.kind === 'allow'
          ? undefined
          : `refresh token refused by Conditional Access (${verdict.kind})`,
    evaluation,
    amr,
  });
  if (sessionEnded !== undefined) throw invalidGrant(50173, http.correlationId, now);
  if (verdict.kind === 'allow') return true;
  throw invalidGrant(verdict.errorCode, http.correlationId, now);
}

function invalidGrant(code: 50173 | 53003 | 53000 | 50076, correlationId: string, now: number): Error {
  // The description names the code and the correlation id (as Entra's AADSTS descriptions do), never the policy.
  const again = code === 50173 ? '' : ' Sign in again.';
  const description =
    `AADSTS${code}: ${ERROR_CODES[code].message}${again} ` +
    `Correlation ID: ${correlationId}. Timestamp: ${new Date(now).toISOString()}`;
  const error = new errors.InvalidGrant(description);
  // oidc-provider answers with `error_description` only (its `error_detail` stays in its debug log).
  error.error_description = description;
  return error;
}
