// The first factor: a sign-in name and password checked under smart lockout. Unknown names and locked accounts take
// as long and answer as a wrong password or a lock would, so the answer never reveals more than "not now".

import { type AttemptGuardDeps, guardAttempt } from './attempt-guard.ts';
import { accountLockoutKey, badPasswordTag, type LockoutEvent } from './lockout.ts';
import {
  type Argon2Params,
  burnVerificationTime,
  needsRehash,
  OWASP_ARGON2ID,
  PasswordHashFormatError,
  verifyPassword,
} from './password-hash.ts';

export type PasswordSignInDeps = AttemptGuardDeps & {
  /** The tenant's key for badPasswordTag (from the keyring); never stored beside the tags. */
  readonly badPasswordKey: Uint8Array;
  /** The cost new hashes get; a verified hash with other parameters is reported for rehashing. */
  readonly hashParams?: Argon2Params;
};

export type PasswordSignInInput = {
  /** The name as the person typed it (normalised for the lockout key). */
  readonly signInName: string;
  readonly ip: string;
  /** The client IP is in a trusted location: failures count apart from those elsewhere (see accountLockoutKey). */
  readonly fromTrustedLocation?: boolean;
  readonly password: string;
  /** The account's stored PHC string, or null when the name matches no account or it has no password. */
  readonly phc: string | null;
};

export type PasswordSignInResult =
  | {
      readonly outcome: 'success';
      /** The stored hash uses other parameters than `hashParams`: store hashPassword(password) now. */
      readonly rehash: boolean;
      readonly events: LockoutEvent[];
    }
  | {
      /** AADSTS50126: invalid username or password (also for unknown names). */
      readonly outcome: 'invalid-credentials';
      readonly errorCode: 50126;
      readonly events: LockoutEvent[];
      /** Set when the stored hash could not be read; the sign-in failed closed. Log it; never show it. */
      readonly problem?: string;
    }
  | {
      /** AADSTS50053: locked (account) or throttled (source); the password was not checked. */
      readonly outcome: 'locked';
      readonly errorCode: 50053;
      readonly reason: 'account-locked' | 'ip-throttled';
      readonly retryAt: number;
      readonly events: LockoutEvent[];
    };

export async function signInWithPassword(
  deps: PasswordSignInDeps,
  input: PasswordSignInInput,
): Promise<PasswordSignInResult> {
  const accountKey = accountLockoutKey(input.signInName, input.fromTrustedLocation ?? false);
  const params = deps.hashParams ?? OWASP_ARGON2ID;
  const burn = () => burnVerificationTime(input.password, input.phc ?? undefined, params);
  const guarded = await guardAttempt(deps, {
    accountKey,
    ip: input.ip,
    passwordTag: badPasswordTag(deps.badPasswordKey, accountKey, String(input.password)),
    burn,
    check: async () => {
      if (input.phc === null) {
        await burn();
        return false;
      }
      return verifyPassword(input.phc, input.password);
    },
  });
  switch (guarded.outcome) {
    case 'success':
      return { outcome: 'success', rehash: needsRehash(input.phc!, params), events: guarded.events };
    case 'refused':
      return {
        outcome: 'locked',
        errorCode: 50053,
        reason: guarded.reason,
        retryAt: guarded.retryAt,
        events: guarded.events,
      };
    case 'failure': {
      const result = { outcome: 'invalid-credentials', errorCode: 50126, events: guarded.events } as const;
      if (!('error' in guarded)) return result;
      const problem =
        guarded.error instanceof PasswordHashFormatError
          ? `stored password hash: ${guarded.error.message}`
          : `password verification failed: ${guarded.error instanceof Error ? guarded.error.message : String(guarded.error)}`;
      return { ...result, problem };
    }
  }
}
