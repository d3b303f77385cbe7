// Tests for the password step under smart lockout: right and wrong passwords, unknown names behaving like real
// ones, locked accounts answering the same whatever the password, IP throttling, and parallel guessing.
// The lockout port here is a Map inside the test (JavaScript runs each update without interleaving, so it is atomic
// as the real store's transaction is); the store-backed version is tested end to end with the sign-in pipeline.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { hashPassword, OWASP_ARGON2ID } from './password-hash.ts';
import { type PasswordSignInDeps, type PasswordSignInResult, signInWithPassword } from './password-sign-in.ts';
import type { LockoutStatePort } from './ports.ts';

const CHEAP = { memoryKiB: 256, passes: 2, parallelism: 1, saltBytes: 16, hashBytes: 32 };

function mapPort(): LockoutStatePort & { rows: Map<string, { value: object; expiresAt: number }> } {
  const rows = new Map<string, { value: object; expiresAt: number }>();
  return {
    rows,
    async update(key, change) {
      const row = rows.get(key);
      // Round-trip through JSON as the store does.
      const { next, expiresAt, result } = change(row ? JSON.parse(JSON.stringify(row.value)) : undefined);
      if (next === undefined) rows.delete(key);
      else rows.set(key, { value: JSON.parse(JSON.stringify(next)), expiresAt });
      return result;
    },
  };
}

function setup(hashParams = CHEAP) {
  const clock = new ManualClock();
  const lockouts = mapPort();
  const deps: PasswordSignInDeps = { lockouts, clock, badPasswordKey: new Uint8Array(32).fill(9), hashParams };
  return { clock, lockouts, deps };
}

const HQ = '198.51.100.10';
const ABROAD = '2001:db8:77::9';
const MALLORY = '203.0.113.66';

const withoutEvents = (r: PasswordSignInResult) => ({ ...r, events: undefined });

