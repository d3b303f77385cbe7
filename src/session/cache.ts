// The in-memory cache in front of the store for the hot path: forward auth checks a session on every request, so a
// cookie maps to its session, and a tenant to its session settings, without a store read. One cache per process,
// shared by every tenant's Sessions (entries are keyed by tenant).
//
// Freshness: an entry is used for `ttlMs` (default 5 s) after it was read from the store, then read again.
// - A revocation on THIS node takes effect at once: the entry is dropped and a tombstone keeps a read that was already
//   in flight from putting the session back as live.
// - A revocation or settings change on ANOTHER node takes effect here within `ttlMs`. (ARCHITECTURE.md's goal is one
//   second across nodes through PostgreSQL LISTEN/NOTIFY; until that is wired, lower `ttlMs` if 5 s is too long.)
// - User activity seen on this node is kept in the entry at once and written to the store at most once a minute
//   (sessions.ts), so an inactivity verdict from the cache is confirmed from the store before it is given: another
//   node may have seen activity this one did not.
// Size: at most `maxEntries` sessions; when full, the entry read from the store longest ago goes first.
//
// Verified secrets: once a check has hashed a session id to an entry's handle and matched the binding secret against
// its binding hash, the entry remembers both secrets, so the next checks of the same browser skip the two SHA-256
// hashes (about 9 µs of a forward-auth request). A hash only ever proves the same fact again, so this changes no
// verdict: revocation, the limits and the settings are still judged on every check from the entry (which is read
// from the store again every `ttlMs`). The secrets live exactly as long as their entry — dropped with it on
// revocation, sign-out, forget, a settings change and eviction, and by Sessions.check as soon as the session is not
// live — so at most `maxEntries` pairs are held, each for a session that is live. The session id is used only as a
// Map key (the lookup of a 256-bit random value, as the store's index lookup of its hash is); the binding secret is
// compared in constant time.
import type { SessionRecord, StoredSession } from './repository.ts';
import type { SessionSettings } from './settings.ts';

export const SESSION_CACHE_DEFAULTS = Object.freeze({
  /** How long a session or settings entry is trusted after its store read (ms). */
  ttlMs: 5_000,
  /** Sessions kept at most (about 1 KB each). */
  maxEntries: 10_000,
  /** Tenants whose settings are kept at most. */
  maxTenants: 1_000,
  /** How long a revocation on this node overrides store reads that started before it (ms). */
  tombstoneMs: 60_000,
});

export interface SessionCacheOptions {
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly maxTenants?: number;
  readonly tombstoneMs?: number;
}

/** A cached session and what this node knows beyond the store. */
export interface CachedSession {
  readonly session: StoredSession;
  /** When it was read from the store. */
  readonly fetchedAt: number;
  /** Latest user activity known here: the stored one, or later activity seen on this node. */
  lastActivityAt: number;
  /** When activity was last written to the store (or the stored activity time): the write throttle's clock. */
  lastWrittenAt: number;
  /** `session` without its binding hash, as checks return it; made once per store read (Sessions sets it). */
  record?: SessionRecord;
  /** The browser secrets verified against this entry (see "Verified secrets" above); only this module sets it. */
  verified?: VerifiedSecrets;
}

interface VerifiedSecrets {
  readonly tenantId: string;
  readonly sessionId: string;
  /** The binding secret as the binding cookie carries it. */
  readonly binding: string;
}

interface SettingsEntry {
  readonly settings: SessionSettings;
  readonly fetchedAt: number;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`session cache: ${name} must be a positive whole number, but it is ${value}`);
  }
  return value;
}

export class SessionCache {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly #maxTenants: number;
  readonly #tombstoneMs: number;
  /** `${tenantId} ${handle}` → entry, in order of store reads (oldest first). */
  readonly #sessions = new Map<string, CachedSession>();
  readonly #settings = new Map<string, SettingsEntry>();
  /** `${tenantId} ${handle}` → until when a revocation on this node overrides store reads. */
  readonly #tombstones = new Map<string, number>();
  /** Session id → the entry it was verified against (at most one per entry in #sessions). */
  readonly #verifiedIds = new Map<string, CachedSession>();
  /** Each entry's key in #sessions, and each entry's `record` → the entry (entryOfRecord). */
  readonly #keys = new WeakMap<CachedSession, string>();
  readonly #byRecord = new WeakMap<SessionRecord, CachedSession>();

