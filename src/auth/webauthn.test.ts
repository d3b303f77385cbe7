// Tests for passkeys against a software authenticator that builds real attestation and assertion responses:
// registration, usernameless and second-factor sign-in, challenge expiry, origin checks and clone detection.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../clock.ts';
import type { WebAuthnCredentialRecord } from './ports.ts';
import { SoftAuthenticator } from './testing/soft-authenticator.ts';
import {
  generateUserHandle,
  MAX_RESPONSE_CHARS,
  parseAuthenticationResponse,
  parseRegistrationResponse,
  passkeyAmr,
  passkeyAuthenticationOptions,
  passkeyRegistrationOptions,
  relyingPartyProblems,
  userHandleFor,
  verifyPasskeyAuthentication,
  verifyPasskeyRegistration,
} from './webauthn.ts';
import type { PendingChallenge } from './webauthn-challenge.ts';

const rp = { rpId: 'contoso.com', rpName: 'Contoso', origins: ['https://login.contoso.com'] };
const ORIGIN = 'https://login.contoso.com';

type Persona = { id: string; userHandle: string; name: string; displayName: string };
const alice: Persona = {
  id: 'u-alice',
  userHandle: generateUserHandle(),
  name: 'alice@contoso.com',
  displayName: 'Alice',
};
const bob: Persona = { id: 'u-bob', userHandle: generateUserHandle(), name: 'bob@contoso.com', displayName: 'Bob' };

/** Registers a passkey for `user` on `authenticator`, as the enrolment page would. */
async function register(
  user: Persona,
  authenticator: SoftAuthenticator,
  clock: ManualClock,
  existing: WebAuthnCredentialRecord[] = [],
): Promise<WebAuthnCredentialRecord> {
  const { options, pending } = await passkeyRegistrationOptions({ rp, user, existing, now: clock.now() });
  const response = authenticator.create(options);
  const result = await verifyPasskeyRegistration({
    rp,
    response,
    pending,
    user,
    existing,
    name: 'Laptop',
    now: clock.now(),
  });
  assert.equal(result.ok, true, JSON.stringify(result));
  if (!result.ok) throw new Error('unreachable');
  return result.credential;
}

/** Runs one sign-in: options, the authenticator's answer, verification. */
async function signIn(
  authenticator: SoftAuthenticator,
  credential: WebAuthnCredentialRecord | undefined,
  clock: ManualClock,
  opts: { userId?: string | null; allow?: WebAuthnCredentialRecord[]; requireUserVerification?: boolean } = {},
) {
  const { options, pending } = await passkeyAuthenticationOptions({
    rp,
    userId: opts.userId ?? null,
    allow: opts.allow,
    now: clock.now(),
  });
  const response = authenticator.get(options);
  return verifyPasskeyAuthentication({
    rp,
    response,
    pending,
    credential,
    requireUserVerification: opts.requireUserVerification,
    now: clock.now(),
  });
}

