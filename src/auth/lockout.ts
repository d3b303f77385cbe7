// Smart lockout, after Entra ID's: an account locks for a growing period after repeated failures, a repeated wrong
// password counts once, and a source IP that fails too often is throttled. Pure state transitions over plain data.

import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

export type LockoutPolicy = {
  /** Counted failures that lock the account (Entra's default lockout threshold: 10). */
  readonly threshold: number;
  /** The first lockout's length (Entra's default lockout duration: 60 seconds). */
  readonly initialLockoutSeconds: number;
  /** Each further lockout doubles, up to this. */
  readonly maxLockoutSeconds: number;
  /** After this long with no failure, failures that have not (yet) locked the account are forgotten. */
  readonly resetAfterSeconds: number;
  /**
   * Once the account has been locked, failures and lockout level are forgotten only after this long with no failure
   * and no lock (or at a successful sign-in), so an attacker cannot earn ten fresh guesses by waiting an hour.
   */
  readonly lockoutMemorySeconds: number;
  /** Recent wrong passwords remembered (as keyed-hash prefixes) so retyping one does not count again (Entra: 3). */
  readonly rememberedBadPasswords: number;
  /** How long an admitted attempt holds its place before it is presumed abandoned (a node died mid-attempt). */
  readonly attemptTimeoutSeconds: number;
  readonly ip: {
    /** Failures from one source in one window that are still answered; the next failure throttles the source. */
    readonly maxFailures: number;
    readonly windowSeconds: number;
    /** How long a throttled source is refused. */
    readonly throttleSeconds: number;
  };
};

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = Object.freeze({
  threshold: 10,
  initialLockoutSeconds: 60,
  maxLockoutSeconds: 3600,
  resetAfterSeconds: 3600,
  lockoutMemorySeconds: 86400,
  rememberedBadPasswords: 3,
  attemptTimeoutSeconds: 30,
  ip: Object.freeze({ maxFailures: 50, windowSeconds: 300, throttleSeconds: 900 }),
});

/** One account's lockout state, stored as JSON under its key. Times are milliseconds since the epoch. */
export type AccountLockoutState = {
  /** Failures counted since the last success or reset. */
  readonly failures: number;
  readonly lastFailureAt: number | null;
  /** Lockouts so far; the next lockout lasts initial × 2^lockouts, capped. */
  readonly lockouts: number;
  readonly lockedUntil: number | null;
  /** Keyed-hash prefixes of the last few counted wrong passwords, oldest first. Never the passwords. */
  readonly badPasswordTags: readonly string[];
  /** Attempts admitted and not yet finished, so parallel requests cannot all slip under the threshold. */
  readonly inFlight: number;
  readonly inFlightUntil: number | null;
};

/** One source's throttle state. The window starts at its first failure. */
export type IpThrottleState = {
  readonly windowStart: number | null;
  readonly failures: number;
  readonly throttledUntil: number | null;
  readonly inFlight: number;
  readonly inFlightUntil: number | null;
};

export type LockoutEvent =
  | {
      readonly type: 'account-locked';
      readonly key: string;
      readonly at: number;
      readonly lockedUntil: number;
      readonly lockoutSeconds: number;
      readonly failures: number;
      readonly lockouts: number;
    }
  | {
      readonly type: 'ip-throttled';
      readonly key: string;
      readonly at: number;
      readonly throttledUntil: number;
      readonly failures: number;
    }
  | { readonly type: 'lockout-state-invalid'; readonly key: string; readonly at: number; readonly problem: string };

export const EMPTY_ACCOUNT_STATE: AccountLockoutState = Object.freeze({
  failures: 0,
  lastFailureAt: null,
  lockouts: 0,
  lockedUntil: null,
  badPasswordTags: Object.freeze([]) as readonly string[],
  inFlight: 0,
  inFlightUntil: null,
});

export const EMPTY_IP_STATE: IpThrottleState = Object.freeze({
  windowStart: null,
  failures: 0,
  throttledUntil: null,
  inFlight: 0,
  inFlightUntil: null,
});

// --- keys ---------------------------------------------------------------------------------------------------------

