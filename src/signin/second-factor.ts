// The second factor of the sign-in pipeline: a TOTP code, a recovery code, a passkey, or a first TOTP enrolment, each
// checked under the user's own MFA lockout (a wrong code counts; too many lock MFA for a while), each code usable once.
// Passkey enrolment is in passkey-enrolment.ts, passwordless passkey sign-in in passkey-first-factor.ts.

import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { guardAttempt } from '../auth/attempt-guard.ts';
import { type LockoutPolicy, mfaLockoutKey } from '../auth/lockout.ts';
import { checkRecoveryCode, generateRecoveryCodes } from '../auth/recovery-codes.ts';
import { verifyTotp } from '../auth/totp.ts';
import {
  parseAuthenticationResponse,
  passkeyAmr,
  passkeyAuthenticationOptions,
  type RelyingParty,
  verifyPasskeyAuthentication,
} from '../auth/webauthn.ts';
import type { Clock } from '../clock.ts';
import type { ClientIp } from '../net/client-ip.ts';
import type { CredentialPorts } from './ports.ts';

export interface SecondFactorDeps {
  readonly credentials: CredentialPorts;
  readonly clock: Clock;
  readonly lockoutPolicy?: LockoutPolicy;
}

export type SecondFactorResult =
  | { readonly ok: true; readonly amr: readonly string[] }
  | { readonly ok: false; readonly errorCode: 500121 | 50053; readonly failureReason: string };

/** What the user can answer the MFA prompt with. */
export interface MfaMethods {
  readonly totp: boolean;
  readonly recoveryCodes: boolean;
  readonly passkeys: boolean;
}

export async function mfaMethodsOf(credentials: CredentialPorts, userId: string): Promise<MfaMethods> {
  const [totp, codes, passkeys] = await Promise.all([
    credentials.totp.get(userId),
    credentials.recoveryCodes.list(userId),
    credentials.webauthn.listByUser(userId),
  ]);
  return {
    totp: totp !== undefined && totp.confirmedAt !== null,
    recoveryCodes: codes.some((c) => c.usedAt === null),
    passkeys: passkeys.some((p) => p.disabledAt === null),
  };
}

/** Runs one second-factor check under the user's MFA lockout (`mfa:{userId}`) and the source's throttle. */
export async function guarded(
  deps: SecondFactorDeps,
  userId: string,
  clientIp: ClientIp,
  amr: readonly string[],
  check: () => Promise<{ ok: boolean; why: string }>,
): Promise<SecondFactorResult> {
  let why = 'the code was not accepted';
  const outcome = await guardAttempt(
    { lockouts: deps.credentials.lockouts, clock: deps.clock, policy: deps.lockoutPolicy },
    {
      accountKey: mfaLockoutKey(userId),
      ip: clientIp.text,
      burn: async () => {},
      check: async () => {
        const result = await check();
        why = result.why;
        return result.ok;
      },
    },
  );
  if (outcome.outcome === 'success') return { ok: true, amr };
  if (outcome.outcome === 'refused') {
    return { ok: false, errorCode: 50053, failureReason: `MFA lockout: ${outcome.reason}` };
  }
  return { ok: false, errorCode: 500121, failureReason: why };
}

export function verifyTotpStep(
  deps: SecondFactorDeps,
  input: { userId: string; code: unknown; clientIp: ClientIp },
): Promise<SecondFactorResult> {
  return guarded(deps, input.userId, input.clientIp, ['otp', 'mfa'], async () => {
    const credential = await deps.credentials.totp.get(input.userId);
    if (!credential || credential.confirmedAt === null) return { ok: false, why: 'the user has no confirmed TOTP' };
    const verification = await verifyTotp({
      secret: credential.secret,
      code: typeof input.code === 'string' ? input.code : '',
      nowMs: deps.clock.now(),
      lastUsedStep: credential.lastUsedStep,
    });
    if (!verification.ok) return { ok: false, why: `TOTP code ${verification.reason}` };
    // RFC 6238 §5.2: one use per time step, enforced atomically against a concurrent request with the same code.
    if (!(await deps.credentials.totp.markStepUsed(input.userId, verification.step))) {
      return { ok: false, why: 'TOTP code replayed' };
    }
    return { ok: true, why: '' };
  });
}

export function verifyRecoveryCodeStep(
  deps: SecondFactorDeps,
  input: { userId: string; code: unknown; clientIp: ClientIp },
): Promise<SecondFactorResult> {
  return guarded(deps, input.userId, input.clientIp, ['mfa'], async () => {
    const stored = await deps.credentials.recoveryCodes.list(input.userId);
    const check = checkRecoveryCode(input.userId, typeof input.code === 'string' ? input.code : '', stored);
    if (!check.ok) return { ok: false, why: `recovery code ${check.reason}` };
    if (!(await deps.credentials.recoveryCodes.markUsed(input.userId, check.id, deps.clock.now()))) {
      return { ok: false, why: 'recovery code already used' };
    }
    return { ok: true, why: '' };
  });
}

