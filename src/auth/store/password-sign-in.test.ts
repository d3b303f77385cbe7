// signInWithPassword end to end on the store-backed ports (no Map stand-in): the stored hash, the tenant's sealed
// bad-password key and lockout_states, on SQLite and PostgreSQL — lockout after the threshold, a locked account
// answering the same whatever the password, the lock ending on time, and a burst of parallel guesses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../../test/support/stores.ts';
import { hashPassword } from '../password-hash.ts';
import { type PasswordSignInResult, signInWithPassword } from '../password-sign-in.ts';
import { openWorld, type World } from './testing/world.ts';

/** A cheap argon2id cost so the tests run quickly; the parameters are not what is under test here. */
const CHEAP = { memoryKiB: 256, passes: 2, parallelism: 1, saltBytes: 16, hashBytes: 32 };
const PASSWORD = 'correct horse battery staple';
const HQ = '198.51.100.10';
const MALLORY = '203.0.113.66';

async function aliceSignsIn(w: World, password: string, ip: string): Promise<PasswordSignInResult> {
  const stored = await w.ports.passwords.get(w.alice);
  return signInWithPassword(
    { lockouts: w.ports.lockouts, clock: w.clock, badPasswordKey: await w.ports.badPasswordKey(), hashParams: CHEAP },
    { signInName: 'Alice@Contoso.example', ip, password, phc: stored?.phc ?? null },
  );
}

async function withAlicesPassword(db: (typeof stores)[number]): Promise<World> {
  const w = await openWorld(db);
  await w.ports.passwords.put({ userId: w.alice, phc: await hashPassword(PASSWORD, CHEAP), updatedAt: w.clock.now() });
  return w;
}

const stores = storesUnderTest();

const cases: Array<{ name: string; run: (w: World) => Promise<void> }> = [
  {
    name: 'alice at headquarters signs in; nothing is left in lockout_states for her account',
    async run(w) {
      const r = await aliceSignsIn(w, PASSWORD, HQ);
      assert.deepEqual(r, { outcome: 'success', rehash: false, events: [] });
      const rows = await w.contoso.selectFrom('lockout_states').select('key').execute();
      assert.deepEqual(
        rows.map((row) => row.key),
        [`ip:${HQ}`],
        'only the source’s row, which keeps its window',
      );
    },
  },
  {
    name: 'mallory guesses ten times: alice is locked, and her right password gets the wrong password’s answer',
    async run(w) {
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) outcomes.push((await aliceSignsIn(w, `guess ${i}`, MALLORY)).outcome);
      assert.deepEqual(outcomes, Array(10).fill('invalid-credentials'));
      w.clock.advance(5_000);
      const right = await aliceSignsIn(w, PASSWORD, HQ);
      const wrong = await aliceSignsIn(w, 'guess 11', HQ);
      assert.equal(right.outcome, 'locked');
      assert.deepEqual(right, wrong, 'the answer does not reveal whether the password was right');
      if (right.outcome === 'locked') assert.equal(right.retryAt, w.clock.now() - 5_000 + 60_000);
      const row = await w.contoso
        .selectFrom('lockout_states')
        .select('value')
        .where('key', '=', 'account:alice@contoso.example')
        .executeTakeFirstOrThrow();
      assert.ok(!row.value?.includes('guess'), 'wrong passwords are kept only as keyed tags');
    },
  },
  {
    name: 'the lock ends after a minute and alice’s password works again',
    async run(w) {
      for (let i = 0; i < 10; i++) await aliceSignsIn(w, `guess ${i}`, MALLORY);
      w.clock.advance(60_000);
      assert.equal((await aliceSignsIn(w, PASSWORD, HQ)).outcome, 'success');
    },
  },
  {
    name: 'thirty parallel guesses: at most ten passwords are checked, the rest are refused, then she is locked',
    async run(w) {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => aliceSignsIn(w, `guess ${i}`, `192.0.2.${i + 1}`)),
      );
      assert.equal(results.filter((r) => r.outcome === 'invalid-credentials').length, 10);
      assert.equal(results.filter((r) => r.outcome === 'locked').length, 20);
      assert.equal((await aliceSignsIn(w, PASSWORD, HQ)).outcome, 'locked');
    },
  },
  {
    name: 'lockouts are per tenant: the same name typed at fabrikam is not locked by guesses at contoso',
    async run(w) {
      for (let i = 0; i < 10; i++) await aliceSignsIn(w, `guess ${i}`, MALLORY);
      assert.equal((await aliceSignsIn(w, PASSWORD, HQ)).outcome, 'locked');
      const f = w.fabrikamPorts;
      const r = await signInWithPassword(
        { lockouts: f.lockouts, clock: w.clock, badPasswordKey: await f.badPasswordKey(), hashParams: CHEAP },
        { signInName: 'alice@contoso.example', ip: HQ, password: PASSWORD, phc: await hashPassword(PASSWORD, CHEAP) },
      );
      assert.equal(r.outcome, 'success');
    },
  },
];

for (const db of stores) {
  for (const c of cases) {
    test(`${db.name}: ${c.name}`, async () => c.run(await withAlicesPassword(db)));
  }
}
