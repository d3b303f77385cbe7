// Who a session's user is, for the gateway: read from the directory, kept per tenant and user for a short time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { ManualClock } from '../clock.ts';
import { directoryFor } from '../directory/directory.ts';
import { DirectoryIdentities, IDENTITY_CACHE_MS } from './identity.ts';

const [sqlite] = storesUnderTest();

test('identities: read once per user and tenant for a while, then again; other tenants never see them', async () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 9));
  const store = await sqlite.open({ clock });
  const tenants = await twoTenants(store);
  const contoso = directoryFor(store.forTenant(tenants.contoso));
  const alice = await contoso.users.create({ userPrincipalName: 'alice@contoso.example', displayName: 'Alice' });
  const engineers = await contoso.groups.create({ displayName: 'Engineers' });
  await contoso.groups.addMember(engineers.id, { type: 'user', id: alice.id });
  const identities = new DirectoryIdentities(store, clock);
  const name = async (tenantId = tenants.contoso, now?: number) =>
    (await identities.identity(tenantId, alice.id, now))?.displayName;

  const first = await identities.identity(tenants.contoso, alice.id);
  assert.equal(first?.userPrincipalName, 'alice@contoso.example');
  assert.deepEqual(first?.groups, [{ id: engineers.id, displayName: 'Engineers' }]);
  assert.equal(await identities.identity(tenants.contoso, alice.id), first, 'the same read, asked again');
  assert.equal(await name(tenants.fabrikam), undefined, "alice is not fabrikam's");

  await contoso.users.update(alice.id, { displayName: 'Alice Émile' });
  clock.advance(IDENTITY_CACHE_MS - 1);
  assert.equal(await name(), 'Alice', 'within the cache time');
  assert.equal(await name(tenants.contoso, clock.now() + 1), 'Alice Émile', "at the caller's time, past it");
  await contoso.users.update(alice.id, { accountEnabled: false });
  identities.forget(tenants.contoso, alice.id);
  assert.equal(await name(), undefined, 'disabled, once forgotten');
  identities.forget(tenants.fabrikam, alice.id); // nothing to forget there
  await contoso.users.update(alice.id, { accountEnabled: true });
  clock.advance(IDENTITY_CACHE_MS);
  assert.equal(await name(), 'Alice Émile', 'enabled again, after the cache time');
});
