// The interactive sign-in pipeline as an ordered list of steps, free of HTTP:
//   1. first factor (password under smart lockout)      → failed: stay on the password page (50126, 50053, 50057)
//      or a passkey with user verification (passwordless) → failed: 800121, 50053, 50057; `mfa` is satisfied
//   2. subject (the user's groups and roles)
//   3. Conditional Access with what is satisfied so far  → block (53003/53000) | mfa (50076) | allow
//   4. second factor (TOTP, passkey, recovery code, or enrolling a TOTP app or a passkey)
//                                                        → failed: stay on the MFA page (500121, 50053)
//   5. Conditional Access again with `mfa` satisfied     → block | allow
//   6. allowed: the caller finishes the OIDC interaction and the browser goes back to the app.
// Every step that ends an attempt writes one sign-in log entry (success or failure) with the same client address
// that policy and lockout saw.
import type { LockoutPolicy } from '../auth/lockout.ts';
import type { RelyingParty } from '../auth/webauthn.ts';
import type { Clock } from '../clock.ts';
import type { Directory } from '../directory/directory.ts';
import type { User } from '../directory/users.ts';
import type { CompiledPolicySet } from '../policy/compile.ts';
import type { MergedSessionControls } from '../policy/evaluate.ts';
import type { BuiltInControl } from '../policy/types.ts';
import { type AccessCheck, type AccessContext, checkAccess } from './access.ts';
import { passwordFirstFactor } from './first-factor.ts';
import { passkeyFirstFactor } from './passkey-first-factor.ts';
import type { CredentialPorts, SignInAttempt, SignInLogSink } from './ports.ts';
import { mfaMethodsOf, type SecondFactorDeps, type SecondFactorResult } from './second-factor.ts';

export interface PipelineDeps {
  readonly tenantId: string;
  readonly directory: Directory;
  readonly credentials: CredentialPorts;
  readonly policies: CompiledPolicySet;
  readonly clock: Clock;
  readonly lockoutPolicy?: LockoutPolicy;
  readonly signInLog: SignInLogSink;
}

/** One request of one sign-in: the application, the resolved client, and the correlation id for the log. */
export interface PipelineRequest {
  readonly app: { readonly appId: string; readonly displayName: string };
  readonly access: AccessContext;
  readonly userAgent: string;
  readonly correlationId: string;
}

export type PipelineOutcome =
  /** The credential was not accepted; ask again. */
  | { readonly kind: 'retry'; readonly errorCode: 50126 | 50053 | 50057 | 500121 | 800121 }
  | { readonly kind: 'blocked'; readonly errorCode: 53003 | 53000 }
  /** Ask for a second factor; `enrol` when the user has none yet. */
  | { readonly kind: 'mfa'; readonly userId: string; readonly amr: readonly string[]; readonly enrol: boolean }
  | {
      readonly kind: 'allowed';
      readonly userId: string;
      readonly amr: readonly string[];
      /** Merged session controls of the applying policies: sign-in frequency and persistent browser. */
      readonly sessionControls: MergedSessionControls;
    };

function record(
  deps: PipelineDeps,
  request: PipelineRequest,
  attempt: Pick<SignInAttempt, 'errorCode' | 'amr'> & Partial<SignInAttempt>,
): Promise<void> {
  return deps.signInLog.append({
    tenantId: deps.tenantId,
    at: deps.clock.now(),
    correlationId: request.correlationId,
    app: request.app,
    ipAddress: request.access.clientIp.text,
    country: deps.policies.countryOf?.(request.access.clientIp.ip) ?? '',
    userAgent: request.userAgent,
    clientAppType: request.access.clientAppType,
    devicePlatform: request.access.devicePlatform,
    isInteractive: true,
    ...attempt,
  });
}

function userOf(user: User) {
  return { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName };
}

/** Steps 1–3. */
export async function passwordSignIn(
  deps: PipelineDeps,
  request: PipelineRequest,
  input: { signInName: unknown; password: unknown },
): Promise<PipelineOutcome> {
  const first = await passwordFirstFactor(
    {
      directory: deps.directory,
      credentials: deps.credentials,
      clock: deps.clock,
      lockoutPolicy: deps.lockoutPolicy,
      policies: deps.policies,
    },
    { signInName: input.signInName, password: input.password, clientIp: request.access.clientIp },
  );
  if (!first.ok) {
    await record(deps, request, {
      user: first.user && userOf(first.user),
      signInName: typeof input.signInName === 'string' ? input.signInName.slice(0, 256) : undefined,
      errorCode: first.errorCode,
      failureReason: first.failureReason,
      amr: [],
    });
    return { kind: 'retry', errorCode: first.errorCode };
  }
  return conditionalAccess(deps, request, first.user, first.amr, []);
}

