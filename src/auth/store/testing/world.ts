// The people of the store-backed auth tests: contoso (alice at headquarters, bob abroad, guest carol) and fabrikam
// (mallory), in a fresh migrated store of the kind under test, with a keyring and a clock the test moves.
import { randomBytes } from 'node:crypto';
import type { StoreUnderTest } from '../../../../test/support/stores.ts';
import { twoTenants } from '../../../../test/support/tenants.ts';
import { ManualClock } from '../../../clock.ts';
import { Keyring } from '../../../crypto/keyring.ts';
import { directoryFor } from '../../../directory/directory.ts';
import type { Store } from '../../../store/store.ts';
import type { TenantScope } from '../../../store/tenant-scope.ts';
import { type StoreCredentialPorts, storeCredentialPorts } from '../index.ts';

export interface World {
  readonly store: Store;
  readonly clock: ManualClock;
  readonly keyring: Keyring;
  readonly contoso: TenantScope;
  readonly fabrikam: TenantScope;
  /** contoso's ports and fabrikam's. */
  readonly ports: StoreCredentialPorts;
  readonly fabrikamPorts: StoreCredentialPorts;
  readonly alice: string;
  readonly bob: string;
  readonly carol: string;
  readonly mallory: string;
}

export async function openWorld(db: StoreUnderTest): Promise<World> {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 9, 0, 0));
  const store = await db.open({ clock });
  const tenants = await twoTenants(store);
  const contoso = store.forTenant(tenants.contoso);
  const fabrikam = store.forTenant(tenants.fabrikam);
  const keyring = new Keyring(store, new Uint8Array(randomBytes(32)));
  const user = async (scope: TenantScope, userPrincipalName: string, displayName: string, userType = 'member') =>
    (await directoryFor(scope).users.create({ userPrincipalName, displayName, userType })).id;
  return {
    store,
    clock,
    keyring,
    contoso,
    fabrikam,
    ports: storeCredentialPorts(contoso, keyring),
    fabrikamPorts: storeCredentialPorts(fabrikam, keyring),
    alice: await user(contoso, 'alice@contoso.example', 'Alice'),
    bob: await user(contoso, 'bob@contoso.example', 'Bob'),
    carol: await user(contoso, 'carol@partner.example', 'Carol', 'guest'),
    mallory: await user(fabrikam, 'mallory@fabrikam.example', 'Mallory'),
  };
}
