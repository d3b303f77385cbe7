// Registering forward-auth applications, on SQLite and PostgreSQL: the API's checks (rules, the application, its
// client type, conflicts across tenants), the gateway callback added to the application, configured applications
// checked at start-up with every problem named, and a deleted application taking its registration with it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type StoreUnderTest, storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { ManualClock } from '../clock.ts';
import { directoryFor } from '../directory/directory.ts';
import type { Store } from '../store/store.ts';
import { parseGatewayRules } from './patterns.ts';
import { GatewayConfigError, GatewayRegistry, gatewayCallbackUrl } from './registry.ts';

const PUBLIC_URL = 'https://id.contoso.example';

async function world(db: StoreUnderTest) {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 9));
  const store: Store = await db.open({ clock });
  const tenants = await twoTenants(store);
  const contoso = directoryFor(store.forTenant(tenants.contoso));
  const fabrikam = directoryFor(store.forTenant(tenants.fabrikam));
  const wiki = (
    await contoso.applications.create({
      displayName: 'Wiki',
      clientType: 'public',
      redirectUris: ['https://wiki.contoso.example/cb'],
    })
  ).application;
  const portal = (
    await contoso.applications.create({
      displayName: 'Portal',
      clientType: 'confidential',
      redirectUris: ['https://portal.contoso.example/cb'],
    })
  ).application;
  const crm = (
    await fabrikam.applications.create({
      displayName: 'CRM',
      clientType: 'public',
      redirectUris: ['https://crm.fabrikam.example/cb'],
    })
  ).application;
  return { clock, store, tenants, contoso, fabrikam, wiki, portal, crm };
}

