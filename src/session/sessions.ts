// The session lifecycle for one tenant: create at sign-in, check on every use (absolute limit, inactivity, revocation,
// browser binding), record user activity (throttled), cover OIDC sessions and grants, revoke one or all of a user's
// sessions. Limits come from the tenant's CURRENT settings at check time. Build one per tenant and request or keep
// one per tenant — it holds nothing but the scope; share one SessionCache per process for the hot path.
//
// Typical use (the HTTP layer does the cookies; see cookies.ts):
//   const sessions = new Sessions(store.forTenant(tenantId), { cache, logger });
//   const { sessionId, bindingSecret, session, times } = await sessions.create(userId, { amr, persistent });
//   const checked = await sessions.check(cookies.sessionId, cookies.bindingSecret);
//   if (checked.live) { void sessions.touch(checked.session); /* a user request, not the status script */ }
import type { Clock } from '../clock.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import type { CachedSession, SessionCache } from './cache.ts';
import { type EndReason, endReasonAt, type SessionTimes, sessionTimes } from './limits.ts';
import { type EndedSession, type SessionRecord, SessionRepository, type StoredSession } from './repository.ts';
import type { SessionSettings } from './settings.ts';
import { ACTIVITY_WRITE_INTERVAL_MS, readSessionSettings } from './settings-store.ts';
import { bindingMatches, hashToken, hashTokenBytes, isTokenShaped, newToken } from './tokens.ts';

/**
 * User activity is written to the store at most once per session per this interval (60 s), so forward auth does not
 * write on every request. Inactivity is therefore measured from activity up to a minute older than the real one on
 * other nodes (this node keeps the exact time in its cache); with timeouts of 5 minutes or more this is immaterial.
 */
export { ACTIVITY_WRITE_INTERVAL_MS } from './settings-store.ts';

/** A live session: the record, its end times and when to warn. */
export interface LiveSession extends SessionTimes {
  readonly live: true;
  readonly session: SessionRecord;
  /** The latest activity known on this node (at least session.lastActivityAt): what idleExpiresAt counts from. */
  readonly lastActivityAt: number;
}

/** A refused session. `session` is present when the id was found (to log whose session it was), never for `unknown`. */
export interface EndedCheck {
  readonly live: false;
  readonly reason: EndReason;
  readonly session?: SessionRecord;
}

export type SessionCheck = LiveSession | EndedCheck;

export interface NewSession {
  /** The session cookie's value. Shown once: only its hash is stored. */
  readonly sessionId: string;
  /** The binding cookie's value. Shown once: only its hash is stored. */
  readonly bindingSecret: string;
  readonly session: SessionRecord;
  readonly times: SessionTimes;
}

export interface NewSessionOptions {
  /** RFC 8176 methods of the sign-in (`pwd`, `mfa`, `otp`, `hwk`, `swk`, …). */
  readonly amr: readonly string[];
  /** The sign-in completed MFA (sets mfaAt to now). Default: whether amr includes `mfa`. */
  readonly mfa?: boolean;
  /** Persistent cookies (controls.ts persistentBrowser decides). Default false. */
  readonly persistent?: boolean;
}

export type TouchResult =
  | { readonly written: true }
  /** `throttled`: written less than a minute ago; `notLive`: ended, or another node wrote first. */
  | { readonly written: false; readonly reason: 'throttled' | 'notLive' }
  /** The write failed. The session stays live: a failed activity write never turns into a deny. */
  | { readonly written: false; readonly reason: 'error'; readonly error: unknown };

/** pino's shape, so the server's logger fits. */
export interface SessionLogger {
  warn(object: object, message: string): void;
}

export interface SessionsOptions {
  /** The process's cache (cache.ts); without it every check reads the store. */
  readonly cache?: SessionCache;
  /** Where failed activity writes are reported (also returned by touch). */
  readonly logger?: SessionLogger;
}

const UNKNOWN: EndedCheck = Object.freeze({ live: false, reason: 'unknown' });
const THROTTLED: Promise<TouchResult> = Promise.resolve(Object.freeze({ written: false, reason: 'throttled' }));

function publicRecord(stored: StoredSession): SessionRecord {
  const { bindingHash: _omitted, ...record } = stored;
  return record;
}

