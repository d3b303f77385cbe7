// The session cache on its own: freshness by TTL, the bound on its size, activity kept across re-reads, tombstones
// for revocations on this node, and per-tenant keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionCache } from './cache.ts';
import type { StoredSession } from './repository.ts';
import { DEFAULT_SESSION_SETTINGS } from './settings.ts';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const CONTOSO = '00000000-0000-4000-8000-00000000c0c0';
const FABRIKAM = '00000000-0000-4000-8000-00000000fab0';

function session(handle: string, overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    handle,
    userId: 'alice',
    createdAt: T0,
    amr: ['pwd'],
    mfaAt: null,
    lastActivityAt: T0,
    latestEndAt: T0 + 86_400_000,
    persistent: false,
    endedAt: null,
    endReason: null,
    bindingHash: Buffer.alloc(32),
    ...overrides,
  };
}

test('an entry is fresh for the TTL after its store read, then missed', () => {
  const cache = new SessionCache({ ttlMs: 1_000 });
  cache.putSession(CONTOSO, session('a'), T0);
  assert.ok(cache.session(CONTOSO, 'a', T0 + 999));
  assert.equal(cache.session(CONTOSO, 'a', T0 + 1_000), undefined);
  assert.ok(cache.peekSession(CONTOSO, 'a'), 'still there for the activity throttle');
  cache.putSettings(CONTOSO, DEFAULT_SESSION_SETTINGS, T0);
  assert.equal(cache.settings(CONTOSO, T0 + 999), DEFAULT_SESSION_SETTINGS);
  assert.equal(cache.settings(CONTOSO, T0 + 1_000), undefined);
});

test('keys are per tenant: the same handle in another tenant is another entry', () => {
  const cache = new SessionCache();
  cache.putSession(CONTOSO, session('a'), T0);
  assert.equal(cache.session(FABRIKAM, 'a', T0), undefined);
  cache.putSettings(CONTOSO, DEFAULT_SESSION_SETTINGS, T0);
  assert.equal(cache.settings(FABRIKAM, T0), undefined);
});

test('bounded: when full, the entry read longest ago goes first', () => {
  const cache = new SessionCache({ maxEntries: 3 });
  for (const [i, handle] of ['a', 'b', 'c'].entries()) cache.putSession(CONTOSO, session(handle), T0 + i);
  cache.putSession(CONTOSO, session('a'), T0 + 10); // re-read: a is now the newest
  cache.putSession(CONTOSO, session('d'), T0 + 11);
  assert.equal(cache.size, 3);
  assert.equal(cache.peekSession(CONTOSO, 'b'), undefined);
  assert.ok(cache.peekSession(CONTOSO, 'a'));
  assert.ok(cache.peekSession(CONTOSO, 'd'));
});

test('activity seen on this node survives a re-read of an older stored time', () => {
  const cache = new SessionCache();
  const entry = cache.putSession(CONTOSO, session('a'), T0);
  entry.lastActivityAt = T0 + 30_000;
  entry.lastWrittenAt = T0 + 20_000;
  const again = cache.putSession(CONTOSO, session('a', { lastActivityAt: T0 + 10_000 }), T0 + 40_000);
  assert.equal(again.lastActivityAt, T0 + 30_000);
  assert.equal(again.lastWrittenAt, T0 + 20_000);
});

test('a revocation here drops the entry, and a read that started before it cannot put it back as live', () => {
  const cache = new SessionCache({ tombstoneMs: 60_000 });
  cache.putSession(CONTOSO, session('a'), T0);
  cache.revoked(CONTOSO, ['a'], T0 + 1);
  assert.equal(cache.peekSession(CONTOSO, 'a'), undefined);
  const stale = cache.putSession(CONTOSO, session('a'), T0 + 2);
  assert.equal(stale.session.endReason, 'revoked');
  // Another tenant's session with the same handle is untouched.
  assert.equal(cache.putSession(FABRIKAM, session('a'), T0 + 2).session.endReason, null);
  // After the tombstone's time, store reads are trusted again.
  assert.equal(cache.putSession(CONTOSO, session('a'), T0 + 60_001).session.endReason, null);
});

test('a settings change on this node forgets the tenant’s settings and sessions, not other tenants’', () => {
  const cache = new SessionCache();
  cache.putSession(CONTOSO, session('a'), T0);
  cache.putSession(FABRIKAM, session('b'), T0);
  cache.putSettings(CONTOSO, DEFAULT_SESSION_SETTINGS, T0);
  cache.forgetTenant(CONTOSO);
  assert.equal(cache.peekSession(CONTOSO, 'a'), undefined);
  assert.equal(cache.settings(CONTOSO, T0), undefined);
  assert.ok(cache.peekSession(FABRIKAM, 'b'));
});

test('options must be positive whole numbers', () => {
  assert.throws(() => new SessionCache({ ttlMs: 0 }), /ttlMs must be a positive whole number, but it is 0/);
  assert.throws(() => new SessionCache({ maxEntries: 1.5 }), /maxEntries/);
});
