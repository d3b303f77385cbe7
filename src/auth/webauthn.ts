// WebAuthn passkeys with @simplewebauthn/server: registration and authentication options, verification of the
// browser's responses against a server-side challenge, and the signature-counter check that detects cloned keys.

import { randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { WebAuthnCredentialRecord } from './ports.ts';
import { checkChallenge, DEFAULT_CHALLENGE_TTL_MS, newChallenge, type PendingChallenge } from './webauthn-challenge.ts';

/** The relying party, from configuration: the RP ID is the registrable domain; origins are full https origins. */
export type RelyingParty = {
  readonly rpId: string;
  readonly rpName: string;
  /** Every origin the sign-in page is served from, e.g. `https://login.contoso.com`. */
  readonly origins: readonly string[];
};

/** Checks relying-party configuration, naming each bad value. */
export function relyingPartyProblems(rp: RelyingParty): string[] {
  const problems: string[] = [];
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rp.rpId)) {
    problems.push(`webauthn: option 'rpId' must be a lower-case domain name but it's configured as '${rp.rpId}'`);
  }
  if (!rp.rpName) problems.push(`webauthn: option 'rpName' must not be empty`);
  if (rp.origins.length === 0) problems.push(`webauthn: option 'origins' must list at least one origin`);
  for (const origin of rp.origins) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      problems.push(`webauthn: origin '${origin}' is not a URL`);
      continue;
    }
    if (url.origin !== origin) {
      problems.push(`webauthn: origin '${origin}' must be scheme://host[:port] only, i.e. '${url.origin}'`);
    }
    // WebAuthn runs only in secure contexts: https, or http on localhost for development.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && url.hostname === 'localhost')) {
      problems.push(`webauthn: origin '${origin}' must use https (http is allowed only for localhost)`);
    }
    // The RP ID must be the origin's host or a registrable suffix of it (WebAuthn Level 3 section 5.1.3 / 5.4).
    if (url.hostname !== rp.rpId && !url.hostname.endsWith(`.${rp.rpId}`)) {
      problems.push(`webauthn: origin '${origin}' is not on the RP ID '${rp.rpId}' or a subdomain of it`);
    }
  }
  return problems;
}

/** A new WebAuthn user handle: 64 random bytes (the maximum; WebAuthn says it must not identify the user). */
export function generateUserHandle(): string {
  return randomBytes(64).toString('base64url');
}

/**
 * The user handle for a new registration: the one the user's passkeys already carry (one handle per user, so an
 * authenticator keeps one account per user and replaces it rather than adding a second), or a new one.
 */
export function userHandleFor(existing: readonly WebAuthnCredentialRecord[]): string {
  return existing[0]?.userHandle ?? generateUserHandle();
}

/**
 * RFC 8176 `amr` for a passkey: `hwk` (proof of possession of a hardware-secured key) for a key bound to one device,
 * `swk` (software-secured key) for a synced, multi-device passkey whose private key leaves the device.
 */
export function passkeyAmr(deviceType: WebAuthnCredentialRecord['deviceType']): 'hwk' | 'swk' {
  return deviceType === 'multiDevice' ? 'swk' : 'hwk';
}

/** The most a browser's answer may weigh (a credential id is at most 1023 bytes; attestation `none` is small). */
export const MAX_RESPONSE_CHARS = 16 * 1024;

/**
 * The browser's answer as posted by the sign-in pages (`JSON.stringify(credential.toJSON())`), or undefined when it
 * is missing, too long, not JSON or not shaped like a WebAuthn response of that kind. The library checks the rest.
 */
export function parseAuthenticationResponse(value: unknown): AuthenticationResponseJSON | undefined {
  const parsed = parseResponse(value);
  return parsed && typeof parsed.response.signature === 'string'
    ? (parsed as unknown as AuthenticationResponseJSON)
    : undefined;
}

export function parseRegistrationResponse(value: unknown): RegistrationResponseJSON | undefined {
  const parsed = parseResponse(value);
  return parsed && typeof parsed.response.attestationObject === 'string'
    ? (parsed as unknown as RegistrationResponseJSON)
    : undefined;
}

function parseResponse(value: unknown): { id: string; response: Record<string, unknown> } | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RESPONSE_CHARS) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { id, response } = parsed as { id?: unknown; response?: unknown };
  if (typeof id !== 'string' || id.length === 0 || response === null || typeof response !== 'object') return undefined;
  return parsed as { id: string; response: Record<string, unknown> };
}

