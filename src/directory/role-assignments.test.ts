// Built-in roles carry Entra's template ids; assignments are per tenant, idempotent, and only for real users.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { PortcullisError } from '../errors.ts';
import { RoleAssignments } from './role-assignments.ts';
import { BUILT_IN_ROLES, builtInRole, GLOBAL_ADMINISTRATOR, REPORTS_READER, SECURITY_READER } from './roles.ts';
import { Users } from './users.ts';

// From Microsoft's "Microsoft Entra built-in roles" reference (permissions-reference), checked by hand.
const ENTRA_TEMPLATE_IDS: Record<string, string> = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Conditional Access Administrator': 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9',
  'Security Administrator': '194ae4cb-b126-40b2-bd5b-6091b380977d',
  'Security Reader': '5d6b6bb7-de71-4623-b4af-96380a352509',
  'Reports Reader': '4a5d8f65-41da-4de4-8968-e035b65339cf',
  'User Administrator': 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'Application Administrator': '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
};

test('the built-in roles are exactly the seven from the issue, with Entra template ids', () => {
  assert.deepEqual(Object.fromEntries(BUILT_IN_ROLES.map((r) => [r.displayName, r.id])), ENTRA_TEMPLATE_IDS);
});

test('a role is found by template id in any letter case, and only a built-in one', () => {
  assert.equal(builtInRole(GLOBAL_ADMINISTRATOR.toUpperCase())?.displayName, 'Global Administrator');
  assert.equal(builtInRole('00000000-0000-0000-0000-000000000000'), undefined);
  assert.equal(builtInRole(42), undefined);
});

for (const db of storesUnderTest()) {
  test(`${db.name}: bob becomes Global Administrator and Reports Reader; assigning twice changes nothing`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const scope = store.forTenant(contoso);
    const roles = new RoleAssignments(scope);
    const bob = await new Users(scope).create({ userPrincipalName: 'bob@contoso.example', displayName: 'Bob' });
    const first = await roles.assign(bob.id, GLOBAL_ADMINISTRATOR.toUpperCase());
    assert.deepEqual(first, {
      id: first.id,
      roleDefinitionId: GLOBAL_ADMINISTRATOR,
      principalId: bob.id,
      directoryScopeId: '/',
    });
    assert.deepEqual(await roles.assign(bob.id, GLOBAL_ADMINISTRATOR), first);
    await roles.assign(bob.id, REPORTS_READER);
    assert.deepEqual(await roles.rolesOf(bob.id), [REPORTS_READER, GLOBAL_ADMINISTRATOR].sort());
    assert.deepEqual(
      (await roles.list({ roleDefinitionId: GLOBAL_ADMINISTRATOR })).map((a) => a.principalId),
      [bob.id],
    );
    assert.deepEqual(await roles.get(first.id), first);
    assert.equal(await roles.remove(first.id), true);
    assert.deepEqual(await roles.rolesOf(bob.id), [REPORTS_READER]);
  });

  const refusals = [
    {
      name: 'a role that is not built in',
      role: '11111111-2222-3333-4444-555555555555',
      user: 'bob',
      message: /is not a built-in role template id/,
    },
    {
      name: 'a user that does not exist',
      role: SECURITY_READER,
      user: 'ghost',
      message: /principalId: no user 'ghost' in this tenant/,
    },
    { name: "fabrikam's mallory", role: SECURITY_READER, user: 'mallory', message: /no user '.*' in this tenant/ },
  ];
  for (const c of refusals) {
    test(`${db.name}: assigning to ${c.name} is refused`, async () => {
      const store = await db.open();
      const { contoso, fabrikam } = await twoTenants(store);
      const bob = await new Users(store.forTenant(contoso)).create({
        userPrincipalName: 'bob@contoso.example',
        displayName: 'Bob',
      });
      const mallory = await new Users(store.forTenant(fabrikam)).create({
        userPrincipalName: 'mallory@fabrikam.example',
        displayName: 'Mallory',
      });
      const ids: Record<string, string> = { bob: bob.id, mallory: mallory.id, ghost: 'ghost' };
      await assert.rejects(
        new RoleAssignments(store.forTenant(contoso)).assign(ids[c.user], c.role),
        (e) => e instanceof PortcullisError && e.code === 90001 && c.message.test(e.message),
      );
    });
  }
}