describe('passkey registration', () => {
  test("alice's options ask for a discoverable passkey with user verification preferred, attestation none", async () => {
    const clock = new ManualClock();
    const { options, pending } = await passkeyRegistrationOptions({ rp, user: alice, existing: [], now: clock.now() });
    assert.equal(options.rp.id, 'contoso.com');
    assert.equal(options.rp.name, 'Contoso');
    assert.equal(options.user.id, alice.userHandle);
    assert.equal(options.user.name, 'alice@contoso.com');
    assert.deepEqual(options.authenticatorSelection, {
      residentKey: 'preferred',
      userVerification: 'preferred',
      requireResidentKey: false,
    });
    assert.equal(options.attestation, 'none');
    assert.equal(options.timeout, 300_000);
    assert.equal(options.challenge, pending.challenge);
    assert.deepEqual(pending, {
      challenge: pending.challenge,
      purpose: 'registration',
      userId: 'u-alice',
      issuedAt: clock.now(),
      expiresAt: clock.now() + 300_000,
    });
    assert.ok(
      options.pubKeyCredParams.some((p) => p.alg === -7),
      'ES256 is offered',
    );
  });

  test('alice registers a laptop passkey: the record to store', async () => {
    const clock = new ManualClock();
    const record = await register(alice, new SoftAuthenticator({ origin: ORIGIN }), clock);
    assert.equal(record.userId, 'u-alice');
    assert.equal(record.userHandle, alice.userHandle);
    assert.equal(record.counter, 0);
    assert.deepEqual(record.transports, ['internal']);
    assert.equal(record.deviceType, 'singleDevice');
    assert.equal(record.backedUp, false);
    assert.equal(record.aaguid, '00000000-0000-0000-0000-000000000000');
    assert.equal(record.createdAt, clock.now());
    assert.equal(record.disabledAt, null);
    assert.ok(record.publicKey.length > 64);
  });

  test('a synced passkey is recorded as multi-device and backed up', async () => {
    const record = await register(alice, new SoftAuthenticator({ origin: ORIGIN, backedUp: true }), new ManualClock());
    assert.equal(record.deviceType, 'multiDevice');
    assert.equal(record.backedUp, true);
  });

  test("alice's second registration excludes her first passkey", async () => {
    const clock = new ManualClock();
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const first = await register(alice, authenticator, clock);
    const { options } = await passkeyRegistrationOptions({ rp, user: alice, existing: [first], now: clock.now() });
    assert.deepEqual(options.excludeCredentials, [
      { id: first.credentialId, type: 'public-key', transports: ['internal'] },
    ]);
    assert.throws(() => authenticator.create(options), /InvalidStateError/);
  });

  const refusals: {
    name: string;
    tamper: (input: { pending: PendingChallenge; clock: ManualClock; authOrigin: string }) => {
      pending?: PendingChallenge | undefined;
      origin?: string;
      advanceMs?: number;
    };
    reason: string;
    detail: RegExp;
  }[] = [
    {
      name: 'the challenge expired (5 minutes)',
      tamper: () => ({ advanceMs: 300_000 }),
      reason: 'expired',
      detail: /expired/,
    },
    {
      name: 'no pending challenge (already used)',
      tamper: () => ({ pending: undefined }),
      reason: 'missing',
      detail: /no challenge is pending/,
    },
    {
      name: "the pending challenge was bob's",
      tamper: ({ pending }) => ({ pending: { ...pending, userId: 'u-bob' } }),
      reason: 'wrong-purpose',
      detail: /another user/,
    },
    {
      name: 'an authentication challenge answered as registration',
      tamper: ({ pending }) => ({ pending: { ...pending, purpose: 'authentication' } }),
      reason: 'wrong-purpose',
      detail: /issued for authentication, not registration/,
    },
    {
      name: 'a phishing origin relayed the ceremony',
      tamper: () => ({ origin: 'https://login.contoso.com.evil.example' }),
      reason: 'invalid',
      detail: /origin/,
    },
    {
      name: 'the response answers a different challenge',
      tamper: ({ pending }) => ({ pending: { ...pending, challenge: Buffer.alloc(32, 1).toString('base64url') } }),
      reason: 'invalid',
      detail: /challenge/,
    },
  ];
  for (const c of refusals) {
    test(`refused: ${c.name}`, async () => {
      const clock = new ManualClock();
      const { options, pending } = await passkeyRegistrationOptions({
        rp,
        user: alice,
        existing: [],
        now: clock.now(),
      });
      const t = c.tamper({ pending, clock, authOrigin: ORIGIN });
      const response = new SoftAuthenticator({ origin: t.origin ?? ORIGIN }).create(options);
      if (t.advanceMs) clock.advance(t.advanceMs);
      const result = await verifyPasskeyRegistration({
        rp,
        response,
        pending: 'pending' in t ? t.pending : pending,
        user: alice,
        existing: [],
        name: 'x',
        now: clock.now(),
      });
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.reason, c.reason);
        assert.match(result.detail, c.detail);
      }
    });
  }

  test('refused: the same credential registered twice', async () => {
    const clock = new ManualClock();
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const { options, pending } = await passkeyRegistrationOptions({ rp, user: alice, existing: [], now: clock.now() });
    const response = authenticator.create(options);
    const args = { rp, response, pending, user: alice, name: 'x', now: clock.now() };
    const first = await verifyPasskeyRegistration({ ...args, existing: [] });
    assert.equal(first.ok, true);
    if (!first.ok) return;
    const again = await verifyPasskeyRegistration({ ...args, existing: [first.credential] });
    assert.deepEqual(again, { ok: false, reason: 'already-registered', detail: 'this passkey is already registered' });
  });
});