/**
 * Options for navigator.credentials.create(), and the challenge to keep server-side. Resident key and user
 * verification are "preferred" so the authenticator makes a discoverable passkey (usernameless sign-in) where it can;
 * the user's existing credentials are excluded so the same authenticator is not registered twice.
 */
export async function passkeyRegistrationOptions(input: {
  rp: RelyingParty;
  user: { id: string; userHandle: string; name: string; displayName: string };
  existing: readonly WebAuthnCredentialRecord[];
  now: number;
  ttlMs?: number;
}): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; pending: PendingChallenge }> {
  const ttlMs = input.ttlMs ?? DEFAULT_CHALLENGE_TTL_MS;
  const pending = newChallenge('registration', input.user.id, input.now, ttlMs);
  const options = await generateRegistrationOptions({
    rpName: input.rp.rpName,
    rpID: input.rp.rpId,
    userName: input.user.name,
    userID: Buffer.from(input.user.userHandle, 'base64url'),
    userDisplayName: input.user.displayName,
    challenge: Buffer.from(pending.challenge, 'base64url'),
    timeout: ttlMs,
    attestationType: 'none',
    excludeCredentials: input.existing.map((c) => ({ id: c.credentialId, transports: [...c.transports] })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
  return { options, pending };
}

export type PasskeyRegistrationResult =
  | { readonly ok: true; readonly credential: WebAuthnCredentialRecord }
  | {
      readonly ok: false;
      readonly reason: 'missing' | 'expired' | 'wrong-purpose' | 'invalid' | 'already-registered';
      readonly detail: string;
    };

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Verifies the browser's answer to passkeyRegistrationOptions: the pending challenge (taken from the store) must be
 * a registration challenge for this user and unexpired, then @simplewebauthn/server checks the client data (type,
 * challenge, origin), the RP ID hash, user presence and the attestation. Returns the record to store.
 */
export async function verifyPasskeyRegistration(input: {
  rp: RelyingParty;
  response: RegistrationResponseJSON;
  pending: PendingChallenge | undefined;
  user: { id: string; userHandle: string };
  existing: readonly WebAuthnCredentialRecord[];
  name: string;
  now: number;
}): Promise<PasskeyRegistrationResult> {
  const challenge = checkChallenge(input.pending, 'registration', input.now);
  if (!challenge.ok) return challenge;
  if (input.pending!.userId !== input.user.id) {
    return { ok: false, reason: 'wrong-purpose', detail: 'the pending challenge was issued for another user' };
  }
  let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verified = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: input.pending!.challenge,
      expectedOrigin: [...input.rp.origins],
      expectedRPID: input.rp.rpId,
      requireUserPresence: true,
      // "preferred" was asked for: an authenticator without user verification still makes a valid credential.
      requireUserVerification: false,
    });
  } catch (error) {
    return { ok: false, reason: 'invalid', detail: message(error) };
  }
  if (!verified.verified) return { ok: false, reason: 'invalid', detail: 'the attestation did not verify' };
  const info = verified.registrationInfo;
  if (input.existing.some((c) => c.credentialId === info.credential.id)) {
    return { ok: false, reason: 'already-registered', detail: 'this passkey is already registered' };
  }
  return {
    ok: true,
    credential: {
      userId: input.user.id,
      credentialId: info.credential.id,
      publicKey: info.credential.publicKey,
      counter: info.credential.counter,
      transports: info.credential.transports ?? input.response.response.transports ?? [],
      userHandle: input.user.userHandle,
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      aaguid: info.aaguid,
      name: input.name,
      createdAt: input.now,
      lastUsedAt: null,
      disabledAt: null,
    },
  };
}

/**
 * Options for navigator.credentials.get(). Without `allow` (usernameless sign-in) the browser offers every passkey
 * it holds for the RP ID; with `allow` (the user is known, e.g. passkey as a second factor) only those.
 */
