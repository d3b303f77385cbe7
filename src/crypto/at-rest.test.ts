// Secrets encrypted by the keyring are not in the SQLite file in plain text: write through the keyring, then read
// the raw bytes of the database file and its WAL and look for the secret (and, as a control, for a plain column).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { TenantRepository } from '../store/tenant-repository.ts';
import { Keyring } from './keyring.ts';
import { generateMasterKey, parseMasterKey } from './master-key.ts';

const sqlite = storesUnderTest().find((s) => s.name === 'sqlite');

test('alice’s TOTP seed is not in the SQLite file’s bytes; her display name (not a secret) is', async () => {
  assert.ok(sqlite);
  const store = await sqlite.open();
  const path = sqlite.lastSqlitePath;
  assert.ok(path);
  const tenant = await new TenantRepository(store).insert({
    id: randomUUID(),
    name: 'contoso',
    displayName: 'Contoso',
  });
  assert.ok(tenant);
  const keyring = new Keyring(store, parseMasterKey(generateMasterKey(), 'test'));
  const seed = `ALICESEED${randomUUID().replaceAll('-', '').toUpperCase()}`;
  const marker = `Alice Marker ${randomUUID()}`;
  const scope = store.forTenant(tenant.id);
  const userId = randomUUID();
  await scope
    .insertInto('users', {
      id: userId,
      user_principal_name: 'alice@contoso.example',
      upn_key: 'alice@contoso.example',
      display_name: marker,
      mail: null,
      user_type: 'member',
      account_enabled: 1,
      created_at: 0,
      modified_at: 0,
    })
    .execute();
  const ciphertext = await keyring.encrypt(tenant.id, seed, 'totp_credentials.secret');
  await scope
    .insertInto('totp_credentials', {
      id: randomUUID(),
      user_id: userId,
      secret_ciphertext: ciphertext,
      confirmed: 1,
      created_at: 0,
    })
    .execute();
  await store.close(); // checkpoints the WAL into the main file

  const bytes = Buffer.concat(
    [path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)),
  );
  const contains = (text: string, encoding: BufferEncoding = 'utf8') => bytes.includes(Buffer.from(text, encoding));
  assert.ok(contains(marker), 'control: a plain column is visible in the file, so the search works');
  assert.ok(contains(ciphertext), 'control: the ciphertext itself is in the file');
  for (const encoding of ['utf8', 'utf16le', 'latin1'] as const) {
    assert.ok(!contains(seed, encoding), `the seed appears in the file (${encoding})`);
  }
  assert.ok(!contains(Buffer.from(seed).toString('base64')), 'the seed appears base64-encoded');
  assert.ok(!contains(Buffer.from(seed).toString('hex')), 'the seed appears hex-encoded');
});