describe('passkey sign-in', () => {
  test('alice signs in without typing her name (usernameless): the credential names her', async () => {
    const clock = new ManualClock();
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const record = await register(alice, authenticator, clock);
    const { options } = await passkeyAuthenticationOptions({ rp, userId: null, now: clock.now() });
    assert.equal(options.allowCredentials, undefined, 'no list: the browser offers any passkey for contoso.com');
    assert.equal(options.userVerification, 'preferred');
    const result = await signIn(authenticator, record, clock);
    assert.deepEqual(result, {
      ok: true,
      userId: 'u-alice',
      credentialId: record.credentialId,
      newCounter: 1,
      backedUp: false,
      userVerified: true,
    });
  });

  test('bob uses his passkey as a second factor: only his credentials are allowed', async () => {
    const clock = new ManualClock();
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const record = await register(bob, authenticator, clock);
    const { options } = await passkeyAuthenticationOptions({ rp, userId: bob.id, allow: [record], now: clock.now() });
    assert.deepEqual(options.allowCredentials, [
      { id: record.credentialId, type: 'public-key', transports: ['internal'] },
    ]);
    const result = await signIn(authenticator, record, clock, { userId: bob.id, allow: [record] });
    assert.equal(result.ok, true);
  });

  test('the counter rises with each sign-in and is accepted while it rises', async () => {
    const clock = new ManualClock();
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    let record = await register(alice, authenticator, clock);
    for (let i = 1; i <= 3; i++) {
      const result = await signIn(authenticator, record, clock);
      assert.equal(result.ok, true);
      if (result.ok) {
        assert.equal(result.newCounter, i);
        record = { ...record, counter: result.newCounter };
      }
    }
  });

  test('a synced passkey that always reports 0 keeps working', async () => {
    const clock = new ManualClock();
    const authenticator = new SoftAuthenticator({ origin: ORIGIN, counter: false, backedUp: true });
    const record = await register(alice, authenticator, clock);
    for (let i = 0; i < 3; i++) {
      const result = await signIn(authenticator, record, clock);
      assert.equal(result.ok, true);
      if (result.ok) assert.equal(result.newCounter, 0);
    }
  });

  test("mallory's clone of alice's security key is detected: the counter does not rise, sign-in fails closed", async () => {
    const clock = new ManualClock();
    const original = new SoftAuthenticator({ origin: ORIGIN });
    let record = await register(alice, original, clock);
    const first = await signIn(original, record, clock);
    assert.equal(first.ok, true);
    if (first.ok) record = { ...record, counter: first.newCounter };
    const clone = original.clone(); // copied when the counter was 1
    for (let i = 0; i < 3; i++) {
      const r = await signIn(original, record, clock);
      if (r.ok) record = { ...record, counter: r.newCounter };
    }
    assert.equal(record.counter, 4);
    const result = await signIn(clone, record, clock);
    assert.deepEqual(result, {
      ok: false,
      reason: 'cloned',
      detail: 'the signature counter went from 4 to 2; the authenticator may be cloned',
    });
  });

  test('an equal counter is also a clone', async () => {
    const clock = new ManualClock();
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const record = await register(alice, authenticator, clock);
    authenticator.setSignCount(record.credentialId, 4); // the next assertion reports 5
    const result = await signIn(authenticator, { ...record, counter: 5 }, clock);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.reason, 'cloned');
  });

  test("a forged assertion with a rising counter but another key is invalid, not 'cloned'", async () => {
    const clock = new ManualClock();
    const record = await register(alice, new SoftAuthenticator({ origin: ORIGIN }), clock);
    const forger = new SoftAuthenticator({ origin: ORIGIN });
    await register(alice, forger, clock);
    const { options, pending } = await passkeyAuthenticationOptions({ rp, userId: null, now: clock.now() });
    const response = { ...forger.get(options), id: record.credentialId, rawId: record.credentialId };
    const result = await verifyPasskeyAuthentication({
      rp,
      response,
      pending,
      credential: { ...record, counter: 7 },
      now: clock.now(),
    });
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.reason, 'invalid');
  });

  const refusals: {
    name: string;
    run: (ctx: {
      clock: ManualClock;
      authenticator: SoftAuthenticator;
      record: WebAuthnCredentialRecord;
    }) => ReturnType<typeof verifyPasskeyAuthentication>;
    reason: string;
  }[] = [
    {
      name: 'an unknown credential',
      run: ({ clock, authenticator }) => signIn(authenticator, undefined, clock),
      reason: 'unknown-credential',
    },
    {
      name: 'a credential disabled after a clone',
      run: ({ clock, authenticator, record }) => signIn(authenticator, { ...record, disabledAt: clock.now() }, clock),
      reason: 'disabled',
    },
    {
      name: "alice's passkey offered while bob is signing in",
      run: ({ clock, authenticator, record }) => signIn(authenticator, record, clock, { userId: bob.id }),
      reason: 'wrong-user',
    },
    {
      name: 'the user handle in the response is not the registered one',
      run: ({ clock, authenticator, record }) =>
        signIn(authenticator, { ...record, userHandle: generateUserHandle() }, clock),
      reason: 'wrong-user',
    },
    {
      name: 'user verification required but the key only tests presence',
      run: async ({ clock }) => {
        const authenticator = new SoftAuthenticator({ origin: ORIGIN, userVerification: false });
        const record = await register(alice, authenticator, clock);
        return signIn(authenticator, record, clock, { requireUserVerification: true });
      },
      reason: 'invalid',
    },
    {
      name: 'the challenge expired',
      run: async ({ clock, authenticator, record }) => {
        const { options, pending } = await passkeyAuthenticationOptions({ rp, userId: null, now: clock.now() });
        const response = authenticator.get(options);
        clock.advance(300_001);
        return verifyPasskeyAuthentication({ rp, response, pending, credential: record, now: clock.now() });
      },
      reason: 'expired',
    },
    {
      name: 'an old assertion replayed against a new challenge',
      run: async ({ clock, authenticator, record }) => {
        const old = await passkeyAuthenticationOptions({ rp, userId: null, now: clock.now() });
        const response = authenticator.get(old.options);
        const fresh = await passkeyAuthenticationOptions({ rp, userId: null, now: clock.now() });
        return verifyPasskeyAuthentication({
          rp,
          response,
          pending: fresh.pending,
          credential: record,
          now: clock.now(),
        });
      },
      reason: 'invalid',
    },
    {
      name: 'a registration challenge answered as sign-in',
      run: async ({ clock, authenticator, record }) => {
        const { options, pending } = await passkeyAuthenticationOptions({ rp, userId: null, now: clock.now() });
        const response = authenticator.get(options);
        return verifyPasskeyAuthentication({
          rp,
          response,
          pending: { ...pending, purpose: 'registration' },
          credential: record,
          now: clock.now(),
        });
      },
      reason: 'wrong-purpose',
    },
    {
      name: 'a signature with one bit flipped',
      run: async ({ clock, authenticator, record }) => {
        const { options, pending } = await passkeyAuthenticationOptions({ rp, userId: null, now: clock.now() });
        const response = authenticator.get(options);
        const sig = Buffer.from(response.response.signature, 'base64url');
        sig[sig.length - 1] ^= 1;
        const tampered = { ...response, response: { ...response.response, signature: sig.toString('base64url') } };
        return verifyPasskeyAuthentication({ rp, response: tampered, pending, credential: record, now: clock.now() });
      },
      reason: 'invalid',
    },
    {
      name: 'an assertion relayed through a phishing origin',
      run: async ({ clock, authenticator, record }) => {
        const phished = authenticator.clone({ origin: 'https://login.contoso.com.evil.example' });
        const { options, pending } = await passkeyAuthenticationOptions({ rp, userId: null, now: clock.now() });
        const response = phished.get(options);
        return verifyPasskeyAuthentication({ rp, response, pending, credential: record, now: clock.now() });
      },
      reason: 'invalid',
    },
  ];
  for (const c of refusals) {
    test(`refused: ${c.name}`, async () => {
      const clock = new ManualClock();
      const authenticator = new SoftAuthenticator({ origin: ORIGIN });
      const record = await register(alice, authenticator, clock);
      const result = await c.run({ clock, authenticator, record }).catch((error: unknown) => ({
        ok: false as const,
        reason: `threw: ${error}`,
        detail: '',
      }));
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.reason, c.reason, result.detail);
    });
  }
});