export async function passkeyAuthenticationOptions(input: {
  rp: RelyingParty;
  userId: string | null;
  allow?: readonly WebAuthnCredentialRecord[];
  userVerification?: 'required' | 'preferred';
  now: number;
  ttlMs?: number;
}): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; pending: PendingChallenge }> {
  const ttlMs = input.ttlMs ?? DEFAULT_CHALLENGE_TTL_MS;
  const pending = newChallenge('authentication', input.userId, input.now, ttlMs);
  const options = await generateAuthenticationOptions({
    rpID: input.rp.rpId,
    challenge: Buffer.from(pending.challenge, 'base64url'),
    timeout: ttlMs,
    userVerification: input.userVerification ?? 'preferred',
    allowCredentials: input.allow
      ?.filter((c) => c.disabledAt === null)
      .map((c) => ({ id: c.credentialId, transports: [...c.transports] })),
  });
  return { options, pending };
}

export type PasskeyAuthenticationResult =
  | {
      readonly ok: true;
      readonly userId: string;
      readonly credentialId: string;
      /** Store with WebAuthnCredentialPort.recordUse (compare-and-set against the counter read before). */
      readonly newCounter: number;
      readonly backedUp: boolean;
      /** The authenticator verified the user (PIN, biometrics): a passkey with this is multifactor on its own. */
      readonly userVerified: boolean;
    }
  | {
      readonly ok: false;
      readonly reason:
        | 'missing'
        | 'expired'
        | 'wrong-purpose'
        | 'unknown-credential'
        | 'disabled'
        | 'wrong-user'
        | 'invalid'
        /** The counter did not increase: the key has probably been cloned. Disable the credential. */
        | 'cloned';
      readonly detail: string;
    };

/**
 * Verifies the browser's answer to passkeyAuthenticationOptions against the stored credential the response names
 * (`credential` is what WebAuthnCredentialPort.getById returned for `response.id`, or undefined).
 *
 * The signature is checked first, then the counter (WebAuthn Level 3 section 7.2 step 22): if either counter is
 * non-zero the new one must be greater than the stored one, otherwise the authenticator may be cloned and the
 * sign-in fails closed with `cloned`. Checking the signature first means only the real key can report a clone.
 */
export async function verifyPasskeyAuthentication(input: {
  rp: RelyingParty;
  response: AuthenticationResponseJSON;
  pending: PendingChallenge | undefined;
  credential: WebAuthnCredentialRecord | undefined;
  requireUserVerification?: boolean;
  now: number;
}): Promise<PasskeyAuthenticationResult> {
  const challenge = checkChallenge(input.pending, 'authentication', input.now);
  if (!challenge.ok) return challenge;
  const credential = input.credential;
  if (credential === undefined || credential.credentialId !== input.response?.id) {
    return { ok: false, reason: 'unknown-credential', detail: 'no registered passkey has this credential id' };
  }
  if (credential.disabledAt !== null) {
    return { ok: false, reason: 'disabled', detail: 'this passkey was disabled after a suspected clone' };
  }
  const pending = input.pending!;
  if (pending.userId !== null && pending.userId !== credential.userId) {
    return { ok: false, reason: 'wrong-user', detail: 'the passkey belongs to another user than the one signing in' };
  }
  // A discoverable credential returns the user handle; it must be the one the credential was registered with.
  const userHandle = input.response.response?.userHandle;
  if (userHandle !== undefined && userHandle !== credential.userHandle) {
    return { ok: false, reason: 'wrong-user', detail: 'the user handle does not match the registered passkey' };
  }
  let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verified = await verifyAuthenticationResponse({
      response: input.response,
      expectedChallenge: pending.challenge,
      expectedOrigin: [...input.rp.origins],
      expectedRPID: input.rp.rpId,
      // The library's own counter check runs before we know the signature is good; ours runs after (see above).
      credential: { id: credential.credentialId, publicKey: new Uint8Array(credential.publicKey), counter: 0 },
      requireUserVerification: input.requireUserVerification ?? false,
    });
  } catch (error) {
    return { ok: false, reason: 'invalid', detail: message(error) };
  }
  if (!verified.verified) return { ok: false, reason: 'invalid', detail: 'the signature did not verify' };
  const info = verified.authenticationInfo;
  if ((info.newCounter > 0 || credential.counter > 0) && info.newCounter <= credential.counter) {
    return {
      ok: false,
      reason: 'cloned',
      detail: `the signature counter went from ${credential.counter} to ${info.newCounter}; the authenticator may be cloned`,
    };
  }
  return {
    ok: true,
    userId: credential.userId,
    credentialId: credential.credentialId,
    newCounter: info.newCounter,
    backedUp: info.credentialBackedUp,
    userVerified: info.userVerified,
  };
}
