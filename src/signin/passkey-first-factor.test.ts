// Passwordless passkey sign-in against a software authenticator: who gets in (with `hwk`/`swk` and `mfa`), and every
// way an answer is refused — unknown passkey, no user verification, expired or reused challenge, clone, disabled
// account — under the MFA lockout and the source's throttle.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { SoftAuthenticator } from '../auth/testing/soft-authenticator.ts';
import { generateUserHandle, passkeyRegistrationOptions, verifyPasskeyRegistration } from '../auth/webauthn.ts';
import { ManualClock } from '../clock.ts';
import { directoryFor } from '../directory/directory.ts';
import type { User } from '../directory/users.ts';
import type { ClientIp } from '../net/client-ip.ts';
import { parseIp } from '../net/ip.ts';
import { passkeyFirstFactor, passkeySignInOptions, unknownPasskeyLockoutKey } from './passkey-first-factor.ts';
import { relyingPartyFor } from './second-factor.ts';
import { memoryPorts } from './testing/memory.ts';

const ORIGIN = 'https://login.contoso.example';
const rp = relyingPartyFor(`${ORIGIN}/t/contoso`);
const ip = (text: string): ClientIp => ({ ip: parseIp(text), text, via: 'socket' });
const HOME = ip('198.51.100.7');

async function world() {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9));
  const store = await storesUnderTest()[0].open({ clock });
  const { contoso } = await twoTenants(store);
  const directory = directoryFor(store.forTenant(contoso));
  const credentials = memoryPorts();
  const deps = { directory, credentials, clock };

  /** Registers a passkey for `user` on a new authenticator, as the enrolment page does. */
  async function passkeyFor(user: User, options: { backedUp?: boolean } = {}) {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN, ...options });
    const persona = { id: user.id, userHandle: generateUserHandle(), name: user.userPrincipalName, displayName: '' };
    const { options: creation, pending } = await passkeyRegistrationOptions({
      rp,
      user: persona,
      existing: [],
      now: clock.now(),
    });
    const registered = await verifyPasskeyRegistration({
      rp,
      response: authenticator.create(creation),
      pending,
      user: persona,
      existing: [],
      name: 'Laptop',
      now: clock.now(),
    });
    assert.ok(registered.ok);
    await credentials.webauthn.put(registered.credential);
    return authenticator;
  }

  let n = 0;
  /** One sign-in: options (usernameless, UV required), the authenticator's answer, verification. */
  async function signIn(answer: (options: Parameters<SoftAuthenticator['get']>[0]) => unknown, from = HOME) {
    const challengeId = `signin:${++n}`;
    const options = await passkeySignInOptions(deps, { challengeId, rp });
    return passkeyFirstFactor(deps, { response: answer(options), challengeId, rp, clientIp: from });
  }
  const json = (authenticator: SoftAuthenticator) => (options: Parameters<SoftAuthenticator['get']>[0]) =>
    JSON.stringify(authenticator.get(options));

  const alice = await directory.users.create({ userPrincipalName: 'alice@contoso.example', displayName: 'Alice' });
  const dave = await directory.users.create({
    userPrincipalName: 'dave@contoso.example',
    displayName: 'Dave',
    accountEnabled: false,
  });
  return { clock, directory, credentials, deps, passkeyFor, signIn, json, alice, dave };
}

test('passkey sign-in options: no credentials listed (the browser offers its discoverable ones), UV required', async () => {
  const w = await world();
  const options = await passkeySignInOptions(w.deps, { challengeId: 'c', rp });
  assert.equal(options.userVerification, 'required');
  assert.ok(!options.allowCredentials?.length);
  assert.equal(options.rpId, 'login.contoso.example');
  const pending = await w.credentials.challenges.take('c');
  assert.equal(pending?.purpose, 'authentication');
  assert.equal(pending?.userId, null, 'bound to no user: the passkey names the user');
});

