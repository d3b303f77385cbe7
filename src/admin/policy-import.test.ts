// The import written to a store, on SQLite and PostgreSQL: the realistic Entra export into contoso with one audit
// record per object, the same export again adding nothing, an id collision remapped with CA006's reference rewritten,
// and all-or-nothing: over a limit, a failing audit write and a dry run each leave the tenant (and its policyVersion)
// as it was; fabrikam is never touched.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import type { AuditActor, AuditEvent, DirectoryAuditWriter } from '../audit/directory-audit-port.ts';
import { ManualClock } from '../clock.ts';
import { DEFAULT_LIMITS } from '../policy/import/limits.ts';
import { loadDocuments, loadExports } from '../policy/import/load.ts';
import { InvalidPolicyError, PolicyRepository } from '../store/repositories/policy-repository.ts';
import type { Store } from '../store/store.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { type ImportOptions, importIntoTenant } from './policy-import.ts';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const ENTRA = join(import.meta.dirname, '../../test/fixtures/entra');
const BLOCKED_COUNTRIES = 'b4e0c7a2-19d3-4b6f-8e25-71a9f3d0c6b8';
const CA006 = '6d4c9b2a-8f7e-4ad3-8256-0b1e2f3a4d75';
const CLI: AuditActor = { kind: 'system', displayName: 'Portcullis CLI' };

/** Keeps every record it is asked to write, with the tenant; throws on the `failOn`-th record when set. */
class RecordingAudit implements DirectoryAuditWriter {
  readonly records: { tenantId: string; actor: AuditActor; event: AuditEvent }[] = [];
  failOn?: number;
  async record(tx: TenantScope, actor: AuditActor, event: AuditEvent): Promise<void> {
    if (this.failOn !== undefined && this.records.length + 1 === this.failOn) throw new Error('audit log unavailable');
    this.records.push({ tenantId: tx.tenantId, actor, event });
  }
}

async function contents(store: Store, tenantId: string) {
  const repo = new PolicyRepository(store.forTenant(tenantId));
  return {
    version: await repo.version(),
    locations: (await repo.listLocations()).map((l) => `${l.id} ${l.displayName}`).sort(),
    policies: (await repo.listPolicies()).map((p) => `${p.id} ${p.displayName}`).sort(),
  };
}