/**
 * Confirms a TOTP enrolment begun in this sign-in: the first correct code proves the user's app holds `secret`.
 * On success the secret is stored as confirmed (with the step used) and a fresh set of recovery codes is returned,
 * to show once.
 */
export async function confirmTotpEnrolment(
  deps: SecondFactorDeps,
  input: { userId: string; secret: string; code: unknown; clientIp: ClientIp },
): Promise<SecondFactorResult & { recoveryCodes?: readonly string[] }> {
  let step = 0;
  const result = await guarded(deps, input.userId, input.clientIp, ['otp', 'mfa'], async () => {
    const verification = await verifyTotp({
      secret: input.secret,
      code: typeof input.code === 'string' ? input.code : '',
      nowMs: deps.clock.now(),
      lastUsedStep: null,
    });
    if (!verification.ok) return { ok: false, why: `enrolment TOTP code ${verification.reason}` };
    step = verification.step;
    return { ok: true, why: '' };
  });
  if (!result.ok) return result;
  const now = deps.clock.now();
  await deps.credentials.totp.put({
    userId: input.userId,
    secret: input.secret,
    lastUsedStep: step,
    createdAt: now,
    confirmedAt: now,
  });
  return { ...result, recoveryCodes: await recoveryCodesIfNone(deps, input.userId) };
}

/**
 * After a first MFA method is enrolled: a fresh set of recovery codes when the user has no unused one (to show once),
 * otherwise none, so enrolling does not silently invalidate codes the user has saved.
 */
export async function recoveryCodesIfNone(deps: SecondFactorDeps, userId: string): Promise<readonly string[]> {
  const stored = await deps.credentials.recoveryCodes.list(userId);
  if (stored.some((c) => c.usedAt === null)) return [];
  const now = deps.clock.now();
  const codes = generateRecoveryCodes(userId);
  await deps.credentials.recoveryCodes.replaceAll(
    userId,
    codes.stored.map((c) => ({ userId, id: c.id, hash: c.hash, usedAt: null, createdAt: now })),
  );
  return codes.codes;
}

/** The WebAuthn relying party of a tenant's sign-in pages: the RP ID is the public host, the origin its origin. */
export function relyingPartyFor(issuer: string): RelyingParty {
  const url = new URL(issuer);
  return { rpId: url.hostname, rpName: 'Portcullis', origins: [url.origin] };
}

/** Options for navigator.credentials.get(), limited to the user's passkeys; the challenge is kept server-side. */
export async function passkeyChallenge(
  deps: SecondFactorDeps,
  input: { userId: string; challengeId: string; rp: RelyingParty },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const allow = await deps.credentials.webauthn.listByUser(input.userId);
  const { options, pending } = await passkeyAuthenticationOptions({
    rp: input.rp,
    userId: input.userId,
    allow,
    now: deps.clock.now(),
  });
  await deps.credentials.challenges.put(input.challengeId, pending);
  return options;
}

/**
 * Verifies the browser's passkey assertion as the second factor. RFC 8176: `hwk` for a key bound to one device,
 * `swk` for a synced passkey; with `mfa`. A counter that went backwards disables the passkey (a clone).
 */
export function verifyPasskeyStep(
  deps: SecondFactorDeps,
  input: { userId: string; response: unknown; challengeId: string; rp: RelyingParty; clientIp: ClientIp },
): Promise<SecondFactorResult> {
  let amr: readonly string[] = ['mfa'];
  return guarded(deps, input.userId, input.clientIp, amr, async () => {
    const response = parseAuthenticationResponse(input.response);
    const pending = await deps.credentials.challenges.take(input.challengeId);
    if (!response) return { ok: false, why: 'the passkey answer is not a WebAuthn assertion' };
    const credential = await deps.credentials.webauthn.getById(response.id);
    const result = await verifyPasskeyAuthentication({
      rp: input.rp,
      response,
      pending,
      credential: credential?.userId === input.userId ? credential : undefined,
      now: deps.clock.now(),
    });
    if (!result.ok) {
      if (result.reason === 'cloned') await deps.credentials.webauthn.disable(response.id, deps.clock.now());
      return { ok: false, why: `passkey ${result.reason}: ${result.detail}` };
    }
    const recorded = await deps.credentials.webauthn.recordUse(result.credentialId, {
      expectedCounter: credential?.counter ?? 0,
      counter: result.newCounter,
      lastUsedAt: deps.clock.now(),
      backedUp: result.backedUp,
    });
    if (!recorded) return { ok: false, why: 'passkey used by a concurrent sign-in' };
    amr = [passkeyAmr(credential?.deviceType ?? 'singleDevice'), 'mfa'];
    return { ok: true, why: '' };
  }).then((result) => (result.ok ? { ok: true, amr } : result));
}