for (const db of storesUnderTest()) {
  test(`${db.name}: registering checks the input and the application, and adds the gateway callback`, async () => {
    const w = await world(db);
    const registry = new GatewayRegistry({ store: w.store, publicUrl: () => PUBLIC_URL });
    const registered = await registry.register(w.tenants.contoso, {
      appId: w.wiki.appId,
      hosts: ['Wiki.Contoso.example', '*.wiki.contoso.example'],
      paths: ['/', '/admin/'],
    });
    assert.deepEqual(registered, {
      appId: w.wiki.appId,
      hosts: ['wiki.contoso.example', '*.wiki.contoso.example'],
      paths: ['/', '/admin'],
      source: 'api',
    });
    const app = await w.contoso.applications.getByAppId(w.wiki.appId);
    assert.deepEqual(app?.redirectUris, [
      'https://wiki.contoso.example/cb',
      gatewayCallbackUrl(PUBLIC_URL, w.tenants.contoso),
    ]);
    assert.equal((await registry.routes()).match('wiki.contoso.example', '/admin/x')?.entry.appId, w.wiki.appId);
    assert.deepEqual(await registry.list(w.tenants.contoso), [registered]);
    assert.deepEqual(await registry.list(w.tenants.fabrikam), []);

    const refused: [string, object, RegExp][] = [
      ['no hosts', { appId: w.wiki.appId, hosts: [] }, /hosts: must be a non-empty list/],
      [
        'a bad host',
        { appId: w.wiki.appId, hosts: ['wiki contoso'] },
        /hosts\[0\]: 'wiki contoso' is not a valid host name/,
      ],
      ['a bad path', { appId: w.wiki.appId, hosts: ['a.contoso.example'], paths: ['admin'] }, /paths\[0\]: /],
      ['no application id', { hosts: ['a.contoso.example'] }, /appId: must be the application/],
      ['an unknown application', { appId: 'nope', hosts: ['a.contoso.example'] }, /there is no application nope/],
      ['a confidential client', { appId: w.portal.appId, hosts: ['portal.contoso.example'] }, /confidential client/],
      // Another tenant's application is not this tenant's.
      [
        "another tenant's application",
        { appId: w.crm.appId, hosts: ['crm.contoso.example'] },
        /there is no application/,
      ],
    ];
    for (const [name, input, message] of refused) {
      await assert.rejects(
        registry.register(w.tenants.contoso, input as never),
        (e: Error) => message.test(e.message),
        name,
      );
    }
    // A host another tenant's application claims, under any path, by a wildcard over it, or by a wildcard that
    // overlaps one: refused, without naming the other tenant's application.
    for (const [hosts, paths] of [
      [['wiki.contoso.example'], ['/']],
      [['wiki.contoso.example'], ['/admin']],
      [['*.contoso.example'], ['/']],
      [['crm.fabrikam.example', 'wiki.contoso.example'], ['/x']],
    ] as const) {
      await assert.rejects(
        registry.register(w.tenants.fabrikam, { appId: w.crm.appId, hosts, paths }),
        (e: Error) =>
          /overlaps hosts that another tenant's application claims/.test(e.message) &&
          !e.message.includes(w.wiki.appId),
        `${hosts} ${paths}`,
      );
    }
    assert.equal(
      (await registry.routes()).match('wiki.contoso.example', '/admin/x')?.entry.tenantId,
      w.tenants.contoso,
    );
    // A name of its own beside the other tenant's is fine.
    await registry.register(w.tenants.fabrikam, { appId: w.crm.appId, hosts: ['crm.fabrikam.example'] });
    assert.equal(await registry.unregister(w.tenants.fabrikam, w.crm.appId), true);
    // Registering again replaces the rules.
    await registry.register(w.tenants.contoso, { appId: w.wiki.appId, hosts: ['docs.contoso.example'] });
    assert.equal((await registry.routes()).match('wiki.contoso.example', '/'), undefined);
    assert.equal((await registry.routes()).match('docs.contoso.example', '/')?.entry.appId, w.wiki.appId);
    assert.equal(await registry.unregister(w.tenants.contoso, w.wiki.appId), true);
    assert.equal(await registry.unregister(w.tenants.contoso, w.wiki.appId), false);
    assert.equal((await registry.routes()).match('docs.contoso.example', '/'), undefined);
  });

  test(`${db.name}: deleting the application deletes its registration; other nodes see changes after reloadMs`, async () => {
    const w = await world(db);
    const here = new GatewayRegistry({ store: w.store, publicUrl: () => PUBLIC_URL, reloadMs: 30_000 });
    const there = new GatewayRegistry({ store: w.store, publicUrl: () => PUBLIC_URL, reloadMs: 30_000 });
    assert.equal((await there.routes()).entries.length, 0);
    await here.register(w.tenants.contoso, { appId: w.wiki.appId, hosts: ['wiki.contoso.example'] });
    assert.equal((await there.routes()).entries.length, 0, 'the other node still uses its table');
    w.clock.advance(30_000);
    await there.routes(); // starts the reload
    await there.load();
    assert.equal((await there.routes()).entries.length, 1);
    await w.contoso.applications.delete(w.wiki.id);
    assert.deepEqual(await here.list(w.tenants.contoso), [
      { appId: w.wiki.appId, hosts: ['wiki.contoso.example'], paths: ['/'], source: 'api' },
    ]);
    assert.deepEqual((await here.load()).entries, []);
  });

  test(`${db.name}: configured applications are checked at start-up, every problem named`, async () => {
    const w = await world(db);
    const rules = (hosts: string[]) => parseGatewayRules({ hosts });
    const good = { tenant: 'contoso', applicationId: w.wiki.appId, ...rules(['wiki.contoso.example']) };
    const registry = new GatewayRegistry({
      store: w.store,
      publicUrl: () => PUBLIC_URL,
      configured: [
        good,
        { tenant: 'nowhere', applicationId: w.wiki.appId, ...rules(['a.contoso.example']) },
        { tenant: w.tenants.contoso, applicationId: 'missing', ...rules(['b.contoso.example']) },
        { tenant: 'contoso', applicationId: w.portal.appId, ...rules(['portal.contoso.example']) },
      ],
    });
    await assert.rejects(registry.load(true), (error: Error) => {
      assert.ok(error instanceof GatewayConfigError);
      assert.deepEqual(
        error.problems.map((p) => p.replace(/:.*/, '')),
        ['gateway.applications[1]', 'gateway.applications[2]', 'gateway.applications[3]'],
      );
      assert.match(error.problems[0], /there is no tenant 'nowhere'/);
      assert.match(error.problems[2], /confidential client/);
      return true;
    });
    // Outside start-up the usable entries stay in use and the rest are left out (their hosts are denied).
    const table = await registry.load();
    assert.equal(table.match('wiki.contoso.example', '/')?.entry.source, 'config gateway.applications[0]');
    assert.equal(table.match('portal.contoso.example', '/'), undefined);
    const app = await w.contoso.applications.getByAppId(w.wiki.appId);
    assert.ok(app?.redirectUris.includes(gatewayCallbackUrl(PUBLIC_URL, w.tenants.contoso)));
    // A configured application is changed in the file, not through the API.
    await assert.rejects(
      registry.register(w.tenants.contoso, { appId: w.wiki.appId, hosts: ['x.contoso.example'] }),
      /registered in the configuration file/,
    );
  });
}