/**
 * Steps 1–3 for passwordless sign-in with the browser's answer to passkeySignInOptions. A passkey with user
 * verification is multifactor on its own, so Conditional Access runs with `mfa` already satisfied.
 */
export async function passkeySignIn(
  deps: PipelineDeps,
  request: PipelineRequest,
  input: { response: unknown; challengeId: string; rp: RelyingParty },
): Promise<PipelineOutcome> {
  const first = await passkeyFirstFactor(
    { directory: deps.directory, credentials: deps.credentials, clock: deps.clock, lockoutPolicy: deps.lockoutPolicy },
    { ...input, clientIp: request.access.clientIp },
  );
  if (!first.ok) {
    await record(deps, request, {
      user: first.user && userOf(first.user),
      errorCode: first.errorCode,
      failureReason: first.failureReason,
      amr: [],
    });
    return { kind: 'retry', errorCode: first.errorCode };
  }
  return conditionalAccess(deps, request, first.user, first.amr, ['mfa']);
}

/** Steps 4–5: `verify` is one of second-factor.ts's checks, bound to the user and code. */
export async function secondFactorSignIn(
  deps: PipelineDeps,
  request: PipelineRequest,
  state: { userId: string; amr: readonly string[] },
  verify: (deps: SecondFactorDeps) => Promise<SecondFactorResult>,
): Promise<PipelineOutcome> {
  const user = await deps.directory.users.get(state.userId);
  if (!user?.accountEnabled) return { kind: 'retry', errorCode: 50057 };
  const result = await verify({ credentials: deps.credentials, clock: deps.clock, lockoutPolicy: deps.lockoutPolicy });
  if (!result.ok) {
    await record(deps, request, {
      user: userOf(user),
      errorCode: result.errorCode,
      failureReason: result.failureReason,
      amr: state.amr,
    });
    return { kind: 'retry', errorCode: result.errorCode };
  }
  return conditionalAccess(deps, request, user, [...state.amr, ...result.amr], ['mfa']);
}

/**
 * Steps 2–3 for a browser that is already signed in (single sign-on): no password is asked, but the application's
 * policies are evaluated like any other sign-in, with `mfa` satisfied when the session's sign-in did MFA.
 */
export async function sessionSignIn(
  deps: PipelineDeps,
  request: PipelineRequest,
  session: { userId: string; amr: readonly string[] },
): Promise<PipelineOutcome> {
  const user = await deps.directory.users.get(session.userId);
  if (!user?.accountEnabled) return { kind: 'retry', errorCode: 50057 };
  return conditionalAccess(deps, request, user, session.amr, session.amr.includes('mfa') ? ['mfa'] : []);
}

/** Steps 2–3 (and 5): subject, evaluation, and the sign-in log entry with every policy's result. */
async function conditionalAccess(
  deps: PipelineDeps,
  request: PipelineRequest,
  user: User,
  amr: readonly string[],
  satisfied: readonly BuiltInControl[],
): Promise<PipelineOutcome> {
  const subject = await deps.directory.subjectFor(user.id);
  if (!subject) return { kind: 'retry', errorCode: 50126 };
  let check: AccessCheck = checkAccess(deps.policies, subject, request.access, satisfied, deps.clock.now());
  // MFA done and a policy still asks for more: nothing the user can do here; fail closed.
  if (check.verdict.kind === 'mfa' && satisfied.includes('mfa')) {
    check = { ...check, verdict: { kind: 'block', errorCode: 53000 } };
  }
  const { verdict } = check;
  await record(deps, request, {
    user: userOf(user),
    errorCode: verdict.kind === 'allow' ? 0 : verdict.errorCode,
    evaluation: check.evaluation,
    country: check.country,
    amr,
    failureReason:
      verdict.kind === 'block'
        ? 'blocked by Conditional Access'
        : verdict.kind === 'mfa'
          ? 'multifactor authentication required'
          : undefined,
  });
  if (verdict.kind === 'block') return { kind: 'blocked', errorCode: verdict.errorCode };
  if (verdict.kind === 'mfa') {
    const methods = await mfaMethodsOf(deps.credentials, user.id);
    return { kind: 'mfa', userId: user.id, amr, enrol: !methods.totp && !methods.recoveryCodes && !methods.passkeys };
  }
  return { kind: 'allowed', userId: user.id, amr, sessionControls: check.evaluation.decision.sessionControls };
}
