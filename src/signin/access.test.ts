// The Conditional Access step of sign-in: the request built from what HTTP resolved, and the decision reduced to
// allow / mfa / block, for named personas under a small policy set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../net/ip.ts';
import { compilePolicySet } from '../policy/compile.ts';
import type { ConditionalAccessPolicy, NamedLocation } from '../policy/types.ts';
import { checkAccess } from './access.ts';

const HQ: NamedLocation = {
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  id: 'hq',
  displayName: 'Headquarters',
  isTrusted: true,
  ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.0/24' }],
};
const ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const users = {
  includeUsers: [],
  excludeUsers: [],
  includeGroups: [],
  excludeGroups: [],
  includeRoles: [],
  excludeRoles: [],
};
const apps = { includeApplications: ['All'], excludeApplications: [], includeUserActions: [] };

function policy(
  id: string,
  controls: ConditionalAccessPolicy['grantControls'],
  extra: object,
): ConditionalAccessPolicy {
  return {
    id,
    displayName: id,
    state: 'enabled',
    conditions: {
      users,
      applications: apps,
      clientAppTypes: ['all'],
      signInRiskLevels: [],
      userRiskLevels: [],
      ...extra,
    },
    grantControls: controls,
  };
}

const set = compilePolicySet(
  [HQ],
  [
    policy(
      'block-abroad',
      { operator: 'OR', builtInControls: ['block'] },
      {
        users: { ...users, includeUsers: ['All'] },
        locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
      },
    ),
    policy('mfa-admins', { operator: 'OR', builtInControls: ['mfa'] }, { users: { ...users, includeRoles: [ADMIN] } }),
    policy(
      'compliant-android',
      { operator: 'AND', builtInControls: ['compliantDevice'] },
      {
        users: { ...users, includeUsers: ['All'] },
        platforms: { includePlatforms: ['android'], excludePlatforms: [] },
      },
    ),
  ],
);

const alice = { userId: 'alice', groups: [], roles: [ADMIN], userType: 'member' as const };
const bob = { userId: 'bob', groups: [], roles: [], userType: 'member' as const };
const at = (ip: string, devicePlatform: 'windows' | 'android' = 'windows') => ({
  appId: 'app',
  clientIp: { ip: parseIp(ip), text: ip, via: 'socket' as const },
  clientAppType: 'browser' as const,
  devicePlatform,
});

const cases = [
  {
    name: 'bob at headquarters is allowed',
    subject: bob,
    context: at('198.51.100.7'),
    satisfied: [],
    verdict: { kind: 'allow' },
  },
  {
    name: 'bob abroad is blocked (53003)',
    subject: bob,
    context: at('203.0.113.9'),
    satisfied: [],
    verdict: { kind: 'block', errorCode: 53003 },
  },
  {
    name: 'alice at headquarters must do MFA (50076)',
    subject: alice,
    context: at('198.51.100.7'),
    satisfied: [],
    verdict: { kind: 'mfa', errorCode: 50076 },
  },
  {
    name: 'alice after MFA is allowed',
    subject: alice,
    context: at('198.51.100.7'),
    satisfied: ['mfa' as const],
    verdict: { kind: 'allow' },
  },
  {
    name: 'alice abroad is blocked even after MFA',
    subject: alice,
    context: at('203.0.113.9'),
    satisfied: ['mfa' as const],
    verdict: { kind: 'block', errorCode: 53003 },
  },
  {
    name: 'bob on Android needs a compliant device: fails closed (53000)',
    subject: bob,
    context: at('198.51.100.7', 'android'),
    satisfied: [],
    verdict: { kind: 'block', errorCode: 53000 },
  },
];

for (const c of cases) {
  test(`access: ${c.name}`, () => {
    const check = checkAccess(set, c.subject, c.context, c.satisfied, Date.UTC(2026, 10, 23));
    assert.deepEqual(check.verdict, c.verdict);
    assert.equal(check.country, '', 'documentation addresses have no country');
    assert.ok(check.evaluation.policies.length === 3, 'every policy is reported for the sign-in log');
  });
}
