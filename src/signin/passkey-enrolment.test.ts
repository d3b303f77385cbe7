// Enrolling a passkey during sign-in, against a software authenticator: the options asked of the browser, what is
// stored, the recovery codes shown once, and each refused answer counted against the user's MFA lockout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { SoftAuthenticator } from '../auth/testing/soft-authenticator.ts';
import { generateUserHandle } from '../auth/webauthn.ts';
import { newChallenge } from '../auth/webauthn-challenge.ts';
import { ManualClock } from '../clock.ts';
import { directoryFor } from '../directory/directory.ts';
import type { ClientIp } from '../net/client-ip.ts';
import { parseIp } from '../net/ip.ts';
import { confirmPasskeyEnrolment, passkeyEnrolmentOptions } from './passkey-enrolment.ts';
import { relyingPartyFor } from './second-factor.ts';
import { memoryPorts } from './testing/memory.ts';

const ORIGIN = 'https://login.contoso.example';
const rp = relyingPartyFor(`${ORIGIN}/t/contoso`);
const HOME: ClientIp = { ip: parseIp('198.51.100.7'), text: '198.51.100.7', via: 'socket' };

async function world() {
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9));
  const store = await storesUnderTest()[0].open({ clock });
  const { contoso } = await twoTenants(store);
  const directory = directoryFor(store.forTenant(contoso));
  const credentials = memoryPorts();
  const deps = { credentials, clock };
  const alice = await directory.users.create({ userPrincipalName: 'alice@contoso.example', displayName: 'Alice' });
  const userHandle = generateUserHandle();
  let n = 0;
  /** The enrolment page's script: options, then the authenticator's answer to them, then confirmation. */
  async function enrol(
    authenticator: SoftAuthenticator,
    change: (answer: ReturnType<SoftAuthenticator['create']>) => unknown = (a) => JSON.stringify(a),
    handle = userHandle,
  ) {
    const challengeId = `enrol:${++n}`;
    const options = await passkeyEnrolmentOptions(deps, { user: alice, userHandle: handle, challengeId, rp });
    return confirmPasskeyEnrolment(deps, {
      userId: alice.id,
      userHandle: handle,
      response: change(authenticator.create(options)),
      challengeId,
      rp,
      name: 'Chrome 131 on windows',
      clientIp: HOME,
    });
  }
  return { clock, credentials, deps, alice, userHandle, enrol };
}

test("passkey enrolment options: attestation none, a discoverable key preferred, UV preferred, alice's names", async () => {
  const w = await world();
  const options = await passkeyEnrolmentOptions(w.deps, {
    user: w.alice,
    userHandle: w.userHandle,
    challengeId: 'c',
    rp,
  });
  assert.equal(options.attestation, 'none');
  assert.equal(options.authenticatorSelection?.residentKey, 'preferred');
  assert.equal(options.authenticatorSelection?.userVerification, 'preferred');
  assert.deepEqual(options.user, { id: w.userHandle, name: 'alice@contoso.example', displayName: 'Alice' });
  assert.equal(options.rp.id, 'login.contoso.example');
  const pending = await w.credentials.challenges.take('c');
  assert.equal(pending?.purpose, 'registration');
  assert.equal(pending?.userId, w.alice.id);
});

test('passkey enrolment: alice registers her laptop; stored, hwk + mfa, ten recovery codes shown once', async () => {
  const w = await world();
  const laptop = new SoftAuthenticator({ origin: ORIGIN });
  const result = await w.enrol(laptop);
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.amr, ['hwk', 'mfa']);
  assert.equal(result.recoveryCodes?.length, 10);
  const [stored] = await w.credentials.webauthn.listByUser(w.alice.id);
  assert.equal(stored.credentialId, laptop.credentialIds()[0]);
  assert.equal(stored.userHandle, w.userHandle);
  assert.equal(stored.name, 'Chrome 131 on windows');
  assert.equal((await w.credentials.recoveryCodes.list(w.alice.id)).length, 10);

  // A second passkey (a synced phone): swk; her saved codes stay valid and none are shown.
  const before = await w.credentials.recoveryCodes.list(w.alice.id);
  const phone = await w.enrol(new SoftAuthenticator({ origin: ORIGIN, backedUp: true }));
  assert.ok(phone.ok);
  assert.deepEqual(phone.amr, ['swk', 'mfa']);
  assert.deepEqual(phone.recoveryCodes, []);
  assert.deepEqual(await w.credentials.recoveryCodes.list(w.alice.id), before);
});

