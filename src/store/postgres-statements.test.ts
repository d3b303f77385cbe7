// Named statements on PostgreSQL: which SQL texts get a name (parameterised, not `*` columns, a bounded number), and
// that the store's queries really run prepared — inside transactions, after a failure, and across connections.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import { storesUnderTest } from '../../test/support/stores.ts';
import { StatementNames } from './postgres-statements.ts';
import type { Store } from './store.ts';

const USER_BY_ID = 'select "id", "display_name" from "users" where "users"."tenant_id" = $1 and "id" = $2';

const naming = [
  { name: 'a parameterised select is named', text: USER_BY_ID, parameters: 2, named: true },
  {
    name: 'count(*) is not a star column list',
    text: 'select count(*) as "n" from "users" where x = $1',
    parameters: 1,
    named: true,
  },
  { name: 'begin has no parameters', text: 'begin', parameters: 0, named: false },
  { name: 'DDL has no parameters', text: 'create table "t" ("id" text)', parameters: 0, named: false },
  { name: 'select * (selectAll)', text: 'select * from "sessions" where "id_hash" = $1', parameters: 1, named: false },
  {
    name: 'select "t".*',
    text: 'select "sessions".* from "sessions" where "id_hash" = $1',
    parameters: 1,
    named: false,
  },
  { name: 'returning *', text: 'insert into "t" ("id") values ($1) returning *', parameters: 1, named: false },
];

for (const c of naming) {
  test(`statement names: ${c.name}`, () => {
    const name = new StatementNames().nameFor(c.text, c.parameters);
    if (c.named) assert.match(name ?? '', /^portcullis_[0-9a-f]{32}$/);
    else assert.equal(name, undefined);
  });
}

test('statement names: the same text always gets the same name, another text another one', () => {
  const names = new StatementNames();
  const first = names.nameFor(USER_BY_ID, 2);
  assert.equal(names.nameFor(USER_BY_ID, 2), first);
  assert.equal(new StatementNames().nameFor(USER_BY_ID, 2), first, 'the same on every connection and process');
  assert.notEqual(names.nameFor(`${USER_BY_ID} limit $3`, 3), first);
});

test('statement names: only the first `limit` texts are named, the rest run unnamed', () => {
  const names = new StatementNames(2);
  const texts = ['a = $1', 'b = $1', 'c = $1'].map((where) => `select 1 from "users" where ${where}`);
  const given = texts.map((text) => names.nameFor(text, 1));
  assert.equal(given.filter((n) => n !== undefined).length, 2);
  assert.equal(given[2], undefined);
  assert.equal(names.nameFor(texts[0], 1), given[0], 'a text named before keeps its name');
  assert.throws(() => new StatementNames(-1), /named statements must be a whole number ≥ 0, got -1/);
});

async function tenantWithAlice(store: Store): Promise<{ tenantId: string; aliceId: string }> {
  const tenantId = randomUUID();
  const now = Date.now();
  await store.unscoped
    .insertInto('tenants')
    .values({ id: tenantId, name: 'contoso', display_name: 'Contoso', created_at: now, modified_at: now })
    .execute();
  const aliceId = randomUUID();
  await store
    .forTenant(tenantId)
    .insertInto('users', {
      id: aliceId,
      user_principal_name: 'alice@contoso.example',
      upn_key: 'alice@contoso.example',
      display_name: 'Alice',
      mail: null,
      user_type: 'member',
      account_enabled: 1,
      created_at: now,
      modified_at: now,
    })
    .execute();
  return { tenantId, aliceId };
}

for (const db of storesUnderTest().filter((s) => s.name === 'postgres')) {
  test('postgres: the store runs its queries as named statements, in and out of transactions, after a failure too', async () => {
    const store = await db.open();
    const { tenantId, aliceId } = await tenantWithAlice(store);
    const scope = store.forTenant(tenantId);
    const alice = () => scope.selectFrom('users').select('display_name').where('id', '=', aliceId).executeTakeFirst();
    assert.deepEqual(await alice(), { display_name: 'Alice' });
    // Run by name itself, so it lists the statements of whichever connection it ran on, its own among them.
    const prepared = () =>
      sql<{
        name: string;
        statement: string;
      }>`select name, statement from pg_prepared_statements where name like ${'portcullis\\_%'}`
        .execute(store.unscoped)
        .then((r) => r.rows);
    const listed = await prepared();
    assert.ok(
      listed.some((row) => row.statement.includes('pg_prepared_statements')),
      `the query itself is prepared: ${JSON.stringify(listed)}`,
    );
    // A query in a transaction, one that fails, and the same query again afterwards.
    await assert.rejects(
      store.transaction(async (tx) => {
        assert.deepEqual(
          await tx
            .forTenant(tenantId)
            .selectFrom('users')
            .select('display_name')
            .where('id', '=', aliceId)
            .executeTakeFirst(),
          { display_name: 'Alice' },
        );
        await tx
          .forTenant(tenantId)
          .updateTable('users', { display_name: 'Mallory' })
          .where('id', '=', aliceId)
          .execute();
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepEqual(await alice(), { display_name: 'Alice' }, 'the rename was rolled back');
    await assert.rejects(tenantWithAlice(store), /duplicate key/, 'a second tenant named contoso');
    assert.deepEqual(await alice(), { display_name: 'Alice' });
  });

  test('postgres: a selectAll query is not prepared (a column added elsewhere must not break it)', async () => {
    const store = await db.open();
    const { tenantId } = await tenantWithAlice(store);
    const rows = await store.forTenant(tenantId).selectFrom('users').selectAll().execute();
    assert.equal(rows.length, 1);
    // Every pooled connection is asked (as many at once as the pool holds), so none may have it prepared.
    const statements = await Promise.all(
      Array.from({ length: 10 }, () =>
        sql<{ statement: string }>`select statement from pg_prepared_statements where name like ${'portcullis\\_%'}`
          .execute(store.unscoped)
          .then((r) => r.rows.map((row) => row.statement)),
      ),
    );
    assert.ok(!statements.flat().some((s) => s.startsWith('select * from "users"')));
  });

  test('postgres: a column added by another node (a migration) breaks no query prepared before it', async () => {
    const store = await db.open();
    const { tenantId, aliceId } = await tenantWithAlice(store);
    const scope = store.forTenant(tenantId);
    const everything = () => scope.selectFrom('users').selectAll().where('id', '=', aliceId).execute();
    const named = () => scope.selectFrom('users').select('display_name').where('id', '=', aliceId).execute();
    assert.equal((await everything()).length, 1);
    assert.equal((await named()).length, 1);
    await sql`alter table users add column nickname text`.execute(store.unscoped);
    const [row] = await everything();
    assert.equal(row && 'nickname' in row, true, 'selectAll sees the new column');
    assert.deepEqual(await named(), [{ display_name: 'Alice' }]);
  });

  test('postgres: a statement that failed to prepare (its table did not exist yet) is prepared again next time', async () => {
    const store = await db.open();
    const later = () => sql<{ id: number }>`select id from later_table where id = ${1}`.execute(store.unscoped);
    await assert.rejects(later(), /relation "later_table" does not exist/);
    await sql`create table later_table (id integer)`.execute(store.unscoped);
    await sql`insert into later_table (id) values (${1})`.execute(store.unscoped);
    assert.deepEqual((await later()).rows, [{ id: 1 }]);
  });
}
