// Tenant isolation: contoso, going through every directory service and repository, can neither read nor change
// anything of fabrikam's — every attempt finds nothing or is refused, and fabrikam's rows are byte-for-byte the same
// afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { DataKeyRepository } from '../crypto/data-key-repository.ts';
import { Keyring } from '../crypto/keyring.ts';
import { PortcullisError } from '../errors.ts';
import type { TenantTable } from '../store/database.ts';
import type { Store } from '../store/store.ts';
import { ApplicationRepository } from './application-repository.ts';
import { type Directory, directoryFor } from './directory.ts';
import { GroupRepository } from './group-repository.ts';
import { RoleAssignmentRepository } from './role-assignment-repository.ts';
import { GLOBAL_ADMINISTRATOR } from './roles.ts';
import { UserRepository } from './user-repository.ts';

const TABLES: TenantTable[] = [
  'data_keys',
  'users',
  'groups',
  'group_members',
  'role_assignments',
  'applications',
  'password_credentials',
  'totp_credentials',
  'recovery_codes',
  'webauthn_credentials',
  'lockouts',
  'oidc_payloads',
  'signing_keys',
  'named_locations',
  'ca_policies',
  'sign_in_logs',
];

async function snapshot(store: Store, tenantId: string): Promise<string> {
  const scope = store.forTenant(tenantId);
  const all: Record<string, unknown[]> = {};
  for (const table of TABLES) all[table] = await scope.selectFrom(table).selectAll().execute();
  return JSON.stringify(all);
}

interface Fabrikam {
  mallory: string;
  malloryUpn: string;
  group: string;
  assignment: string;
  app: string;
  appId: string;
  keyId: string;
  secret: string;
}

interface Contoso {
  dir: Directory;
  alice: string;
  group: string;
  store: Store;
  tenantId: string;
}

/** Each attempt returns what contoso got; `expect` is what "nothing" looks like for it. */
const attempts: Array<{ name: string; run: (c: Contoso, f: Fabrikam) => Promise<unknown>; expect: unknown }> = [
  { name: 'users.get', run: (c, f) => c.dir.users.get(f.mallory), expect: undefined },
  {
    name: 'users.getByUserPrincipalName',
    run: (c, f) => c.dir.users.getByUserPrincipalName(f.malloryUpn),
    expect: undefined,
  },
  { name: 'users.find', run: (c, f) => c.dir.users.find(f.malloryUpn), expect: undefined },
  {
    name: 'users.list',
    run: async (c, f) => (await c.dir.users.list()).items.some((u) => u.id === f.mallory),
    expect: false,
  },
  {
    name: 'users.update',
    run: (c, f) => c.dir.users.update(f.mallory, { displayName: 'pwned', accountEnabled: false }),
    expect: undefined,
  },
  { name: 'users.delete', run: (c, f) => c.dir.users.delete(f.mallory), expect: false },
  {
    name: 'UserRepository.update',
    run: (c, f) => new UserRepository(c.store.forTenant(c.tenantId)).update(f.mallory, { display_name: 'x' }),
    expect: false,
  },
  { name: 'groups.get', run: (c, f) => c.dir.groups.get(f.group), expect: undefined },
  {
    name: 'groups.list',
    run: async (c, f) => (await c.dir.groups.list()).items.some((g) => g.id === f.group),
    expect: false,
  },
  { name: 'groups.update', run: (c, f) => c.dir.groups.update(f.group, { displayName: 'pwned' }), expect: undefined },
  { name: 'groups.delete', run: (c, f) => c.dir.groups.delete(f.group), expect: false },
  { name: 'groups.members', run: (c, f) => c.dir.groups.members(f.group), expect: [] },
  { name: 'groups.memberOf', run: (c, f) => c.dir.groups.memberOf({ type: 'user', id: f.mallory }), expect: [] },
  { name: 'groups.transitiveGroupsOf', run: (c, f) => c.dir.groups.transitiveGroupsOf(f.mallory), expect: [] },
  {
    name: 'groups.removeMember',
    run: (c, f) => c.dir.groups.removeMember(f.group, { type: 'user', id: f.mallory }),
    expect: false,
  },
  {
    name: "groups.addMember (alice into fabrikam's group)",
    run: (c, f) => c.dir.groups.addMember(f.group, { type: 'user', id: c.alice }),
    expect: 'refused',
  },
  {
    name: "groups.addMember (mallory into contoso's group)",
    run: (c, f) => c.dir.groups.addMember(c.group, { type: 'user', id: f.mallory }),
    expect: 'refused',
  },
  {
    name: "groups.addMember (fabrikam's group into contoso's)",
    run: (c, f) => c.dir.groups.addMember(c.group, { type: 'group', id: f.group }),
    expect: 'refused',
  },
  {
    name: 'GroupRepository.addMember (no checks above it)',
    run: (c, f) => new GroupRepository(c.store.forTenant(c.tenantId)).addMember(f.group, { type: 'user', id: c.alice }),
    expect: 'refused',
  },
  { name: 'roles.get', run: (c, f) => c.dir.roles.get(f.assignment), expect: undefined },
  { name: 'roles.list', run: (c) => c.dir.roles.list(), expect: [] },
  { name: 'roles.rolesOf', run: (c, f) => c.dir.roles.rolesOf(f.mallory), expect: [] },
  { name: 'roles.remove', run: (c, f) => c.dir.roles.remove(f.assignment), expect: false },
  {
    name: 'roles.assign (to mallory)',
    run: (c, f) => c.dir.roles.assign(f.mallory, GLOBAL_ADMINISTRATOR),
    expect: 'refused',
  },
  {
    name: 'RoleAssignmentRepository.delete',
    run: (c, f) => new RoleAssignmentRepository(c.store.forTenant(c.tenantId)).delete(f.assignment),
    expect: false,
  },
  { name: 'applications.get', run: (c, f) => c.dir.applications.get(f.app), expect: undefined },
  { name: 'applications.getByAppId', run: (c, f) => c.dir.applications.getByAppId(f.appId), expect: undefined },
  { name: 'applications.list', run: async (c) => (await c.dir.applications.list()).items, expect: [] },
  {
    name: 'applications.update',
    run: (c, f) => c.dir.applications.update(f.app, { redirectUris: ['https://evil.example/cb'] }),
    expect: undefined,
  },
  { name: 'applications.delete', run: (c, f) => c.dir.applications.delete(f.app), expect: false },
  { name: 'applications.addSecret', run: (c, f) => c.dir.applications.addSecret(f.app), expect: undefined },
  { name: 'applications.removeSecret', run: (c, f) => c.dir.applications.removeSecret(f.app, f.keyId), expect: false },
  {
    name: 'applications.verifySecret',
    run: (c, f) => c.dir.applications.verifySecret(f.appId, f.secret),
    expect: undefined,
  },
  {
    name: 'ApplicationRepository.update',
    run: (c, f) => new ApplicationRepository(c.store.forTenant(c.tenantId)).update(f.app, { display_name: 'x' }),
    expect: false,
  },
  { name: 'subjectFor', run: (c, f) => c.dir.subjectFor(f.mallory), expect: undefined },
  {
    name: 'DataKeyRepository.list',
    run: (c) => new DataKeyRepository(c.store.forTenant(c.tenantId)).list(),
    expect: [],
  },
];

