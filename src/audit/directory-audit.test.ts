// The directory audit log on SQLite and PostgreSQL: Graph's directoryAudit shape, one unbroken chain per tenant (also
// when two nodes append at once), a record that rolls back with its change, and reading back newest first.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { ManualClock } from '../clock.ts';
import { openStore, type Store } from '../store/store.ts';
import { buildDirectoryAudit, DirectoryAuditLog, DirectoryAuditRepository } from './directory-audit.ts';
import { ChainWalk, GENESIS_HASH, recordHash } from './directory-audit-chain.ts';
import type { AuditActor, AuditEvent } from './directory-audit-port.ts';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const alice: AuditActor = {
  kind: 'user',
  id: 'a11ce000-0000-4000-8000-000000000001',
  userPrincipalName: 'alice@contoso.example',
};
const script: AuditActor = {
  kind: 'application',
  id: 'a0000000-0000-4000-8000-00000000aaaa',
  displayName: 'Automation',
};
const init: AuditActor = { kind: 'system', displayName: 'portcullis init' };

function blockPolicy(n: number, state = 'enabled'): AuditEvent {
  return {
    category: 'Policy',
    activityDisplayName: 'Update conditional access policy',
    operationType: 'Update',
    loggedByService: 'Conditional Access',
    correlationId: `c-${n}`,
    targets: [
      {
        id: `p0000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        displayName: `Block legacy ${n}`,
        type: 'Policy',
        modifiedProperties: [{ displayName: 'state', oldValue: 'disabled', newValue: state }],
      },
    ],
  };
}

test('a record is Graph’s directoryAudit, with old and new values as JSON text', () => {
  const audit = buildDirectoryAudit(
    alice,
    { ...blockPolicy(1), ipAddress: '198.51.100.7', additionalDetails: [{ key: 'User-Agent', value: 'curl/8' }] },
    T0,
    'r-1',
  );
  assert.deepEqual(audit, {
    id: 'r-1',
    category: 'Policy',
    correlationId: 'c-1',
    result: 'success',
    resultReason: '',
    activityDisplayName: 'Update conditional access policy',
    activityDateTime: '2026-03-02T09:00:00.000Z',
    loggedByService: 'Conditional Access',
    operationType: 'Update',
    initiatedBy: {
      user: {
        id: alice.id,
        displayName: null,
        userPrincipalName: 'alice@contoso.example',
        ipAddress: '198.51.100.7',
      },
      app: null,
    },
    targetResources: [
      {
        id: 'p0000000-0000-4000-8000-000000000001',
        displayName: 'Block legacy 1',
        type: 'Policy',
        userPrincipalName: null,
        modifiedProperties: [{ displayName: 'state', oldValue: '"disabled"', newValue: '"enabled"' }],
      },
    ],
    additionalDetails: [{ key: 'User-Agent', value: 'curl/8' }],
  });
});

test('applications and Portcullis itself initiate as Graph’s app; an added object has no old value', () => {
  const added: AuditEvent = {
    category: 'UserManagement',
    activityDisplayName: 'Add user',
    operationType: 'Add',
    targets: [
      {
        id: 'u1',
        type: 'User',
        userPrincipalName: 'bob@contoso.example',
        modifiedProperties: [{ displayName: 'AccountEnabled', oldValue: undefined, newValue: [true] }],
      },
    ],
  };
  const byScript = buildDirectoryAudit(script, added, T0, 'r-2');
  assert.deepEqual(byScript.initiatedBy, {
    user: null,
    app: { appId: script.id, displayName: 'Automation', servicePrincipalId: null, servicePrincipalName: null },
  });
  assert.equal(byScript.loggedByService, 'Core Directory');
  assert.deepEqual(byScript.targetResources[0].modifiedProperties, [
    { displayName: 'AccountEnabled', oldValue: null, newValue: '[true]' },
  ]);
  assert.deepEqual(buildDirectoryAudit(init, added, T0, 'r-3').initiatedBy.app?.displayName, 'portcullis init');
});

test('an event no route should build is refused, not recorded half-way', () => {
  const cases: [string, AuditActor, AuditEvent][] = [
    ['unknown category', alice, { ...blockPolicy(1), category: 'Gossip' as never }],
    ['unknown operation', alice, { ...blockPolicy(1), operationType: 'Rename' as never }],
    ['no target', alice, { ...blockPolicy(1), targets: [] }],
    ['empty activity', alice, { ...blockPolicy(1), activityDisplayName: '' }],
    ['actor without id', { kind: 'user', id: '' }, blockPolicy(1)],
    ['unknown actor', { kind: 'robot' } as never, blockPolicy(1)],
  ];
  for (const [name, actor, event] of cases) {
    assert.throws(() => buildDirectoryAudit(actor, event, T0, 'r'), TypeError, name);
  }
});

const stores = storesUnderTest();
for (const db of stores) {
  async function setup() {
    const clock = new ManualClock(T0);
    const store = await db.open({ clock });
    const tenants = await twoTenants(store);
    let n = 0;
    const log = new DirectoryAuditLog({ newId: () => `r0000000-0000-4000-8000-${String(++n).padStart(12, '0')}` });
    return { store, clock, log, ...tenants };
  }

  async function verify(store: Store, tenantId: string) {
    const repo = new DirectoryAuditRepository(store.forTenant(tenantId));
    const walk = new ChainWalk(tenantId, await repo.head());
    for await (const record of repo.walk({ batch: 2 })) walk.push(record);
    return walk.finish();
  }

  test(`${db.name}: records chain per tenant: sequence, previous hash, own hash, head`, async () => {
    const { store, clock, log, contoso, fabrikam } = await setup();
    for (let i = 1; i <= 3; i++) {
      clock.advance(1000);
      await log.record(store.forTenant(contoso), alice, blockPolicy(i));
    }
    await log.record(store.forTenant(fabrikam), script, blockPolicy(9));

    const records = [];
    for await (const r of new DirectoryAuditRepository(store.forTenant(contoso)).walk()) records.push(r);
    assert.deepEqual(
      records.map((r) => r.sequence),
      [1, 2, 3],
    );
    assert.equal(records[0].previousHash, GENESIS_HASH);
    assert.equal(records[1].previousHash, records[0].hash);
    assert.equal(records[2].hash, recordHash(contoso, 3, records[1].hash, records[2].body));
    assert.equal(records[2].audit().activityDateTime, new Date(T0 + 3000).toISOString());

    const result = await verify(store, contoso);
    assert.deepEqual(result, { ok: true, count: 3, head: { sequence: 3, hash: records[2].hash } });
    // fabrikam's chain starts at 1 on its own, and contoso's reader never sees it.
    assert.deepEqual(await verify(store, fabrikam).then((r) => r.count), 1);
    assert.equal(
      await new DirectoryAuditRepository(store.forTenant(contoso)).get('r0000000-0000-4000-8000-000000000004'),
      undefined,
    );
  });

  test(`${db.name}: the record rolls back with its change, and the head with it`, async () => {
    const { store, log, contoso } = await setup();
    await log.record(store.forTenant(contoso), alice, blockPolicy(1));
    await assert.rejects(
      store.forTenant(contoso).transaction(async (tx) => {
        await log.record(tx, alice, blockPolicy(2));
        throw new Error('the change failed after recording');
      }),
      /the change failed/,
    );
    // A bad event throws before anything is written, in the caller's transaction.
    await assert.rejects(log.record(store.forTenant(contoso), alice, { ...blockPolicy(3), targets: [] }), TypeError);
    await log.record(store.forTenant(contoso), alice, blockPolicy(4));
    const result = await verify(store, contoso);
    assert.equal(result.ok, true);
    assert.equal(result.count, 2);
  });

  test(`${db.name}: list is newest first with keyset positions and time bounds; get by id`, async () => {
    const { store, clock, log, contoso } = await setup();
    for (let i = 1; i <= 5; i++) {
      clock.advance(i === 3 ? 0 : 1000); // records 2 and 3 share a millisecond
      await log.record(store.forTenant(contoso), i % 2 ? alice : script, blockPolicy(i));
    }
    const repo = new DirectoryAuditRepository(store.forTenant(contoso));
    const first = await repo.list({ limit: 2 });
    assert.deepEqual(
      first.map((a) => a.correlationId),
      ['c-5', 'c-4'],
    );
    const last = first[1];
    const rest = await repo.list({ limit: 10, after: { at: Date.parse(last.activityDateTime), id: last.id } });
    assert.deepEqual(
      rest.map((a) => a.correlationId),
      ['c-3', 'c-2', 'c-1'],
    );
    const middle = await repo.list({ limit: 10, range: { from: T0 + 2000, to: T0 + 3000, initiatedBy: script.id } });
    assert.deepEqual(
      middle.map((a) => a.correlationId),
      ['c-4', 'c-2'],
    );
    assert.equal((await repo.get(first[0].id))?.correlationId, 'c-5');
    assert.equal(await repo.get('no-such-record'), undefined);
  });
}

// Appending at once: every append waits for the tenant's chain head, so the chain never forks (no two records with the
// same previous hash) and has no gaps. PostgreSQL: two nodes (two pools) on one database. SQLite is one node's store
// (node:sqlite blocks the process while it waits for a lock, so two stores in one process would only deadlock): its
// concurrent transactions share the one connection, in turn.
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function twoNodes(kind: 'sqlite' | 'postgres'): Promise<[Store, Store]> {
  const under = stores.find((s) => s.name === kind);
  assert.ok(under);
  if (kind === 'sqlite') {
    const store = await under.open();
    return [store, store];
  }
  const url = (await under.emptyDatabaseEnv()).PORTCULLIS_POSTGRES_URL;
  const a = await openStore({ kind: 'postgres', url });
  await a.migrate();
  const b = await openStore({ kind: 'postgres', url });
  cleanups.push(
    () => a.close(),
    () => b.close(),
  );
  return [a, b];
}

for (const kind of ['sqlite', 'postgres'] as const) {
  test(`${kind}: appends at once (two nodes on PostgreSQL) do not fork the chain`, async () => {
    const [a, b] = await twoNodes(kind);
    const { contoso } = await twoTenants(a);
    const log = new DirectoryAuditLog();
    const appends = [];
    for (let i = 0; i < 40; i++) {
      const node = i % 2 ? a : b;
      // Each append in a transaction that also reads first, as a route's change does.
      appends.push(
        node.forTenant(contoso).transaction(async (tx) => {
          await tx.selectFrom('directory_audits').select('id').limit(1).execute();
          await log.record(tx, alice, blockPolicy(i));
        }),
      );
    }
    await Promise.all(appends);
    const repo = new DirectoryAuditRepository(a.forTenant(contoso));
    const walk = new ChainWalk(contoso, await repo.head());
    const previous = new Set<string>();
    for await (const record of repo.walk()) {
      assert.ok(!previous.has(record.previousHash), `record #${record.sequence} forks the chain`);
      previous.add(record.previousHash);
      walk.push(record);
    }
    assert.deepEqual(walk.finish(), { ok: true, count: 40, head: await repo.head() });
  });
}
