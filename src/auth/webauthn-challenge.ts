// WebAuthn challenges: random, single use, for one purpose, and short-lived. The caller keeps them server-side
// (WebAuthnChallengePort) between sending the options and receiving the browser's response.

import { randomBytes } from 'node:crypto';

/** WebAuthn Level 3 section 13.4.3: challenges "SHOULD be at least 16 bytes long". We use 32. */
export const CHALLENGE_BYTES = 32;
/**
 * How long a challenge stays answerable. The options carry the same value as `timeout`; WebAuthn Level 3 section
 * 15.1 recommends 300000 ms (5 minutes) to 600000 ms when user verification may be asked for.
 */
export const DEFAULT_CHALLENGE_TTL_MS = 5 * 60 * 1000;

export type ChallengePurpose = 'registration' | 'authentication';

export type PendingChallenge = {
  /** Base64url, exactly as sent in the options' `challenge`. */
  readonly challenge: string;
  readonly purpose: ChallengePurpose;
  /** The user it was issued for; null for usernameless sign-in, where the credential names the user. */
  readonly userId: string | null;
  readonly issuedAt: number;
  readonly expiresAt: number;
};

export function newChallenge(
  purpose: ChallengePurpose,
  userId: string | null,
  now: number,
  ttlMs: number = DEFAULT_CHALLENGE_TTL_MS,
): PendingChallenge {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`challenge lifetime must be positive, not ${ttlMs}`);
  return {
    challenge: randomBytes(CHALLENGE_BYTES).toString('base64url'),
    purpose,
    userId,
    issuedAt: now,
    expiresAt: now + ttlMs,
  };
}

export type ChallengeCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'missing' | 'expired' | 'wrong-purpose'; readonly detail: string };

/**
 * Whether a stored challenge may still be answered for `purpose` at `now`. Fails closed: no challenge (never issued,
 * already taken, or lost) is as bad as an expired one.
 */
export function checkChallenge(
  pending: PendingChallenge | undefined,
  purpose: ChallengePurpose,
  now: number,
): ChallengeCheck {
  if (pending === undefined) {
    return { ok: false, reason: 'missing', detail: 'no challenge is pending (never issued, already used, or expired)' };
  }
  if (pending.purpose !== purpose) {
    return {
      ok: false,
      reason: 'wrong-purpose',
      detail: `the pending challenge was issued for ${pending.purpose}, not ${purpose}`,
    };
  }
  if (!(now < pending.expiresAt)) {
    return {
      ok: false,
      reason: 'expired',
      detail: `the challenge expired ${Math.round((now - pending.expiresAt) / 1000)} s ago`,
    };
  }
  return { ok: true };
}