/**
 * The account key is the sign-in name as typed, normalised (NFKC, trimmed, lower case) — not the user id — so that
 * names with no account lock exactly as real ones do and the lockout does not reveal which accounts exist.
 *
 * Attempts from a trusted location (a trusted named location or the MFA trusted IPs, as the sign-in pipeline
 * decides) count under a separate key, as Entra keeps separate counters for familiar and unfamiliar locations: an
 * attacker elsewhere can lock the account out there, not at the office.
 */
export function accountLockoutKey(signInName: string, fromTrustedLocation = false): string {
  const name = signInName.normalize('NFKC').trim().toLowerCase();
  return fromTrustedLocation ? `account-trusted:${name}` : `account:${name}`;
}

/** Failed second-factor codes (TOTP, recovery codes) count against the user under their own key. */
export function mfaLockoutKey(userId: string): string {
  return `mfa:${userId}`;
}

/**
 * The source key: the IPv4 address, or the IPv6 /64 (one subscriber's customary allocation, RFC 6177), since one
 * attacker holds a whole /64 and could otherwise rotate addresses. IPv4-mapped IPv6 addresses count as IPv4.
 */
export function ipLockoutKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped && isIPv4(mapped[1])) return `ip:${mapped[1]}`;
  if (isIPv4(ip)) return `ip:${ip}`;
  if (!isIPv6(ip)) throw new TypeError(`'${ip}' is not an IP address`);
  return `ip:${ipv6Hextets(ip).slice(0, 4).join(':')}::/64`;
}

function ipv6Hextets(ip: string): string[] {
  const bare = ip.split('%')[0].toLowerCase();
  let text = bare;
  // A trailing dotted quad is the last 32 bits.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((h) => Number.parseInt(h, 16).toString(16));
}

/**
 * A short keyed hash of a wrong password, to notice it being typed again. HMAC-SHA-256 under a server key, over the
 * account key and the password, cut to 32 bits: enough to tell three recent passwords apart, too little to confirm
 * a guess offline even with the key.
 */
export function badPasswordTag(key: Uint8Array, accountKey: string, password: string): string {
  return createHmac('sha256', key)
    .update(`portcullis bad password v1\0${accountKey}\0${password.normalize('NFKC')}`)
    .digest('hex')
    .slice(0, 8);
}

// --- reading stored state ------------------------------------------------------------------------------------------

const isTime = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isFinite(v));
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Checks state read back from the store. Anything malformed fails closed: it is replaced by a state locked for the
 * initial lockout period (and reported), rather than by a clean slate an attacker could earn by corrupting a row.
 */
export function readAccountState(
  key: string,
  stored: unknown,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): { state: AccountLockoutState; events: LockoutEvent[] } {
  if (stored === undefined || stored === null) return { state: EMPTY_ACCOUNT_STATE, events: [] };
  const s = stored as Record<string, unknown>;
  const problem =
    typeof stored !== 'object'
      ? 'it is not an object'
      : !isCount(s.failures)
        ? 'failures is not a count'
        : !isTime(s.lastFailureAt)
          ? 'lastFailureAt is not a time'
          : !isCount(s.lockouts)
            ? 'lockouts is not a count'
            : !isTime(s.lockedUntil)
              ? 'lockedUntil is not a time'
              : !Array.isArray(s.badPasswordTags) || !s.badPasswordTags.every((t) => typeof t === 'string')
                ? 'badPasswordTags is not a list of strings'
                : !isCount(s.inFlight)
                  ? 'inFlight is not a count'
                  : !isTime(s.inFlightUntil)
                    ? 'inFlightUntil is not a time'
                    : null;
  if (problem === null) return { state: stored as AccountLockoutState, events: [] };
  return {
    state: {
      ...EMPTY_ACCOUNT_STATE,
      failures: policy.threshold,
      lastFailureAt: now,
      lockouts: 1,
      lockedUntil: now + policy.initialLockoutSeconds * 1000,
    },
    events: [{ type: 'lockout-state-invalid', key, at: now, problem }],
  };
}

