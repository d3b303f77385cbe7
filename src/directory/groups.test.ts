// Groups with members: nested groups flatten into `transitiveGroupsOf` (cycles included), members must exist in the
// same tenant, and deleting a group or a user leaves no dangling membership.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { PortcullisError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { Groups } from './groups.ts';
import { Users } from './users.ts';

/**
 * contoso's org chart:  All Staff ⊃ Sales ⊃ Sales EU ∋ alice;  All Staff ∋ bob;  Contractors ∋ guest carol;
 * and a ring  Ring A ⊃ Ring B ⊃ Ring C ⊃ Ring A  with alice in Ring C.
 */
async function orgChart(store: Store, tenantId: string) {
  const scope = store.forTenant(tenantId);
  const users = new Users(scope);
  const groups = new Groups(scope);
  const alice = await users.create({ userPrincipalName: 'alice@contoso.example', displayName: 'Alice' });
  const bob = await users.create({ userPrincipalName: 'bob@contoso.example', displayName: 'Bob' });
  const carol = await users.create({
    userPrincipalName: 'carol@fabrikam.example',
    displayName: 'Carol',
    userType: 'guest',
  });
  const g = {} as Record<string, string>;
  for (const name of ['All Staff', 'Sales', 'Sales EU', 'Contractors', 'Ring A', 'Ring B', 'Ring C', 'Empty']) {
    g[name] = (await groups.create({ displayName: name })).id;
  }
  const add = (group: string, type: 'user' | 'group', id: string) => groups.addMember(g[group], { type, id });
  await add('All Staff', 'group', g.Sales);
  await add('Sales', 'group', g['Sales EU']);
  await add('Sales EU', 'user', alice.id);
  await add('All Staff', 'user', bob.id);
  await add('Contractors', 'user', carol.id);
  await add('Ring A', 'group', g['Ring B']);
  await add('Ring B', 'group', g['Ring C']);
  await add('Ring C', 'group', g['Ring A']);
  await add('Ring C', 'user', alice.id);
  return { groups, users, g, alice: alice.id, bob: bob.id, carol: carol.id };
}

function invalidWith(message: RegExp) {
  return (error: unknown) => error instanceof PortcullisError && error.code === 90001 && message.test(error.message);
}

for (const db of storesUnderTest()) {
  test(`${db.name}: transitive groups — alice through Sales EU and the ring, bob directly, carol in Contractors`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const { groups, g, alice, bob, carol } = await orgChart(store, contoso);
    const names = (ids: string[]) => ids.map((id) => Object.keys(g).find((k) => g[k] === id)).sort();
    const cases = [
      { who: 'alice', id: alice, expected: ['All Staff', 'Ring A', 'Ring B', 'Ring C', 'Sales', 'Sales EU'] },
      { who: 'bob', id: bob, expected: ['All Staff'] },
      { who: 'guest carol', id: carol, expected: ['Contractors'] },
      { who: 'nobody', id: 'no-such-user', expected: [] },
    ];
    for (const c of cases) assert.deepEqual(names(await groups.transitiveGroupsOf(c.id)), c.expected, c.who);
  });

  test(`${db.name}: a group shows its direct members and where it is a member`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const { groups, g, bob } = await orgChart(store, contoso);
    assert.deepEqual(await groups.members(g['All Staff']), [
      { type: 'group', id: g.Sales },
      { type: 'user', id: bob },
    ]);
    assert.deepEqual(await groups.memberOf({ type: 'group', id: g.Sales }), [g['All Staff']]);
    assert.equal(await groups.addMember(g['All Staff'], { type: 'user', id: bob }), false, 'already a member');
    assert.equal(await groups.removeMember(g['All Staff'], { type: 'user', id: bob }), true);
    assert.equal(await groups.removeMember(g['All Staff'], { type: 'user', id: bob }), false);
  });

  test(`${db.name}: deleting Sales cuts alice off from All Staff but keeps Sales EU`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const { groups, g, alice } = await orgChart(store, contoso);
    assert.equal(await groups.delete(g.Sales), true);
    const after = await groups.transitiveGroupsOf(alice);
    assert.ok(!after.includes(g['All Staff']) && !after.includes(g.Sales));
    assert.ok(after.includes(g['Sales EU']));
    assert.ok(!(await groups.members(g['All Staff'])).some((m) => m.id === g.Sales));
    assert.equal(await groups.get(g.Sales), undefined);
  });

  test(`${db.name}: a group keeps Graph's shape and can be renamed`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const groups = new Groups(store.forTenant(contoso));
    const sales = await groups.create({ displayName: 'Sales', description: 'Everyone selling', mailNickname: 'sales' });
    assert.deepEqual(Object.keys(sales).sort(), [
      'createdDateTime',
      'description',
      'displayName',
      'groupTypes',
      'id',
      'mailEnabled',
      'mailNickname',
      'securityEnabled',
    ]);
    const renamed = await groups.update(sales.id, { displayName: 'Revenue', description: null });
    assert.equal(renamed?.displayName, 'Revenue');
    assert.equal(renamed?.description, null);
    assert.equal(renamed?.mailNickname, 'sales');
    assert.equal((await groups.list()).items.length, 1);
  });

  const badMembers = [
    {
      name: 'a group into itself',
      member: (g: string) => ({ type: 'group', id: g }),
      message: /cannot be a member of itself/,
    },
    {
      name: 'a user that does not exist',
      member: () => ({ type: 'user', id: 'ghost' }),
      message: /no user 'ghost' in this tenant/,
    },
    {
      name: 'an unknown member type',
      member: () => ({ type: 'device', id: 'x' }),
      message: /member.type: must be 'user' or 'group'/,
    },
  ];
  for (const c of badMembers) {
    test(`${db.name}: adding ${c.name} is refused`, async () => {
      const store = await db.open();
      const { contoso } = await twoTenants(store);
      const groups = new Groups(store.forTenant(contoso));
      const sales = await groups.create({ displayName: 'Sales' });
      await assert.rejects(groups.addMember(sales.id, c.member(sales.id) as never), invalidWith(c.message));
    });
  }

  test(`${db.name}: adding to a group that does not exist is refused`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const scope = store.forTenant(contoso);
    const bob = await new Users(scope).create({ userPrincipalName: 'bob@contoso.example', displayName: 'Bob' });
    await assert.rejects(
      new Groups(scope).addMember('nope', { type: 'user', id: bob.id }),
      invalidWith(/no group 'nope'/),
    );
  });

  test(`${db.name}: a long chain of 40 nested groups flattens completely`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const scope = store.forTenant(contoso);
    const groups = new Groups(scope);
    const alice = await new Users(scope).create({ userPrincipalName: 'alice@contoso.example', displayName: 'Alice' });
    const chain: string[] = [];
    for (let i = 0; i < 40; i++) chain.push((await groups.create({ displayName: `Level ${i}` })).id);
    await groups.addMember(chain[0], { type: 'user', id: alice.id });
    for (let i = 1; i < chain.length; i++) await groups.addMember(chain[i], { type: 'group', id: chain[i - 1] });
    assert.deepEqual(await groups.transitiveGroupsOf(alice.id), [...chain].sort());
  });
}
