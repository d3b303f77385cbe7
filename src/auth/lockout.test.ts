// Tests for smart lockout's pure state transitions: threshold, doubling lockouts, repeated wrong passwords counting
// once, quiet-period reset, parallel attempts, IP throttling, keys, and fail-closed reading of stored state.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../clock.ts';
import {
  type AccountLockoutState,
  accountLockoutKey,
  accountStateExpiresAt,
  badPasswordTag,
  beginAccountAttempt,
  beginIpAttempt,
  checkAccount,
  checkIp,
  DEFAULT_LOCKOUT_POLICY,
  EMPTY_ACCOUNT_STATE,
  EMPTY_IP_STATE,
  type IpThrottleState,
  ipLockoutKey,
  type LockoutEvent,
  lockoutPolicyProblems,
  readAccountState,
  readIpState,
  recordAccountFailure,
  recordAccountSuccess,
  recordIpFailure,
  recordIpSuccess,
  releaseAccountAttempt,
} from './lockout.ts';

const policy = DEFAULT_LOCKOUT_POLICY;
const KEY = new Uint8Array(32).fill(7);
const ALICE = accountLockoutKey('alice@contoso.com');

/** One whole attempt as the guard runs it: admit, then record a failure with the given wrong password. */
function fail(
  state: AccountLockoutState,
  clock: ManualClock,
  password: string,
): { state: AccountLockoutState; admitted: boolean; counted?: boolean; locked?: boolean; events: LockoutEvent[] } {
  const begun = beginAccountAttempt(state, clock.now(), policy);
  if (!begun.check.allowed) return { state: begun.state, admitted: false, events: [] };
  const tag = badPasswordTag(KEY, ALICE, password);
  const r = recordAccountFailure(ALICE, begun.state, clock.now(), policy, tag);
  return { state: r.state, admitted: true, counted: r.counted, locked: r.locked, events: r.events };
}

