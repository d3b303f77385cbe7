// Tenants: generated ids, URL-safe unique names, and the default tenant created once however many nodes start.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { PortcullisError } from '../errors.ts';
import { TenantRepository } from '../store/tenant-repository.ts';
import { createTenant, DEFAULT_TENANT_NAME, ensureDefaultTenant, validateTenantName } from './tenants.ts';

const names = [
  { name: 'contoso', ok: true },
  { name: 'a', ok: true },
  { name: 'contoso-eu-2', ok: true },
  { name: 'Contoso', ok: false },
  { name: '-contoso', ok: false },
  { name: 'contoso-', ok: false },
  { name: 'contoso.example', ok: false },
  { name: 'a'.repeat(64), ok: false },
  { name: '', ok: false },
  { name: 'common', ok: false },
];
for (const c of names) {
  test(`tenant name ${JSON.stringify(c.name)} is ${c.ok ? 'accepted' : 'refused'}`, () => {
    if (c.ok) assert.equal(validateTenantName(c.name), c.name);
    else
      assert.throws(
        () => validateTenantName(c.name),
        (e) => e instanceof PortcullisError && e.code === 90001,
      );
  });
}

for (const db of storesUnderTest()) {
  test(`${db.name}: contoso is created with a generated UUID and found by id and by name`, async () => {
    const store = await db.open();
    const contoso = await createTenant(store, { name: 'contoso', displayName: 'Contoso Ltd' });
    assert.match(contoso.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const repo = new TenantRepository(store);
    assert.deepEqual(await repo.get(contoso.id), contoso);
    assert.deepEqual(await repo.getByName('contoso'), contoso);
    assert.equal(await repo.getByName('fabrikam'), undefined);
  });

  test(`${db.name}: a second tenant named contoso is refused`, async () => {
    const store = await db.open();
    await createTenant(store, { name: 'contoso' });
    await assert.rejects(createTenant(store, { name: 'contoso' }), /a tenant named 'contoso' already exists/);
  });

  test(`${db.name}: the default tenant is created once, even by three nodes starting together`, async () => {
    const store = await db.open();
    const results = await Promise.all([
      ensureDefaultTenant(store),
      ensureDefaultTenant(store),
      ensureDefaultTenant(store),
    ]);
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.tenant.id)).size, 1);
    assert.equal(results[0].tenant.name, DEFAULT_TENANT_NAME);
    const again = await ensureDefaultTenant(store);
    assert.equal(again.created, false);
    assert.deepEqual(
      (await new TenantRepository(store).list()).map((t) => t.name),
      [DEFAULT_TENANT_NAME],
    );
  });
}
