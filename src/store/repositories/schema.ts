// Kysely's view of the tables and columns migration 0002 adds, merged into the `Database` interface of
// store/database.ts (TypeScript declaration merging), so TenantScope reaches them like any other tenant table.
// Conventions as in database.ts: times are epoch milliseconds, JSON is text, booleans are 0/1.
import type { EpochMs } from '../database.ts';

declare module '../database.ts' {
  interface WebauthnCredentialsTable {
    /** The WebAuthn user handle (user.id) the credential was created for, base64url. */
    user_handle: string;
    /** The authenticator model's AAGUID. */
    aaguid: string;
    /** Set when the credential was disabled (a signature counter went backwards: a cloned authenticator). */
    disabled_at: EpochMs | null;
  }

  interface Database {
    webauthn_challenges: WebauthnChallengesTable;
    lockout_states: LockoutStatesTable;
    tenant_settings: TenantSettingsTable;
    policy_versions: PolicyVersionsTable;
  }
}

export interface WebauthnChallengesTable {
  tenant_id: string;
  /** Chosen by the server (e.g. the pre-authentication session id), never by the browser. */
  id: string;
  /** Base64url, as sent in the options. */
  challenge: string;
  purpose: 'registration' | 'authentication';
  user_id: string | null;
  issued_at: EpochMs;
  expires_at: EpochMs;
}

export interface LockoutStatesTable {
  tenant_id: string;
  /** `account:<name>`, `account-trusted:<name>`, `mfa:<user id>`, `ip:<address or /64>` (auth/lockout.ts). */
  key: string;
  /** The state as JSON; null while a first update holds the freshly inserted row. */
  value: string | null;
  /** After this the state is equivalent to none: the row may be deleted, and reads treat it as absent. */
  expires_at: EpochMs;
}

export interface TenantSettingsTable {
  tenant_id: string;
  key: string;
  /** JSON. */
  value: string;
  modified_at: EpochMs;
}

export interface PolicyVersionsTable {
  tenant_id: string;
  /** Starts at 1 with the first change; a tenant without a row is at version 0. */
  version: number;
  modified_at: EpochMs;
}