describe('account lockout', () => {
  test('alice at headquarters: nine different wrong passwords do not lock, the tenth locks for 60 s', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    for (let i = 1; i <= 9; i++) {
      const r = fail(state, clock, `guess ${i}`);
      assert.equal(r.locked, false, `attempt ${i}`);
      state = r.state;
      clock.advance(1000);
    }
    assert.equal(state.failures, 9);
    const tenth = fail(state, clock, 'guess 10');
    assert.equal(tenth.locked, true);
    assert.deepEqual(tenth.events, [
      {
        type: 'account-locked',
        key: ALICE,
        at: clock.now(),
        lockedUntil: clock.now() + 60_000,
        lockoutSeconds: 60,
        failures: 10,
        lockouts: 1,
      },
    ]);
    assert.deepEqual(checkAccount(tenth.state, clock.now() + 59_999), {
      allowed: false,
      reason: 'account-locked',
      retryAt: clock.now() + 60_000,
    });
    assert.deepEqual(checkAccount(tenth.state, clock.now() + 60_000), { allowed: true });
  });

  test('while locked, an attempt is refused before any password is looked at', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    for (let i = 0; i < 10; i++) state = fail(state, clock, `guess ${i}`).state;
    clock.advance(30_000);
    const begun = beginAccountAttempt(state, clock.now(), policy);
    assert.equal(begun.check.allowed, false);
    assert.deepEqual(begun.state, state, 'a refused attempt changes nothing');
  });

  test('mallory keeps guessing: after each lockout one more failure locks again, twice as long, up to an hour', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    for (let i = 0; i < 10; i++) state = fail(state, clock, `guess ${i}`).state;
    const lengths: number[] = [60];
    for (let round = 0; round < 8; round++) {
      clock.set(state.lockedUntil!);
      const r = fail(state, clock, `round ${round}`);
      assert.equal(r.admitted, true);
      assert.equal(r.locked, true, `round ${round}: the first failure after a lockout locks again`);
      const event = r.events[0];
      assert.equal(event.type, 'account-locked');
      if (event.type === 'account-locked') lengths.push(event.lockoutSeconds);
      state = r.state;
    }
    assert.deepEqual(lengths, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
  });

  test('bob retypes the same wrong password: it counts once and never locks', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    for (let i = 0; i < 25; i++) {
      const r = fail(state, clock, 'Summer2025!');
      assert.equal(r.locked, false);
      assert.equal(r.counted, i === 0);
      state = r.state;
      clock.advance(2000);
    }
    assert.equal(state.failures, 1);
    assert.equal(state.inFlight, 0, 'every attempt released its place');
  });

  test('the last three wrong passwords are remembered; a fourth pushes the oldest out', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    // Cycling through three passwords: only the first round counts.
    for (let round = 0; round < 5; round++) {
      for (const pw of ['a1', 'b2', 'c3']) state = fail(state, clock, pw).state;
    }
    assert.equal(state.failures, 3);
    assert.equal(state.badPasswordTags.length, 3);
    // Cycling through four: each is forgotten before it comes round again, so every attempt counts.
    state = EMPTY_ACCOUNT_STATE;
    const counted: boolean[] = [];
    for (let i = 0; i < 9; i++) {
      const r = fail(state, clock, ['a1', 'b2', 'c3', 'd4'][i % 4]);
      counted.push(r.counted!);
      state = r.state;
    }
    assert.deepEqual(counted, Array(9).fill(true));
  });

  test('the tags are keyed hashes: nothing in the state contains the password', () => {
    const clock = new ManualClock();
    const r = fail(EMPTY_ACCOUNT_STATE, clock, 'MyS3cretPassw0rd');
    assert.ok(!JSON.stringify(r.state).includes('MyS3cret'));
    assert.match(r.state.badPasswordTags[0], /^[0-9a-f]{8}$/);
  });

  test('a successful sign-in forgets the failures, the lockout level and the remembered passwords', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    for (let i = 0; i < 9; i++) state = fail(state, clock, `guess ${i}`).state;
    const begun = beginAccountAttempt(state, clock.now(), policy);
    state = recordAccountSuccess(begun.state, clock.now(), policy);
    assert.deepEqual(state, EMPTY_ACCOUNT_STATE);
  });

  test('after an hour without failures, failures are forgotten', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    for (let i = 0; i < 9; i++) state = fail(state, clock, `guess ${i}`).state;
    clock.advance(3600_000);
    const r = fail(state, clock, 'guess again');
    assert.equal(r.locked, false);
    assert.equal(r.state.failures, 1);
  });

  test('the quiet period starts when the lock ends, so a one-hour lock is not quiet time', () => {
    const clock = new ManualClock();
    let state: AccountLockoutState = {
      ...EMPTY_ACCOUNT_STATE,
      failures: 16,
      lockouts: 7,
      lastFailureAt: clock.now(),
      lockedUntil: clock.now() + 3600_000,
    };
    clock.advance(3600_000); // the lock has just ended
    const r = fail(state, clock, 'again');
    assert.equal(r.locked, true, 'still at the top level: locks again at once');
    state = r.state;
    clock.set(state.lockedUntil! + 86_400_000); // a day of quiet after that lock
    assert.equal(fail(state, clock, 'later').state.failures, 1);
  });

  test('mallory cannot earn ten fresh guesses by waiting an hour after a lockout', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    for (let i = 0; i < 10; i++) state = fail(state, clock, `guess ${i}`).state;
    clock.set(state.lockedUntil! + 3600_000);
    const r = fail(state, clock, 'after an hour');
    assert.equal(r.locked, true, 'one guess, then locked again, for 2 minutes');
    if (r.events[0]?.type === 'account-locked') assert.equal(r.events[0].lockoutSeconds, 120);
    clock.set(r.state.lockedUntil! + 86_400_000 - 1);
    assert.equal(fail(r.state, clock, 'a day later, nearly').locked, true);
    clock.advance(1);
    assert.equal(fail(r.state, clock, 'a day later').state.failures, 1, 'a day of quiet forgets the episode');
  });

  test('guessing flat out for a day gets about 40 guesses', () => {
    const clock = new ManualClock();
    const end = clock.now() + 86_400_000;
    let state = EMPTY_ACCOUNT_STATE;
    let checked = 0;
    let i = 0;
    while (clock.now() < end) {
      const r = fail(state, clock, `guess ${i++}`);
      state = r.state;
      if (r.admitted) checked++;
      clock.set(state.lockedUntil !== null && state.lockedUntil > clock.now() ? state.lockedUntil : clock.now() + 1000);
    }
    assert.ok(checked >= 35 && checked <= 41, `${checked} guesses`);
  });

  test('a burst of parallel guesses gets no more tries than the threshold', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    let admitted = 0;
    for (let i = 0; i < 100; i++) {
      const begun = beginAccountAttempt(state, clock.now(), policy);
      state = begun.state;
      if (begun.check.allowed) admitted++;
    }
    assert.equal(admitted, 10);
    for (let i = 0; i < 10; i++) {
      state = recordAccountFailure(ALICE, state, clock.now(), policy, badPasswordTag(KEY, ALICE, `p${i}`)).state;
    }
    assert.equal(checkAccount(state, clock.now()).allowed, false);
    assert.equal(state.inFlight, 0);
  });

  test('with nine failures, only one attempt at a time is admitted', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    for (let i = 0; i < 9; i++) state = fail(state, clock, `guess ${i}`).state;
    const first = beginAccountAttempt(state, clock.now(), policy);
    assert.equal(first.check.allowed, true);
    const second = beginAccountAttempt(first.state, clock.now(), policy);
    assert.equal(second.check.allowed, false);
    // Once the first finishes (say, cancelled), the next is admitted.
    const released = releaseAccountAttempt(second.state, clock.now(), policy);
    assert.equal(beginAccountAttempt(released, clock.now(), policy).check.allowed, true);
  });

  test('an attempt abandoned by a crashed node stops holding its place after 30 s', () => {
    const clock = new ManualClock();
    let state = EMPTY_ACCOUNT_STATE;
    for (let i = 0; i < 9; i++) state = fail(state, clock, `guess ${i}`).state;
    state = beginAccountAttempt(state, clock.now(), policy).state; // never finished
    assert.equal(beginAccountAttempt(state, clock.now() + 29_999, policy).check.allowed, false);
    assert.equal(beginAccountAttempt(state, clock.now() + 30_000, policy).check.allowed, true);
  });

  test('the row may be deleted an hour after the last failure, or a day after the last lock', () => {
    const clock = new ManualClock();
    let state = fail(EMPTY_ACCOUNT_STATE, clock, 'x').state;
    assert.equal(accountStateExpiresAt(state), clock.now() + 3600_000);
    for (let i = 0; i < 9; i++) state = fail(state, clock, `guess ${i}`).state;
    assert.equal(accountStateExpiresAt(state), state.lockedUntil! + 86_400_000);
  });
});

