// Enrolling a passkey during sign-in, for a user whom Conditional Access asks for MFA and who has no method yet: the
// WebAuthn registration ceremony, checked under the user's MFA lockout. A registered passkey satisfies MFA for this
// sign-in, as a confirmed TOTP code does, and the user gets recovery codes if they have none.

import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import {
  parseRegistrationResponse,
  passkeyAmr,
  passkeyRegistrationOptions,
  type RelyingParty,
  verifyPasskeyRegistration,
} from '../auth/webauthn.ts';
import type { User } from '../directory/users.ts';
import type { ClientIp } from '../net/client-ip.ts';
import { guarded, recoveryCodesIfNone, type SecondFactorDeps, type SecondFactorResult } from './second-factor.ts';

/**
 * Options for navigator.credentials.create() (attestation `none`, resident key and user verification `preferred`;
 * see auth/webauthn.ts), with the user's active passkeys excluded. The challenge is kept server-side under
 * `challengeId`; `userHandle` must be kept by the caller too, for confirmPasskeyEnrolment.
 */
export async function passkeyEnrolmentOptions(
  deps: SecondFactorDeps,
  input: { user: User; userHandle: string; challengeId: string; rp: RelyingParty },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await deps.credentials.webauthn.listByUser(input.user.id);
  const { options, pending } = await passkeyRegistrationOptions({
    rp: input.rp,
    user: {
      id: input.user.id,
      userHandle: input.userHandle,
      name: input.user.userPrincipalName,
      displayName: input.user.displayName,
    },
    // A passkey disabled as a clone is no reason to refuse the authenticator that held the original.
    existing: existing.filter((c) => c.disabledAt === null),
    now: deps.clock.now(),
  });
  await deps.credentials.challenges.put(input.challengeId, pending);
  return options;
}

/**
 * Verifies the browser's answer to passkeyEnrolmentOptions and stores the passkey. RFC 8176: `hwk` for a key bound
 * to one device, `swk` for a synced passkey; with `mfa`. On success, `recoveryCodes` holds codes to show once (empty
 * when the user still has unused ones).
 */
export async function confirmPasskeyEnrolment(
  deps: SecondFactorDeps,
  input: {
    userId: string;
    userHandle: string;
    response: unknown;
    challengeId: string;
    rp: RelyingParty;
    /** What the user will see the passkey as, e.g. "Chrome 131 on windows". */
    name: string;
    clientIp: ClientIp;
  },
): Promise<SecondFactorResult & { recoveryCodes?: readonly string[] }> {
  let amr: readonly string[] = ['mfa'];
  const result = await guarded(deps, input.userId, input.clientIp, amr, async () => {
    const response = parseRegistrationResponse(input.response);
    // Taken whatever the answer is, so a challenge is answered at most once.
    const pending = await deps.credentials.challenges.take(input.challengeId);
    if (!response) return { ok: false, why: 'the passkey answer is not a WebAuthn registration' };
    if (!input.userHandle) return { ok: false, why: 'no passkey registration was begun (no user handle)' };
    const existing = await deps.credentials.webauthn.listByUser(input.userId);
    const registered = await verifyPasskeyRegistration({
      rp: input.rp,
      response,
      pending,
      user: { id: input.userId, userHandle: input.userHandle },
      existing,
      name: input.name,
      now: deps.clock.now(),
    });
    if (!registered.ok) return { ok: false, why: `passkey registration ${registered.reason}: ${registered.detail}` };
    // Another user's passkey with the same id (unique per tenant) is not replaced.
    if (await deps.credentials.webauthn.getById(registered.credential.credentialId)) {
      return { ok: false, why: 'passkey registration already-registered: the credential id is in use' };
    }
    await deps.credentials.webauthn.put(registered.credential);
    amr = [passkeyAmr(registered.credential.deviceType), 'mfa'];
    return { ok: true, why: '' };
  });
  if (!result.ok) return result;
  return { ok: true, amr, recoveryCodes: await recoveryCodesIfNone(deps, input.userId) };
}
