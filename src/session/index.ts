// The session module's public API (issue 4). docs/sessions.md describes the design; each file says what it is for:
// settings.ts (pure validation) and settings-store.ts (read/update), sessions.ts (lifecycle), cache.ts (hot path),
// limits.ts (end times, warning, status body), controls.ts (CA session controls), cookies.ts (the two cookies).
export { SESSION_CACHE_DEFAULTS, SessionCache, type SessionCacheOptions } from './cache.ts';
export {
  EVERY_TIME_GRACE_MS,
  persistentBrowser,
  reauthenticationRequired,
  type SignInFrequency,
  signInFrequencyMinutes,
} from './controls.ts';
export {
  BINDING_COOKIE,
  type CookieDefinition,
  type CookieScope,
  clearedSessionCookies,
  cookieNames,
  cookieScopeFor,
  INSECURE_BINDING_COOKIE,
  INSECURE_SESSION_COOKIE,
  type IssuedSession,
  readSessionCookies,
  SESSION_COOKIE,
  serializeCookie,
  sessionCookies,
} from './cookies.ts';
export { type EndReason, endReasonAt, type SessionTimes, sessionStatusBody, sessionTimes } from './limits.ts';
export {
  type EndedSession,
  type SessionRecord,
  SessionRepository,
  SessionUserError,
  StoredSessionError,
} from './repository.ts';
export {
  ACTIVITY_WRITE_INTERVAL_MS,
  type EndedCheck,
  type LiveSession,
  type NewSession,
  type NewSessionOptions,
  type SessionCheck,
  type SessionLogger,
  Sessions,
  type SessionsOptions,
  type TouchResult,
} from './sessions.ts';
export {
  DEFAULT_SESSION_SETTINGS,
  parseStoredSessionSettings,
  SESSION_SETTING_LIMITS,
  type SessionSettings,
  SessionSettingsError,
  type SessionSettingsValidation,
  validateSessionSettings,
} from './settings.ts';
export { readSessionSettings, type SessionSettingsUpdate, updateSessionSettings } from './settings-store.ts';