describe('reading stored state fails closed', () => {
  const now = Date.UTC(2026, 0, 1);
  const account: { name: string; stored: unknown; problem?: RegExp }[] = [
    { name: 'no row', stored: undefined },
    { name: 'a good row', stored: { ...EMPTY_ACCOUNT_STATE, failures: 3, lastFailureAt: now } },
    { name: 'a string', stored: 'locked', problem: /not an object/ },
    { name: 'negative failures', stored: { ...EMPTY_ACCOUNT_STATE, failures: -1 }, problem: /failures is not a count/ },
    {
      name: 'lockedUntil as text',
      stored: { ...EMPTY_ACCOUNT_STATE, lockedUntil: '2026-01-01' },
      problem: /lockedUntil is not a time/,
    },
    {
      name: 'tags missing',
      stored: { ...EMPTY_ACCOUNT_STATE, badPasswordTags: undefined },
      problem: /badPasswordTags/,
    },
  ];
  for (const c of account) {
    test(`account: ${c.name}`, () => {
      const { state, events } = readAccountState(ALICE, c.stored, now);
      if (!c.problem) {
        assert.deepEqual(events, []);
        assert.equal(checkAccount(state, now).allowed, true);
        return;
      }
      assert.equal(events.length, 1);
      assert.equal(events[0].type, 'lockout-state-invalid');
      if (events[0].type === 'lockout-state-invalid') assert.match(events[0].problem, c.problem);
      assert.deepEqual(checkAccount(state, now), { allowed: false, reason: 'account-locked', retryAt: now + 60_000 });
    });
  }
  test('ip: a malformed row throttles the source', () => {
    const { state, events } = readIpState('ip:192.0.2.1', { failures: 'many' }, now);
    assert.equal(events[0].type, 'lockout-state-invalid');
    assert.deepEqual(checkIp(state, now), { allowed: false, reason: 'ip-throttled', retryAt: now + 900_000 });
  });
});

