// Application admin roles live in one tenant setting; giving roles to several applications at once must lose none
// (a read-modify-write race once dropped all but one when tests set up several callers in parallel).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { GLOBAL_ADMINISTRATOR, SECURITY_READER } from '../directory/roles.ts';
import { applicationRoles, assignApplicationRole } from './auth.ts';

for (const db of storesUnderTest()) {
  test(`${db.name}: concurrent application role assignments are all kept`, async () => {
    const store = await db.open();
    try {
      const { contoso } = await twoTenants(store);
      const scope = store.forTenant(contoso);
      const apps = Array.from({ length: 12 }, (_, i) => `app-${i}`);
      await Promise.all(
        apps.flatMap((app) => [
          assignApplicationRole(scope, app, SECURITY_READER),
          assignApplicationRole(scope, app, GLOBAL_ADMINISTRATOR),
        ]),
      );
      for (const app of apps) {
        assert.deepEqual(
          (await applicationRoles(scope, app)).sort(),
          [GLOBAL_ADMINISTRATOR, SECURITY_READER].sort(),
          app,
        );
      }
    } finally {
      await store.close();
    }
  });
}
