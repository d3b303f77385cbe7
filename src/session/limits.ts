// When a session ends and when to warn, from the session, its latest activity and the tenant's CURRENT settings (so
// shortening a setting shortens running sessions at once). Pure: no I/O, the time is an argument.
import type { SessionRecord } from './repository.ts';
import type { SessionSettings } from './settings.ts';

const MINUTE_MS = 60_000;

/** Why a session check failed. */
export type EndReason =
  /** No such session in this tenant (never existed, purged, another tenant's, or not a session id at all). */
  | 'unknown'
  /** Signed out, "sign out everywhere", or revoked by an admin. */
  | 'revoked'
  /** Sign-in time + maximum session length reached. */
  | 'absolute'
  /** The inactivity timeout passed without user activity. */
  | 'inactivity'
  /** The binding cookie is missing or does not match: the session id was presented by another browser. */
  | 'binding';

export interface SessionTimes {
  /** The absolute end (epoch ms): sign-in + maximum session length, never later than the session's latestEndAt. */
  readonly expiresAt: number;
  /** The inactivity end: last activity + inactivity timeout. Absent when the tenant has no inactivity timeout. */
  readonly idleExpiresAt?: number;
  /**
   * When the expiry warning is due: the earlier end − warningBeforeExpiryMinutes. Not clamped: a time in the past
   * means "warn now". It stays the same between status checks (it moves only with activity or a settings change).
   */
  readonly warnAt: number;
  /** Which end comes first: "Stay signed in" helps against `inactivity`; only a new sign-in helps against `absolute`. */
  readonly endsBy: 'absolute' | 'inactivity';
}

export function sessionTimes(session: SessionRecord, lastActivityAt: number, settings: SessionSettings): SessionTimes {
  const expiresAt = Math.min(session.latestEndAt, session.createdAt + settings.maximumSessionLengthMinutes * MINUTE_MS);
  const warningMs = settings.warningBeforeExpiryMinutes * MINUTE_MS;
  if (settings.inactivityTimeoutMinutes === null) {
    return { expiresAt, warnAt: expiresAt - warningMs, endsBy: 'absolute' };
  }
  const idleExpiresAt = lastActivityAt + settings.inactivityTimeoutMinutes * MINUTE_MS;
  const endsBy = idleExpiresAt < expiresAt ? 'inactivity' : 'absolute';
  return { expiresAt, idleExpiresAt, warnAt: Math.min(expiresAt, idleExpiresAt) - warningMs, endsBy };
}

/**
 * Why the session has ended at `now`, or undefined while it lives. A session ends AT its end time (now ≥ end).
 * When both ends have passed, the earlier one is the reason.
 */
export function endReasonAt(
  session: SessionRecord,
  times: SessionTimes,
  now: number,
): 'revoked' | 'absolute' | 'inactivity' | undefined {
  if (session.endReason !== null) return session.endReason;
  const idle = times.idleExpiresAt;
  if (idle !== undefined && now >= idle && idle < times.expiresAt) return 'inactivity';
  if (now >= times.expiresAt) return 'absolute';
  if (idle !== undefined && now >= idle) return 'inactivity';
  return undefined;
}

/**
 * The body of `GET …/session/status` for the expiry banner: ISO 8601 times, `idleExpiresAt` only with an inactivity
 * timeout. `now` lets the script correct for a client clock that is off.
 */
export function sessionStatusBody(times: SessionTimes, now: number) {
  return {
    expiresAt: new Date(times.expiresAt).toISOString(),
    ...(times.idleExpiresAt === undefined ? {} : { idleExpiresAt: new Date(times.idleExpiresAt).toISOString() }),
    warnAt: new Date(times.warnAt).toISOString(),
    endsBy: times.endsBy,
    now: new Date(now).toISOString(),
  };
}
