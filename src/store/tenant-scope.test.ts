// TenantScope.withRecursive: a recursive walk in one statement that stays inside its tenant — even where the other
// tenant has rows with the very same ids — ends on cycles, and refuses names that are not plain identifiers; and
// TenantScope.prepare: a query built once and run with new values, still inside its tenant; and TenantScope.run: a
// query defined once, compiled once per store and run in any tenant's scope with that tenant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { defineQuery, type TenantScope } from './tenant-scope.ts';

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

/** Groups named by their ids; `nest` lists [outer, inner] pairs, `alice` the groups she is in directly. */
async function groups(scope: TenantScope, ids: string[], nest: [string, string][], alice: string[]): Promise<void> {
  for (const id of ids) {
    await scope
      .insertInto('groups', {
        id,
        display_name: id,
        description: null,
        mail_nickname: null,
        created_at: NOW,
        modified_at: NOW,
      })
      .execute();
  }
  const member = (group_id: string, member_type: 'user' | 'group', member_id: string) =>
    scope.insertInto('group_members', { group_id, member_type, member_id, created_at: NOW }).execute();
  for (const [outer, inner] of nest) await member(outer, 'group', inner);
  for (const id of alice) await member(id, 'user', 'alice');
}

/** Every group `alice` is in, through nesting: the walk under test. */
async function walk(scope: TenantScope): Promise<string[]> {
  const rows = await scope
    .withRecursive<'reached', { id: string }>('reached', ['id'], (s) =>
      s
        .selectFrom('group_members')
        .select(['group_members.tenant_id', 'group_members.group_id as id'])
        .where('member_type', '=', 'user')
        .where('member_id', '=', 'alice')
        .union(
          s
            .selectFrom('group_members')
            .innerJoin('reached', (join) =>
              join
                .onRef('reached.tenant_id', '=', 'group_members.tenant_id')
                .onRef('reached.id', '=', 'group_members.member_id'),
            )
            .select(['group_members.tenant_id', 'group_members.group_id as id'])
            .where('group_members.member_type', '=', 'group'),
        ),
    )
    .selectFrom('reached')
    .select('id')
    .execute();
  return rows.map((r) => r.id).sort();
}

for (const db of storesUnderTest()) {
  test(`${db.name}: contoso's walk stays in contoso though fabrikam uses the same ids, and ends on a cycle`, async () => {
    const store = await db.open();
    const { contoso, fabrikam } = await twoTenants(store);
    // Contoso: alice in sales, sales in staff, and a ring (staff → ring → sales → staff).
    await groups(
      store.forTenant(contoso),
      ['sales', 'staff', 'ring', 'board'],
      [
        ['staff', 'sales'],
        ['ring', 'staff'],
        ['sales', 'ring'],
      ],
      ['sales'],
    );
    // Fabrikam: the same ids, but there sales sits in the board, and alice is in nothing of fabrikam's.
    await groups(store.forTenant(fabrikam), ['sales', 'staff', 'ring', 'board'], [['board', 'sales']], []);
    assert.deepEqual(await walk(store.forTenant(contoso)), ['ring', 'sales', 'staff']);
    assert.deepEqual(await walk(store.forTenant(fabrikam)), []);
  });

  test(`${db.name}: inside a transaction, a scope with a CTE joins it with a plain scope`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    await groups(store.forTenant(contoso), ['sales'], [], ['sales']);
    const texts = await store.forTenant(contoso).transaction(async (tx) => {
      const withCte = tx.withRecursive<'reached', { id: string }>('reached', ['id'], (s) =>
        s.selectFrom('groups').select(['groups.tenant_id', 'groups.id']),
      );
      return withCte.transaction(async (inner) => ({
        outer: withCte.selectFrom('reached').select('id').compile().sql,
        inner: inner.selectFrom('groups').select('display_name').compile().sql,
        rows: await inner.selectFrom('groups').select('display_name').execute(),
      }));
    });
    assert.match(texts.outer, /^with recursive "reached"\("tenant_id", "id"\) as /);
    assert.match(texts.inner, /^select "display_name" from "groups"/);
    assert.deepEqual(texts.rows, [{ display_name: 'sales' }]);
  });
}

const badNames = [
  { name: 'a quoted name', cte: 'x" as (select 1) --', columns: ['id'] },
  { name: 'a column with a space', cte: 'reached', columns: ['id, evil'] },
  { name: 'an upper-case name', cte: 'Reached', columns: ['id'] },
];
for (const c of badNames) {
  test(`withRecursive refuses ${c.name}`, async () => {
    const [db] = storesUnderTest();
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    assert.throws(
      () => store.forTenant(contoso).withRecursive(c.cte, c.columns as never, () => null as never),
      /withRecursive\(.*\): the name and columns must be plain lower-case identifiers/,
    );
  });
}

