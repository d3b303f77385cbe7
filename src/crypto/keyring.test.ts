// The keyring on both databases: secrets round-trip, and every kind of misuse — a changed byte, another tenant,
// another purpose, an unknown key version, a wrong master key — fails closed with a typed error; rotation keeps old
// secrets readable.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { ManualClock } from '../clock.ts';
import type { Store } from '../store/store.ts';
import { TenantRepository } from '../store/tenant-repository.ts';
import { KeyringError, type KeyringFailure } from './errors.ts';
import { Keyring } from './keyring.ts';
import { loadMasterKey, masterKeyId, parseMasterKey } from './master-key.ts';
import { rotateAllDataKeys, rotateMasterKeyFile } from './rotation.ts';

const MASTER = new Uint8Array(randomBytes(32));
const OTHER_MASTER = new Uint8Array(randomBytes(32));
const ALICE_SEED = 'JBSWY3DPEHPK3PXP-alice-totp-seed';
const PURPOSE = 'totp_credentials.secret';

async function tenants(store: Store) {
  const repo = new TenantRepository(store);
  const contoso = await repo.insert({ id: randomUUID(), name: 'contoso', displayName: 'Contoso' });
  const fabrikam = await repo.insert({ id: randomUUID(), name: 'fabrikam', displayName: 'Fabrikam' });
  assert.ok(contoso && fabrikam);
  return { contoso: contoso.id, fabrikam: fabrikam.id };
}