describe('relyingPartyProblems', () => {
  const cases: { name: string; rp: typeof rp; problems: RegExp[] }[] = [
    { name: 'contoso in production', rp, problems: [] },
    {
      name: 'localhost over http for development',
      rp: { rpId: 'localhost', rpName: 'Dev', origins: ['http://localhost:8080'] },
      problems: [],
    },
    {
      name: 'http on a public name',
      rp: { ...rp, origins: ['http://login.contoso.com'] },
      problems: [/must use https/],
    },
    {
      name: 'an origin with a path',
      rp: { ...rp, origins: ['https://login.contoso.com/signin'] },
      problems: [/scheme:\/\/host\[:port\] only/],
    },
    {
      name: 'an origin off the RP ID',
      rp: { ...rp, origins: ['https://login.fabrikam.com'] },
      problems: [/not on the RP ID 'contoso.com'/],
    },
    {
      name: 'an RP ID with a scheme',
      rp: { ...rp, rpId: 'https://contoso.com' },
      problems: [/'rpId' must be a lower-case domain name/, /not on the RP ID/],
    },
    { name: 'no origins', rp: { ...rp, origins: [] }, problems: [/at least one origin/] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const problems = relyingPartyProblems(c.rp);
      assert.equal(problems.length, c.problems.length, problems.join('\n'));
      for (const [i, re] of c.problems.entries()) assert.match(problems[i], re);
    });
  }
});

