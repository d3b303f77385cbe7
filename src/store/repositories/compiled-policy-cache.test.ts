// The compiled policy cache on SQLite and PostgreSQL: compiled once per policyVersion, looked at no more than once a
// second (on a clock the test moves), fed the tenant's MFA trusted IPs and the country lookup, never serving an old
// set when the stored one does not compile, and one tenant's set never another's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../../test/support/stores.ts';
import { twoTenants } from '../../../test/support/tenants.ts';
import { ManualClock } from '../../clock.ts';
import type { CompiledPolicySet } from '../../policy/compile.ts';
import { evaluate, type Subject } from '../../policy/evaluate.ts';
import type { Store } from '../store.ts';
import { CompiledPolicyCache, PolicySetUnavailableError } from './compiled-policy-cache.ts';
import { PolicyRepository } from './policy-repository.ts';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const APP = '5f1c6c1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f';
const bob: Subject = { userId: 'b0b00000-0000-4000-8000-000000000002', groups: [], roles: [], userType: 'member' };
const BOB_AT_HOME = '192.0.2.44';

const blockUntrusted = {
  displayName: 'Block outside trusted locations',
  state: 'enabled',
  conditions: {
    users: { includeUsers: ['All'] },
    applications: { includeApplications: ['All'] },
    locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
  },
  grantControls: { operator: 'OR', builtInControls: ['block'] },
};

function blockCountry(locationId: string) {
  return {
    displayName: 'Block sanctioned countries',
    state: 'enabled',
    conditions: {
      users: { includeUsers: ['All'] },
      applications: { includeApplications: ['All'] },
      locations: { includeLocations: [locationId] },
    },
    grantControls: { operator: 'OR', builtInControls: ['block'] },
  };
}

const blocked = (set: CompiledPolicySet, ip: string) =>
  evaluate(set, bob, { application: APP, ipAddress: ip }, [], T0).decision.blocked;

interface World {
  store: Store;
  clock: ManualClock;
  cache: CompiledPolicyCache;
  contosoId: string;
  fabrikamId: string;
  contoso: PolicyRepository;
  fabrikam: PolicyRepository;
}

const stores = storesUnderTest();

async function open(db: (typeof stores)[number], countries = { country: () => 'KP' }): Promise<World> {
  const clock = new ManualClock(T0);
  const store = await db.open({ clock });
  const { contoso, fabrikam } = await twoTenants(store);
  return {
    store,
    clock,
    cache: new CompiledPolicyCache({ store, countries, clock }),
    contosoId: contoso,
    fabrikamId: fabrikam,
    contoso: new PolicyRepository(store.forTenant(contoso)),
    fabrikam: new PolicyRepository(store.forTenant(fabrikam)),
  };
}

const cases: Array<{ name: string; run: (w: World) => Promise<void> }> = [
  {
    name: 'a tenant with no policies gets an empty set: bob is let in',
    async run(w) {
      const set = await w.cache.get(w.contosoId);
      assert.equal(set.policies.length, 0);
      assert.equal(blocked(set, BOB_AT_HOME), false);
    },
  },
  {
    name: 'a change is seen after at most a second, and not before',
    async run(w) {
      const before = await w.cache.get(w.contosoId);
      await w.contoso.createPolicy(blockUntrusted);
      w.clock.advance(999);
      assert.equal(await w.cache.get(w.contosoId), before, 'within the second: the set already held');
      w.clock.advance(1);
      const after = await w.cache.get(w.contosoId);
      assert.notEqual(after, before);
      assert.equal(blocked(after, BOB_AT_HOME), true);
    },
  },
  {
    name: 'an unchanged version is not recompiled: the very same set comes back',
    async run(w) {
      await w.contoso.createPolicy(blockUntrusted);
      const first = await w.cache.get(w.contosoId);
      w.clock.advance(5_000);
      assert.equal(await w.cache.get(w.contosoId), first);
    },
  },
  {
    name: 'bob at home is let in once his address is among the tenant’s MFA trusted IPs',
    async run(w) {
      await w.contoso.createPolicy(blockUntrusted);
      assert.equal(blocked(await w.cache.get(w.contosoId), BOB_AT_HOME), true);
      await w.contoso.setMfaTrustedIps(['192.0.2.0/24']);
      w.clock.advance(1_000);
      assert.equal(blocked(await w.cache.get(w.contosoId), BOB_AT_HOME), false);
    },
  },
  {
    name: 'country locations use the country lookup for requests that carry no country',
    async run(w) {
      const location = await w.contoso.createLocation({
        '@odata.type': '#microsoft.graph.countryNamedLocation',
        displayName: 'Sanctioned countries',
        countriesAndRegions: ['KP'],
      });
      await w.contoso.createPolicy(blockCountry(location.value.id));
      // The lookup in this world places every address in KP.
      assert.equal(blocked(await w.cache.get(w.contosoId), BOB_AT_HOME), true);
    },
  },
  {
    name: 'fifty sign-ins at once share one read and one compile',
    async run(w) {
      await w.contoso.createPolicy(blockUntrusted);
      const sets = await Promise.all(Array.from({ length: 50 }, () => w.cache.get(w.contosoId)));
      assert.ok(sets.every((s) => s === sets[0]));
    },
  },
  {
    name: 'invalidate makes the next get read the store at once',
    async run(w) {
      await w.cache.get(w.contosoId);
      await w.contoso.createPolicy(blockUntrusted);
      w.cache.invalidate(w.contosoId);
      assert.equal((await w.cache.get(w.contosoId)).policies.length, 1);
    },
  },
  {
    name: 'stored policies that no longer compile fail closed: an error, never the older set',
    async run(w) {
      await w.cache.get(w.contosoId);
      const saved = await w.contoso.createPolicy(blockUntrusted);
      // Someone edits the row behind the repository's back, naming a location that does not exist.
      const broken = {
        ...saved.value,
        conditions: { ...saved.value.conditions, locations: { includeLocations: ['nowhere'], excludeLocations: [] } },
      };
      const scope = w.store.forTenant(w.contosoId);
      await scope
        .updateTable('ca_policies', { body: JSON.stringify(broken) })
        .where('id', '=', saved.value.id)
        .execute();
      await scope.updateTable('policy_versions', { version: 99 }).execute();
      w.clock.advance(1_000);
      await assert.rejects(
        w.cache.get(w.contosoId),
        (e) => e instanceof PolicySetUnavailableError && /nowhere/.test(e.message),
      );
    },
  },
  {
    name: 'contoso’s block does not reach fabrikam; each tenant has its own set',
    async run(w) {
      await w.contoso.createPolicy(blockUntrusted);
      await w.fabrikam.setMfaTrustedIps(['192.0.2.0/24']);
      const contoso = await w.cache.get(w.contosoId);
      const fabrikam = await w.cache.get(w.fabrikamId);
      assert.equal(contoso.policies.length, 1);
      assert.equal(fabrikam.policies.length, 0);
      assert.equal(blocked(contoso, BOB_AT_HOME), true);
      assert.equal(blocked(fabrikam, BOB_AT_HOME), false);
    },
  },
];

for (const db of stores) {
  for (const c of cases) test(`${db.name}: ${c.name}`, async () => c.run(await open(db)));
}

test('a check interval that is not a number of milliseconds is refused', () => {
  const store = { forTenant: () => assert.fail('not reached') };
  assert.throws(() => new CompiledPolicyCache({ store, checkEveryMs: -1 }), /checkEveryMs must be .* not -1/);
  assert.throws(() => new CompiledPolicyCache({ store, checkEveryMs: Number.NaN }), /not NaN/);
});