describe('source IP throttling', () => {
  const MALLORY = ipLockoutKey('203.0.113.66');

  function ipFail(state: IpThrottleState, clock: ManualClock) {
    const begun = beginIpAttempt(state, clock.now(), policy);
    if (!begun.check.allowed)
      return { state: begun.state, admitted: false, throttled: true, events: [] as LockoutEvent[] };
    return { ...recordIpFailure(MALLORY, begun.state, clock.now(), policy), admitted: true };
  }

  test('mallory sprays one password over many accounts: 50 failures in 5 minutes are answered, the 51st throttles', () => {
    const clock = new ManualClock();
    let state = EMPTY_IP_STATE;
    for (let i = 1; i <= 50; i++) {
      const r = ipFail(state, clock);
      assert.equal(r.throttled, false, `failure ${i}`);
      state = r.state;
      clock.advance(5000);
    }
    const r = ipFail(state, clock);
    assert.equal(r.throttled, true);
    assert.deepEqual(r.events, [
      { type: 'ip-throttled', key: MALLORY, at: clock.now(), throttledUntil: clock.now() + 900_000, failures: 51 },
    ]);
    assert.deepEqual(checkIp(r.state, clock.now() + 899_999), {
      allowed: false,
      reason: 'ip-throttled',
      retryAt: clock.now() + 900_000,
    });
    assert.equal(ipFail(r.state, clock).admitted, false);
    assert.deepEqual(checkIp(r.state, clock.now() + 900_000), { allowed: true });
  });

  test('bob abroad behind a busy NAT: failures spread over time never throttle', () => {
    const clock = new ManualClock();
    let state = EMPTY_IP_STATE;
    for (let i = 0; i < 200; i++) {
      const r = ipFail(state, clock);
      assert.equal(r.throttled, false, `failure ${i}`);
      state = r.state;
      clock.advance(10_000); // 30 per 5-minute window
    }
  });

  test('successes end their attempt but do not forgive failures', () => {
    const clock = new ManualClock();
    let state = EMPTY_IP_STATE;
    for (let i = 0; i < 50; i++) state = ipFail(state, clock).state;
    const begun = beginIpAttempt(state, clock.now(), policy);
    state = recordIpSuccess(begun.state, clock.now(), policy);
    assert.equal(state.failures, 50);
    assert.equal(state.inFlight, 0);
    assert.equal(ipFail(state, clock).throttled, true);
  });

  test('a parallel burst from one source is cut at the limit', () => {
    const clock = new ManualClock();
    let state = EMPTY_IP_STATE;
    let admitted = 0;
    for (let i = 0; i < 500; i++) {
      const begun = beginIpAttempt(state, clock.now(), policy);
      state = begun.state;
      if (begun.check.allowed) admitted++;
    }
    assert.equal(admitted, 51);
  });
});