  constructor(options: SessionCacheOptions = {}) {
    this.ttlMs = positive('ttlMs', options.ttlMs, SESSION_CACHE_DEFAULTS.ttlMs);
    this.maxEntries = positive('maxEntries', options.maxEntries, SESSION_CACHE_DEFAULTS.maxEntries);
    this.#maxTenants = positive('maxTenants', options.maxTenants, SESSION_CACHE_DEFAULTS.maxTenants);
    this.#tombstoneMs = positive('tombstoneMs', options.tombstoneMs, SESSION_CACHE_DEFAULTS.tombstoneMs);
  }

  /** Sessions held now (fresh or not). */
  get size(): number {
    return this.#sessions.size;
  }

  /** The entry when it is fresh at `now`; undefined when absent or older than the TTL. */
  session(tenantId: string, handle: string, now: number): CachedSession | undefined {
    const entry = this.#sessions.get(`${tenantId} ${handle}`);
    return entry !== undefined && now - entry.fetchedAt < this.ttlMs ? entry : undefined;
  }

  /** The entry however old: for the activity throttle, which only needs what this node saw last. */
  peekSession(tenantId: string, handle: string): CachedSession | undefined {
    return this.#sessions.get(`${tenantId} ${handle}`);
  }

  /**
   * `peekSession` for the record a check just returned (its entry's `record`, see recordMade): the same entry, found
   * without building the key, while it is still the current entry of that tenant's session; undefined otherwise (ask
   * peekSession). Forward auth touches the session it checked on every request.
   */
  entryOfRecord(tenantId: string, record: SessionRecord): CachedSession | undefined {
    const entry = this.#byRecord.get(record);
    if (entry === undefined) return undefined;
    const key = this.#keys.get(entry);
    if (key === undefined || this.#sessions.get(key) !== entry) return undefined;
    return key.length === tenantId.length + 1 + entry.session.handle.length && key.startsWith(tenantId)
      ? entry
      : undefined;
  }

  /** Notes the entry's `record` (set by Sessions once per entry) for entryOfRecord. */
  recordMade(entry: CachedSession): void {
    if (entry.record !== undefined) this.#byRecord.set(entry.record, entry);
  }

  /** Whether an entry is fresh at `now` (read from the store less than `ttlMs` ago). */
  isFresh(entry: CachedSession, now: number): boolean {
    return now - entry.fetchedAt < this.ttlMs;
  }

  /**
   * The entry (fresh or not) that this session id was verified against in this tenant, or undefined: its handle is
   * the session id's hash, without hashing.
   */
  verifiedEntry(tenantId: string, sessionId: string): CachedSession | undefined {
    const entry = this.#verifiedIds.get(sessionId);
    return entry?.verified?.tenantId === tenantId ? entry : undefined;
  }

  /**
   * Whether `bindingSecret` is the binding secret verified for this entry — compared in constant time — or undefined
   * when the entry has none (the caller then hashes it). Call only with the session id's own entry.
   */
  bindingMatchesVerified(entry: CachedSession, bindingSecret: unknown): boolean | undefined {
    const known = entry.verified?.binding;
    if (known === undefined) return undefined;
    // The length is no secret (every binding secret has 43 characters).
    if (typeof bindingSecret !== 'string' || bindingSecret.length !== known.length) return false;
    // Every character is compared whatever the first difference (no early exit), as crypto.timingSafeEqual does,
    // without copying the string into a Buffer on every request.
    let difference = 0;
    for (let i = 0; i < known.length; i++) difference |= bindingSecret.charCodeAt(i) ^ known.charCodeAt(i);
    return difference === 0;
  }

  /**
   * Remembers, on the entry, a session id and binding secret just verified against it by hashing (its handle is the
   * hash of `sessionId`, and the binding secret matched its binding hash). The entry must be the current one.
   */
  rememberVerified(tenantId: string, entry: CachedSession, sessionId: string, bindingSecret: string): void {
    if (this.#sessions.get(`${tenantId} ${entry.session.handle}`) !== entry) return;
    if (entry.verified !== undefined) this.#verifiedIds.delete(entry.verified.sessionId);
    entry.verified = { tenantId, sessionId, binding: bindingSecret };
    this.#verifiedIds.set(sessionId, entry);
  }

  /** Forgets the secrets verified for an entry (its session is not live any more). */
  forgetVerified(entry: CachedSession): void {
    if (entry.verified === undefined) return;
    if (this.#verifiedIds.get(entry.verified.sessionId) === entry) this.#verifiedIds.delete(entry.verified.sessionId);
    entry.verified = undefined;
  }

  /** Session ids held with their verified secrets now (for tests: never more than `size`). */
  get verifiedSize(): number {
    return this.#verifiedIds.size;
  }

  /**
   * Keeps a session just read from the store. Activity this node saw after the stored time is kept; a session
   * revoked on this node after the read started is kept as revoked.
   */
  putSession(tenantId: string, session: StoredSession, now: number): CachedSession {
    const key = `${tenantId} ${session.handle}`;
    const previous = this.#sessions.get(key);
    const tombstone = this.#tombstones.get(key);
    let stored = session;
    if (tombstone !== undefined) {
      if (tombstone <= now) this.#tombstones.delete(key);
      else if (session.endReason !== 'revoked') stored = { ...session, endedAt: now, endReason: 'revoked' };
    }
    const entry: CachedSession = {
      session: stored,
      fetchedAt: now,
      lastActivityAt: Math.max(session.lastActivityAt, previous?.lastActivityAt ?? 0),
      lastWrittenAt: Math.max(session.lastActivityAt, previous?.lastWrittenAt ?? 0),
    };
    if (previous !== undefined) {
      // The verified secrets carry over while the session is live and its binding hash is the one they matched.
      const verified = previous.verified;
      this.#dropSession(key, previous);
      if (
        verified !== undefined &&
        stored.endReason === null &&
        stored.bindingHash.equals(previous.session.bindingHash)
      ) {
        entry.verified = verified;
        this.#verifiedIds.set(verified.sessionId, entry);
      }
    } else {
      while (this.#sessions.size >= this.maxEntries) {
        const oldest = this.#sessions.entries().next();
        if (oldest.done) break;
        this.#dropSession(oldest.value[0], oldest.value[1]);
      }
    }
    this.#sessions.set(key, entry);
    this.#keys.set(entry, key);
    return entry;
  }

  /** Drops the sessions and remembers, for a while, that they were revoked here. */
  revoked(tenantId: string, handles: readonly string[], now: number): void {
    for (const handle of handles) {
      const key = `${tenantId} ${handle}`;
      this.#dropSession(key);
      this.#tombstones.delete(key);
      this.#evict(this.#tombstones, this.maxEntries);
      this.#tombstones.set(key, now + this.#tombstoneMs);
    }
  }

  /** Forgets one session (it will be read from the store next time). */
  forget(tenantId: string, handle: string): void {
    this.#dropSession(`${tenantId} ${handle}`);
  }

  settings(tenantId: string, now: number): SessionSettings | undefined {
    const entry = this.#settings.get(tenantId);
    return entry !== undefined && now - entry.fetchedAt < this.ttlMs ? entry.settings : undefined;
  }

  putSettings(tenantId: string, settings: SessionSettings, now: number): void {
    if (this.#settings.has(tenantId)) this.#settings.delete(tenantId);
    else this.#evict(this.#settings, this.#maxTenants);
    this.#settings.set(tenantId, { settings, fetchedAt: now });
  }

  /**
   * After a settings change on this node: the tenant's settings and sessions are read again (the change may have
   * ended sessions in the store).
   */
  forgetTenant(tenantId: string): void {
    this.#settings.delete(tenantId);
    const prefix = `${tenantId} `;
    for (const key of this.#sessions.keys()) if (key.startsWith(prefix)) this.#dropSession(key);
  }

  /** Removes a session entry and the verified secrets it holds. */
  #dropSession(key: string, entry = this.#sessions.get(key)): void {
    if (entry === undefined) return;
    this.#sessions.delete(key);
    this.forgetVerified(entry);
  }

  #evict<V>(map: Map<string, V>, max: number): void {
    while (map.size >= max) {
      const oldest = map.keys().next();
      if (oldest.done) return;
      map.delete(oldest.value);
    }
  }
}
