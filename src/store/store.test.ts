// The store on both databases: migrations, health, tenant scoping of every builder, composite keys that keep rows
// inside their tenant, and transactions.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import { sql } from 'kysely';
import { storesUnderTest } from '../../test/support/stores.ts';
import { ManualClock } from '../clock.ts';
import { isForeignKeyViolation, isUniqueViolation } from './errors.ts';
import type { Store } from './store.ts';
import { openStore } from './store.ts';

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

async function tenant(store: Store, name: string): Promise<string> {
  const id = randomUUID();
  await store.unscoped
    .insertInto('tenants')
    .values({ id, name, display_name: name, created_at: NOW, modified_at: NOW })
    .execute();
  return id;
}

async function user(store: Store, tenantId: string, upn: string): Promise<string> {
  const id = randomUUID();
  await store
    .forTenant(tenantId)
    .insertInto('users', {
      id,
      user_principal_name: upn,
      upn_key: upn.toLowerCase(),
      display_name: upn.split('@')[0],
      mail: null,
      user_type: 'member',
      account_enabled: 1,
      created_at: NOW,
      modified_at: NOW,
    })
    .execute();
  return id;
}

for (const db of storesUnderTest()) {
  test(`${db.name}: migrate applies every migration in order once, then has nothing to do`, async () => {
    const store = await db.open({ migrate: false });
    assert.deepEqual(await store.migrate(), [
      '0001_initial',
      '0002_sign_in_state',
      '0003_sessions',
      '0004_gateway',
      '0005_directory_audit',
      '0006_index_tuning',
      '0007_id_token_alg',
    ]);
    assert.deepEqual(await store.migrate(), []);
  });

  test(`${db.name}: the hot lookups search their own index (not every row of the tenant)`, async (t) => {
    const store = await db.open();
    const tenant = "tenant_id = '00000000-0000-4000-8000-000000000000'";
    const lookups = [
      {
        name: 'an OIDC session by uid: the partial index (token rows, which have no uid, are not in it)',
        query: `select payload from oidc_payloads where ${tenant} and model = 'Session' and uid = 'x'`,
        index: 'oidc_payloads_uid_ix',
      },
      {
        name: 'a device code by user_code: the partial index',
        query: `select payload from oidc_payloads where ${tenant} and model = 'DeviceCode' and user_code = 'x'`,
        index: 'oidc_payloads_user_code_ix',
      },
      {
        // The primary key holds every column too: without statistics, SQLite took it and scanned the tenant's rows.
        name: "the groups a user is in (the first step of every subject's walk)",
        query: `select group_id from group_members where ${tenant} and member_type = 'user' and member_id = 'x'`,
        index: 'group_members_member_ix',
      },
      {
        name: 'the session covering a grant (every refresh)',
        query: `select session_hash from session_links where ${tenant} and kind = 'grant' and oidc_id = 'x'`,
        index: 'session_links_oidc_ix',
      },
    ];
    for (const lookup of lookups) {
      await t.test(lookup.name, async () => {
        const plan =
          store.kind === 'sqlite'
            ? (await sql.raw<{ detail: string }>(`explain query plan ${lookup.query}`).execute(store.unscoped)).rows
                .map((r) => r.detail)
                .join('\n')
            : await store.transaction(async (tx) => {
                // An empty table is cheaper to scan: ask the planner what it would do when scanning is not an option.
                await sql`set local enable_seqscan = off`.execute(tx.unscoped);
                const rows = (await sql.raw<{ 'QUERY PLAN': string }>(`explain ${lookup.query}`).execute(tx.unscoped))
                  .rows;
                return rows.map((r) => r['QUERY PLAN']).join('\n');
              });
        assert.match(plan, new RegExp(lookup.index), plan);
      });
    }
  });

  test(`${db.name}: ping answers while open`, async () => {
    const store = await db.open();
    await store.ping();
  });

  test(`${db.name}: every table except tenants carries tenant_id`, async () => {
    const store = await db.open();
    const tables = await store.unscoped.introspection.getTables();
    const ours = tables.filter((t) => !t.name.startsWith('kysely_'));
    assert.ok(ours.length >= 17, `expected the schema's tables, got ${ours.map((t) => t.name).join(', ')}`);
    for (const table of ours) {
      if (table.name === 'tenants') continue;
      assert.ok(
        table.columns.some((c) => c.name === 'tenant_id' && !c.isNullable),
        `${table.name} has no non-null tenant_id`,
      );
    }
  });

  test(`${db.name}: times are integers and come back as numbers, not strings`, async () => {
    const store = await db.open();
    const id = await tenant(store, 'contoso');
    const row = await store.unscoped.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.created_at, NOW);
    const { rows } = await sql<{ n: number }>`select count(*) as n from tenants`.execute(store.unscoped);
    assert.equal(rows[0].n, 1);
  });

  test(`${db.name}: the scope stamps and filters the tenant — alice at contoso never sees bob at fabrikam`, async () => {
    const store = await db.open();
    const contoso = await tenant(store, 'contoso');
    const fabrikam = await tenant(store, 'fabrikam');
    const alice = await user(store, contoso, 'alice@contoso.example');
    const bob = await user(store, fabrikam, 'bob@fabrikam.example');
    const a = store.forTenant(contoso);

    const seen = await a.selectFrom('users').select(['id', 'tenant_id']).execute();
    assert.deepEqual(seen, [{ id: alice, tenant_id: contoso }]);
    assert.equal(await a.selectFrom('users').select('id').where('id', '=', bob).executeTakeFirst(), undefined);

    const updated = await a.updateTable('users', { display_name: 'pwned' }).where('id', '=', bob).executeTakeFirst();
    assert.equal(updated.numUpdatedRows, 0n);
    const deleted = await a.deleteFrom('users').where('id', '=', bob).executeTakeFirst();
    assert.equal(deleted.numDeletedRows, 0n);

    const bobRow = await store.forTenant(fabrikam).selectFrom('users').selectAll().executeTakeFirstOrThrow();
    assert.equal(bobRow.display_name, 'bob');
  });

  test(`${db.name}: a row in one tenant cannot point at a row of another (composite foreign keys)`, async () => {
    const store = await db.open();
    const contoso = await tenant(store, 'contoso');
    const fabrikam = await tenant(store, 'fabrikam');
    const bob = await user(store, fabrikam, 'bob@fabrikam.example');
    await assert.rejects(
      store
        .forTenant(contoso)
        .insertInto('role_assignments', {
          id: randomUUID(),
          role_definition_id: '62e90394-69f5-4237-9190-012177145e10',
          principal_id: bob,
          created_at: NOW,
        })
        .execute(),
      (error) => isForeignKeyViolation(error),
    );
  });

  test(`${db.name}: unique indexes are per tenant — two tenants may both have alice`, async () => {
    const store = await db.open();
    const contoso = await tenant(store, 'contoso');
    const fabrikam = await tenant(store, 'fabrikam');
    await user(store, contoso, 'alice@example.com');
    await user(store, fabrikam, 'alice@example.com');
    await assert.rejects(user(store, contoso, 'ALICE@example.com'), (error) => isUniqueViolation(error));
  });

  test(`${db.name}: deleting a tenant removes its rows`, async () => {
    const store = await db.open();
    const contoso = await tenant(store, 'contoso');
    await user(store, contoso, 'alice@contoso.example');
    await store.unscoped.deleteFrom('tenants').where('id', '=', contoso).execute();
    const left = await sql<{ n: number }>`select count(*) as n from users`.execute(store.unscoped);
    assert.equal(left.rows[0].n, 0);
  });

  test(`${db.name}: a transaction commits together or not at all`, async () => {
    const store = await db.open();
    const contoso = await tenant(store, 'contoso');
    const scope = store.forTenant(contoso);
    await assert.rejects(
      scope.transaction(async (tx) => {
        await tx.insertInto('groups', { id: 'g1', display_name: 'Sales', created_at: NOW, modified_at: NOW }).execute();
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    const groups = await scope.selectFrom('groups').select('id').execute();
    assert.deepEqual(groups, []);
  });

  test(`${db.name}: concurrent transactions each see their own writes`, async () => {
    const store = await db.open();
    const contoso = await tenant(store, 'contoso');
    const scope = store.forTenant(contoso);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        scope.transaction(async (tx) => {
          await tx
            .insertInto('groups', { id: `g${i}`, display_name: `Group ${i}`, created_at: NOW, modified_at: NOW })
            .execute();
          const mine = await tx.selectFrom('groups').select('id').where('id', '=', `g${i}`).execute();
          assert.equal(mine.length, 1);
        }),
      ),
    );
    const all = await scope.selectFrom('groups').select('id').execute();
    assert.equal(all.length, 10);
  });

  test(`${db.name}: the scope refuses a caller-supplied tenant_id`, async () => {
    const store = await db.open();
    const contoso = await tenant(store, 'contoso');
    const fabrikam = await tenant(store, 'fabrikam');
    const scope = store.forTenant(contoso);
    const row = { tenant_id: fabrikam, id: 'g', display_name: 'G', created_at: NOW, modified_at: NOW };
    assert.throws(() => scope.insertInto('groups', row as never), /tenant_id is set by the scope/);
    assert.throws(() => scope.updateTable('groups', { tenant_id: fabrikam } as never), /never moves/);
  });

  test(`${db.name}: the scope's clock is the store's clock`, async () => {
    const clock = new ManualClock(NOW);
    const store = await db.open({ clock });
    const contoso = await tenant(store, 'contoso');
    clock.advance(1000);
    assert.equal(store.forTenant(contoso).now(), NOW + 1000);
  });
}

