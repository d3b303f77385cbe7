// The import planner: which id each object keeps or gets, what is skipped and why, the references rewritten, and the
// limits — on the realistic Entra export (test/fixtures/entra) and on small hand-written exports.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { NamedLocation } from '../types.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { loadDocuments, loadExports } from './load.ts';
import { hasProblems, type ImportPlan, planImport, type TenantContents } from './plan.ts';
import { formatProblem } from './problems.ts';

const ENTRA = join(import.meta.dirname, '../../../test/fixtures/entra');
const GRAPH_EXPLORER = join(ENTRA, 'graph-explorer');
const BLOCKED_COUNTRIES = 'b4e0c7a2-19d3-4b6f-8e25-71a9f3d0c6b8';
const CA006 = '6d4c9b2a-8f7e-4ad3-8256-0b1e2f3a4d75';
const EMPTY: TenantContents = { locations: [], policies: [] };

/** New ids in order: new-1, new-2, … (formatted as GUIDs, as the store's are). */
function ids() {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

/** The tenant as it is after `plan` was written (what the store would hold), plus `extra`. */
function after(plan: ImportPlan, before: TenantContents = EMPTY): TenantContents {
  const dated = { createdDateTime: '2024-05-01T10:00:00.000Z', modifiedDateTime: '2024-05-01T10:00:00.000Z' };
  return {
    locations: [...before.locations, ...plan.locations.map((p) => ({ ...p.value, ...dated }))],
    policies: [...before.policies, ...plan.policies.map((p) => ({ ...p.value, ...dated }))],
  };
}

function skips(plan: ImportPlan): string[] {
  return plan.skipped.map(
    (s) =>
      `${s.kind} ${s.displayName ?? s.file}: ${s.reason}${s.presentAs ? ` as ${s.presentAs}` : ''}` +
      s.problems.map((p) => ` | ${formatProblem({ ...p, file: undefined, object: undefined })}`).join(''),
  );
}

const ip = (id: string, displayName: string, cidr: string): Record<string, unknown> => ({
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  ...(id ? { id } : {}),
  displayName,
  isTrusted: false,
  ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: cidr }],
});
const blockAt = (id: string, displayName: string, locations: string[]): Record<string, unknown> => ({
  id,
  displayName,
  state: 'enabled',
  conditions: {
    users: { includeUsers: ['All'] },
    applications: { includeApplications: ['All'] },
    locations: { includeLocations: locations },
  },
  grantControls: { operator: 'OR', builtInControls: ['block'] },
});
const load = (...values: unknown[]) =>
  loadDocuments(
    values.map((value, i) => ({ source: `doc${i + 1}`, value })),
    'auto',
  );

