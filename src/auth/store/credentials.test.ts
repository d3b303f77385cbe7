// The store-backed credential ports on SQLite and PostgreSQL: what goes in comes out, TOTP secrets are sealed at rest
// and bound to their user, recovery codes and passkeys keep to their user, and fabrikam never sees contoso's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../../test/support/stores.ts';
import { KeyringError } from '../../crypto/errors.ts';
import type { CredentialPorts } from '../../signin/ports.ts';
import type { RecoveryCodeRecord, WebAuthnCredentialRecord } from '../ports.ts';
import { generateRecoveryCodes } from '../recovery-codes.ts';
import { newChallenge } from '../webauthn-challenge.ts';
import { openWorld, type World } from './testing/world.ts';
import { WebAuthnChallengeRepository } from './webauthn-challenges.ts';
import { CredentialIdTakenError } from './webauthn-credentials.ts';

const PHC = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4';
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

function passkey(userId: string, credentialId: string, overrides: Partial<WebAuthnCredentialRecord> = {}) {
  return {
    userId,
    credentialId,
    publicKey: new Uint8Array([0xa5, 1, 2, 3, 0x26, 0x20, 1]),
    counter: 0,
    transports: ['internal', 'hybrid'],
    userHandle: 'dXNlci1oYW5kbGU',
    deviceType: 'multiDevice',
    backedUp: true,
    aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd',
    name: 'Phone',
    createdAt: 1_000,
    lastUsedAt: null,
    disabledAt: null,
    ...overrides,
  } satisfies WebAuthnCredentialRecord;
}

function codesOf(userId: string, at: number): RecoveryCodeRecord[] {
  return generateRecoveryCodes(userId).stored.map((c) => ({ ...c, userId, createdAt: at }));
}