test('passkey enrolment: the same authenticator is excluded once registered, unless that passkey was disabled', async () => {
  const w = await world();
  const laptop = new SoftAuthenticator({ origin: ORIGIN });
  assert.ok((await w.enrol(laptop)).ok);
  await assert.rejects(w.enrol(laptop), /excluded credential/);
  await w.credentials.webauthn.disable(laptop.credentialIds()[0], w.clock.now());
  assert.ok((await w.enrol(laptop)).ok, 'a clone-disabled passkey does not keep out the authenticator');
});

test('passkey enrolment: refused answers (500121), nothing stored', async (t) => {
  const cases: {
    name: string;
    run: (w: Awaited<ReturnType<typeof world>>) => ReturnType<Awaited<ReturnType<typeof world>>['enrol']>;
    why: RegExp;
  }[] = [
    {
      name: 'a registration relayed through a phishing origin',
      run: (w) => w.enrol(new SoftAuthenticator({ origin: 'https://login.contoso.example.evil' })),
      why: /passkey registration invalid/,
    },
    {
      name: 'nothing (a cancelled ceremony)',
      run: (w) => w.enrol(new SoftAuthenticator({ origin: ORIGIN }), () => ''),
      why: /not a WebAuthn registration/,
    },
    {
      name: 'an assertion where a registration was expected',
      run: (w) =>
        w.enrol(new SoftAuthenticator({ origin: ORIGIN }), (a) =>
          JSON.stringify({ ...a, response: { signature: 'AA' } }),
        ),
      why: /not a WebAuthn registration/,
    },
    {
      name: 'no user handle (no options were asked for in this sign-in)',
      run: (w) => w.enrol(new SoftAuthenticator({ origin: ORIGIN }), undefined, ''),
      why: /no passkey registration was begun/,
    },
    {
      name: 'the answer came after the challenge expired',
      run: (w) =>
        w.enrol(new SoftAuthenticator({ origin: ORIGIN }), (a) => {
          w.clock.advance(5 * 60_000);
          return JSON.stringify(a);
        }),
      why: /passkey registration expired/,
    },
    {
      name: 'a sign-in challenge answered as a registration',
      run: async (w) => {
        const options = await passkeyEnrolmentOptions(w.deps, {
          user: w.alice,
          userHandle: w.userHandle,
          challengeId: 'x',
          rp,
        });
        await w.credentials.challenges.put('x', newChallenge('authentication', null, w.clock.now()));
        return confirmPasskeyEnrolment(w.deps, {
          userId: w.alice.id,
          userHandle: w.userHandle,
          response: JSON.stringify(new SoftAuthenticator({ origin: ORIGIN }).create(options)),
          challengeId: 'x',
          rp,
          name: 'x',
          clientIp: HOME,
        });
      },
      why: /passkey registration wrong-purpose/,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const w = await world();
      const result = await c.run(w);
      assert.ok(!result.ok);
      assert.equal(result.errorCode, 500121);
      assert.match(result.failureReason, c.why);
      assert.deepEqual(await w.credentials.webauthn.listByUser(w.alice.id), []);
      assert.deepEqual(await w.credentials.recoveryCodes.list(w.alice.id), []);
    });
  }
});

test('passkey enrolment: ten refused answers lock MFA for alice (50053), even for a good one', async () => {
  const w = await world();
  for (let i = 0; i < 10; i++)
    assert.equal((await w.enrol(new SoftAuthenticator({ origin: ORIGIN }), () => '')).ok, false);
  const locked = await w.enrol(new SoftAuthenticator({ origin: ORIGIN }));
  assert.ok(!locked.ok);
  assert.equal(locked.errorCode, 50053);
  assert.deepEqual(await w.credentials.webauthn.listByUser(w.alice.id), []);
});