describe('keys', () => {
  const accounts: { name: string; a: string; b: string; same: boolean }[] = [
    {
      name: 'case and spaces do not make a new account key',
      a: 'Alice@Contoso.com ',
      b: 'alice@contoso.com',
      same: true,
    },
    { name: 'different names are different keys', a: 'alice@contoso.com', b: 'bob@contoso.com', same: false },
  ];
  test('a trusted location has its own account key', () => {
    assert.equal(accountLockoutKey('alice@contoso.com'), 'account:alice@contoso.com');
    assert.equal(accountLockoutKey('alice@contoso.com', true), 'account-trusted:alice@contoso.com');
  });
  for (const c of accounts) {
    test(c.name, () => assert.equal(accountLockoutKey(c.a) === accountLockoutKey(c.b), c.same));
  }

  const ips: { name: string; ip: string; key: string }[] = [
    { name: 'IPv4', ip: '198.51.100.7', key: 'ip:198.51.100.7' },
    { name: 'IPv4-mapped IPv6 is the IPv4 address', ip: '::ffff:198.51.100.7', key: 'ip:198.51.100.7' },
    { name: 'IPv6 is keyed by its /64', ip: '2001:db8:1:2::5', key: 'ip:2001:db8:1:2::/64' },
    { name: 'another address in the same /64', ip: '2001:DB8:1:2:ffff:eeee:dddd:cccc', key: 'ip:2001:db8:1:2::/64' },
    { name: 'a different /64', ip: '2001:db8:1:3::5', key: 'ip:2001:db8:1:3::/64' },
    { name: 'compressed in the middle', ip: '2001:db8::1', key: 'ip:2001:db8:0:0::/64' },
    { name: 'loopback', ip: '::1', key: 'ip:0:0:0:0::/64' },
    { name: 'with a zone', ip: 'fe80::1%eth0', key: 'ip:fe80:0:0:0::/64' },
  ];
  for (const c of ips) test(`ip: ${c.name}`, () => assert.equal(ipLockoutKey(c.ip), c.key));
  test('ip: not an address', () =>
    assert.throws(() => ipLockoutKey('example.com'), /'example.com' is not an IP address/));

  test('bad-password tags depend on the key, the account and the password', () => {
    const other = new Uint8Array(32).fill(8);
    const bob = accountLockoutKey('bob@contoso.com');
    const tag = badPasswordTag(KEY, ALICE, 'hunter2');
    assert.equal(tag, badPasswordTag(KEY, ALICE, 'hunter2'));
    assert.notEqual(tag, badPasswordTag(other, ALICE, 'hunter2'));
    assert.notEqual(tag, badPasswordTag(KEY, bob, 'hunter2'));
    assert.notEqual(tag, badPasswordTag(KEY, ALICE, 'hunter3'));
  });
});

describe('lockoutPolicyProblems', () => {
  test('the defaults are valid', () => assert.deepEqual(lockoutPolicyProblems(DEFAULT_LOCKOUT_POLICY), []));
  test('each bad option is named with its value', () => {
    const problems = lockoutPolicyProblems({
      ...DEFAULT_LOCKOUT_POLICY,
      threshold: 0,
      maxLockoutSeconds: 30,
      ip: { ...DEFAULT_LOCKOUT_POLICY.ip, windowSeconds: 1.5 },
    });
    assert.deepEqual(problems, [
      "lockout: option 'threshold' must be a whole number of at least 1 but it's configured as '0'",
      "lockout: option 'ip.windowSeconds' must be a whole number of at least 1 but it's configured as '1.5'",
      "lockout: option 'maxLockoutSeconds' must be at least initialLockoutSeconds (60) but it's configured as '30'",
    ]);
  });
});
