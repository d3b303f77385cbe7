// subjectFor builds the evaluator's Subject from the directory: flattened groups and role template ids.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import type { Subject } from '../policy/evaluate.ts';
import { directoryFor } from './directory.ts';
import { CONDITIONAL_ACCESS_ADMINISTRATOR, GLOBAL_ADMINISTRATOR } from './roles.ts';

for (const db of storesUnderTest()) {
  test(`${db.name}: the subjects of alice at headquarters, bob the admin and guest carol`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const dir = directoryFor(store.forTenant(contoso));
    const alice = await dir.users.create({ userPrincipalName: 'alice@contoso.example', displayName: 'Alice' });
    const bob = await dir.users.create({ userPrincipalName: 'bob@contoso.example', displayName: 'Bob' });
    const carol = await dir.users.create({
      userPrincipalName: 'carol@fabrikam.example',
      displayName: 'Carol',
      userType: 'Guest',
    });
    const staff = await dir.groups.create({ displayName: 'All Staff' });
    const hq = await dir.groups.create({ displayName: 'Headquarters' });
    await dir.groups.addMember(staff.id, { type: 'group', id: hq.id });
    await dir.groups.addMember(hq.id, { type: 'user', id: alice.id });
    await dir.roles.assign(bob.id, GLOBAL_ADMINISTRATOR);
    await dir.roles.assign(bob.id, CONDITIONAL_ACCESS_ADMINISTRATOR);

    const cases: Array<{ who: string; id: string; expected: Subject | undefined }> = [
      {
        who: 'alice at headquarters',
        id: alice.id,
        expected: { userId: alice.id, groups: [hq.id, staff.id].sort(), roles: [], userType: 'member' },
      },
      {
        who: 'bob the admin',
        id: bob.id,
        expected: {
          userId: bob.id,
          groups: [],
          roles: [GLOBAL_ADMINISTRATOR, CONDITIONAL_ACCESS_ADMINISTRATOR].sort(),
          userType: 'member',
        },
      },
      { who: 'guest carol', id: carol.id, expected: { userId: carol.id, groups: [], roles: [], userType: 'guest' } },
      { who: 'a deleted user', id: 'gone', expected: undefined },
    ];
    for (const c of cases) assert.deepEqual(await dir.subjectFor(c.id), c.expected, c.who);
  });
}
