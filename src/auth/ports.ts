// What auth/ needs from storage, as small interfaces the store's repositories implement (each built for one tenant):
// plain data in and out, times in milliseconds since the epoch, and the few atomic updates that security relies on.

import type { PendingChallenge } from './webauthn-challenge.ts';

/** password_credentials: one argon2id PHC string per user. */
export type PasswordCredential = {
  readonly userId: string;
  /** `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`; never the password. */
  readonly phc: string;
  readonly updatedAt: number;
};

export interface PasswordCredentialPort {
  get(userId: string): Promise<PasswordCredential | undefined>;
  /** Insert or replace (set, change, or a rehash at higher cost after a successful sign-in). */
  put(credential: PasswordCredential): Promise<void>;
  delete(userId: string): Promise<void>;
}

/** totp_credentials: the shared secret (encrypted at rest by the store with the tenant's data key). */
export type TotpCredential = {
  readonly userId: string;
  /** Base32 secret, in clear here; the repository encrypts it before writing and decrypts after reading. */
  readonly secret: string;
  /** The time step of the last accepted code, for replay protection; null before the first use. */
  readonly lastUsedStep: number | null;
  readonly createdAt: number;
  /** Set when the user proved the enrolment with a first code; unconfirmed secrets are not a sign-in method. */
  readonly confirmedAt: number | null;
};

export interface TotpCredentialPort {
  get(userId: string): Promise<TotpCredential | undefined>;
  put(credential: TotpCredential): Promise<void>;
  delete(userId: string): Promise<void>;
  /**
   * Atomically sets `lastUsedStep = step` only when the stored value is null or lower, and says whether it did
   * (`UPDATE … SET last_used_step = $step WHERE user_id = $id AND (last_used_step IS NULL OR last_used_step < $step)`,
   * one row changed). False means another request used this code first: refuse the sign-in.
   */
  markStepUsed(userId: string, step: number): Promise<boolean>;
}

/** recovery_codes: one row per code, only its hash. */
export type RecoveryCodeRecord = {
  readonly userId: string;
  readonly id: string;
  /** Hex SHA-256 from recovery-codes.ts hashRecoveryCode. */
  readonly hash: string;
  readonly usedAt: number | null;
  readonly createdAt: number;
};

export interface RecoveryCodePort {
  list(userId: string): Promise<RecoveryCodeRecord[]>;
  /** Replaces the user's whole set (new codes invalidate all old ones), in one transaction. */
  replaceAll(userId: string, records: readonly RecoveryCodeRecord[]): Promise<void>;
  /** Atomically marks one code used only if it is still unused; false when a concurrent request used it first. */
  markUsed(userId: string, id: string, usedAt: number): Promise<boolean>;
}

/** webauthn_credentials: one row per passkey. */
export type WebAuthnCredentialRecord = {
  readonly userId: string;
  /** Base64url credential id, unique in the tenant. */
  readonly credentialId: string;
  /** COSE public key bytes as the authenticator sent them. */
  readonly publicKey: Uint8Array;
  /** The authenticator's signature counter (0 for authenticators that do not keep one, such as most passkeys). */
  readonly counter: number;
  readonly transports: readonly string[];
  /** The WebAuthn user handle (user.id) the credential was created for: random, not the user id. */
  readonly userHandle: string;
  readonly deviceType: 'singleDevice' | 'multiDevice';
  readonly backedUp: boolean;
  /** The authenticator model's AAGUID (all zeros under `none` attestation from some authenticators). */
  readonly aaguid: string;
  /** A name the user gave it ("YubiKey", "Phone"). */
  readonly name: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  /** Set when a counter went backwards (a cloned authenticator): the credential is refused from then on. */
  readonly disabledAt: number | null;
};

export interface WebAuthnCredentialPort {
  listByUser(userId: string): Promise<WebAuthnCredentialRecord[]>;
  /** For usernameless sign-in: the credential id in the assertion names the user. */
  getById(credentialId: string): Promise<WebAuthnCredentialRecord | undefined>;
  put(record: WebAuthnCredentialRecord): Promise<void>;
  delete(userId: string, credentialId: string): Promise<void>;
  /**
   * Atomically stores a verified assertion's counter only when the stored counter is still `expectedCounter`
   * (compare-and-set), with `lastUsedAt` and the current backup state; false when a concurrent sign-in won, which
   * the caller treats as a failed sign-in.
   */
  recordUse(
    credentialId: string,
    update: { expectedCounter: number; counter: number; lastUsedAt: number; backedUp: boolean },
  ): Promise<boolean>;
  /** Marks a credential disabled (clone detected); it stays listed so the user and admins see why. */
  disable(credentialId: string, at: number): Promise<void>;
}

/**
 * WebAuthn challenges between the options and the response, kept server-side under an id the browser cannot
 * choose (for example the pre-authentication session id).
 */
export interface WebAuthnChallengePort {
  /** Stores (replacing any earlier one under `id`); the row may be deleted after `challenge.expiresAt`. */
  put(id: string, challenge: PendingChallenge): Promise<void>;
  /** Returns and deletes in one step, so a challenge is answered at most once. */
  take(id: string): Promise<PendingChallenge | undefined>;
}

/**
 * lockouts: lockout and throttle state as JSON under a key (`account:…`, `account-trusted:…`, `mfa:…`, `ip:…`; see
 * lockout.ts), with a time after which the row may be deleted.
 */
export interface LockoutStatePort {
  /**
   * Reads the row under `key` (undefined when absent), passes its JSON value to `change`, writes what `change`
   * returns (deleting the row when `next` is undefined) and returns `result` — all atomically with respect to other
   * updates of the same key (PostgreSQL: `INSERT … ON CONFLICT DO NOTHING` then `SELECT … FOR UPDATE` in one
   * transaction, since a missing row cannot be locked; SQLite: `BEGIN IMMEDIATE`). `change` is pure and may be
   * called again if the transaction is retried.
   */
  update<R>(
    key: string,
    change: (current: unknown) => { next: object | undefined; expiresAt: number; result: R },
  ): Promise<R>;
}
