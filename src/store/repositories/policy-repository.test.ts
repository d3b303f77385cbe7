// Named locations, Conditional Access policies and MFA trusted IPs of one tenant on SQLite and PostgreSQL: Graph JSON
// in and out, Entra's rules on what may be written or deleted, the policyVersion moving with every change (and only
// then, even under concurrent writers), and fabrikam never seeing or touching contoso's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../../test/support/stores.ts';
import { twoTenants } from '../../../test/support/tenants.ts';
import { ManualClock } from '../../clock.ts';
import { PortcullisError } from '../../errors.ts';
import { DEFAULT_LIMITS } from '../../policy/import/limits.ts';
import type { Store } from '../store.ts';
import { InvalidPolicyError, PolicyRepository } from './policy-repository.ts';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const headquarters = {
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  displayName: 'Headquarters',
  isTrusted: true,
  ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.0/24' }],
};
const sanctioned = {
  '@odata.type': '#microsoft.graph.countryNamedLocation',
  displayName: 'Sanctioned countries',
  countriesAndRegions: ['KP', 'IR'],
  includeUnknownCountriesAndRegions: false,
};

function blockOutside(locationId: string, displayName = 'Block outside headquarters') {
  return {
    displayName,
    state: 'enabled',
    conditions: {
      users: { includeUsers: ['All'] },
      applications: { includeApplications: ['All'] },
      locations: { includeLocations: ['All'], excludeLocations: [locationId] },
    },
    grantControls: { operator: 'OR', builtInControls: ['block'] },
  };
}

const mfaForEveryone = {
  displayName: 'MFA for everyone',
  state: 'enabledForReportingButNotEnforced',
  conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } },
  grantControls: { operator: 'OR', builtInControls: ['mfa'] },
};

interface World {
  store: Store;
  clock: ManualClock;
  contoso: PolicyRepository;
  fabrikam: PolicyRepository;
}

const stores = storesUnderTest();

async function open(db: (typeof stores)[number], limits = DEFAULT_LIMITS): Promise<World> {
  const clock = new ManualClock(T0);
  const store = await db.open({ clock });
  const tenants = await twoTenants(store);
  return {
    store,
    clock,
    contoso: new PolicyRepository(store.forTenant(tenants.contoso), { limits }),
    fabrikam: new PolicyRepository(store.forTenant(tenants.fabrikam), { limits }),
  };
}

/** The problems an InvalidPolicyError carries, as one line each. */
async function refusal(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InvalidPolicyError, `expected InvalidPolicyError, got ${error}`);
    assert.ok(error instanceof PortcullisError && error.code === 90001);
    return error.problems.map((p) => [p.object, p.field, p.message].filter(Boolean).join(': '));
  }
  assert.fail('the write was accepted');
}