/** As readAccountState, for a source's throttle state: malformed state throttles the source. */
export function readIpState(
  key: string,
  stored: unknown,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): { state: IpThrottleState; events: LockoutEvent[] } {
  if (stored === undefined || stored === null) return { state: EMPTY_IP_STATE, events: [] };
  const s = stored as Record<string, unknown>;
  const problem =
    typeof stored !== 'object'
      ? 'it is not an object'
      : !isTime(s.windowStart)
        ? 'windowStart is not a time'
        : !isCount(s.failures)
          ? 'failures is not a count'
          : !isTime(s.throttledUntil)
            ? 'throttledUntil is not a time'
            : !isCount(s.inFlight)
              ? 'inFlight is not a count'
              : !isTime(s.inFlightUntil)
                ? 'inFlightUntil is not a time'
                : null;
  if (problem === null) return { state: stored as IpThrottleState, events: [] };
  return {
    state: { ...EMPTY_IP_STATE, throttledUntil: now + policy.ip.throttleSeconds * 1000 },
    events: [{ type: 'lockout-state-invalid', key, at: now, problem }],
  };
}

// --- account --------------------------------------------------------------------------------------------------------

function quietPeriodMs(s: AccountLockoutState, policy: LockoutPolicy): number {
  return (s.lockouts > 0 ? policy.lockoutMemorySeconds : policy.resetAfterSeconds) * 1000;
}

/** Forgets what time has made stale: abandoned attempts, and everything after a quiet period. */
function refreshAccount(state: AccountLockoutState, now: number, policy: LockoutPolicy): AccountLockoutState {
  let s = state;
  if (s.inFlight > 0 && (s.inFlightUntil === null || now >= s.inFlightUntil)) {
    s = { ...s, inFlight: 0, inFlightUntil: null };
  }
  // The quiet period runs from the later of the last failure and the end of the last lock, so a long lock does not
  // count as quiet time.
  const lastActivity = Math.max(s.lastFailureAt ?? Number.NEGATIVE_INFINITY, s.lockedUntil ?? Number.NEGATIVE_INFINITY);
  if (Number.isFinite(lastActivity) && now - lastActivity >= quietPeriodMs(s, policy)) {
    s = { ...EMPTY_ACCOUNT_STATE, inFlight: s.inFlight, inFlightUntil: s.inFlightUntil };
  }
  return s;
}

export type LockCheck =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'account-locked' | 'ip-throttled'; readonly retryAt: number };

/** Read-only: is the account locked at `now`? */
export function checkAccount(
  state: AccountLockoutState,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): LockCheck {
  const s = refreshAccount(state, now, policy);
  if (s.lockedUntil !== null && now < s.lockedUntil) {
    return { allowed: false, reason: 'account-locked', retryAt: s.lockedUntil };
  }
  return { allowed: true };
}

/**
 * Admits one attempt (before the password is checked) and holds its place until recordAccountFailure or
 * recordAccountSuccess. Refused while locked; also refused when the attempts already running could by themselves
 * reach the threshold, so a burst of parallel guesses gets no more tries than a sequence would. After a lockout has
 * run out, one attempt at a time is admitted: its failure locks again at once, for twice as long.
 */
export function beginAccountAttempt(
  state: AccountLockoutState,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): { state: AccountLockoutState; check: LockCheck } {
  const s = refreshAccount(state, now, policy);
  if (s.lockedUntil !== null && now < s.lockedUntil) {
    return { state: s, check: { allowed: false, reason: 'account-locked', retryAt: s.lockedUntil } };
  }
  const room = Math.max(1, policy.threshold - s.failures);
  if (s.inFlight >= room) {
    const retryAt = s.inFlightUntil ?? now + policy.attemptTimeoutSeconds * 1000;
    return { state: s, check: { allowed: false, reason: 'account-locked', retryAt } };
  }
  return {
    state: { ...s, inFlight: s.inFlight + 1, inFlightUntil: now + policy.attemptTimeoutSeconds * 1000 },
    check: { allowed: true },
  };
}

function release<S extends { inFlight: number; inFlightUntil: number | null }>(s: S): S {
  const inFlight = Math.max(0, s.inFlight - 1);
  return { ...s, inFlight, inFlightUntil: inFlight === 0 ? null : s.inFlightUntil };
}

export type AccountFailureResult = {
  readonly state: AccountLockoutState;
  /** False when the same wrong password was already counted recently. */
  readonly counted: boolean;
  readonly locked: boolean;
  readonly lockedUntil: number | null;
  readonly events: LockoutEvent[];
};