function failsWith(reason: KeyringFailure, message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof KeyringError, `expected a KeyringError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    if (message) assert.match(error.message, message);
    assert.ok(!error.message.includes(ALICE_SEED), 'the plaintext must never be in an error');
    return true;
  };
}

/** Changes one character of part `index` of a `v1.<version>.<iv>.<data>` ciphertext. */
function flip(ciphertext: string, index: number): string {
  const parts = ciphertext.split('.');
  const part = parts[index];
  const at = Math.floor(part.length / 2);
  parts[index] = part.slice(0, at) + (part[at] === 'A' ? 'B' : 'A') + part.slice(at + 1);
  return parts.join('.');
}

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

for (const db of storesUnderTest()) {
  test(`${db.name}: alice's TOTP seed round-trips, as text and as bytes`, async () => {
    const store = await db.open();
    const { contoso } = await tenants(store);
    const keyring = new Keyring(store, MASTER);
    const sealed = await keyring.encrypt(contoso, ALICE_SEED, PURPOSE);
    assert.match(sealed, /^v1\.1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    assert.ok(!sealed.includes(ALICE_SEED));
    assert.equal(await keyring.decryptText(contoso, sealed, PURPOSE), ALICE_SEED);
    const bytes = new Uint8Array([0, 1, 2, 255]);
    assert.deepEqual(await keyring.decrypt(contoso, await keyring.encrypt(contoso, bytes, PURPOSE), PURPOSE), bytes);
    // A fresh keyring (another node, a restart) reads it through the stored data key.
    assert.equal(await new Keyring(store, MASTER).decryptText(contoso, sealed, PURPOSE), ALICE_SEED);
  });

  test(`${db.name}: the same secret encrypts differently every time (random IV)`, async () => {
    const store = await db.open();
    const { contoso } = await tenants(store);
    const keyring = new Keyring(store, MASTER);
    assert.notEqual(
      await keyring.encrypt(contoso, ALICE_SEED, PURPOSE),
      await keyring.encrypt(contoso, ALICE_SEED, PURPOSE),
    );
  });

  const misuse: Array<{
    name: string;
    reason: KeyringFailure;
    attack: (c: string, t: { contoso: string; fabrikam: string }, k: Keyring) => Promise<unknown>;
  }> = [
    {
      name: 'a changed byte in the data',
      reason: 'tampered',
      attack: (c, t, k) => k.decrypt(t.contoso, flip(c, 3), PURPOSE),
    },
    { name: 'a changed IV', reason: 'tampered', attack: (c, t, k) => k.decrypt(t.contoso, flip(c, 2), PURPOSE) },
    {
      name: 'a truncated ciphertext',
      reason: 'tampered',
      attack: (c, t, k) => k.decrypt(t.contoso, c.slice(0, -4), PURPOSE),
    },
    {
      name: "mallory copies it into fabrikam's row",
      reason: 'tampered',
      attack: async (c, t, k) => {
        await k.encrypt(t.fabrikam, 'fabrikam has a key too', PURPOSE);
        return k.decrypt(t.fabrikam, c, PURPOSE);
      },
    },
    {
      name: 'it is read as another purpose (another column)',
      reason: 'tampered',
      attack: (c, t, k) => k.decrypt(t.contoso, c, 'signing_keys.jwk'),
    },
    {
      name: 'the key version is changed to one that does not exist',
      reason: 'unknown-key-version',
      attack: (c, t, k) => k.decrypt(t.contoso, c.replace(/^v1\.1\./, 'v1.9.'), PURPOSE),
    },
    {
      name: 'another format version',
      reason: 'malformed',
      attack: (c, t, k) => k.decrypt(t.contoso, c.replace(/^v1/, 'v2'), PURPOSE),
    },
    {
      name: 'plain text where a ciphertext belongs',
      reason: 'malformed',
      attack: (_c, t, k) => k.decrypt(t.contoso, ALICE_SEED, PURPOSE),
    },
    { name: 'an empty string', reason: 'malformed', attack: (_c, t, k) => k.decrypt(t.contoso, '', PURPOSE) },
  ];
  for (const c of misuse) {
    test(`${db.name}: decrypt fails closed when ${c.name}`, async () => {
      const store = await db.open();
      const t = await tenants(store);
      const keyring = new Keyring(store, MASTER);
      const sealed = await keyring.encrypt(t.contoso, ALICE_SEED, PURPOSE);
      await assert.rejects(c.attack(sealed, t, keyring), failsWith(c.reason));
    });
  }

  test(`${db.name}: fabrikam's data key row copied into contoso does not unwrap`, async () => {
    const store = await db.open();
    const { contoso, fabrikam } = await tenants(store);
    const keyring = new Keyring(store, MASTER);
    await keyring.encrypt(fabrikam, 'fabrikam secret', PURPOSE);
    const stolen = await store.forTenant(fabrikam).selectFrom('data_keys').selectAll().executeTakeFirstOrThrow();
    await store
      .forTenant(contoso)
      .insertInto('data_keys', {
        version: stolen.version,
        wrapped_key: stolen.wrapped_key,
        master_key_id: stolen.master_key_id,
        created_at: stolen.created_at,
      })
      .execute();
    await assert.rejects(
      new Keyring(store, MASTER).encrypt(contoso, ALICE_SEED, PURPOSE),
      failsWith('tampered', /data_keys row was changed or copied/),
    );
  });

  test(`${db.name}: a wrong master key is named as such, not garbage`, async () => {
    const store = await db.open();
    const { contoso } = await tenants(store);
    const sealed = await new Keyring(store, MASTER).encrypt(contoso, ALICE_SEED, PURPOSE);
    const wrong = new Keyring(store, OTHER_MASTER);
    const expected = new RegExp(
      `wrapped by master key ${masterKeyId(MASTER)}, but the configured master key is ${masterKeyId(OTHER_MASTER)}`,
    );
    await assert.rejects(wrong.decrypt(contoso, sealed, PURPOSE), failsWith('wrong-master-key', expected));
    await assert.rejects(wrong.verify(), failsWith('wrong-master-key'));
    await new Keyring(store, MASTER).verify();
  });

  test(`${db.name}: rotating contoso's data key — new secrets use v2, old ones still decrypt`, async () => {
    const store = await db.open();
    const { contoso, fabrikam } = await tenants(store);
    const keyring = new Keyring(store, MASTER);
    const before = await keyring.encrypt(contoso, ALICE_SEED, PURPOSE);
    assert.equal(await keyring.rotateDataKey(contoso), 2);
    const afterRotation = await keyring.encrypt(contoso, 'bob seed', PURPOSE);
    assert.match(afterRotation, /^v1\.2\./);
    const elsewhere = new Keyring(store, MASTER);
    assert.equal(await elsewhere.decryptText(contoso, before, PURPOSE), ALICE_SEED);
    assert.equal(await elsewhere.decryptText(contoso, afterRotation, PURPOSE), 'bob seed');
    // Fabrikam is untouched: its first secret still gets version 1.
    assert.match(await keyring.encrypt(fabrikam, 'x', PURPOSE), /^v1\.1\./);
  });

  test(`${db.name}: another node picks up a rotated data key within a minute`, async () => {
    const clock = new ManualClock();
    const store = await db.open({ clock });
    const { contoso } = await tenants(store);
    const nodeA = new Keyring(store, MASTER);
    const nodeB = new Keyring(store, MASTER);
    assert.match(await nodeB.encrypt(contoso, 'x', PURPOSE), /^v1\.1\./);
    await nodeA.rotateDataKey(contoso);
    clock.advance(60_000);
    assert.match(await nodeB.encrypt(contoso, 'x', PURPOSE), /^v1\.2\./);
  });

  test(`${db.name}: rotateAllDataKeys gives every tenant a new version`, async () => {
    const store = await db.open();
    const { contoso, fabrikam } = await tenants(store);
    const keyring = new Keyring(store, MASTER);
    await keyring.encrypt(contoso, 'x', PURPOSE);
    const versions = await rotateAllDataKeys(store, keyring);
    assert.deepEqual(Object.fromEntries(versions), { [contoso]: 2, [fabrikam]: 1 });
  });

  test(`${db.name}: rotating the master key re-wraps every tenant's keys and keeps every secret readable`, async () => {
    const store = await db.open();
    const { contoso, fabrikam } = await tenants(store);
    const keyring = new Keyring(store, MASTER);
    const alice = await keyring.encrypt(contoso, ALICE_SEED, PURPOSE);
    await keyring.rotateDataKey(contoso);
    const bob = await keyring.encrypt(contoso, 'bob seed', PURPOSE);
    const frank = await keyring.encrypt(fabrikam, 'frank seed', PURPOSE);

    const result = await keyring.rotateMasterKey(OTHER_MASTER);
    assert.deepEqual(result, { masterKeyId: masterKeyId(OTHER_MASTER), rewrapped: 3 });
    assert.equal(keyring.masterKeyId, masterKeyId(OTHER_MASTER));

    const restarted = new Keyring(store, OTHER_MASTER);
    await restarted.verify();
    assert.equal(await restarted.decryptText(contoso, alice, PURPOSE), ALICE_SEED);
    assert.equal(await restarted.decryptText(contoso, bob, PURPOSE), 'bob seed');
    assert.equal(await restarted.decryptText(fabrikam, frank, PURPOSE), 'frank seed');
    await assert.rejects(new Keyring(store, MASTER).decrypt(contoso, alice, PURPOSE), failsWith('wrong-master-key'));
  });

  test(`${db.name}: a master key rotation that meets a foreign key changes nothing`, async () => {
    const store = await db.open();
    const { contoso, fabrikam } = await tenants(store);
    await new Keyring(store, MASTER).encrypt(contoso, ALICE_SEED, PURPOSE);
    await new Keyring(store, OTHER_MASTER).encrypt(fabrikam, 'wrapped by another master key', PURPOSE);
    const keyring = new Keyring(store, MASTER);
    await assert.rejects(keyring.rotateMasterKey(new Uint8Array(randomBytes(32))), failsWith('wrong-master-key'));
    assert.equal(keyring.masterKeyId, masterKeyId(MASTER));
    const rows = await store.forTenant(contoso).selectFrom('data_keys').select('master_key_id').execute();
    assert.deepEqual(rows, [{ master_key_id: masterKeyId(MASTER) }]);
  });

  test(`${db.name}: the key file rotation stages the new key, re-wraps, then replaces master.key`, async () => {
    const store = await db.open();
    const { contoso } = await tenants(store);
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-rotate-'));
    dirs.push(dir);
    const loaded = loadMasterKey({ env: {}, dataDir: dir });
    const keyring = new Keyring(store, loaded);
    const alice = await keyring.encrypt(contoso, ALICE_SEED, PURPOSE);
    const result = await rotateMasterKeyFile(keyring, dir);
    assert.equal(existsSync(join(dir, 'master.key.next')), false);
    const reloaded = parseMasterKey(readFileSync(join(dir, 'master.key'), 'utf8'), 'master.key');
    assert.equal(reloaded.id, result.masterKeyId);
    assert.notEqual(reloaded.id, loaded.id);
    assert.equal(await new Keyring(store, reloaded).decryptText(contoso, alice, PURPOSE), ALICE_SEED);
  });

  test(`${db.name}: inside a transaction the keyring reads through it, and a rollback leaves no phantom key`, async () => {
    const store = await db.open();
    const { contoso, fabrikam } = await tenants(store);
    const keyring = new Keyring(store, MASTER);
    const scope = store.forTenant(contoso);
    await assert.rejects(
      scope.transaction(async (tx) => {
        const sealed = await keyring.encrypt(contoso, ALICE_SEED, PURPOSE, tx); // creates data key v1 inside tx
        assert.equal(await keyring.decryptText(contoso, sealed, PURPOSE, tx), ALICE_SEED);
        throw new Error('enrolment abandoned');
      }),
      /enrolment abandoned/,
    );
    assert.deepEqual(await scope.selectFrom('data_keys').select('version').execute(), []);
    // The rolled-back key was not cached: this secret is sealed with a key that is really stored.
    const sealed = await keyring.encrypt(contoso, ALICE_SEED, PURPOSE);
    assert.equal(await new Keyring(store, MASTER).decryptText(contoso, sealed, PURPOSE), ALICE_SEED);
    const committed = await scope.transaction((tx) => keyring.encrypt(contoso, 'bob seed', PURPOSE, tx));
    assert.equal(await new Keyring(store, MASTER).decryptText(contoso, committed, PURPOSE), 'bob seed');
    await assert.rejects(
      scope.transaction((tx) => keyring.encrypt(fabrikam, 'x', PURPOSE, tx)),
      /the transaction belongs to tenant/,
    );
  });

  test(`${db.name}: twenty concurrent first secrets for a new tenant share one data key`, async () => {
    const store = await db.open();
    const { contoso } = await tenants(store);
    const nodes = [new Keyring(store, MASTER), new Keyring(store, MASTER)];
    const sealed = await Promise.all(
      Array.from({ length: 20 }, (_, i) => nodes[i % 2].encrypt(contoso, `secret ${i}`, PURPOSE)),
    );
    const keys = await store.forTenant(contoso).selectFrom('data_keys').select('version').execute();
    assert.deepEqual(keys, [{ version: 1 }]);
    const reader = new Keyring(store, MASTER);
    for (const [i, c] of sealed.entries()) assert.equal(await reader.decryptText(contoso, c, PURPOSE), `secret ${i}`);
  });
}

test('a keyring refuses a master key that is not 256 bits, and a purpose that is empty', async () => {
  const store = { clock: { now: () => 0 } } as unknown as Store;
  assert.throws(() => new Keyring(store, new Uint8Array(16)), failsWith('invalid-master-key'));
  await assert.rejects(
    new Keyring(store, MASTER).encrypt(randomUUID(), 'x', ''),
    /purpose .* must be a non-empty string/,
  );
});