for (const db of storesUnderTest()) {
  describe(`${db.name}: importing into a tenant`, () => {
    async function world() {
      const clock = new ManualClock(T0);
      const store = await db.open({ clock });
      const tenants = await twoTenants(store);
      const audit = new RecordingAudit();
      const options = (extra: Partial<ImportOptions> = {}): ImportOptions => ({ audit, actor: CLI, ...extra });
      return { store, clock, audit, options, ...tenants };
    }

    test('the Entra export: every object added under its own id, with one audit record each', async () => {
      const { store, audit, options, contoso, fabrikam } = await world();
      const report = await importIntoTenant(
        store.forTenant(contoso),
        loadExports([join(ENTRA, 'graph-explorer')], 'auto'),
        options(),
      );
      assert.equal(report.outcome, 'imported');
      assert.equal(report.dryRun, false);
      assert.equal(report.policyVersion, 1, 'one change: one version');
      assert.deepEqual(
        [...report.imported.namedLocations, ...report.imported.policies].filter((i) => i.id !== i.newId),
        [],
      );
      const stored = await contents(store, contoso);
      assert.equal(stored.locations.length, 4);
      assert.equal(stored.policies.length, 6);
      assert.ok(stored.locations.includes(`${BLOCKED_COUNTRIES} Blocked countries`));
      const ca006 = await new PolicyRepository(store.forTenant(contoso)).getPolicy(CA006);
      assert.deepEqual(ca006?.conditions.locations?.includeLocations, [BLOCKED_COUNTRIES]);
      assert.equal(ca006?.createdDateTime, new Date(T0).toISOString(), "the store's date, as on Graph's POST");

      assert.equal(audit.records.length, 10);
      assert.ok(audit.records.every((r) => r.tenantId === contoso && r.actor === CLI));
      const first = audit.records[0].event;
      assert.equal(first.activityDisplayName, 'Add named location');
      assert.equal(first.operationType, 'Add');
      assert.equal(first.targets[0].type, 'NamedLocation');
      assert.equal(first.targets[0].displayName, 'Headquarters');
      const last = audit.records[9].event;
      assert.equal(last.activityDisplayName, 'Add conditional access policy');
      assert.equal(last.targets[0].id, CA006);
      const newValue = last.targets[0].modifiedProperties?.[0]?.newValue as { id?: string } | undefined;
      assert.equal(newValue?.id, CA006, 'the new value is the stored policy');
      assert.deepEqual(await contents(store, fabrikam), { version: 0, locations: [], policies: [] });
    });

    test('the same export again (the PowerShell one): all already present, nothing written, version unchanged', async () => {
      const { store, audit, options, contoso } = await world();
      await importIntoTenant(store.forTenant(contoso), loadExports([join(ENTRA, 'graph-explorer')], 'auto'), options());
      const before = await contents(store, contoso);
      const report = await importIntoTenant(
        store.forTenant(contoso),
        loadExports([join(ENTRA, 'powershell')], 'auto'),
        options(),
      );
      assert.equal(report.outcome, 'imported');
      assert.equal(report.policyVersion, undefined);
      assert.equal(report.skipped.length, 10);
      assert.ok(report.skipped.every((s) => s.reason === 'alreadyPresent'));
      assert.deepEqual(await contents(store, contoso), before);
      assert.equal(audit.records.length, 10, 'no records for what was already there');
    });

    test("an id taken in the tenant: the location gets a new id and CA006's reference follows it", async () => {
      const { store, options, contoso } = await world();
      const theirs = loadDocuments(
        [
          {
            source: 'theirs.json',
            value: {
              '@odata.type': '#microsoft.graph.ipNamedLocation',
              id: BLOCKED_COUNTRIES,
              displayName: 'Lab network',
              ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '192.0.2.0/24' }],
            },
          },
        ],
        'auto',
      );
      await importIntoTenant(store.forTenant(contoso), theirs, options());
      const report = await importIntoTenant(
        store.forTenant(contoso),
        loadExports([join(ENTRA, 'graph-explorer')], 'auto'),
        options({ newId: () => '0f0f0f0f-0000-4000-8000-000000000001' }),
      );
      assert.equal(report.outcome, 'imported');
      const blocked = report.imported.namedLocations.find((l) => l.displayName === 'Blocked countries');
      assert.deepEqual(
        { id: blocked?.id, newId: blocked?.newId, why: blocked?.newIdReason },
        { id: BLOCKED_COUNTRIES, newId: '0f0f0f0f-0000-4000-8000-000000000001', why: 'taken' },
      );
      const repo = new PolicyRepository(store.forTenant(contoso));
      assert.equal((await repo.getLocation(BLOCKED_COUNTRIES))?.displayName, 'Lab network', 'theirs is untouched');
      assert.equal((await repo.getLocation('0f0f0f0f-0000-4000-8000-000000000001'))?.displayName, 'Blocked countries');
      assert.deepEqual((await repo.getPolicy(CA006))?.conditions.locations?.includeLocations, [
        '0f0f0f0f-0000-4000-8000-000000000001',
      ]);
      assert.deepEqual(report.imported.policies.find((p) => p.id === CA006)?.rewritten, [
        {
          field: 'conditions.locations.includeLocations[0]',
          from: BLOCKED_COUNTRIES,
          to: '0f0f0f0f-0000-4000-8000-000000000001',
        },
      ]);
    });

    test('over the policy limit: refused, and not even the locations are written', async () => {
      const { store, audit, options, contoso } = await world();
      const before = await contents(store, contoso);
      const report = await importIntoTenant(
        store.forTenant(contoso),
        loadExports([join(ENTRA, 'graph-explorer')], 'auto'),
        options({ limits: { ...DEFAULT_LIMITS, maxPolicies: 5 } }),
      );
      assert.equal(report.outcome, 'refused');
      assert.deepEqual(
        report.refused.map((p) => p.message),
        ['importing 6 policies would give the tenant 6 (it has 0), more than the limit of 5'],
      );
      assert.deepEqual(report.imported, { namedLocations: [], policies: [] });
      assert.deepEqual(await contents(store, contoso), before);
      assert.equal(audit.records.length, 0);
    });

    test('an audit record that cannot be written: nothing is written', async () => {
      const { store, audit, options, contoso } = await world();
      audit.failOn = 7;
      await assert.rejects(
        importIntoTenant(store.forTenant(contoso), loadExports([join(ENTRA, 'graph-explorer')], 'auto'), options()),
        /audit log unavailable/,
      );
      assert.deepEqual(await contents(store, contoso), { version: 0, locations: [], policies: [] });
    });

    test('a dry run reports what would happen and writes nothing', async () => {
      const { store, audit, options, contoso } = await world();
      const report = await importIntoTenant(
        store.forTenant(contoso),
        loadExports([join(ENTRA, 'graph-explorer')], 'auto'),
        options({ dryRun: true }),
      );
      assert.equal(report.outcome, 'imported');
      assert.equal(report.dryRun, true);
      assert.equal(report.imported.namedLocations.length + report.imported.policies.length, 10);
      assert.equal(report.policyVersion, undefined);
      assert.deepEqual(await contents(store, contoso), { version: 0, locations: [], policies: [] });
      assert.equal(audit.records.length, 0, 'a dry run records nothing');
    });

    test("the repository's own guard: a taken id or a count over the limit throws, and nothing is written", async () => {
      const { store, options, contoso } = await world();
      await importIntoTenant(store.forTenant(contoso), loadExports([join(ENTRA, 'graph-explorer')], 'auto'), options());
      const before = await contents(store, contoso);
      const repo = new PolicyRepository(store.forTenant(contoso), { limits: { ...DEFAULT_LIMITS, maxPolicies: 6 } });
      const [location] = await repo.listLocations();
      const [policy] = await repo.listPolicies();
      const fresh = { ...location, id: '0f0f0f0f-0000-4000-8000-000000000002', displayName: 'Fresh' };
      await assert.rejects(
        repo.addAll(() => ({ locations: [fresh, { ...location }], policies: [], result: undefined })),
        (error: Error) =>
          error instanceof InvalidPolicyError && /with id '3f1c9b2e-[^']+' already exists/.test(error.message),
      );
      await assert.rejects(
        repo.addAll(() => ({
          locations: [],
          policies: [{ ...policy, id: '0f0f0f0f-0000-4000-8000-000000000003' }],
          result: undefined,
        })),
        /7 policies is more than the limit of 6/,
      );
      assert.deepEqual(await contents(store, contoso), before);
    });

    test('objects with problems are skipped naming the field; the rest is imported', async () => {
      const { store, options, contoso } = await world();
      const loaded = loadDocuments(
        [
          {
            source: 'mixed.json',
            value: [
              {
                '@odata.type': '#microsoft.graph.ipNamedLocation',
                displayName: 'Too broad',
                ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.0.0.0/8' }],
              },
              {
                displayName: 'Block legacy clients',
                state: 'enabled',
                conditions: {
                  users: { includeUsers: ['All'] },
                  applications: { includeApplications: ['All'] },
                  clientAppTypes: ['exchangeActiveSync', 'other'],
                },
                grantControls: { operator: 'OR', builtInControls: ['block'] },
              },
            ],
          },
        ],
        'auto',
      );
      const report = await importIntoTenant(store.forTenant(contoso), loaded, options());
      assert.equal(report.outcome, 'importedWithProblems');
      assert.deepEqual(
        report.skipped.map((s) => [s.displayName, s.reason, s.problems.map((p) => p.field)]),
        [['Too broad', 'invalid', ['ipRanges[0].cidrAddress']]],
      );
      assert.equal(report.imported.policies[0].newIdReason, 'missing');
      assert.equal((await contents(store, contoso)).policies.length, 1);
    });
  });
}