const cases: Array<{ name: string; run: (w: World) => Promise<void> }> = [
  {
    name: 'alice the admin creates headquarters: a new id, times from the store’s clock, version 1',
    async run(w) {
      assert.equal(await w.contoso.version(), 0);
      const saved = await w.contoso.createLocation({
        ...headquarters,
        id: 'ignored',
        createdDateTime: '1999-01-01T00:00:00Z',
      });
      assert.match(saved.value.id, UUID);
      assert.equal(saved.value.createdDateTime, '2026-03-02T09:00:00.000Z');
      assert.equal(saved.value.modifiedDateTime, '2026-03-02T09:00:00.000Z');
      assert.equal(saved.version, 1);
      assert.deepEqual(saved.warnings, []);
      assert.deepEqual(await w.contoso.getLocation(saved.value.id), saved.value);
      assert.deepEqual(await w.contoso.listLocations(), [saved.value]);
      assert.equal(await w.contoso.version(), 1);
    },
  },
  {
    name: 'a policy arrives as Graph PowerShell writes it (enum case, missing lists) and is stored canonical',
    async run(w) {
      const hq = await w.contoso.createLocation(headquarters);
      const saved = await w.contoso.createPolicy({ ...blockOutside(hq.value.id), state: 'Enabled' });
      assert.equal(saved.value.state, 'enabled');
      assert.deepEqual(saved.value.conditions.users.excludeGroups, []);
      assert.deepEqual(saved.value.conditions.clientAppTypes, ['all']);
      assert.deepEqual(await w.contoso.getPolicy(saved.value.id), saved.value);
      assert.equal(saved.version, 2);
    },
  },
  {
    name: 'the importer’s warnings come back with what was stored',
    async run(w) {
      const saved = await w.contoso.createLocation({ ...sanctioned, countryLookupMethod: 'authenticatorAppGps' });
      assert.equal(saved.warnings.length, 1);
      assert.match(saved.warnings[0].message, /no GPS signal/);
    },
  },
  {
    name: 'a broken location is refused with every problem named, and the version does not move',
    async run(w) {
      const problems = await refusal(
        w.contoso.createLocation({
          ...headquarters,
          ipRanges: [
            { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.0.0.0/33' },
            { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.0.0.0/8' },
          ],
        }),
      );
      assert.equal(problems.length, 2, problems.join('\n'));
      assert.match(problems[0], /ipRanges\[0\]\.cidrAddress: .*prefix length 33 is larger than 32/);
      assert.match(problems[1], /ipRanges\[1\]\.cidrAddress: .*\/8/);
      assert.equal(await w.contoso.version(), 0);
      assert.deepEqual(await w.contoso.listLocations(), []);
    },
  },
  {
    name: 'a policy naming a location that does not exist is refused',
    async run(w) {
      const problems = await refusal(w.contoso.createPolicy(blockOutside('9d1c0000-0000-4000-8000-00000000dead')));
      assert.deepEqual(problems.length, 1);
      assert.match(
        problems[0],
        /conditions\.locations\.excludeLocations\[0\]: named location '9d1c0000-.*' does not exist/,
      );
      assert.equal(await w.contoso.version(), 0);
    },
  },
  {
    name: 'what is not a JSON object is refused before anything is read',
    async run(w) {
      assert.match((await refusal(w.contoso.createPolicy([] as never)))[0], /must be a JSON object, not an array/);
      assert.match((await refusal(w.contoso.createLocation(null as never)))[0], /must be a JSON object, not null/);
    },
  },
  {
    name: 'replacing headquarters keeps its id and creation time, moves modifiedDateTime and the version',
    async run(w) {
      const hq = await w.contoso.createLocation(headquarters);
      w.clock.advance(60_000);
      const replaced = await w.contoso.replaceLocation(hq.value.id, { ...headquarters, displayName: 'HQ (Paris)' });
      assert.equal(replaced?.value.id, hq.value.id);
      assert.equal(replaced?.value.displayName, 'HQ (Paris)');
      assert.equal(replaced?.value.createdDateTime, '2026-03-02T09:00:00.000Z');
      assert.equal(replaced?.value.modifiedDateTime, '2026-03-02T09:01:00.000Z');
      assert.equal(replaced?.version, 2);
      assert.deepEqual(await w.contoso.getLocation(hq.value.id), replaced?.value);
    },
  },
  {
    name: 'an IP location cannot become a country location',
    async run(w) {
      const hq = await w.contoso.createLocation(headquarters);
      const problems = await refusal(w.contoso.replaceLocation(hq.value.id, sanctioned));
      assert.match(problems[0], /@odata\.type: is '#microsoft\.graph\.ipNamedLocation' and cannot change/);
      assert.equal(await w.contoso.version(), 1);
    },
  },
  {
    name: 'replacing or deleting what does not exist answers nothing and leaves the version alone',
    async run(w) {
      const missing = '00000000-0000-4000-8000-000000000404';
      assert.equal(await w.contoso.replaceLocation(missing, headquarters), undefined);
      assert.equal(await w.contoso.replacePolicy(missing, mfaForEveryone), undefined);
      assert.equal(await w.contoso.deleteLocation(missing), false);
      assert.equal(await w.contoso.deletePolicy(missing), false);
      assert.equal(await w.contoso.version(), 0);
    },
  },
  {
    name: 'headquarters cannot be deleted while trusted, nor while a policy uses it; then it can',
    async run(w) {
      const hq = await w.contoso.createLocation(headquarters);
      const policy = await w.contoso.createPolicy(blockOutside(hq.value.id));
      assert.match((await refusal(w.contoso.deleteLocation(hq.value.id)))[0], /trusted location cannot be deleted/);
      await w.contoso.replaceLocation(hq.value.id, { ...headquarters, isTrusted: false });
      assert.match(
        (await refusal(w.contoso.deleteLocation(hq.value.id)))[0],
        /policy 'Block outside headquarters' .* refers to it/,
      );
      assert.equal(await w.contoso.deletePolicy(policy.value.id), true);
      assert.equal(await w.contoso.deleteLocation(hq.value.id), true);
      assert.deepEqual(await w.contoso.listLocations(), []);
      assert.equal(await w.contoso.version(), 5);
    },
  },
  {
    name: 'MFA trusted IPs are set, read back and move the version; bad entries are all named',
    async run(w) {
      assert.deepEqual(await w.contoso.getMfaTrustedIps(), []);
      assert.equal(await w.contoso.setMfaTrustedIps(['192.0.2.0/24', '2001:db8:77::/48']), 1);
      assert.deepEqual(await w.contoso.getMfaTrustedIps(), ['192.0.2.0/24', '2001:db8:77::/48']);
      const problems = await refusal(
        w.contoso.setMfaTrustedIps(['192.0.2.0/24', '10.0.0.0/8', 'nonsense', 7 as never]),
      );
      assert.deepEqual(
        problems.map((p) => p.split(':')[0]),
        ['mfaTrustedIps[1]', 'mfaTrustedIps[2]', 'mfaTrustedIps[3]'],
      );
      assert.deepEqual(await w.contoso.getMfaTrustedIps(), ['192.0.2.0/24', '2001:db8:77::/48']);
      assert.equal(await w.contoso.setMfaTrustedIps([]), 2);
    },
  },
  {
    name: 'a snapshot holds everything at one version',
    async run(w) {
      const hq = await w.contoso.createLocation(headquarters);
      await w.contoso.createPolicy(blockOutside(hq.value.id));
      await w.contoso.setMfaTrustedIps(['192.0.2.0/24']);
      const snapshot = await w.contoso.snapshot();
      assert.equal(snapshot.version, 3);
      assert.deepEqual(
        [snapshot.locations.length, snapshot.policies.length, snapshot.mfaTrustedIps],
        [1, 1, ['192.0.2.0/24']],
      );
    },
  },
  {
    name: 'twenty admins create policies at once: twenty policies, version twenty',
    async run(w) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => w.contoso.createPolicy({ ...mfaForEveryone, displayName: `MFA ${i}` })),
      );
      assert.equal((await w.contoso.listPolicies()).length, 20);
      assert.equal(await w.contoso.version(), 20);
    },
  },
  {
    name: 'fabrikam sees none of contoso’s locations or policies, cannot change them, and keeps its own version',
    async run(w) {
      const hq = await w.contoso.createLocation({ ...headquarters, isTrusted: false });
      const policy = await w.contoso.createPolicy(mfaForEveryone);
      await w.contoso.setMfaTrustedIps(['192.0.2.0/24']);
      assert.deepEqual(await w.fabrikam.listLocations(), []);
      assert.deepEqual(await w.fabrikam.listPolicies(), []);
      assert.equal(await w.fabrikam.getLocation(hq.value.id), undefined);
      assert.equal(await w.fabrikam.getPolicy(policy.value.id), undefined);
      assert.deepEqual(await w.fabrikam.getMfaTrustedIps(), []);
      assert.equal(await w.fabrikam.replaceLocation(hq.value.id, headquarters), undefined);
      assert.equal(await w.fabrikam.replacePolicy(policy.value.id, mfaForEveryone), undefined);
      assert.equal(await w.fabrikam.deleteLocation(hq.value.id), false);
      assert.equal(await w.fabrikam.deletePolicy(policy.value.id), false);
      // A fabrikam policy cannot name contoso's location either.
      assert.match((await refusal(w.fabrikam.createPolicy(blockOutside(hq.value.id))))[0], /does not exist/);
      assert.equal(await w.fabrikam.version(), 0);
      assert.equal(await w.contoso.version(), 3);
      assert.deepEqual(await w.contoso.getLocation(hq.value.id), hq.value);
      assert.deepEqual(await w.contoso.getPolicy(policy.value.id), policy.value);
    },
  },
];

for (const db of stores) {
  for (const c of cases) test(`${db.name}: ${c.name}`, async () => c.run(await open(db)));

  test(`${db.name}: with a limit of five policies, ten concurrent creates store exactly five`, async () => {
    const w = await open(db, { ...DEFAULT_LIMITS, maxPolicies: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => w.contoso.createPolicy({ ...mfaForEveryone, displayName: `MFA ${i}` })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
    const refused = results.filter((r) => r.status === 'rejected');
    assert.ok(refused.every((r) => /already has 5 policies, the limit is 5/.test(String(r.reason))));
    assert.equal((await w.contoso.listPolicies()).length, 5);
    assert.equal(await w.contoso.version(), 5);
  });

  test(`${db.name}: with a limit of one named location, the second is refused`, async () => {
    const w = await open(db, { ...DEFAULT_LIMITS, maxNamedLocations: 1 });
    await w.contoso.createLocation(headquarters);
    assert.match(
      (await refusal(w.contoso.createLocation(sanctioned)))[0],
      /already has 1 named locations, the limit is 1/,
    );
  });
}
