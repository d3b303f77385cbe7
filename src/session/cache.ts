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
import type { StoredSession } from './repository.ts';
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
    if (previous !== undefined) this.#sessions.delete(key);
    else this.#evict(this.#sessions, this.maxEntries);
    this.#sessions.set(key, entry);
    return entry;
  }

  /** Drops the sessions and remembers, for a while, that they were revoked here. */
  revoked(tenantId: string, handles: readonly string[], now: number): void {
    for (const handle of handles) {
      const key = `${tenantId} ${handle}`;
      this.#sessions.delete(key);
      this.#tombstones.delete(key);
      this.#evict(this.#tombstones, this.maxEntries);
      this.#tombstones.set(key, now + this.#tombstoneMs);
    }
  }

  /** Forgets one session (it will be read from the store next time). */
  forget(tenantId: string, handle: string): void {
    this.#sessions.delete(`${tenantId} ${handle}`);
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
    for (const key of this.#sessions.keys()) if (key.startsWith(prefix)) this.#sessions.delete(key);
  }

  #evict<V>(map: Map<string, V>, max: number): void {
    while (map.size >= max) {
      const oldest = map.keys().next();
      if (oldest.done) return;
      map.delete(oldest.value);
    }
  }
}
