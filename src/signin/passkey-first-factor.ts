// Passwordless sign-in with a passkey ("Sign in with a passkey"): usernameless, so the discoverable credential the
// browser offers names the user. An assertion with user verification (PIN, biometrics) is something the user has and
// something they know or are, so it is the first factor and satisfies MFA at once.
//
// Checked under the same lockout as a second factor (`mfa:{userId}`, and the source's throttle): a passkey is the
// user's MFA method, so someone who locked it by guessing codes cannot go round the lock here, while a password
// lockout (`account:…`) does not stop the owner of the passkey. Answers naming no registered passkey count against
// the source under `passkey-unknown:{ip key}`, so spraying credential ids is throttled like guessing passwords.

import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { guardAttempt } from '../auth/attempt-guard.ts';
import { ipLockoutKey, type LockoutPolicy, mfaLockoutKey } from '../auth/lockout.ts';
import {
  parseAuthenticationResponse,
  passkeyAmr,
  passkeyAuthenticationOptions,
  type RelyingParty,
  verifyPasskeyAuthentication,
} from '../auth/webauthn.ts';
import type { Clock } from '../clock.ts';
import type { Directory } from '../directory/directory.ts';
import type { User } from '../directory/users.ts';
import type { ClientIp } from '../net/client-ip.ts';
import type { CredentialPorts } from './ports.ts';

export interface PasskeyFirstFactorDeps {
  readonly directory: Directory;
  readonly credentials: CredentialPorts;
  readonly clock: Clock;
  readonly lockoutPolicy?: LockoutPolicy;
}

export type PasskeyFirstFactorResult =
  | { readonly ok: true; readonly user: User; readonly amr: readonly string[] }
  | {
      readonly ok: false;
      /** 800121 the passkey was not accepted; 50053 locked or throttled; 50057 the account is disabled. */
      readonly errorCode: 800121 | 50053 | 50057;
      /** The passkey's owner, when the answer named a registered passkey. */
      readonly user?: User;
      /** For the sign-in log only. */
      readonly failureReason: string;
    };

/** The lockout key for answers that name no registered passkey: per source, apart from its password throttle. */
export function unknownPasskeyLockoutKey(ip: string): string {
  return `passkey-unknown:${ipLockoutKey(ip)}`;
}

/**
 * Options for navigator.credentials.get() with no allowCredentials (the browser offers the passkeys it holds for
 * the RP ID) and user verification required; the challenge, bound to no user, is kept server-side.
 */
export async function passkeySignInOptions(
  deps: Pick<PasskeyFirstFactorDeps, 'credentials' | 'clock'>,
  input: { challengeId: string; rp: RelyingParty },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { options, pending } = await passkeyAuthenticationOptions({
    rp: input.rp,
    userId: null,
    userVerification: 'required',
    now: deps.clock.now(),
  });
  await deps.credentials.challenges.put(input.challengeId, pending);
  return options;
}

/**
 * Verifies a usernameless passkey assertion: the challenge (taken, so it is answered once), the credential the
 * answer names and its user handle, the signature, user verification, and the signature counter (a counter that
 * does not rise disables the passkey as a clone; the new one is stored with a compare-and-set). A disabled account
 * is reported only after a good assertion, as after a right password.
 */
export async function passkeyFirstFactor(
  deps: PasskeyFirstFactorDeps,
  input: { response: unknown; challengeId: string; rp: RelyingParty; clientIp: ClientIp },
): Promise<PasskeyFirstFactorResult> {
  const response = parseAuthenticationResponse(input.response);
  const pending = await deps.credentials.challenges.take(input.challengeId);
  const credential = response ? await deps.credentials.webauthn.getById(response.id) : undefined;
  const owner = credential ? await deps.directory.users.get(credential.userId) : undefined;
  let why = 'the passkey was not accepted';
  const outcome = await guardAttempt(
    { lockouts: deps.credentials.lockouts, clock: deps.clock, policy: deps.lockoutPolicy },
    {
      accountKey: owner ? mfaLockoutKey(owner.id) : unknownPasskeyLockoutKey(input.clientIp.text),
      ip: input.clientIp.text,
      burn: async () => {},
      check: async () => {
        if (!response) {
          why = 'the passkey answer is not a WebAuthn assertion (none, cancelled, or malformed)';
          return false;
        }
        if (!credential || !owner) {
          why = credential ? "the passkey's user no longer exists" : 'no registered passkey has this credential id';
          return false;
        }
        const result = await verifyPasskeyAuthentication({
          rp: input.rp,
          response,
          pending,
          credential,
          requireUserVerification: true,
          now: deps.clock.now(),
        });
        if (!result.ok) {
          if (result.reason === 'cloned')
            await deps.credentials.webauthn.disable(credential.credentialId, deps.clock.now());
          why = `passkey ${result.reason}: ${result.detail}`;
          return false;
        }
        // requireUserVerification already refuses an assertion without UV; checked again because it is what makes
        // this one step multifactor.
        if (!result.userVerified) {
          why = 'passkey invalid: the authenticator did not verify the user';
          return false;
        }
        const recorded = await deps.credentials.webauthn.recordUse(result.credentialId, {
          expectedCounter: credential.counter,
          counter: result.newCounter,
          lastUsedAt: deps.clock.now(),
          backedUp: result.backedUp,
        });
        if (!recorded) why = 'passkey used by a concurrent sign-in';
        return recorded;
      },
    },
  );
  if (outcome.outcome === 'refused') {
    return { ok: false, errorCode: 50053, user: owner, failureReason: `passkey lockout: ${outcome.reason}` };
  }
  if (outcome.outcome === 'failure' || !owner || !credential) {
    return { ok: false, errorCode: 800121, user: owner, failureReason: why };
  }
  if (!owner.accountEnabled)
    return { ok: false, errorCode: 50057, user: owner, failureReason: 'the account is disabled' };
  return { ok: true, user: owner, amr: [passkeyAmr(credential.deviceType), 'mfa'] };
}