const badTenantIds = [
  { name: 'a tenant name instead of its id', id: 'default' },
  { name: 'an empty string', id: '' },
  { name: 'an upper-case UUID', id: '6F9619FF-8B86-D011-B42D-00C04FC964FF' },
  { name: 'undefined', id: undefined },
];

for (const c of badTenantIds) {
  test(`forTenant refuses ${c.name}`, async () => {
    const store = await openStore({ kind: 'sqlite', path: ':memory:' });
    assert.throws(() => store.forTenant(c.id as string), /tenant id must be a lower-case UUID/);
    await store.close();
  });
}

const badOptions = [
  { name: 'an unknown kind', options: { kind: 'mysql' }, message: /kind must be 'sqlite' or 'postgres'/ },
  { name: 'an empty SQLite path', options: { kind: 'sqlite', path: ' ' }, message: /SQLite database path is empty/ },
  {
    name: 'a URL that is not PostgreSQL',
    options: { kind: 'postgres', url: 'mysql://localhost/x' },
    message: /must start with 'postgres:\/\/'/,
  },
  {
    name: 'a PostgreSQL server that is not there (and the password stays out of the message)',
    options: { kind: 'postgres', url: 'postgres://u:hunter2@127.0.0.1:1/portcullis' },
    message: /store: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/portcullis: (?!.*hunter2)/,
  },
];

for (const c of badOptions) {
  test(`openStore refuses ${c.name}`, async () => {
    await assert.rejects(openStore(c.options as never), c.message);
  });
}

test('sqlite: the database file is owner-only, in WAL mode, with foreign keys on', async () => {
  const sqlite = storesUnderTest().find((s) => s.name === 'sqlite');
  assert.ok(sqlite);
  const store = await sqlite.open();
  const path = sqlite.lastSqlitePath ?? '';
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.unscoped);
  assert.equal(mode.rows[0].journal_mode, 'wal');
  const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.unscoped);
  assert.equal(fk.rows[0].foreign_keys, 1);
});
