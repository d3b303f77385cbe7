// subjectFor builds the evaluator's Subject from the directory: flattened groups and role template ids, in one read
// that takes no write lock.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
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
    const dave = await dir.users.create({ userPrincipalName: 'dave@contoso.example', displayName: 'Dave' });
    const staff = await dir.groups.create({ displayName: 'All Staff' });
    const hq = await dir.groups.create({ displayName: 'Headquarters' });
    await dir.groups.addMember(staff.id, { type: 'group', id: hq.id });
    await dir.groups.addMember(hq.id, { type: 'user', id: alice.id });
    await dir.roles.assign(bob.id, GLOBAL_ADMINISTRATOR);
    await dir.roles.assign(bob.id, CONDITIONAL_ACCESS_ADMINISTRATOR);
    // Dave, a Global Administrator, is in Ring A, and the rings contain each other: a cycle, and Headquarters.
    const ring = [];
    for (const name of ['Ring A', 'Ring B', 'Ring C']) ring.push((await dir.groups.create({ displayName: name })).id);
    for (let i = 0; i < ring.length; i++) {
      await dir.groups.addMember(ring[(i + 1) % ring.length], { type: 'group', id: ring[i] });
    }
    await dir.groups.addMember(hq.id, { type: 'group', id: ring[2] });
    await dir.groups.addMember(ring[0], { type: 'user', id: dave.id });
    await dir.roles.assign(dave.id, GLOBAL_ADMINISTRATOR);

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
      {
        who: 'dave in a cycle of groups',
        id: dave.id,
        expected: {
          userId: dave.id,
          groups: [...ring, hq.id, staff.id].sort(),
          roles: [GLOBAL_ADMINISTRATOR],
          userType: 'member',
        },
      },
      { who: 'a deleted user', id: 'gone', expected: undefined },
    ];
    for (const c of cases) assert.deepEqual(await dir.subjectFor(c.id), c.expected, c.who);
  });

  if (db.name === 'sqlite') {
    test('sqlite: the subject is read while another process holds the write lock (no begin immediate)', async () => {
      const store = await db.open();
      const { contoso } = await twoTenants(store);
      const dir = directoryFor(store.forTenant(contoso));
      const alice = await dir.users.create({ userPrincipalName: 'alice@contoso.example', displayName: 'Alice' });
      const path = db.lastSqlitePath;
      assert.ok(path);
      const cli = new DatabaseSync(path, { timeout: 0 });
      cli.exec('begin immediate');
      try {
        const started = performance.now();
        const subject = await dir.subjectFor(alice.id);
        assert.deepEqual(subject, { userId: alice.id, groups: [], roles: [], userType: 'member' });
        // A write transaction would have waited for the busy timeout (5 s) and then failed.
        assert.ok(performance.now() - started < 1000, 'the read did not wait for the lock');
      } finally {
        cli.exec('rollback');
        cli.close();
      }
    });
  }
}