describe('password sign-in', () => {
  test('alice at headquarters with her password', async () => {
    const { deps, lockouts } = setup();
    const phc = await hashPassword('correct horse battery staple', CHEAP);
    const r = await signInWithPassword(deps, {
      signInName: 'alice@contoso.com',
      ip: HQ,
      password: 'correct horse battery staple',
      phc,
    });
    assert.deepEqual(r, { outcome: 'success', rehash: false, events: [] });
    assert.equal(lockouts.rows.has('account:alice@contoso.com'), false, 'nothing to remember after a clean success');
  });

  test("alice's hash from an older, cheaper configuration is reported for rehashing", async () => {
    const { deps } = setup(OWASP_ARGON2ID);
    const phc = await hashPassword('correct horse battery staple', CHEAP);
    const r = await signInWithPassword(deps, {
      signInName: 'alice@contoso.com',
      ip: HQ,
      password: 'correct horse battery staple',
      phc,
    });
    assert.equal(r.outcome, 'success');
    if (r.outcome === 'success') assert.equal(r.rehash, true);
  });

  test('bob abroad mistypes: invalid credentials (50126)', async () => {
    const { deps } = setup();
    const phc = await hashPassword('Tr0ub4dor&3', CHEAP);
    const r = await signInWithPassword(deps, {
      signInName: 'bob@contoso.com',
      ip: ABROAD,
      password: 'Tr0ub4dor&4',
      phc,
    });
    assert.deepEqual(r, { outcome: 'invalid-credentials', errorCode: 50126, events: [] });
  });

  test('a name with no account answers exactly as a wrong password does, and locks the same way', async () => {
    const { deps, clock } = setup();
    const phc = await hashPassword('real password', CHEAP);
    const answers = { real: [] as unknown[], unknown: [] as unknown[] };
    for (let i = 0; i < 11; i++) {
      const real = await signInWithPassword(deps, {
        signInName: 'bob@contoso.com',
        ip: ABROAD,
        password: `guess ${i}`,
        phc,
      });
      const unknown = await signInWithPassword(deps, {
        signInName: 'nobody@contoso.com',
        ip: ABROAD,
        password: `guess ${i}`,
        phc: null,
      });
      answers.real.push(withoutEvents(real));
      answers.unknown.push(withoutEvents(unknown));
    }
    assert.deepEqual(answers.unknown, answers.real);
    assert.deepEqual(answers.real.at(-1), {
      outcome: 'locked',
      errorCode: 50053,
      reason: 'account-locked',
      retryAt: clock.now() + 60_000,
      events: undefined,
    });
  });

  test('while alice is locked, her right password gets the same answer as a wrong one', async () => {
    const { deps, clock } = setup();
    const phc = await hashPassword('correct horse battery staple', CHEAP);
    for (let i = 0; i < 10; i++) {
      await signInWithPassword(deps, { signInName: 'alice@contoso.com', ip: MALLORY, password: `guess ${i}`, phc });
    }
    clock.advance(10_000);
    const right = await signInWithPassword(deps, {
      signInName: 'alice@contoso.com',
      ip: HQ,
      password: 'correct horse battery staple',
      phc,
    });
    const wrong = await signInWithPassword(deps, {
      signInName: 'alice@contoso.com',
      ip: HQ,
      password: 'guess 11',
      phc,
    });
    assert.deepEqual(right, wrong);
    assert.equal(right.outcome, 'locked');
    // A malformed stored hash is not even read while locked: no problem is reported.
    const broken = await signInWithPassword(deps, {
      signInName: 'alice@contoso.com',
      ip: HQ,
      password: 'x',
      phc: '$broken',
    });
    assert.deepEqual(broken, wrong);
    // After the lock, her right password works and clears the slate.
    clock.advance(50_000);
    const after = await signInWithPassword(deps, {
      signInName: 'alice@contoso.com',
      ip: HQ,
      password: 'correct horse battery staple',
      phc,
    });
    assert.equal(after.outcome, 'success');
  });

  test('mallory abroad locks alice out, but not at headquarters (a trusted location counts apart)', async () => {
    const { deps } = setup();
    const phc = await hashPassword('correct horse battery staple', CHEAP);
    for (let i = 0; i < 10; i++) {
      await signInWithPassword(deps, { signInName: 'alice@contoso.com', ip: MALLORY, password: `guess ${i}`, phc });
    }
    const abroad = await signInWithPassword(deps, {
      signInName: 'alice@contoso.com',
      ip: ABROAD,
      password: 'correct horse battery staple',
      phc,
    });
    assert.equal(abroad.outcome, 'locked');
    const atHq = await signInWithPassword(deps, {
      signInName: 'alice@contoso.com',
      ip: HQ,
      fromTrustedLocation: true,
      password: 'correct horse battery staple',
      phc,
    });
    assert.equal(atHq.outcome, 'success');
  });

  test('a locked attempt still spends about one hash of time (no timing shortcut)', async () => {
    const { deps } = setup(OWASP_ARGON2ID);
    const phc = await hashPassword('correct horse battery staple');
    const time = async (password: string) => {
      const start = performance.now();
      const r = await signInWithPassword(deps, { signInName: 'alice@contoso.com', ip: HQ, password, phc });
      return { ms: performance.now() - start, outcome: r.outcome };
    };
    const wrong: number[] = [];
    for (let i = 0; i < 10; i++) wrong.push((await time(`guess ${i}`)).ms);
    const locked = await time('correct horse battery staple');
    assert.equal(locked.outcome, 'locked');
    const median = wrong.sort((a, b) => a - b)[5];
    // Without the dummy hash the refusal would take well under a millisecond against tens for a hash.
    assert.ok(locked.ms > median * 0.2, `locked ${locked.ms.toFixed(1)} ms vs wrong password ${median.toFixed(1)} ms`);
  });

  test('bob retypes the same wrong password 20 times: never locked', async () => {
    const { deps } = setup();
    const phc = await hashPassword('Tr0ub4dor&3', CHEAP);
    for (let i = 0; i < 20; i++) {
      const r = await signInWithPassword(deps, {
        signInName: 'bob@contoso.com',
        ip: ABROAD,
        password: 'Tr0ub4dor&4',
        phc,
      });
      assert.equal(r.outcome, 'invalid-credentials', `attempt ${i + 1}`);
    }
  });

  test('the tenth failure reports the lock in its events; the answer is still 50126 for that attempt', async () => {
    const { deps, clock } = setup();
    const phc = await hashPassword('x'.repeat(12), CHEAP);
    let last: PasswordSignInResult | undefined;
    for (let i = 0; i < 10; i++) {
      last = await signInWithPassword(deps, { signInName: 'alice@contoso.com', ip: HQ, password: `guess ${i}`, phc });
    }
    assert.equal(last?.outcome, 'invalid-credentials');
    assert.deepEqual(last?.events, [
      {
        type: 'account-locked',
        key: 'account:alice@contoso.com',
        at: clock.now(),
        lockedUntil: clock.now() + 60_000,
        lockoutSeconds: 60,
        failures: 10,
        lockouts: 1,
      },
    ]);
  });

  test('mallory sprays one password over 60 accounts from one address: throttled after 50 failures', async () => {
    const { deps, clock } = setup();
    const phc = await hashPassword('the real one', CHEAP);
    const outcomes: string[] = [];
    const events: string[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await signInWithPassword(deps, {
        signInName: `user${i}@contoso.com`,
        ip: MALLORY,
        password: 'Winter2026!',
        phc,
      });
      outcomes.push(r.outcome === 'locked' ? `locked:${r.reason}` : r.outcome);
      events.push(...r.events.map((e) => e.type));
    }
    assert.deepEqual(outcomes, [...Array(51).fill('invalid-credentials'), ...Array(9).fill('locked:ip-throttled')]);
    assert.deepEqual(events, ['ip-throttled']);
    // Even the right password for an account is refused from that address...
    const right = await signInWithPassword(deps, {
      signInName: 'user59@contoso.com',
      ip: MALLORY,
      password: 'the real one',
      phc,
    });
    assert.equal(right.outcome, 'locked');
    // ...while the same account signs in from headquarters: the sprayer could not lock users out.
    const alice = await signInWithPassword(deps, {
      signInName: 'user59@contoso.com',
      ip: HQ,
      password: 'the real one',
      phc,
    });
    assert.equal(alice.outcome, 'success');
    clock.advance(900_000);
    const later = await signInWithPassword(deps, {
      signInName: 'user59@contoso.com',
      ip: MALLORY,
      password: 'the real one',
      phc,
    });
    assert.equal(later.outcome, 'success', 'the throttle ends after 15 minutes');
  });

  test('a stored hash that cannot be read fails closed and names the problem for the log', async () => {
    const { deps } = setup();
    const r = await signInWithPassword(deps, {
      signInName: 'carol@fabrikam.com',
      ip: HQ,
      password: 'anything at all',
      phc: '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
    });
    assert.deepEqual(r, {
      outcome: 'invalid-credentials',
      errorCode: 50126,
      events: [],
      problem: 'stored password hash: memory m=4194304 KiB is outside 8–262144',
    });
  });

  test('thirty parallel guesses on one account: at most ten are checked, then it is locked', async () => {
    const { deps } = setup();
    const phc = await hashPassword('correct horse battery staple', CHEAP);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        signInWithPassword(deps, {
          signInName: 'alice@contoso.com',
          ip: `192.0.2.${i + 1}`,
          password: `guess ${i}`,
          phc,
        }),
      ),
    );
    const checked = results.filter((r) => r.outcome === 'invalid-credentials').length;
    assert.equal(checked, 10);
    assert.equal(results.filter((r) => r.outcome === 'locked').length, 20);
    const after = await signInWithPassword(deps, {
      signInName: 'alice@contoso.com',
      ip: HQ,
      password: 'correct horse battery staple',
      phc,
    });
    assert.equal(after.outcome, 'locked');
  });
});
