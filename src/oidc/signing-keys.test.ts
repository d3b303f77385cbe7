// Signing keys: generated on first use (RS256 + ES256 + a cookie key), encrypted at rest, rotated with the previous
// generation kept published and older ones retired, and never shared between tenants.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { ManualClock } from '../clock.ts';
import { Keyring } from '../crypto/keyring.ts';
import { loadSigningKeys, rotateSigningKeys } from './signing-keys.ts';

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

for (const db of storesUnderTest()) {
  test(`signing keys (${db.name})`, async (t) => {
    const clock = new ManualClock(NOW);
    const store = await db.open({ clock });
    const keyring = new Keyring(store, randomBytes(32));
    const { contoso, fabrikam } = await twoTenants(store);
    const scope = store.forTenant(contoso);

    const first = await loadSigningKeys(scope, keyring);
    await t.test('contoso gets an RS256 and an ES256 key, and a cookie key', () => {
      assert.deepEqual(first.jwks.map((k) => k.alg).sort(), ['ES256', 'RS256']);
      assert.ok(first.jwks.every((k) => typeof k.d === 'string' && k.use === 'sig' && k.kid));
      assert.equal(first.cookieKeys.length, 1);
    });

    await t.test('loading again returns the same keys (no new generation)', async () => {
      const again = await loadSigningKeys(scope, keyring);
      assert.deepEqual(
        again.jwks.map((k) => k.kid),
        first.jwks.map((k) => k.kid),
      );
    });

    await t.test('fabrikam has keys of its own', async () => {
      const other = await loadSigningKeys(store.forTenant(fabrikam), keyring);
      assert.equal(other.jwks.filter((k) => first.jwks.some((f) => f.kid === k.kid)).length, 0);
    });

    if (db.name === 'sqlite' && db.lastSqlitePath) {
      await t.test('no private key is in the database file in clear', () => {
        const bytes = readFileSync(db.lastSqlitePath as string);
        for (const key of first.jwks) assert.equal(bytes.includes(Buffer.from(String(key.d))), false);
        assert.equal(bytes.includes(Buffer.from(first.cookieKeys[0])), false);
      });
    }

    await t.test('rotation: the new generation signs, the previous stays published, older ones retire', async () => {
      clock.advance(1000);
      const second = await rotateSigningKeys(scope, keyring);
      assert.equal(second.kids.length, 4);
      const loaded = await loadSigningKeys(scope, keyring);
      assert.equal(loaded.jwks.length, 4);
      assert.deepEqual(
        loaded.jwks
          .slice(0, 2)
          .map((k) => k.kid)
          .filter((kid) => first.jwks.some((f) => f.kid === kid)),
        [],
        'the new generation comes first (oidc-provider signs with the first key of an algorithm)',
      );
      assert.ok(
        loaded.jwks.some((k) => k.kid === first.jwks[0].kid),
        'the previous key still verifies',
      );
      clock.advance(1000);
      await rotateSigningKeys(scope, keyring);
      const third = await loadSigningKeys(scope, keyring);
      assert.equal(third.jwks.length, 4);
      assert.equal(
        third.jwks.some((k) => k.kid === first.jwks[0].kid),
        false,
        'two rotations later the first key is retired',
      );
      assert.equal(third.cookieKeys.length, 2);
    });
  });
}