const cases: Array<{ name: string; run: (w: World) => Promise<void> }> = [
  {
    name: 'the ports fit the sign-in pipeline’s CredentialPorts',
    async run(w) {
      const ports: CredentialPorts = w.ports;
      assert.equal(typeof ports.badPasswordKey, 'function');
    },
  },
  {
    name: 'alice sets, changes and deletes her password hash',
    async run(w) {
      assert.equal(await w.ports.passwords.get(w.alice), undefined);
      await w.ports.passwords.put({ userId: w.alice, phc: PHC, updatedAt: 10 });
      assert.deepEqual(await w.ports.passwords.get(w.alice), { userId: w.alice, phc: PHC, updatedAt: 10 });
      const rehashed = PHC.replace('t=2', 't=3');
      await w.ports.passwords.put({ userId: w.alice, phc: rehashed, updatedAt: 20 });
      assert.deepEqual(await w.ports.passwords.get(w.alice), { userId: w.alice, phc: rehashed, updatedAt: 20 });
      await w.ports.passwords.delete(w.alice);
      assert.equal(await w.ports.passwords.get(w.alice), undefined);
    },
  },
  {
    name: 'a password that is not a PHC string is refused, never stored',
    async run(w) {
      await assert.rejects(
        w.ports.passwords.put({ userId: w.alice, phc: 'hunter2', updatedAt: 1 }),
        /phc must be a PHC string/,
      );
      assert.equal(await w.ports.passwords.get(w.alice), undefined);
    },
  },
  {
    name: 'a credential for a user of another tenant is refused by the foreign key',
    async run(w) {
      await assert.rejects(w.ports.passwords.put({ userId: w.mallory, phc: PHC, updatedAt: 1 }));
      await assert.rejects(w.ports.recoveryCodes.replaceAll(w.mallory, codesOf(w.mallory, 1)));
      await assert.rejects(w.ports.webauthn.put(passkey(w.mallory, 'bWFsbG9yeS1rZXk')));
    },
  },
  {
    name: 'alice’s TOTP secret round-trips but is stored sealed',
    async run(w) {
      const credential = { userId: w.alice, secret: SECRET, lastUsedStep: null, createdAt: 5, confirmedAt: null };
      await w.ports.totp.put(credential);
      assert.deepEqual(await w.ports.totp.get(w.alice), credential);
      const row = await w.contoso.selectFrom('totp_credentials').selectAll().executeTakeFirstOrThrow();
      assert.ok(!row.secret_ciphertext.includes(SECRET), 'the secret is not stored in clear');
      assert.match(row.secret_ciphertext, /^v1\.\d+\./);
      assert.equal(row.confirmed, 0);
      await w.ports.totp.put({ ...credential, confirmedAt: 9, lastUsedStep: 100 });
      assert.deepEqual(await w.ports.totp.get(w.alice), { ...credential, confirmedAt: 9, lastUsedStep: 100 });
      await w.ports.totp.delete(w.alice);
      assert.equal(await w.ports.totp.get(w.alice), undefined);
    },
  },
  {
    name: 'alice’s sealed secret copied onto bob’s row does not open: it is bound to alice',
    async run(w) {
      await w.ports.totp.put({ userId: w.alice, secret: SECRET, lastUsedStep: null, createdAt: 5, confirmedAt: 6 });
      await w.ports.totp.put({
        userId: w.bob,
        secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
        lastUsedStep: null,
        createdAt: 5,
        confirmedAt: 6,
      });
      const alices = await w.contoso
        .selectFrom('totp_credentials')
        .select('secret_ciphertext')
        .where('user_id', '=', w.alice)
        .executeTakeFirstOrThrow();
      await w.contoso
        .updateTable('totp_credentials', { secret_ciphertext: alices.secret_ciphertext })
        .where('user_id', '=', w.bob)
        .execute();
      await assert.rejects(w.ports.totp.get(w.bob), (e) => e instanceof KeyringError && e.reason === 'tampered');
    },
  },
  {
    name: 'bob’s TOTP code steps only move forward',
    async run(w) {
      await w.ports.totp.put({ userId: w.bob, secret: SECRET, lastUsedStep: null, createdAt: 1, confirmedAt: 1 });
      const answers = [];
      for (const step of [100, 100, 99, 101]) answers.push(await w.ports.totp.markStepUsed(w.bob, step));
      assert.deepEqual(answers, [true, false, false, true]);
      assert.equal((await w.ports.totp.get(w.bob))?.lastUsedStep, 101);
      assert.equal(await w.ports.totp.markStepUsed(w.alice, 5), false, 'no secret, nothing to mark');
    },
  },
  {
    name: 'alice and bob each hold codes numbered 1 to 10; using one of alice’s leaves bob’s alone',
    async run(w) {
      const alice = codesOf(w.alice, 1);
      const bob = codesOf(w.bob, 1);
      await w.ports.recoveryCodes.replaceAll(w.alice, alice);
      await w.ports.recoveryCodes.replaceAll(w.bob, bob);
      assert.deepEqual(
        (await w.ports.recoveryCodes.list(w.alice)).map((c) => c.hash).sort(),
        alice.map((c) => c.hash).sort(),
      );
      assert.equal(await w.ports.recoveryCodes.markUsed(w.alice, '3', 50), true);
      assert.equal(await w.ports.recoveryCodes.markUsed(w.alice, '3', 51), false, 'a code is used once');
      assert.equal((await w.ports.recoveryCodes.list(w.alice)).find((c) => c.id === '3')?.usedAt, 50);
      assert.ok((await w.ports.recoveryCodes.list(w.bob)).every((c) => c.usedAt === null));
    },
  },
  {
    name: 'new recovery codes replace every old one, used or not',
    async run(w) {
      await w.ports.recoveryCodes.replaceAll(w.alice, codesOf(w.alice, 1));
      await w.ports.recoveryCodes.markUsed(w.alice, '1', 2);
      const fresh = codesOf(w.alice, 3);
      await w.ports.recoveryCodes.replaceAll(w.alice, fresh);
      const listed = await w.ports.recoveryCodes.list(w.alice);
      assert.equal(listed.length, 10);
      assert.deepEqual(listed.map((c) => c.hash).sort(), fresh.map((c) => c.hash).sort());
      assert.ok(listed.every((c) => c.usedAt === null && c.createdAt === 3));
      await assert.rejects(w.ports.recoveryCodes.replaceAll(w.alice, codesOf(w.bob, 4)), /got a code of user/);
    },
  },
  {
    name: 'carol’s passkey round-trips, counts by compare-and-set and is refused once disabled',
    async run(w) {
      const record = passkey(w.carol, 'Y2Fyb2wta2V5');
      await w.ports.webauthn.put(record);
      assert.deepEqual(await w.ports.webauthn.getById(record.credentialId), record);
      assert.deepEqual(await w.ports.webauthn.listByUser(w.carol), [record]);
      const use = { expectedCounter: 0, counter: 7, lastUsedAt: 70, backedUp: false };
      assert.equal(await w.ports.webauthn.recordUse(record.credentialId, use), true);
      assert.equal(await w.ports.webauthn.recordUse(record.credentialId, use), false, 'the counter moved on');
      assert.deepEqual(await w.ports.webauthn.getById(record.credentialId), {
        ...record,
        counter: 7,
        lastUsedAt: 70,
        backedUp: false,
      });
      await w.ports.webauthn.disable(record.credentialId, 80);
      await w.ports.webauthn.disable(record.credentialId, 90);
      assert.equal((await w.ports.webauthn.getById(record.credentialId))?.disabledAt, 80, 'the first time is kept');
      const next = { expectedCounter: 7, counter: 8, lastUsedAt: 95, backedUp: false };
      assert.equal(await w.ports.webauthn.recordUse(record.credentialId, next), false, 'a disabled passkey is refused');
      await w.ports.webauthn.delete(w.alice, record.credentialId);
      assert.ok(await w.ports.webauthn.getById(record.credentialId), 'alice cannot delete carol’s passkey');
      await w.ports.webauthn.delete(w.carol, record.credentialId);
      assert.equal(await w.ports.webauthn.getById(record.credentialId), undefined);
    },
  },
  {
    name: 'bob cannot register a credential id that is alice’s',
    async run(w) {
      await w.ports.webauthn.put(passkey(w.alice, 'c2hhcmVkLWlk'));
      await assert.rejects(w.ports.webauthn.put(passkey(w.bob, 'c2hhcmVkLWlk')), CredentialIdTakenError);
      assert.equal((await w.ports.webauthn.getById('c2hhcmVkLWlk'))?.userId, w.alice);
      await w.ports.webauthn.put(passkey(w.alice, 'c2hhcmVkLWlk', { name: 'YubiKey' }));
      assert.equal((await w.ports.webauthn.getById('c2hhcmVkLWlk'))?.name, 'YubiKey', 'alice may rename her own');
    },
  },
  {
    name: 'a WebAuthn challenge is taken once; a newer one replaces an older one under the same id',
    async run(w) {
      const first = newChallenge('authentication', null, w.clock.now());
      const second = newChallenge('registration', w.alice, w.clock.now());
      await w.ports.challenges.put('pre-auth-1', first);
      await w.ports.challenges.put('pre-auth-1', second);
      assert.deepEqual(await w.ports.challenges.take('pre-auth-1'), second);
      assert.equal(await w.ports.challenges.take('pre-auth-1'), undefined);
    },
  },
  {
    name: 'expired challenges are swept; live ones stay',
    async run(w) {
      await w.ports.challenges.put('old', newChallenge('authentication', null, w.clock.now(), 1000));
      await w.ports.challenges.put('live', newChallenge('authentication', null, w.clock.now(), 600_000));
      w.clock.advance(2000);
      assert.equal(await new WebAuthnChallengeRepository(w.contoso).purgeExpired(), 1);
      assert.equal(await w.ports.challenges.take('old'), undefined);
      assert.ok(await w.ports.challenges.take('live'));
    },
  },
  {
    name: 'the bad-password key is made once per tenant, sealed, and differs between tenants',
    async run(w) {
      const [a, b] = await Promise.all([w.ports.badPasswordKey(), w.ports.badPasswordKey()]);
      assert.equal(a.length, 32);
      assert.deepEqual(b, a, 'concurrent first uses agree on one key');
      assert.deepEqual(await w.ports.badPasswordKey(), a);
      assert.notDeepEqual(await w.fabrikamPorts.badPasswordKey(), a);
      const row = await w.contoso
        .selectFrom('tenant_settings')
        .selectAll()
        .where('key', '=', 'badPasswordKey')
        .executeTakeFirstOrThrow();
      assert.ok(!row.value.includes(Buffer.from(a).toString('base64url')));
    },
  },
  {
    name: 'fabrikam sees none of contoso’s credentials and can change none of them',
    async run(w) {
      await w.ports.passwords.put({ userId: w.alice, phc: PHC, updatedAt: 1 });
      await w.ports.totp.put({ userId: w.alice, secret: SECRET, lastUsedStep: 3, createdAt: 1, confirmedAt: 1 });
      await w.ports.recoveryCodes.replaceAll(w.alice, codesOf(w.alice, 1));
      await w.ports.webauthn.put(passkey(w.alice, 'YWxpY2Uta2V5'));
      await w.ports.challenges.put('alice-challenge', newChallenge('authentication', w.alice, w.clock.now()));
      await w.ports.lockouts.update('account:alice@contoso.example', () => ({
        next: { failures: 3 },
        expiresAt: w.clock.now() + 60_000,
        result: undefined,
      }));
      const f = w.fabrikamPorts;
      assert.equal(await f.passwords.get(w.alice), undefined);
      assert.equal(await f.totp.get(w.alice), undefined);
      assert.equal(await f.totp.markStepUsed(w.alice, 99), false);
      assert.deepEqual(await f.recoveryCodes.list(w.alice), []);
      assert.equal(await f.recoveryCodes.markUsed(w.alice, '1', 5), false);
      assert.equal(await f.webauthn.getById('YWxpY2Uta2V5'), undefined);
      assert.deepEqual(await f.webauthn.listByUser(w.alice), []);
      const use = { expectedCounter: 0, counter: 1, lastUsedAt: 1, backedUp: true };
      assert.equal(await f.webauthn.recordUse('YWxpY2Uta2V5', use), false);
      await f.webauthn.disable('YWxpY2Uta2V5', 1);
      await f.webauthn.delete(w.alice, 'YWxpY2Uta2V5');
      await f.passwords.delete(w.alice);
      await f.totp.delete(w.alice);
      assert.equal(await f.challenges.take('alice-challenge'), undefined);
      const seen = await f.lockouts.update('account:alice@contoso.example', (current) => ({
        next: undefined,
        expiresAt: 0,
        result: current,
      }));
      assert.equal(seen, undefined);
      // contoso's rows are all still there, unchanged.
      assert.ok(await w.ports.passwords.get(w.alice));
      assert.equal((await w.ports.totp.get(w.alice))?.lastUsedStep, 3);
      assert.ok((await w.ports.recoveryCodes.list(w.alice)).every((c) => c.usedAt === null));
      const key = await w.ports.webauthn.getById('YWxpY2Uta2V5');
      assert.equal(key?.counter, 0);
      assert.equal(key?.disabledAt, null);
      assert.ok(await w.ports.challenges.take('alice-challenge'));
      const state = await w.ports.lockouts.update('account:alice@contoso.example', (current) => ({
        next: current as object,
        expiresAt: w.clock.now() + 60_000,
        result: current,
      }));
      assert.deepEqual(state, { failures: 3 });
    },
  },
];

for (const db of storesUnderTest()) {
  for (const c of cases) {
    test(`${db.name}: ${c.name}`, async () => c.run(await openWorld(db)));
  }
}