function validAmr(amr: unknown): readonly string[] {
  if (
    !Array.isArray(amr) ||
    amr.length === 0 ||
    !amr.every((m) => typeof m === 'string' && /^[a-z0-9_-]{1,32}$/i.test(m))
  ) {
    throw new TypeError(
      `session amr must be a non-empty list of method names such as ["pwd","mfa"], but it is ${JSON.stringify(amr)}`,
    );
  }
  return Object.freeze([...new Set(amr as string[])]);
}

export class Sessions {
  readonly tenantId: string;
  readonly #scope: TenantScope;
  readonly #repo: SessionRepository;
  readonly #cache: SessionCache | undefined;
  readonly #logger: SessionLogger | undefined;
  readonly #clock: Clock;

  constructor(scope: TenantScope, options: SessionsOptions = {}) {
    this.tenantId = scope.tenantId;
    this.#scope = scope;
    this.#repo = new SessionRepository(scope);
    this.#cache = options.cache;
    this.#logger = options.logger;
    this.#clock = scope.clock;
  }

  /** The tenant's current session settings (cached for the cache's TTL when there is a cache). */
  async settings(now: number = this.#clock.now()): Promise<SessionSettings> {
    const cached = this.#cache?.settings(this.tenantId, now);
    if (cached !== undefined) return cached;
    const settings = await readSessionSettings(this.#scope);
    this.#cache?.putSettings(this.tenantId, settings, now);
    return settings;
  }

  /** A new session for a user who has just signed in. Throws SessionUserError when the user is not in this tenant. */
  async create(userId: string, options: NewSessionOptions): Promise<NewSession> {
    if (typeof userId !== 'string' || userId === '') throw new TypeError('session: the user id must not be empty');
    const amr = validAmr(options?.amr);
    const now = this.#clock.now();
    const settings = await this.settings(now);
    const sessionId = newToken();
    const bindingSecret = newToken();
    const stored: StoredSession = {
      handle: hashToken(sessionId),
      userId,
      createdAt: now,
      amr,
      mfaAt: (options.mfa ?? amr.includes('mfa')) ? now : null,
      lastActivityAt: now,
      latestEndAt: now + settings.maximumSessionLengthMinutes * 60_000,
      persistent: options.persistent === true,
      endedAt: null,
      endReason: null,
      bindingHash: hashTokenBytes(bindingSecret),
    };
    await this.#repo.insert(stored);
    this.#cache?.putSession(this.tenantId, stored, now);
    const session = publicRecord(stored);
    return { sessionId, bindingSecret, session, times: sessionTimes(session, now, settings) };
  }

  /**
   * Whether the session named by the session cookie is live for the browser that holds the binding cookie.
   * Refusals, in order: `unknown` (no such session here, or not a session id), `binding` (missing or wrong binding
   * secret — compared in constant time), `revoked`, then `absolute` or `inactivity` (whichever end came first).
   * Does not count as activity (the status script checks too): call touch for user requests.
   * Rejects when the store or the stored settings cannot be read: the caller must then deny (fail closed).
   */
  async check(sessionId: unknown, bindingSecret: unknown, now: number = this.#clock.now()): Promise<SessionCheck> {
    if (!isTokenShaped(sessionId)) return UNKNOWN;
    const cache = this.#cache;
    // A session id this node has verified before is not hashed again (cache.ts, "Verified secrets").
    const verified = cache?.verifiedEntry(this.tenantId, sessionId);
    const handle = verified?.session.handle ?? hashToken(sessionId);
    const settings = cache?.settings(this.tenantId, now) ?? (await this.settings(now));
    const cached =
      verified === undefined
        ? cache?.session(this.tenantId, handle, now)
        : cache?.isFresh(verified, now)
          ? verified
          : undefined;
    if (cached !== undefined) {
      const verdict = this.#cachedVerdict(cached, sessionId, bindingSecret, settings, now);
      // Another node may have seen activity that this one has not: confirm an inactivity end from the store.
      if (verdict.live || verdict.reason !== 'inactivity') return verdict;
    }
    const stored = await this.#repo.get(handle);
    if (stored === undefined) {
      cache?.forget(this.tenantId, handle);
      return UNKNOWN;
    }
    const entry = cache?.putSession(this.tenantId, stored, now);
    if (entry !== undefined) return this.#cachedVerdict(entry, sessionId, bindingSecret, settings, now);
    return this.#verdict(
      publicRecord(stored),
      stored.lastActivityAt,
      bindingMatches(bindingSecret, stored.bindingHash),
      settings,
      now,
    );
  }