describe('the Entra export (Graph Explorer) into a tenant', () => {
  const entra = loadExports([GRAPH_EXPLORER], 'auto');

  test('an empty tenant: every id kept, nothing rewritten, nothing skipped', () => {
    const plan = planImport(entra, EMPTY, { newId: ids() });
    assert.deepEqual(
      plan.locations.map((p) => [p.displayName, p.id === p.newId]),
      [
        ['Headquarters', true],
        ['VPN egress (Zürich)', true],
        ['Allowed countries', true],
        ['Blocked countries', true],
      ],
    );
    assert.equal(plan.policies.length, 6);
    assert.ok(plan.policies.every((p) => p.id === p.newId && p.rewritten.length === 0 && !p.newIdReason));
    assert.deepEqual(plan.skipped, []);
    assert.deepEqual(plan.refused, []);
    assert.equal(hasProblems(plan), false);
    assert.equal(plan.warnings.length, 3, 'the parts kept but not evaluated are passed on');
    // Dates are the store's to set, as on Graph's POST.
    assert.ok(plan.locations.every((p) => p.value.createdDateTime === undefined));
  });

  test('the same export again: everything already present, nothing to add', () => {
    const first = planImport(entra, EMPTY, { newId: ids() });
    const again = planImport(entra, after(first), { newId: ids() });
    assert.deepEqual(again.locations, []);
    assert.deepEqual(again.policies, []);
    assert.equal(again.skipped.length, 10);
    assert.ok(again.skipped.every((s) => s.reason === 'alreadyPresent' && s.presentAs === s.id));
    assert.equal(hasProblems(again), false);
  });

  test('the PowerShell export of the same tenant after it: the same objects, already present', () => {
    const first = planImport(entra, EMPTY, { newId: ids() });
    const powershell = loadExports([join(ENTRA, 'powershell')], 'auto');
    const again = planImport(powershell, after(first));
    assert.deepEqual([again.locations.length, again.policies.length], [0, 0]);
    assert.ok(again.skipped.every((s) => s.reason === 'alreadyPresent'));
  });

  test('both exports in one import: the second copy of each object is a duplicate', () => {
    const both = loadExports([ENTRA], 'auto');
    const plan = planImport(both, EMPTY);
    assert.deepEqual([plan.locations.length, plan.policies.length], [4, 6]);
    assert.equal(plan.skipped.length, 10);
    assert.ok(plan.skipped.every((s) => s.reason === 'duplicate' && s.presentAs === s.id));
    assert.ok(plan.skipped.every((s) => s.file?.includes('/powershell/')));
  });

  test("an id taken by another object: a new id, and CA006's reference rewritten to it", () => {
    const theirs = load(ip(BLOCKED_COUNTRIES, 'Some other location', '192.0.2.0/24'));
    const tenant = after(planImport(theirs, EMPTY));
    const plan = planImport(entra, tenant, { newId: ids() });
    const blocked = plan.locations.find((p) => p.displayName === 'Blocked countries');
    assert.deepEqual(
      { id: blocked?.id, newId: blocked?.newId, why: blocked?.newIdReason },
      { id: BLOCKED_COUNTRIES, newId: '00000000-0000-4000-8000-000000000001', why: 'taken' },
    );
    const ca006 = plan.policies.find((p) => p.id === CA006);
    assert.deepEqual(ca006?.rewritten, [
      {
        field: 'conditions.locations.includeLocations[0]',
        from: BLOCKED_COUNTRIES,
        to: '00000000-0000-4000-8000-000000000001',
      },
    ]);
    assert.deepEqual(ca006?.value.conditions.locations?.includeLocations, ['00000000-0000-4000-8000-000000000001']);
    assert.equal(ca006?.newId, CA006, 'the policy keeps its own id');
    assert.deepEqual(plan.skipped, []);

    // Run again: the remapped copy is recognised by its content, so nothing is added twice.
    const again = planImport(entra, after(plan, tenant), { newId: ids() });
    assert.deepEqual([again.locations.length, again.policies.length], [0, 0]);
    const blockedAgain = again.skipped.find((s) => s.displayName === 'Blocked countries');
    assert.equal(blockedAgain?.reason, 'alreadyPresent');
    assert.equal(blockedAgain?.presentAs, '00000000-0000-4000-8000-000000000001');
    assert.equal(again.skipped.find((s) => s.id === CA006)?.reason, 'alreadyPresent');
  });

  test('a policy id taken by a different policy: the imported one gets a new id', () => {
    const theirs = load(blockAt(CA006, 'Not CA006 at all', ['All']));
    const plan = planImport(entra, after(planImport(theirs, EMPTY)), { newId: ids() });
    const ca006 = plan.policies.find((p) => p.id === CA006);
    assert.equal(ca006?.newId, '00000000-0000-4000-8000-000000000001');
    assert.equal(ca006?.newIdReason, 'taken');
  });

  test('over the policy limit: refused as a whole, naming the counts', () => {
    const tenant = after(planImport(load(blockAt('', 'Existing', ['All'])), EMPTY));
    const plan = planImport(entra, tenant, { limits: { ...DEFAULT_LIMITS, maxPolicies: 6 } });
    assert.deepEqual(
      plan.refused.map((p) => p.message),
      ['importing 6 policies would give the tenant 7 (it has 1), more than the limit of 6'],
    );
    assert.equal(hasProblems(plan), true);
  });
});