for (const db of storesUnderTest()) {
  test(`TenantScope.prepare (${db.name}): built once, run with each call's values, inside its tenant`, async (t) => {
    const store = await db.open();
    const { contoso, fabrikam } = await twoTenants(store);
    const scope = store.forTenant(contoso);
    let builds = 0;
    const insert = scope.prepare((v: { id: string; name: string }) => {
      builds++;
      return scope.insertInto('groups', {
        id: v.id,
        display_name: v.name,
        description: null,
        mail_nickname: null,
        created_at: NOW,
        modified_at: NOW,
      });
    });
    const named = scope.prepare((v: { id: string }) =>
      scope.selectFrom('groups').select(['id', 'display_name']).where('id', '=', v.id),
    );
    const cases = [
      {
        name: 'each run writes and reads its own values; the query is built at the first run only',
        async run() {
          await insert({ id: 'sales', name: 'Sales' });
          await insert({ id: 'legal', name: 'Legal' });
          assert.deepEqual((await named({ id: 'sales' })).rows, [{ id: 'sales', display_name: 'Sales' }]);
          assert.deepEqual((await named({ id: 'legal' })).rows, [{ id: 'legal', display_name: 'Legal' }]);
          assert.equal(builds, 1);
        },
      },
      {
        name: "a query prepared on contoso's scope does not see fabrikam's row with the same id",
        async run() {
          const theirs = store.forTenant(fabrikam);
          await theirs
            .insertInto('groups', {
              id: 'board',
              display_name: 'Fabrikam board',
              description: null,
              mail_nickname: null,
              created_at: NOW,
              modified_at: NOW,
            })
            .execute();
          assert.deepEqual((await named({ id: 'board' })).rows, []);
        },
      },
      {
        name: 'a missing value is refused by name, before anything runs',
        async run() {
          await assert.rejects(named({} as { id: string }), /no value for 'id'/);
        },
      },
      {
        name: 'stand-ins cannot be spread (the spread would copy nothing)',
        async run() {
          const spread = scope.prepare((v: { id: string }) =>
            scope
              .selectFrom('groups')
              .select('id')
              .where('id', '=', { ...v }.id),
          );
          await assert.rejects(spread({ id: 'sales' }), /cannot be spread/);
        },
      },
    ];
    for (const c of cases) await t.test(c.name, c.run);
  });
}

let definitionBuilds = 0;
/** A definition under test: a group's name by id, with a recursive walk in it (the CTE carries the tenant too). */
const GROUP_NAME = defineQuery((scope, v: { id: string }) => {
  definitionBuilds++;
  return scope.selectFrom('groups').select(['id', 'display_name']).where('id', '=', v.id);
});
const NOT_SCOPED = defineQuery((scope, v: { id: string }) =>
  // Built on the raw database behind a scope's back: no tenant restriction, so it must be refused.
  (scope as unknown as { selectFrom: TenantScope['selectFrom'] })
    .selectFrom('groups')
    .select('id')
    .where('id', '=', v.id)
    .clearWhere()
    .where('id', '=', v.id),
);

for (const db of storesUnderTest()) {
  test(`TenantScope.run (${db.name}): compiled once per store, run in every tenant's scope with its own tenant`, async (t) => {
    const store = await db.open();
    const { contoso, fabrikam } = await twoTenants(store);
    const group = (scope: TenantScope, id: string, name: string) =>
      scope
        .insertInto('groups', {
          id,
          display_name: name,
          description: null,
          mail_nickname: null,
          created_at: NOW,
          modified_at: NOW,
        })
        .execute();
    await group(store.forTenant(contoso), 'board', 'Contoso board');
    await group(store.forTenant(fabrikam), 'board', 'Fabrikam board');
    const cases = [
      {
        name: "each tenant's scope (a new one each time) reads its own row; the query is built once for the store",
        async run() {
          const before = definitionBuilds;
          for (let i = 0; i < 3; i++) {
            assert.deepEqual((await store.forTenant(contoso).run(GROUP_NAME, { id: 'board' })).rows, [
              { id: 'board', display_name: 'Contoso board' },
            ]);
            assert.deepEqual((await store.forTenant(fabrikam).run(GROUP_NAME, { id: 'board' })).rows, [
              { id: 'board', display_name: 'Fabrikam board' },
            ]);
          }
          assert.ok(definitionBuilds - before <= 1, `built ${definitionBuilds - before} times`);
        },
      },
      {
        name: 'inside a transaction it runs on the transaction (sees its uncommitted row, which a rollback removes)',
        async run() {
          await assert.rejects(
            store.forTenant(contoso).transaction(async (tx) => {
              await group(tx, 'audit', 'Audit');
              assert.deepEqual((await tx.run(GROUP_NAME, { id: 'audit' })).rows, [
                { id: 'audit', display_name: 'Audit' },
              ]);
              throw new Error('roll back');
            }),
            /roll back/,
          );
          assert.deepEqual((await store.forTenant(contoso).run(GROUP_NAME, { id: 'audit' })).rows, []);
        },
      },
      {
        name: 'a definition whose query does not restrict the tenant is refused before it runs',
        async run() {
          await assert.rejects(
            store.forTenant(contoso).run(NOT_SCOPED, { id: 'board' }),
            /does not restrict the tenant/,
          );
        },
      },
      {
        name: 'a missing value is refused by name',
        async run() {
          await assert.rejects(store.forTenant(contoso).run(GROUP_NAME, {} as { id: string }), /no value for 'id'/);
        },
      },
    ];
    for (const c of cases) await t.test(c.name, c.run);
  });
}