/**
 * Records a failed attempt (wrong password, unknown account, or a verification error, which fails closed). With a
 * `passwordTag` (see badPasswordTag) a wrong password that is one of the last few counted ones is not counted
 * again, as Entra's smart lockout does. Reaching the threshold locks for initial × 2^(lockouts so far), capped.
 */
export function recordAccountFailure(
  key: string,
  state: AccountLockoutState,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
  passwordTag?: string,
): AccountFailureResult {
  const s = release(refreshAccount(state, now, policy));
  const lockedNow = s.lockedUntil !== null && now < s.lockedUntil;
  if (passwordTag !== undefined && s.badPasswordTags.includes(passwordTag)) {
    const next = { ...s, lastFailureAt: now };
    return {
      state: next,
      counted: false,
      locked: lockedNow,
      lockedUntil: lockedNow ? s.lockedUntil : null,
      events: [],
    };
  }
  const tags =
    passwordTag === undefined
      ? s.badPasswordTags
      : [...s.badPasswordTags, passwordTag].slice(-Math.max(0, policy.rememberedBadPasswords));
  const counted: AccountLockoutState = { ...s, failures: s.failures + 1, lastFailureAt: now, badPasswordTags: tags };
  if (lockedNow) {
    // A slow attempt admitted before the lock finished after it: count it, leave the lock as it is.
    return { state: counted, counted: true, locked: true, lockedUntil: s.lockedUntil, events: [] };
  }
  if (counted.failures < policy.threshold) {
    return { state: counted, counted: true, locked: false, lockedUntil: null, events: [] };
  }
  const lockoutSeconds = Math.min(policy.initialLockoutSeconds * 2 ** s.lockouts, policy.maxLockoutSeconds);
  const lockedUntil = now + lockoutSeconds * 1000;
  const locked: AccountLockoutState = { ...counted, lockouts: s.lockouts + 1, lockedUntil };
  return {
    state: locked,
    counted: true,
    locked: true,
    lockedUntil,
    events: [
      {
        type: 'account-locked',
        key,
        at: now,
        lockedUntil,
        lockoutSeconds,
        failures: counted.failures,
        lockouts: locked.lockouts,
      },
    ],
  };
}

/** A successful sign-in clears failures, lockout level and remembered passwords, and ends its attempt. */
export function recordAccountSuccess(
  state: AccountLockoutState,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): AccountLockoutState {
  const s = release(refreshAccount(state, now, policy));
  return { ...EMPTY_ACCOUNT_STATE, inFlight: s.inFlight, inFlightUntil: s.inFlightUntil };
}

/** Ends an admitted attempt that was neither a failure nor a success (say, the request was cancelled). */
export function releaseAccountAttempt(
  state: AccountLockoutState,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): AccountLockoutState {
  return release(refreshAccount(state, now, policy));
}

/** When the store may delete the row: once it would have been forgotten anyway. */
export function accountStateExpiresAt(
  state: AccountLockoutState,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): number {
  const last = Math.max(state.lastFailureAt ?? 0, state.lockedUntil ?? 0);
  return Math.max(last + quietPeriodMs(state, policy), state.inFlightUntil ?? 0);
}

// --- source IP ------------------------------------------------------------------------------------------------------

function refreshIp(state: IpThrottleState, now: number, policy: LockoutPolicy): IpThrottleState {
  let s = state;
  if (s.inFlight > 0 && (s.inFlightUntil === null || now >= s.inFlightUntil)) {
    s = { ...s, inFlight: 0, inFlightUntil: null };
  }
  if (s.throttledUntil !== null && now >= s.throttledUntil) s = { ...s, throttledUntil: null };
  if (s.windowStart !== null && now - s.windowStart >= policy.ip.windowSeconds * 1000) {
    s = { ...s, windowStart: null, failures: 0 };
  }
  return s;
}

/** Read-only: is the source throttled at `now`? */
export function checkIp(
  state: IpThrottleState,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): LockCheck {
  const s = refreshIp(state, now, policy);
  if (s.throttledUntil !== null) return { allowed: false, reason: 'ip-throttled', retryAt: s.throttledUntil };
  return { allowed: true };
}

/**
 * Admits one attempt from a source, holding its place as beginAccountAttempt does: refused while throttled, or when
 * the failures in this window plus the attempts still running already reach the limit.
 */