describe('hand-written exports', () => {
  const cases: {
    name: string;
    tenant?: unknown[];
    input: unknown[];
    added: string[];
    skipped: string[];
  }[] = [
    {
      name: 'an invalid location is skipped naming the field; a policy naming it is skipped too',
      input: [
        ip('11111111-1111-4111-8111-111111111111', 'Too broad', '10.0.0.0/8'),
        blockAt('22222222-2222-4222-8222-222222222222', 'Block at too broad', ['11111111-1111-4111-8111-111111111111']),
      ],
      added: [],
      skipped: [
        "namedLocation Too broad: invalid | ipRanges[0].cidrAddress: '10.0.0.0/8' is too broad: the prefix of an IPv4 range must be /9 or longer",
        "policy Block at too broad: unknownLocation | conditions.locations.includeLocations[0]: named location '11111111-1111-4111-8111-111111111111' is in this import but was not imported",
      ],
    },
    {
      name: 'a location the normalizer refuses (no display name): skipped, and so is the policy naming it',
      input: [
        { ...ip('11111111-1111-4111-8111-111111111111', '', '192.0.2.0/24'), displayName: undefined },
        blockAt('22222222-2222-4222-8222-222222222222', 'Block there', ['11111111-1111-4111-8111-111111111111']),
      ],
      added: [],
      skipped: [
        'namedLocation doc1: invalid | displayName: required but missing',
        "policy Block there: unknownLocation | conditions.locations.includeLocations[0]: named location '11111111-1111-4111-8111-111111111111' is in this import but was not imported",
      ],
    },
    {
      name: "a reference to a location of the old tenant that the export lacks: 'unknownLocation', naming the field",
      input: [blockAt('22222222-2222-4222-8222-222222222222', 'Block elsewhere', ['All', 'deadbeef'])],
      added: [],
      skipped: [
        "policy Block elsewhere: unknownLocation | conditions.locations.includeLocations[1]: named location 'deadbeef' is neither in this import nor in the tenant",
      ],
    },
    {
      name: "a reference to the tenant's own location, not in the export, stays",
      tenant: [ip('11111111-1111-4111-8111-111111111111', 'Office', '192.0.2.0/24')],
      input: [
        blockAt('22222222-2222-4222-8222-222222222222', 'Block at the office', [
          '11111111-1111-4111-8111-111111111111',
        ]),
      ],
      added: ['policy Block at the office 22222222-2222-4222-8222-222222222222 kept'],
      skipped: [],
    },
    {
      name: 'ids that are missing or not GUIDs are replaced, and references to them rewritten',
      input: [ip('', 'No id', '192.0.2.0/24'), ip('hq', 'HQ', '198.51.100.0/24'), blockAt('p1', 'Block at HQ', ['hq'])],
      added: [
        'namedLocation No id 00000000-0000-4000-8000-000000000001 missing',
        'namedLocation HQ 00000000-0000-4000-8000-000000000002 notAGuid',
        'policy Block at HQ 00000000-0000-4000-8000-000000000003 notAGuid (hq → 00000000-0000-4000-8000-000000000002)',
      ],
      skipped: [],
    },
    {
      name: 'the MFA trusted IPs id on a location: a new id, and policies keep meaning the MFA trusted IPs',
      input: [
        ip('00000000-0000-0000-0000-000000000000', 'Looks special', '192.0.2.0/24'),
        blockAt('22222222-2222-4222-8222-222222222222', 'Block at MFA trusted IPs', [
          '00000000-0000-0000-0000-000000000000',
        ]),
      ],
      added: [
        'namedLocation Looks special 00000000-0000-4000-8000-000000000001 reserved',
        'policy Block at MFA trusted IPs 22222222-2222-4222-8222-222222222222 kept',
      ],
      skipped: [],
    },
    {
      name: 'one id for two different locations in one import: the first keeps it, the second is invalid',
      input: [
        ip('11111111-1111-4111-8111-111111111111', 'First', '192.0.2.0/24'),
        ip('11111111-1111-4111-8111-111111111111', 'Second', '198.51.100.0/24'),
      ],
      added: ['namedLocation First 11111111-1111-4111-8111-111111111111 kept'],
      skipped: [
        "namedLocation Second: invalid | id: '11111111-1111-4111-8111-111111111111' is also the id of location 'First', earlier in this import, which differs",
      ],
    },
    {
      name: 'a policy the normalizer refuses is skipped naming the field; the rest is added',
      input: [
        { ...blockAt('22222222-2222-4222-8222-222222222222', 'Bad state', ['All']), state: 'sometimes' },
        blockAt('33333333-3333-4333-8333-333333333333', 'Good', ['All']),
      ],
      added: ['policy Good 33333333-3333-4333-8333-333333333333 kept'],
      skipped: [
        "policy Bad state: invalid | state: 'sometimes' is not one of the values Portcullis supports: enabled, disabled, enabledForReportingButNotEnforced",
      ],
    },
    {
      name: 'a policy that validation refuses (block with MFA) is skipped naming the field',
      input: [
        {
          ...blockAt('22222222-2222-4222-8222-222222222222', 'Block and MFA', ['All']),
          grantControls: { operator: 'OR', builtInControls: ['block', 'mfa'] },
        },
      ],
      added: [],
      skipped: [
        "policy Block and MFA: invalid | grantControls.builtInControls: 'block' cannot be combined with other controls ('mfa'): a policy blocks or grants",
      ],
    },
  ];

  for (const c of cases) {
    test(c.name, () => {
      const tenant = c.tenant ? after(planImport(load(...c.tenant), EMPTY)) : EMPTY;
      const plan = planImport(load(...c.input), tenant, { newId: ids() });
      const added = [...plan.locations, ...plan.policies].map(
        (p) =>
          `${p.kind} ${p.displayName} ${p.newId} ${p.newIdReason ?? 'kept'}` +
          (p.rewritten.length > 0 ? ` (${p.rewritten.map((r) => `${r.from} → ${r.to}`).join(', ')})` : ''),
      );
      assert.deepEqual(added, c.added);
      assert.deepEqual(skips(plan), c.skipped);
      assert.equal(
        hasProblems(plan),
        c.skipped.some((s) => /: (invalid|unknownLocation)/.test(s)),
      );
    });
  }
});

test('values to store carry the new id and no dates', () => {
  const plan = planImport(
    load({ ...ip('hq', 'HQ', '198.51.100.0/24'), createdDateTime: '2023-01-10T09:00:12Z' }),
    EMPTY,
    {
      newId: ids(),
    },
  );
  const value: NamedLocation | undefined = plan.locations[0]?.value;
  assert.equal(value?.id, '00000000-0000-4000-8000-000000000001');
  assert.equal(value !== undefined && 'createdDateTime' in value, false);
});