test('passkey first factor: each persona ends where expected', async (t) => {
  const w = await world();
  const laptop = await w.passkeyFor(w.alice);
  const phone = await w.passkeyFor(w.alice, { backedUp: true });
  const daves = await w.passkeyFor(w.dave);
  const stranger = new SoftAuthenticator({ origin: ORIGIN });
  stranger.create({
    challenge: 'AA',
    rp: { id: rp.rpId, name: 'x' },
    user: { id: 'AA', name: 'x', displayName: 'x' },
    pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
  });

  const cases: {
    name: string;
    answer: (options: Parameters<SoftAuthenticator['get']>[0]) => unknown;
    expected: { ok: true; amr: string[]; user: string } | { ok: false; errorCode: number; why: RegExp; user?: string };
  }[] = [
    {
      name: "alice's laptop passkey: device-bound (hwk), multifactor",
      answer: w.json(laptop),
      expected: { ok: true, amr: ['hwk', 'mfa'], user: w.alice.id },
    },
    {
      name: "alice's synced phone passkey (swk)",
      answer: w.json(phone),
      expected: { ok: true, amr: ['swk', 'mfa'], user: w.alice.id },
    },
    {
      name: 'disabled dave learns it only with a good passkey answer',
      answer: w.json(daves),
      expected: { ok: false, errorCode: 50057, why: /the account is disabled/, user: w.dave.id },
    },
    {
      name: 'a passkey nobody registered here',
      answer: w.json(stranger),
      expected: { ok: false, errorCode: 800121, why: /no registered passkey has this credential id/ },
    },
    {
      name: "alice's key on an authenticator that only tests presence",
      answer: w.json(laptop.clone({ userVerification: false })),
      expected: { ok: false, errorCode: 800121, why: /passkey invalid: .*user verification/i, user: w.alice.id },
    },
    {
      name: 'an assertion relayed through a phishing origin',
      answer: w.json(laptop.clone({ origin: 'https://login.contoso.example.evil' })),
      expected: { ok: false, errorCode: 800121, why: /passkey invalid/, user: w.alice.id },
    },
    {
      name: 'nothing (a cancelled ceremony)',
      answer: () => '',
      expected: { ok: false, errorCode: 800121, why: /not a WebAuthn assertion/ },
    },
    {
      name: 'not JSON',
      answer: () => '{"id":',
      expected: { ok: false, errorCode: 800121, why: /not a WebAuthn assertion/ },
    },
    {
      name: 'an object, not text',
      answer: () => ({ id: 'x' }),
      expected: { ok: false, errorCode: 800121, why: /not a WebAuthn assertion/ },
    },
    {
      name: 'an answer longer than any real one',
      answer: (o) => JSON.stringify({ ...laptop.get(o), padding: 'x'.repeat(20_000) }),
      expected: { ok: false, errorCode: 800121, why: /not a WebAuthn assertion/ },
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const result = await w.signIn(c.answer);
      if (c.expected.ok) {
        assert.ok(result.ok, JSON.stringify(result));
        assert.deepEqual(result.amr, c.expected.amr);
        assert.equal(result.user.id, c.expected.user);
      } else {
        assert.ok(!result.ok);
        assert.equal(result.errorCode, c.expected.errorCode);
        assert.match(result.failureReason, c.expected.why);
        assert.equal(result.user?.id, c.expected.user);
      }
    });
  }

  await t.test('the counter of each good answer is stored (also for disabled dave: the answer was real)', async () => {
    const [daveKey] = await w.credentials.webauthn.listByUser(w.dave.id);
    assert.equal(daveKey.counter, 1);
    assert.notEqual(daveKey.lastUsedAt, null);
  });
});

