// Migration 0003 on SQLite and PostgreSQL: the session tables are tenant tables like every other, a user's sessions
// and their links go with the user, and down and up again round-trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Migrator } from 'kysely/migration';
import { storesUnderTest } from '../../test/support/stores.ts';
import { migrationProvider } from '../store/migrations/index.ts';
import { openSessionWorld } from './testing/world.ts';

const TABLES = ['sessions', 'session_links'];

for (const db of storesUnderTest()) {
  test(`${db.name}: 0003's tables carry a non-null tenant_id`, async () => {
    const store = await db.open();
    const tables = await store.unscoped.introspection.getTables();
    for (const name of TABLES) {
      const table = tables.find((t) => t.name === name);
      assert.ok(table, `${name} exists`);
      assert.ok(
        table.columns.some((c) => c.name === 'tenant_id' && !c.isNullable),
        `${name}.tenant_id`,
      );
    }
  });

  test(`${db.name}: deleting alice deletes her sessions and what they cover; bob's stay`, async () => {
    const w = await openSessionWorld(db);
    const sessions = w.sessions();
    const alice = await sessions.create(w.alice, { amr: ['pwd'] });
    await sessions.cover(alice.session, { grantId: 'g' });
    const bob = await sessions.create(w.bob, { amr: ['pwd'] });
    await w.contoso.deleteFrom('users').where('id', '=', w.alice).execute();
    const rows = await w.contoso.selectFrom('sessions').select('id_hash').execute();
    assert.deepEqual(
      rows.map((r) => r.id_hash),
      [bob.session.handle],
    );
    assert.deepEqual(await w.contoso.selectFrom('session_links').select('oidc_id').execute(), []);
  });

  test(`${db.name}: the stored row refuses an end reason without an end time`, async () => {
    const w = await openSessionWorld(db);
    const { session } = await w.sessions().create(w.alice, { amr: ['pwd'] });
    await assert.rejects(
      w.contoso.updateTable('sessions', { end_reason: 'revoked' }).where('id_hash', '=', session.handle).execute(),
    );
  });

  test(`${db.name}: 0003 down and up again`, async () => {
    const store = await db.open();
    const migrator = new Migrator({ db: store.unscoped, provider: migrationProvider });
    assert.equal((await migrator.migrateTo('0002_sign_in_state')).error, undefined);
    let names = (await store.unscoped.introspection.getTables()).map((t) => t.name);
    assert.deepEqual(
      TABLES.filter((t) => names.includes(t)),
      [],
    );
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    names = (await store.unscoped.introspection.getTables()).map((t) => t.name);
    assert.deepEqual(
      TABLES.filter((t) => names.includes(t)),
      TABLES,
    );
  });
}
