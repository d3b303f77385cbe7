// Migration 0002 on SQLite and PostgreSQL: its tables are tenant tables like every other, and rebuilding
// recovery_codes with the (tenant, user, id) key keeps the codes already stored; down and up again round-trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Migrator } from 'kysely/migration';
import { storesUnderTest } from '../../../test/support/stores.ts';
import { twoTenants } from '../../../test/support/tenants.ts';
import { directoryFor } from '../../directory/directory.ts';
import { migrationProvider } from '../migrations/index.ts';

const NEW_TABLES = ['webauthn_challenges', 'lockout_states', 'tenant_settings', 'policy_versions'];

for (const db of storesUnderTest()) {
  test(`${db.name}: 0002's tables carry a non-null tenant_id`, async () => {
    const store = await db.open();
    const tables = await store.unscoped.introspection.getTables();
    for (const name of [...NEW_TABLES, 'recovery_codes']) {
      const table = tables.find((t) => t.name === name);
      assert.ok(table, `${name} exists`);
      assert.ok(
        table.columns.some((c) => c.name === 'tenant_id' && !c.isNullable),
        `${name}.tenant_id`,
      );
    }
    const passkeys = tables.find((t) => t.name === 'webauthn_credentials');
    assert.deepEqual(
      ['user_handle', 'aaguid', 'disabled_at'].filter((c) => !passkeys?.columns.some((col) => col.name === c)),
      [],
    );
  });

  test(`${db.name}: alice's recovery codes written under 0001 survive 0002's rebuild`, async () => {
    const store = await db.open({ migrate: false });
    const migrator = new Migrator({ db: store.unscoped, provider: migrationProvider });
    const first = await migrator.migrateTo('0001_initial');
    assert.equal(first.error, undefined);
    const { contoso } = await twoTenants(store);
    const scope = store.forTenant(contoso);
    const alice = await directoryFor(scope).users.create({
      userPrincipalName: 'alice@contoso.example',
      displayName: 'Alice',
    });
    await store.unscoped
      .insertInto('recovery_codes')
      .values({
        tenant_id: contoso,
        user_id: alice.id,
        id: '1',
        code_hash: 'ab'.repeat(32),
        created_at: 5,
        used_at: null,
      })
      .execute();
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    const rows = await scope.selectFrom('recovery_codes').select(['user_id', 'id', 'code_hash']).execute();
    assert.deepEqual(rows, [{ user_id: alice.id, id: '1', code_hash: 'ab'.repeat(32) }]);
    // Down to 0001 and up again: the schema comes back whole.
    assert.equal((await migrator.migrateTo('0001_initial')).error, undefined);
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    const tables = (await store.unscoped.introspection.getTables()).map((t) => t.name);
    for (const name of NEW_TABLES) assert.ok(tables.includes(name), name);
  });
}