export function beginIpAttempt(
  state: IpThrottleState,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): { state: IpThrottleState; check: LockCheck } {
  const s = refreshIp(state, now, policy);
  if (s.throttledUntil !== null) {
    return { state: s, check: { allowed: false, reason: 'ip-throttled', retryAt: s.throttledUntil } };
  }
  if (s.failures + s.inFlight > policy.ip.maxFailures) {
    const retryAt = s.inFlightUntil ?? now + policy.attemptTimeoutSeconds * 1000;
    return { state: s, check: { allowed: false, reason: 'ip-throttled', retryAt } };
  }
  return {
    state: { ...s, inFlight: s.inFlight + 1, inFlightUntil: now + policy.attemptTimeoutSeconds * 1000 },
    check: { allowed: true },
  };
}

export type IpFailureResult = {
  readonly state: IpThrottleState;
  readonly throttled: boolean;
  readonly throttledUntil: number | null;
  readonly events: LockoutEvent[];
};

/** Records a failure from a source; one more than `maxFailures` in a window throttles it for `throttleSeconds`. */
export function recordIpFailure(
  key: string,
  state: IpThrottleState,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): IpFailureResult {
  const s = release(refreshIp(state, now, policy));
  const counted: IpThrottleState = { ...s, windowStart: s.windowStart ?? now, failures: s.failures + 1 };
  if (s.throttledUntil !== null) {
    return { state: counted, throttled: true, throttledUntil: s.throttledUntil, events: [] };
  }
  if (counted.failures <= policy.ip.maxFailures) {
    return { state: counted, throttled: false, throttledUntil: null, events: [] };
  }
  const throttledUntil = now + policy.ip.throttleSeconds * 1000;
  return {
    state: { ...counted, throttledUntil },
    throttled: true,
    throttledUntil,
    events: [{ type: 'ip-throttled', key, at: now, throttledUntil, failures: counted.failures }],
  };
}

/** A success from a source ends its attempt; it does not forgive the source's failures (a sprayer succeeds too). */
export function recordIpSuccess(
  state: IpThrottleState,
  now: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): IpThrottleState {
  return release(refreshIp(state, now, policy));
}

/** When the store may delete the row. */
export function ipStateExpiresAt(state: IpThrottleState, policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY): number {
  return Math.max(
    (state.windowStart ?? 0) + policy.ip.windowSeconds * 1000,
    state.throttledUntil ?? 0,
    state.inFlightUntil ?? 0,
  );
}

/** Checks a policy from configuration, naming each bad option. */
export function lockoutPolicyProblems(policy: LockoutPolicy): string[] {
  const problems: string[] = [];
  const whole = (path: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min) {
      problems.push(
        `lockout: option '${path}' must be a whole number of at least ${min} but it's configured as '${value}'`,
      );
    }
  };
  whole('threshold', policy.threshold, 1);
  whole('initialLockoutSeconds', policy.initialLockoutSeconds, 1);
  whole('maxLockoutSeconds', policy.maxLockoutSeconds, 1);
  whole('resetAfterSeconds', policy.resetAfterSeconds, 1);
  whole('lockoutMemorySeconds', policy.lockoutMemorySeconds, 1);
  whole('rememberedBadPasswords', policy.rememberedBadPasswords, 0);
  whole('attemptTimeoutSeconds', policy.attemptTimeoutSeconds, 1);
  whole('ip.maxFailures', policy.ip.maxFailures, 1);
  whole('ip.windowSeconds', policy.ip.windowSeconds, 1);
  whole('ip.throttleSeconds', policy.ip.throttleSeconds, 1);
  if (policy.lockoutMemorySeconds < policy.resetAfterSeconds) {
    problems.push(
      `lockout: option 'lockoutMemorySeconds' must be at least resetAfterSeconds (${policy.resetAfterSeconds}) but it's configured as '${policy.lockoutMemorySeconds}'`,
    );
  }
  if (policy.maxLockoutSeconds < policy.initialLockoutSeconds) {
    problems.push(
      `lockout: option 'maxLockoutSeconds' must be at least initialLockoutSeconds (${policy.initialLockoutSeconds}) but it's configured as '${policy.maxLockoutSeconds}'`,
    );
  }
  return problems;
}
