// Users: Graph's shape out, case-insensitive user principal names, paging, updates, deletion with everything the
// user owned, and clear refusals of bad input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { ManualClock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import { Groups } from './groups.ts';
import { RoleAssignments } from './role-assignments.ts';
import { GLOBAL_ADMINISTRATOR } from './roles.ts';
import { type NewUser, Users } from './users.ts';

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const alice: NewUser = {
  userPrincipalName: 'Alice@Contoso.example',
  displayName: 'Alice',
  mail: 'alice@contoso.example',
};
const carol: NewUser = {
  userPrincipalName: 'carol_fabrikam.example#EXT#@contoso.example',
  displayName: 'Carol',
  userType: 'Guest',
};

function invalidWith(message: RegExp) {
  return (error: unknown) => error instanceof PortcullisError && error.code === 90001 && message.test(error.message);
}

const badInput: Array<{ name: string; input: unknown; message: RegExp }> = [
  {
    name: 'no @ in the user principal name',
    input: { userPrincipalName: 'alice', displayName: 'A' },
    message: /userPrincipalName: 'alice' must look like alias@domain/,
  },
  {
    name: 'a space in the user principal name',
    input: { userPrincipalName: 'al ice@x.example', displayName: 'A' },
    message: /must look like alias@domain/,
  },
  {
    name: 'an alias longer than 64',
    input: { userPrincipalName: `${'a'.repeat(65)}@x.example`, displayName: 'A' },
    message: /alias up to 64/,
  },
  {
    name: 'a missing display name',
    input: { userPrincipalName: 'a@x.example' },
    message: /displayName: must be a string but it is undefined/,
  },
  {
    name: 'a blank display name',
    input: { userPrincipalName: 'a@x.example', displayName: '   ' },
    message: /displayName: must not be empty/,
  },
  {
    name: 'a mail that is not an address',
    input: { userPrincipalName: 'a@x.example', displayName: 'A', mail: 'nope' },
    message: /mail: 'nope' is not an email address/,
  },
  {
    name: 'an unknown user type',
    input: { userPrincipalName: 'a@x.example', displayName: 'A', userType: 'Admin' },
    message: /userType: must be 'Member' or 'Guest' but it is 'Admin'/,
  },
  {
    name: 'accountEnabled as a string',
    input: { userPrincipalName: 'a@x.example', displayName: 'A', accountEnabled: 'yes' },
    message: /accountEnabled: must be true or false/,
  },
];

for (const db of storesUnderTest()) {
  test(`${db.name}: alice is created in Graph's user shape`, async () => {
    const store = await db.open({ clock: new ManualClock(NOW) });
    const { contoso } = await twoTenants(store);
    const users = new Users(store.forTenant(contoso));
    const created = await users.create(alice);
    assert.deepEqual(created, {
      id: created.id,
      userPrincipalName: 'Alice@Contoso.example',
      displayName: 'Alice',
      mail: 'alice@contoso.example',
      userType: 'Member',
      accountEnabled: true,
      createdDateTime: '2026-11-23T09:00:00Z',
    });
    assert.deepEqual(await users.get(created.id), created);
  });

  test(`${db.name}: alice is found by her user principal name in any letter case, or by id`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const users = new Users(store.forTenant(contoso));
    const created = await users.create(alice);
    for (const name of ['alice@contoso.example', 'ALICE@CONTOSO.EXAMPLE', ' Alice@Contoso.example ']) {
      assert.equal((await users.getByUserPrincipalName(name))?.id, created.id, name);
    }
    assert.equal((await users.find('ALICE@contoso.example'))?.id, created.id);
    assert.equal((await users.find(created.id))?.id, created.id);
    assert.equal(await users.find('nobody@contoso.example'), undefined);
  });

  test(`${db.name}: a second alice differing only in case is refused`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const users = new Users(store.forTenant(contoso));
    await users.create(alice);
    await assert.rejects(
      users.create({ ...alice, userPrincipalName: 'ALICE@contoso.EXAMPLE' }),
      invalidWith(/another user in this tenant already has 'ALICE@contoso.EXAMPLE'/),
    );
  });

  test(`${db.name}: guest carol is a Guest, and can be disabled`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const users = new Users(store.forTenant(contoso));
    const created = await users.create(carol);
    assert.equal(created.userType, 'Guest');
    const disabled = await users.update(created.id, { accountEnabled: false, displayName: 'Carol (ext)' });
    assert.equal(disabled?.accountEnabled, false);
    assert.equal(disabled?.displayName, 'Carol (ext)');
    assert.equal(disabled?.userType, 'Guest');
  });

  test(`${db.name}: renaming bob changes his lookup key; renaming him onto alice is refused`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const users = new Users(store.forTenant(contoso));
    await users.create(alice);
    const bob = await users.create({ userPrincipalName: 'bob@contoso.example', displayName: 'Bob' });
    await users.update(bob.id, { userPrincipalName: 'Robert@contoso.example', mail: null });
    assert.equal((await users.getByUserPrincipalName('robert@CONTOSO.example'))?.id, bob.id);
    assert.equal(await users.getByUserPrincipalName('bob@contoso.example'), undefined);
    await assert.rejects(
      users.update(bob.id, { userPrincipalName: 'alice@contoso.example' }),
      invalidWith(/already has/),
    );
    assert.equal(await users.update('no-such-user', { displayName: 'X' }), undefined);
  });

  test(`${db.name}: listing pages through every user exactly once`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const users = new Users(store.forTenant(contoso));
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++)
      ids.add((await users.create({ userPrincipalName: `u${i}@contoso.example`, displayName: `U${i}` })).id);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await users.list({ top: 3, after });
      seen.push(...page.items.map((u) => u.id));
      after = page.next;
      pages++;
    } while (after);
    assert.equal(pages, 3);
    assert.deepEqual(new Set(seen), ids);
    assert.equal(seen.length, 7);
    await assert.rejects(users.list({ top: 0 }), invalidWith(/\$top: must be a whole number from 1 to 999/));
  });

  test(`${db.name}: deleting bob removes his role assignments and group memberships`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const scope = store.forTenant(contoso);
    const users = new Users(scope);
    const groups = new Groups(scope);
    const bob = await users.create({ userPrincipalName: 'bob@contoso.example', displayName: 'Bob' });
    const admins = await groups.create({ displayName: 'Admins' });
    await groups.addMember(admins.id, { type: 'user', id: bob.id });
    await new RoleAssignments(scope).assign(bob.id, GLOBAL_ADMINISTRATOR);
    assert.equal(await users.delete(bob.id), true);
    assert.equal(await users.get(bob.id), undefined);
    assert.deepEqual(await groups.members(admins.id), []);
    assert.deepEqual(await new RoleAssignments(scope).list(), []);
    assert.equal(await users.delete(bob.id), false);
  });

  for (const c of badInput) {
    test(`${db.name}: creating a user is refused for ${c.name}`, async () => {
      const store = await db.open();
      const { contoso } = await twoTenants(store);
      await assert.rejects(new Users(store.forTenant(contoso)).create(c.input as NewUser), invalidWith(c.message));
    });
  }
}
