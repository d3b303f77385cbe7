// Kysely's view of the tables migration 0003 adds (sessions and what each covers), merged into the `Database`
// interface of store/database.ts (declaration merging, as store/repositories/schema.ts does for 0002).
// Conventions as in database.ts: times are epoch milliseconds, JSON is text, booleans are 0/1.
import type { EpochMs, Flag } from '../store/database.ts';

declare module '../store/database.ts' {
  interface Database {
    sessions: SessionsTable;
    session_links: SessionLinksTable;
  }
}

/** Why a stored session ended before its time; null while it has not. */
export type StoredEndReason = 'revoked' | 'inactivity';

export interface SessionsTable {
  tenant_id: string;
  /** base64url SHA-256 of the session id. The id itself (the cookie value) is never stored. */
  id_hash: string;
  user_id: string;
  /** Sign-in time: the absolute limit counts from here. */
  created_at: EpochMs;
  /** JSON array of RFC 8176 method names (`pwd`, `mfa`, `otp`, `hwk`, …) the sign-in used. */
  amr: string;
  /** When the user last completed MFA in this session; null when the session never did. */
  mfa_at: EpochMs | null;
  /** Last recorded user activity (written at most once a minute; see sessions.ts ACTIVITY_WRITE_INTERVAL_MS). */
  last_activity_at: EpochMs;
  /**
   * The latest the session may end: sign-in time plus the shortest maximum session length in force since sign-in
   * (lowered when an admin shortens the setting, never raised).
   */
  expires_at: EpochMs;
  /** base64url SHA-256 of the browser-binding secret (the binding cookie). */
  binding_hash: string;
  /** The cookies were issued as persistent (they outlive the browser window). */
  persistent: Flag;
  /** When the session was revoked (signed out) or found ended by inactivity under an earlier setting. */
  ended_at: EpochMs | null;
  end_reason: StoredEndReason | null;
}

/** The OpenID Connect sessions and grants a session covers, so that ending it ends them. */
export interface SessionLinksTable {
  tenant_id: string;
  session_hash: string;
  kind: 'oidcSession' | 'grant';
  /** oidc-provider's Session id (`oidcSession`) or grant id (`grant`). */
  oidc_id: string;
}
