// Runs one credential check under smart lockout: admit the attempt for the source IP and the account, check only if
// both admit it, then record the outcome. The order and the atomic updates live here so every caller gets them right.

import type { Clock } from '../clock.ts';
import {
  accountStateExpiresAt,
  beginAccountAttempt,
  beginIpAttempt,
  DEFAULT_LOCKOUT_POLICY,
  type IpThrottleState,
  ipLockoutKey,
  ipStateExpiresAt,
  type LockCheck,
  type LockoutEvent,
  type LockoutPolicy,
  readAccountState,
  readIpState,
  recordAccountFailure,
  recordAccountSuccess,
  recordIpFailure,
  recordIpSuccess,
} from './lockout.ts';
import type { LockoutStatePort } from './ports.ts';

export type AttemptGuardDeps = {
  readonly lockouts: LockoutStatePort;
  readonly clock: Clock;
  readonly policy?: LockoutPolicy;
};

export type GuardedAttempt = {
  /** `accountLockoutKey(signInName)` for passwords, `mfaLockoutKey(userId)` for second factors. */
  readonly accountKey: string;
  /** The client IP, resolved once through the trusted proxies; the same value goes to policy and the sign-in log. */
  readonly ip: string;
  /** For password attempts: `badPasswordTag(…)`, so a repeated wrong password counts once. */
  readonly passwordTag?: string;
  /** Called instead of `check` when the attempt is refused, to take as long as a check would. */
  readonly burn: () => Promise<void>;
  /** The credential check itself. A thrown error counts as a failure (fail closed) and is returned as `error`. */
  readonly check: () => Promise<boolean>;
};

export type GuardedOutcome =
  | { readonly outcome: 'success'; readonly events: LockoutEvent[] }
  | {
      readonly outcome: 'failure';
      /** This failure locked the account. */
      readonly locked: boolean;
      readonly events: LockoutEvent[];
      /** What `check` threw, to log; the attempt failed either way. */
      readonly error?: unknown;
    }
  | {
      /** Refused without checking the credential; say the same whatever the credential was. */
      readonly outcome: 'refused';
      readonly reason: 'account-locked' | 'ip-throttled';
      readonly retryAt: number;
      readonly events: LockoutEvent[];
    };

type Refusal = Extract<LockCheck, { allowed: false }>;

export async function guardAttempt(deps: AttemptGuardDeps, attempt: GuardedAttempt): Promise<GuardedOutcome> {
  const policy = deps.policy ?? DEFAULT_LOCKOUT_POLICY;
  const ipKey = ipLockoutKey(attempt.ip);
  const events: LockoutEvent[] = [];

  const updateIp = <R>(change: (s: IpThrottleState, now: number) => { state: IpThrottleState; result: R }) =>
    deps.lockouts.update(ipKey, (current) => {
      const now = deps.clock.now();
      const read = readIpState(ipKey, current, now, policy);
      const { state, result } = change(read.state, now);
      return { next: state, expiresAt: ipStateExpiresAt(state, policy), result: { result, events: read.events } };
    });

  const ipAdmission = await updateIp((s, now) => {
    const begun = beginIpAttempt(s, now, policy);
    return { state: begun.state, result: begun.check };
  });
  events.push(...ipAdmission.events);
  if (!ipAdmission.result.allowed) {
    await attempt.burn();
    return refused(ipAdmission.result, events);
  }

  const accountAdmission = await deps.lockouts.update(attempt.accountKey, (current) => {
    const now = deps.clock.now();
    const read = readAccountState(attempt.accountKey, current, now, policy);
    const begun = beginAccountAttempt(read.state, now, policy);
    return {
      next: begun.state,
      expiresAt: accountStateExpiresAt(begun.state, policy),
      result: { check: begun.check, events: read.events },
    };
  });
  events.push(...accountAdmission.events);
  if (!accountAdmission.check.allowed) {
    await attempt.burn();
    // Hammering a locked account is still a failure from that source: it feeds the IP throttle.
    const ip = await updateIp((s, now) => {
      const failed = recordIpFailure(ipKey, s, now, policy);
      return { state: failed.state, result: failed.events };
    });
    events.push(...ip.events, ...ip.result);
    return refused(accountAdmission.check, events);
  }

  let ok = false;
  let thrown: { error: unknown } | undefined;
  try {
    ok = (await attempt.check()) === true;
  } catch (error) {
    thrown = { error };
  }

  if (ok) {
    await deps.lockouts.update(attempt.accountKey, (current) => {
      const now = deps.clock.now();
      const state = recordAccountSuccess(readAccountState(attempt.accountKey, current, now, policy).state, now, policy);
      const empty = state.inFlight === 0;
      return { next: empty ? undefined : state, expiresAt: accountStateExpiresAt(state, policy), result: undefined };
    });
    await updateIp((s, now) => ({ state: recordIpSuccess(s, now, policy), result: undefined }));
    return { outcome: 'success', events };
  }

  const account = await deps.lockouts.update(attempt.accountKey, (current) => {
    const now = deps.clock.now();
    const read = readAccountState(attempt.accountKey, current, now, policy);
    const failed = recordAccountFailure(attempt.accountKey, read.state, now, policy, attempt.passwordTag);
    return {
      next: failed.state,
      expiresAt: accountStateExpiresAt(failed.state, policy),
      result: { locked: failed.locked, events: [...read.events, ...failed.events] },
    };
  });
  const ip = await updateIp((s, now) => {
    const failed = recordIpFailure(ipKey, s, now, policy);
    return { state: failed.state, result: failed.events };
  });
  events.push(...account.events, ...ip.events, ...ip.result);
  return thrown === undefined
    ? { outcome: 'failure', locked: account.locked, events }
    : { outcome: 'failure', locked: account.locked, events, error: thrown.error };
}

function refused(check: Refusal, events: LockoutEvent[]): GuardedOutcome {
  return { outcome: 'refused', reason: check.reason, retryAt: check.retryAt, events };
}