  /** The verdict from a cache entry; verifies the secrets by hashing only when the entry has not seen them yet. */
  #cachedVerdict(
    entry: CachedSession,
    sessionId: string,
    bindingSecret: unknown,
    settings: SessionSettings,
    now: number,
  ): SessionCheck {
    const cache = this.#cache as SessionCache;
    const known = cache.bindingMatchesVerified(entry, bindingSecret);
    const bindingOk = known ?? bindingMatches(bindingSecret, entry.session.bindingHash);
    if (entry.record === undefined) {
      entry.record = Object.freeze(publicRecord(entry.session));
      cache.recordMade(entry);
    }
    const verdict = this.#verdict(entry.record, entry.lastActivityAt, bindingOk, settings, now);
    // A wrong binding secret says nothing about the session; an ended session keeps no secrets.
    if (verdict.live) {
      if (known === undefined) cache.rememberVerified(this.tenantId, entry, sessionId, bindingSecret as string);
    } else if (verdict.reason !== 'binding') cache.forgetVerified(entry);
    return verdict;
  }

  #verdict(
    session: SessionRecord,
    lastActivityAt: number,
    bindingOk: boolean,
    settings: SessionSettings,
    now: number,
  ): SessionCheck {
    if (!bindingOk) return { live: false, reason: 'binding', session };
    const times = sessionTimes(session, lastActivityAt, settings);
    const ended = endReasonAt(session, times, now);
    if (ended !== undefined) return { live: false, reason: ended, session };
    return { live: true, session, lastActivityAt, ...times };
  }

  /**
   * Records user activity (a request through the gateway or to an app; not the status script's checks). Writes to
   * the store at most once per ACTIVITY_WRITE_INTERVAL_MS per session — this node's cache keeps the exact time in
   * between — and never rejects: a failed write is logged and returned, and the session stays live.
   */
  touch(session: SessionRecord, now: number = this.#clock.now()): Promise<TouchResult> {
    const cache = this.#cache;
    const entry = cache?.entryOfRecord(this.tenantId, session) ?? cache?.peekSession(this.tenantId, session.handle);
    let lastWritten = session.lastActivityAt;
    if (entry !== undefined) {
      if (now > entry.lastActivityAt) entry.lastActivityAt = now;
      lastWritten = Math.max(lastWritten, entry.lastWrittenAt);
    }
    // Nearly every forward-auth request ends here: one shared, already settled answer instead of a new promise.
    if (now - lastWritten < ACTIVITY_WRITE_INTERVAL_MS) return THROTTLED;
    // Claimed before the write, so concurrent requests on this node do not write too. After a failure the next
    // attempt comes an interval later, not on every request to a struggling store.
    if (entry !== undefined) entry.lastWrittenAt = now;
    return this.#recordActivity(session, now);
  }

  async #recordActivity(session: SessionRecord, now: number): Promise<TouchResult> {
    try {
      const settings = await this.settings(now);
      const idleMs = settings.inactivityTimeoutMinutes === null ? null : settings.inactivityTimeoutMinutes * 60_000;
      const written = await this.#repo.recordActivity(session.handle, now, ACTIVITY_WRITE_INTERVAL_MS, idleMs);
      return written ? { written: true } : { written: false, reason: 'notLive' };
    } catch (error) {
      this.#logger?.warn(
        { err: error, tenantId: this.tenantId, session: session.handle },
        'session activity could not be recorded; the session stays live',
      );
      return { written: false, reason: 'error', error };
    }
  }

  /**
   * Step-up MFA inside a live session (Conditional Access asked for MFA for an app after a password-only sign-in):
   * adds the methods to amr and sets mfaAt. Returns false when the session is not live any more.
   */
  async recordMfa(session: SessionRecord, amr: readonly string[], now: number = this.#clock.now()): Promise<boolean> {
    const done = await this.#repo.recordMfa(session.handle, validAmr(amr), now);
    this.#cache?.forget(this.tenantId, session.handle);
    return done;
  }

  /** Records that the session covers an oidc-provider session and/or grant, so that ending it ends them. */
  async cover(
    session: Pick<SessionRecord, 'handle'>,
    covered: { readonly oidcSessionId?: string; readonly grantId?: string },
  ) {
    for (const [kind, id] of [
      ['oidcSession', covered.oidcSessionId],
      ['grant', covered.grantId],
    ] as const) {
      if (id === undefined) continue;
      if (typeof id !== 'string' || id === '') throw new TypeError(`session cover: ${kind} id must not be empty`);
      await this.#repo.link(session.handle, kind, id);
    }
  }

  /**
   * The state of the session that covers an OIDC grant, without the browser (a refresh-token use comes from the
   * app's server): live, or why not. `unknown` when no session covers the grant.
   */
  async checkGrant(grantId: string, now: number = this.#clock.now()): Promise<SessionCheck> {
    const stored = await this.#repo.findByLink('grant', grantId);
    if (stored === undefined) return UNKNOWN;
    const entry = this.#cache?.putSession(this.tenantId, stored, now);
    const settings = await this.settings(now);
    const session = publicRecord(entry?.session ?? stored);
    const lastActivityAt = entry?.lastActivityAt ?? stored.lastActivityAt;
    const times = sessionTimes(session, lastActivityAt, settings);
    const ended = endReasonAt(session, times, now);
    return ended === undefined
      ? { live: true, session, lastActivityAt, ...times }
      : { live: false, reason: ended, session };
  }

  /**
   * Sign-out: revokes the session named by the session cookie and returns what it covered, so the caller ends those
   * OIDC sessions and grants. Undefined when there is no such session. Revoking twice is not an error.
   */
  async revoke(sessionId: unknown): Promise<EndedSession | undefined> {
    if (!isTokenShaped(sessionId)) return undefined;
    return this.revokeHandle(hashToken(sessionId));
  }

  /** Revokes a session by its handle (admin API, which lists handles, never ids). */
  async revokeHandle(handle: string): Promise<EndedSession | undefined> {
    const now = this.#clock.now();
    this.#cache?.revoked(this.tenantId, [handle], now);
    const ended = await this.#repo.revoke(handle, now);
    // Again after the write: a check that read the row before it committed must not leave a live entry behind.
    this.#cache?.revoked(this.tenantId, [handle], now);
    return ended;
  }

  /**
   * "Sign out everywhere" and Graph's `POST /users/{id}/revokeSignInSessions`: revokes every session of the user
   * and returns them with the OIDC sessions and grants they covered. Afterwards the user must sign in again.
   */
  async revokeAllForUser(userId: string, within?: TenantScope): Promise<EndedSession[]> {
    const now = this.#clock.now();
    if (within !== undefined && within.tenantId !== this.tenantId)
      throw new TypeError('revokeAllForUser: another tenant');
    // `within`: the caller's transaction (the admin API records the revocation in it). The cache hears of the
    // revocation before that commits; a rollback then leaves this node refusing sessions that still stand (fail closed).
    const ended = await (within === undefined ? this.#repo : new SessionRepository(within)).revokeAllForUser(
      userId,
      now,
    );
    this.#cache?.revoked(
      this.tenantId,
      ended.map((s) => s.handle),
      now,
    );
    return ended;
  }

  /** The user's sessions, oldest first, each with whether it is live now (for "your sessions" and the admin API). */
  async listForUser(userId: string, now: number = this.#clock.now()) {
    const settings = await this.settings(now);
    const stored = await this.#repo.listForUser(userId);
    return stored.map((s) => {
      const session = publicRecord(s);
      const times = sessionTimes(session, s.lastActivityAt, settings);
      const ended = endReasonAt(session, times, now);
      return { session, ...times, live: ended === undefined, ...(ended === undefined ? {} : { reason: ended }) };
    });
  }

  /** Housekeeping: deletes sessions ended at or before `before` (keep them while a grant they covered may be asked about). */
  purgeEnded(before: number): Promise<number> {
    return this.#repo.purgeEnded(before);
  }
}