for (const db of storesUnderTest()) {
  test(`${db.name}: contoso cannot read or change fabrikam's directory through any service or repository`, async () => {
    const store = await db.open();
    const { contoso, fabrikam } = await twoTenants(store);
    const fab = directoryFor(store.forTenant(fabrikam));
    const mallory = await fab.users.create({ userPrincipalName: 'mallory@fabrikam.example', displayName: 'Mallory' });
    const group = await fab.groups.create({ displayName: 'Fabrikam admins' });
    await fab.groups.addMember(group.id, { type: 'user', id: mallory.id });
    const assignment = await fab.roles.assign(mallory.id, GLOBAL_ADMINISTRATOR);
    const { application, secretText = '' } = await fab.applications.create({
      displayName: 'Fabrikam ERP',
      clientType: 'confidential',
      redirectUris: ['https://erp.fabrikam.example/cb'],
    });
    await new Keyring(store, new Uint8Array(randomBytes(32))).encrypt(fabrikam, 'fabrikam secret', 'test');
    const f: Fabrikam = {
      mallory: mallory.id,
      malloryUpn: mallory.userPrincipalName,
      group: group.id,
      assignment: assignment.id,
      app: application.id,
      appId: application.appId,
      keyId: application.passwordCredentials[0].keyId,
      secret: secretText,
    };

    const dir = directoryFor(store.forTenant(contoso));
    const alice = await dir.users.create({ userPrincipalName: 'alice@contoso.example', displayName: 'Alice' });
    const contosoGroup = await dir.groups.create({ displayName: 'Contoso staff' });
    const c: Contoso = { dir, alice: alice.id, group: contosoGroup.id, store, tenantId: contoso };

    const before = await snapshot(store, fabrikam);
    for (const attempt of attempts) {
      let got: unknown;
      try {
        got = await attempt.run(c, f);
      } catch (error) {
        // Refused: a clear 90001, or the database's own foreign key check for the bare repository.
        assert.equal(attempt.expect, 'refused', `${attempt.name} threw: ${(error as Error).message}`);
        if (error instanceof PortcullisError) assert.equal(error.code, 90001);
        continue;
      }
      assert.deepEqual(got, attempt.expect, attempt.name);
    }
    assert.equal(await snapshot(store, fabrikam), before, "fabrikam's rows are unchanged");
    assert.ok(before.includes(mallory.id) && before.includes(application.appId), 'the snapshot sees fabrikam’s data');
  });
}
