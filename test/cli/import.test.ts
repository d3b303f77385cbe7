// `portcullis import` as a user runs it: bin/portcullis.js in a child process, on an SQLite data directory made by
// `portcullis init`, with the realistic Entra exports (test/fixtures/entra). The steps build on each other: usage
// errors, a dry run, a refused import (over a limit: nothing written), an id collision remapped with the reference
// rewritten, a second run that adds nothing, objects with problems — and a policy cache in another process (as a
// running server holds one) seeing the import.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { SQLITE_FILE } from '../../src/start.ts';
import { CompiledPolicyCache } from '../../src/store/repositories/compiled-policy-cache.ts';
import { PolicyRepository } from '../../src/store/repositories/policy-repository.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { run } from '../serve/process.ts';

const ENTRA = join(import.meta.dirname, '../fixtures/entra');
const GRAPH_EXPLORER = join(ENTRA, 'graph-explorer');
const BLOCKED_COUNTRIES = 'b4e0c7a2-19d3-4b6f-8e25-71a9f3d0c6b8';
const CA006 = '6d4c9b2a-8f7e-4ad3-8256-0b1e2f3a4d75';

describe('portcullis import', () => {
  let dir: string;
  let dataDir: string;
  let tenantId: string;
  let store: Store;
  const clock = new ManualClock(Date.now());
  const importing = (...args: string[]) => run(['import', '--data-dir', dataDir, ...args]);
  const file = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const repo = () => new PolicyRepository(store.forTenant(tenantId));
  const stored = async () => ({
    version: await repo().version(),
    locations: (await repo().listLocations()).length,
    policies: (await repo().listPolicies()).length,
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-import-'));
    dataDir = join(dir, 'data');
    const init = await run(['init', '--json', '--data-dir', dataDir], { stdin: 'a long enough password, 1\n' });
    assert.equal(init.code, 0, init.stderr);
    tenantId = JSON.parse(init.stdout).tenant;
    store = await openStore({ kind: 'sqlite', path: join(dataDir, SQLITE_FILE) }, clock);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the command line is checked first: exit 2 with a message, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [[GRAPH_EXPLORER], /--tenant <name or id> is required/],
      [['--tenant', 'default'], /give the exported files or directories to import/],
      [['--tenant', 'default', '--frobnicate', GRAPH_EXPLORER], /Unknown option '--frobnicate'/],
      [['--tenant', 'nosuch', GRAPH_EXPLORER], /there is no tenant 'nosuch' \(tenants: default\)/],
    ];
    for (const [args, message] of cases) {
      const result = await importing(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^portcullis import: /);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
    const help = await run(['import', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0 everything imported or already present; 1 some objects skipped/);
    assert.deepEqual(await stored(), { version: 0, locations: 0, policies: 0 });
  });

  test('--dry-run --json: the report of a full import, and nothing written', async () => {
    const result = await importing('--tenant', 'default', '--dry-run', '--json', GRAPH_EXPLORER);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.tenant, tenantId);
    assert.equal(report.dryRun, true);
    assert.equal(report.outcome, 'imported');
    assert.equal(report.imported.namedLocations.length, 4);
    assert.equal(report.imported.policies.length, 6);
    assert.equal(report.warnings.length, 3, 'warnings are in the JSON, not on standard error');
    assert.equal(result.stderr, '');
    assert.deepEqual(await stored(), { version: 0, locations: 0, policies: 0 });
  });

  test('over a configured limit: exit 3, refused as a whole, nothing written — not even the locations', async () => {
    const config = join(dir, 'limits.yaml');
    writeFileSync(config, 'policyLimits:\n  maxPolicies: 5\n');
    const result = await importing('--tenant', 'default', '--config', config, GRAPH_EXPLORER);
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.stdout,
      /^Nothing was imported into tenant 'default' \([0-9a-f-]+\):\n {2}importing 6 policies would give the tenant 6 \(it has 0\), more than the limit of 5\n/,
    );
    assert.deepEqual(await stored(), { version: 0, locations: 0, policies: 0 });
  });

  test('an id taken in the tenant: remapped, CA006 rewritten to it; a running cache sees the import', async () => {
    // The tenant already has a different location under Blocked countries' id.
    const lab = file('lab.json', {
      '@odata.type': '#microsoft.graph.ipNamedLocation',
      id: BLOCKED_COUNTRIES,
      displayName: 'Lab network',
      ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '192.0.2.0/24' }],
    });
    const first = await importing('--tenant', tenantId, lab);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /named location 'Lab network': b4e0c7a2-19d3-4b6f-8e25-71a9f3d0c6b8\n/);

    // A server's compiled policy cache, in this process, loaded before the import runs in another.
    const cache = new CompiledPolicyCache({ store, clock });
    assert.equal((await cache.get(tenantId)).policies.length, 0);

    const result = await importing('--tenant', 'default', GRAPH_EXPLORER);
    assert.equal(result.code, 0, result.stderr);
    const moved = new RegExp(
      `named location 'Blocked countries': ${BLOCKED_COUNTRIES} → ([0-9a-f-]{36}) \\(the id is taken in this tenant\\)`,
    ).exec(result.stdout);
    assert.ok(moved, result.stdout);
    const newId = moved[1];
    assert.match(
      result.stdout,
      new RegExp(
        `policy 'CA006: Block sign-ins from blocked countries': ${CA006}\\n {4}conditions\\.locations\\.includeLocations\\[0\\]: ${BLOCKED_COUNTRIES} → ${newId}\\n`,
      ),
    );
    assert.match(
      result.stdout,
      /\n4 named locations and 6 policies imported, 0 already present, 0 skipped for problems\.\n$/,
    );
    assert.match(result.stderr, /^warning: .*policies\.json: policy 'CA002/m, 'warnings go to standard error');

    assert.equal((await repo().getLocation(BLOCKED_COUNTRIES))?.displayName, 'Lab network');
    assert.equal((await repo().getLocation(newId))?.displayName, 'Blocked countries');
    assert.deepEqual((await repo().getPolicy(CA006))?.conditions.locations?.includeLocations, [newId]);

    // The cache looks at the stored policy version once a second (start.ts; docs/import.md): within a second of
    // the import, it compiles the imported set.
    assert.equal((await cache.get(tenantId)).policies.length, 0, 'not before the next check');
    clock.advance(1000);
    assert.equal((await cache.get(tenantId)).policies.length, 6);
  });

  test('the PowerShell export of the same tenant (UTF-16) afterwards: all already present, exit 0, nothing written', async () => {
    const before = await stored();
    const result = await importing('--tenant', 'default', '--json', join(ENTRA, 'powershell'));
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.skipped.length, 10);
    assert.ok(report.skipped.every((s: { reason: string }) => s.reason === 'alreadyPresent'));
    const blocked = report.skipped.find((s: { displayName: string }) => s.displayName === 'Blocked countries');
    assert.notEqual(blocked.presentAs, BLOCKED_COUNTRIES, 'recognised as the remapped copy');
    assert.deepEqual(await stored(), before);
  });

  test('objects with problems: exit 1, each named by field; the rest imported', async () => {
    const mixed = file('mixed.json', {
      value: [
        {
          '@odata.type': '#microsoft.graph.countryNamedLocation',
          displayName: 'Somewhere',
          countriesAndRegions: ['ZZ'],
        },
        {
          displayName: 'Require MFA from the old tenant office',
          state: 'enabled',
          conditions: {
            users: { includeUsers: ['All'] },
            applications: { includeApplications: ['All'] },
            locations: { includeLocations: ['0a0a0a0a-1111-4111-8111-111111111111'] },
          },
          grantControls: { operator: 'OR', builtInControls: ['mfa'] },
        },
        {
          displayName: 'Report-only MFA for everyone',
          state: 'enabledForReportingButNotEnforced',
          conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } },
          grantControls: { operator: 'OR', builtInControls: ['mfa'] },
        },
      ],
    });
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"value": [');
    const before = await stored();
    const result = await importing('--tenant', 'default', mixed, broken);
    assert.equal(result.code, 1, result.stderr);
    const out = result.stdout;
    assert.match(
      out,
      /Imported into tenant 'default' .*:\n {2}policy 'Report-only MFA for everyone': \(no id\) → [0-9a-f-]{36} \(it had no id\)\n/,
    );
    assert.match(
      out,
      /named location 'Somewhere': invalid\n {4}.*mixed\.json: location 'Somewhere': countriesAndRegions\[0\]: 'ZZ' is not an ISO 3166-1 alpha-2 country code\n/,
    );
    assert.match(
      out,
      /policy 'Require MFA from the old tenant office': names a named location that is not imported\n {4}.*conditions\.locations\.includeLocations\[0\]: named location '0a0a0a0a-1111-4111-8111-111111111111' is neither in this import nor in the tenant\n/,
    );
    assert.match(out, /broken\.json: invalid\n {4}.*broken\.json: line 1, column \d+: /);
    assert.match(out, /0 named locations and 1 policy imported, 0 already present, 3 skipped for problems\.\n$/);
    assert.deepEqual(await stored(), { ...before, version: before.version + 1, policies: before.policies + 1 });
  });
});