describe("the browser's answer as the sign-in pages post it", () => {
  const authenticator = new SoftAuthenticator({ origin: ORIGIN });
  const created = authenticator.create({
    challenge: 'AA',
    rp: { id: rp.rpId, name: 'Contoso' },
    user: { id: 'AA', name: 'alice', displayName: 'Alice' },
    pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
  });
  const asserted = authenticator.get({ challenge: 'AA', rpId: rp.rpId });
  const cases: { name: string; value: unknown; registration: boolean; authentication: boolean }[] = [
    { name: 'a registration', value: JSON.stringify(created), registration: true, authentication: false },
    { name: 'an assertion', value: JSON.stringify(asserted), registration: false, authentication: true },
    { name: 'nothing (a cancelled ceremony)', value: '', registration: false, authentication: false },
    { name: 'not text', value: { id: 'x', response: {} }, registration: false, authentication: false },
    { name: 'not JSON', value: '{"id":', registration: false, authentication: false },
    { name: 'JSON null', value: 'null', registration: false, authentication: false },
    { name: 'no id', value: '{"response":{"signature":"AA"}}', registration: false, authentication: false },
    { name: 'no response', value: '{"id":"x"}', registration: false, authentication: false },
    {
      name: `longer than ${MAX_RESPONSE_CHARS} characters`,
      value: JSON.stringify({ ...asserted, padding: 'x'.repeat(MAX_RESPONSE_CHARS) }),
      registration: false,
      authentication: false,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(parseRegistrationResponse(c.value) !== undefined, c.registration);
      assert.equal(parseAuthenticationResponse(c.value) !== undefined, c.authentication);
    });
  }
});

describe('user handles and amr', () => {
  test("a user's passkeys share one user handle; the first passkey gets a new random one", async () => {
    const clock = new ManualClock();
    const first = userHandleFor([]);
    assert.equal(Buffer.from(first, 'base64url').length, 64);
    assert.notEqual(userHandleFor([]), first, 'random');
    const laptop = await register({ ...alice, userHandle: first }, new SoftAuthenticator({ origin: ORIGIN }), clock);
    assert.equal(userHandleFor([laptop]), first);
  });

  test('RFC 8176: hwk for a device-bound key, swk for a synced passkey', () => {
    assert.equal(passkeyAmr('singleDevice'), 'hwk');
    assert.equal(passkeyAmr('multiDevice'), 'swk');
  });
});
