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

// Verified secrets: what lets a check skip hashing the session id and the binding secret again.
const ALICE_ID = 'A'.repeat(43);
const ALICE_BINDING = 'B'.repeat(43);

function verifiedCache(options: { maxEntries?: number } = {}) {
  const cache = new SessionCache({ ...options, tombstoneMs: 60_000 });
  const entry = cache.putSession(CONTOSO, session('a'), T0);
  cache.rememberVerified(CONTOSO, entry, ALICE_ID, ALICE_BINDING);
  return { cache, entry };
}

test('a verified session id finds its entry in its own tenant only', () => {
  const { cache, entry } = verifiedCache();
  assert.equal(cache.verifiedEntry(CONTOSO, ALICE_ID), entry);
  assert.equal(cache.verifiedEntry(FABRIKAM, ALICE_ID), undefined);
  assert.equal(cache.verifiedEntry(CONTOSO, 'C'.repeat(43)), undefined);
  assert.equal(cache.verifiedSize, 1);
});

test('the verified binding secret matches only itself', () => {
  const { cache, entry } = verifiedCache();
  const cases: Array<{ name: string; presented: unknown; matches: boolean }> = [
    { name: 'the same secret', presented: ALICE_BINDING, matches: true },
    { name: 'another secret of the same length', presented: `${'B'.repeat(42)}C`, matches: false },
    { name: 'missing', presented: undefined, matches: false },
    { name: 'shorter', presented: 'B'.repeat(42), matches: false },
    { name: 'not a string', presented: Buffer.from(ALICE_BINDING), matches: false },
    // U+0142 is 0x42 ('B') once its high byte is dropped, as latin1 encoding would.
    {
      name: 'a character above U+00FF that truncates to the secret',
      presented: `${'B'.repeat(42)}\u0142`,
      matches: false,
    },
  ];
  for (const c of cases) assert.equal(cache.bindingMatchesVerified(entry, c.presented), c.matches, c.name);
  const other = cache.putSession(CONTOSO, session('b'), T0);
  assert.equal(cache.bindingMatchesVerified(other, ALICE_BINDING), undefined, 'no verified secret: the caller hashes');
});

test('verified secrets go with their entry: revocation, forget, a settings change, eviction', () => {
  const dropped: Array<{ name: string; drop: (cache: SessionCache) => void }> = [
    { name: 'revoked here', drop: (cache) => cache.revoked(CONTOSO, ['a'], T0 + 1) },
    { name: 'forgotten', drop: (cache) => cache.forget(CONTOSO, 'a') },
    { name: 'the tenant’s settings changed', drop: (cache) => cache.forgetTenant(CONTOSO) },
    { name: 'not live any more', drop: (cache) => cache.forgetVerified(cache.peekSession(CONTOSO, 'a')!) },
    {
      name: 'evicted by newer entries',
      drop: (cache) => {
        cache.putSession(CONTOSO, session('b'), T0 + 1);
        cache.putSession(CONTOSO, session('c'), T0 + 2);
      },
    },
  ];
  for (const c of dropped) {
    const { cache, entry } = verifiedCache({ maxEntries: 2 });
    c.drop(cache);
    assert.equal(cache.verifiedEntry(CONTOSO, ALICE_ID), undefined, c.name);
    assert.equal(cache.bindingMatchesVerified(entry, ALICE_BINDING), undefined, c.name);
    assert.equal(cache.verifiedSize, 0, c.name);
  }
});

test('a re-read keeps the verified secrets only while the session is live with the same binding hash', () => {
  const rereads: Array<{ name: string; stored: StoredSession; kept: boolean }> = [
    { name: 'unchanged', stored: session('a', { lastActivityAt: T0 + 1 }), kept: true },
    { name: 'revoked on another node', stored: session('a', { endedAt: T0 + 1, endReason: 'revoked' }), kept: false },
    { name: 'another binding hash', stored: session('a', { bindingHash: Buffer.alloc(32, 1) }), kept: false },
  ];
  for (const c of rereads) {
    const { cache } = verifiedCache();
    const again = cache.putSession(CONTOSO, c.stored, T0 + 10_000);
    assert.equal(cache.verifiedEntry(CONTOSO, ALICE_ID), c.kept ? again : undefined, c.name);
    assert.equal(cache.verifiedSize, c.kept ? 1 : 0, c.name);
  }
  // A read that started before a revocation on this node comes back revoked, without the secrets.
  const { cache } = verifiedCache();
  cache.revoked(CONTOSO, ['a'], T0 + 1);
  cache.putSession(CONTOSO, session('a'), T0 + 2);
  assert.equal(cache.verifiedEntry(CONTOSO, ALICE_ID), undefined);
});

test('only the current entry takes verified secrets', () => {
  const cache = new SessionCache();
  const old = cache.putSession(CONTOSO, session('a'), T0);
  cache.putSession(CONTOSO, session('a'), T0 + 10_000);
  cache.rememberVerified(CONTOSO, old, ALICE_ID, ALICE_BINDING);
  assert.equal(cache.verifiedEntry(CONTOSO, ALICE_ID), undefined);
  assert.equal(cache.verifiedSize, 0);
});

test("a checked session's record finds its entry while that entry is current, in its own tenant only", () => {
  const cache = new SessionCache({ ttlMs: 1_000 });
  const withRecord = (entry: ReturnType<SessionCache['putSession']>) => {
    const { bindingHash: _hash, ...record } = entry.session;
    entry.record = Object.freeze(record);
    cache.recordMade(entry);
    return entry.record;
  };
  const entry = cache.putSession(CONTOSO, session('alice'), T0);
  const record = withRecord(entry);
  assert.equal(cache.entryOfRecord(CONTOSO, record), entry, "alice's current entry");
  assert.equal(cache.entryOfRecord(CONTOSO, record), cache.peekSession(CONTOSO, 'alice'), 'as peekSession finds it');
  assert.equal(cache.entryOfRecord(FABRIKAM, record), undefined, 'another tenant');
  assert.equal(cache.entryOfRecord(CONTOSO, { ...record }), undefined, 'a record the cache did not make');
  // Read from the store again: the old record names an entry that is gone.
  const fresh = cache.putSession(CONTOSO, session('alice'), T0 + 2_000);
  assert.equal(cache.entryOfRecord(CONTOSO, record), undefined, 'after a new store read');
  assert.equal(cache.entryOfRecord(CONTOSO, withRecord(fresh)), fresh, 'the new record');
  cache.revoked(CONTOSO, ['alice'], T0 + 3_000);
  assert.equal(cache.entryOfRecord(CONTOSO, fresh.record as NonNullable<typeof fresh.record>), undefined, 'revoked');
});
