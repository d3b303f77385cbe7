// Two tenants for directory tests: contoso (where alice, bob and guest carol live) and fabrikam (mallory's), so
// every test can also check that one tenant does not see the other.
import { createTenant } from '../../src/directory/tenants.ts';
import type { Store } from '../../src/store/store.ts';

export async function twoTenants(store: Store): Promise<{ contoso: string; fabrikam: string }> {
  const contoso = await createTenant(store, { name: 'contoso', displayName: 'Contoso' });
  const fabrikam = await createTenant(store, { name: 'fabrikam', displayName: 'Fabrikam' });
  return { contoso: contoso.id, fabrikam: fabrikam.id };
}