test('passkey first factor: challenges expire after 5 minutes and are answered once', async () => {
  const w = await world();
  const laptop = await w.passkeyFor(w.alice);
  const options = await passkeySignInOptions(w.deps, { challengeId: 'late', rp });
  w.clock.advance(5 * 60_000);
  const late = await passkeyFirstFactor(w.deps, {
    response: JSON.stringify(laptop.get(options)),
    challengeId: 'late',
    rp,
    clientIp: HOME,
  });
  assert.ok(!late.ok);
  assert.match(late.failureReason, /passkey expired/);

  const fresh = await passkeySignInOptions(w.deps, { challengeId: 'once', rp });
  const answer = JSON.stringify(laptop.get(fresh));
  const first = await passkeyFirstFactor(w.deps, { response: answer, challengeId: 'once', rp, clientIp: HOME });
  assert.ok(first.ok);
  const replay = await passkeyFirstFactor(w.deps, { response: answer, challengeId: 'once', rp, clientIp: HOME });
  assert.ok(!replay.ok);
  assert.equal(replay.errorCode, 800121);
  assert.match(replay.failureReason, /passkey missing/);
});

test("passkey first factor: mallory's clone is refused and the passkey disabled; then the original is refused too", async () => {
  const w = await world();
  const laptop = await w.passkeyFor(w.alice);
  const clone = laptop.clone();
  assert.ok((await w.signIn(w.json(laptop))).ok, 'the original moves the counter on');
  const cloned = await w.signIn(w.json(clone));
  assert.ok(!cloned.ok);
  assert.match(cloned.failureReason, /passkey cloned/);
  const [key] = await w.credentials.webauthn.listByUser(w.alice.id);
  assert.notEqual(key.disabledAt, null);
  const after = await w.signIn(w.json(laptop));
  assert.ok(!after.ok);
  assert.match(after.failureReason, /passkey disabled/);
});

test('passkey first factor: a passkey whose user was deleted names nobody', async () => {
  const w = await world();
  const erin = await w.directory.users.create({ userPrincipalName: 'erin@contoso.example', displayName: 'Erin' });
  const erins = await w.passkeyFor(erin);
  await w.directory.users.delete(erin.id);
  const result = await w.signIn(w.json(erins));
  assert.ok(!result.ok);
  assert.equal(result.errorCode, 800121);
  assert.match(result.failureReason, /user no longer exists/);
});

test("passkey first factor: alice's MFA lockout (from wrong answers) refuses even her good passkey (50053)", async () => {
  const w = await world();
  const laptop = await w.passkeyFor(w.alice);
  const noUv = laptop.clone({ userVerification: false });
  for (let i = 0; i < 10; i++) assert.equal((await w.signIn(w.json(noUv))).ok, false);
  const locked = await w.signIn(w.json(laptop));
  assert.ok(!locked.ok);
  assert.equal(locked.errorCode, 50053);
  assert.match(locked.failureReason, /passkey lockout: account-locked/);
  w.clock.advance(61_000);
  assert.ok((await w.signIn(w.json(laptop))).ok, 'the first lockout lasts 60 seconds');
});

test("passkey first factor: spraying unknown credential ids throttles that source, not alice's passkey", async () => {
  const w = await world();
  const laptop = await w.passkeyFor(w.alice);
  const mallory = ip('203.0.113.9');
  for (let i = 0; i < 10; i++) {
    const stranger = new SoftAuthenticator({ origin: ORIGIN });
    stranger.create({
      challenge: 'AA',
      rp: { id: rp.rpId, name: 'x' },
      user: { id: 'AA', name: 'x', displayName: 'x' },
      pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
    });
    const result = await w.signIn(w.json(stranger), mallory);
    assert.ok(!result.ok);
    assert.equal(result.errorCode, 800121);
  }
  const refused = await w.signIn(() => '', mallory);
  assert.ok(!refused.ok);
  assert.equal(refused.errorCode, 50053, `locked under ${unknownPasskeyLockoutKey(mallory.text)}`);
  assert.ok((await w.signIn(w.json(laptop))).ok, 'alice, elsewhere, is not affected');
});
