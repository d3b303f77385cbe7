// Sign-in attempts of alice, bob and guest carol turned into Graph `signIn` entries: the fields Entra's exports carry,
// each policy's result with Entra's control names, and Conditional Access status as Graph defines it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertUuidV7Between } from '../../test/support/uuid.ts';
import { compilePolicySet } from '../policy/compile.ts';
import { evaluate, type Subject } from '../policy/evaluate.ts';
import type { BuiltInControl, ConditionalAccessPolicy, NamedLocation } from '../policy/types.ts';
import { buildSignInEntry, type SignInEntry, type SignInLogInput } from './sign-in-entry.ts';

const TENANT = '0b8f2a52-4c53-4f2a-9d7e-1f1d3f3c0a01';
const APP = { appId: '5f1c6c1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f', displayName: 'Payroll' };
const NOW = Date.UTC(2026, 2, 2, 9, 30, 0);
const HQ = '198.51.100.10';
const ABROAD = '203.0.113.9';
const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_ON_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

const alice = {
  id: 'a11ce000-0000-4000-8000-000000000001',
  userPrincipalName: 'alice@contoso.example',
  displayName: 'Alice',
};
const bob = {
  id: 'b0b00000-0000-4000-8000-000000000002',
  userPrincipalName: 'bob@contoso.example',
  displayName: 'Bob',
};
const carol = {
  id: 'ca401000-0000-4000-8000-000000000003',
  userPrincipalName: 'carol@partner.example',
  displayName: 'Carol',
};
const subjectOf = (user: { id: string }, userType: 'member' | 'guest' = 'member'): Subject => ({
  userId: user.id,
  groups: [],
  roles: [],
  userType,
});

const locations: NamedLocation[] = [
  {
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    id: 'loc-hq',
    displayName: 'Headquarters',
    isTrusted: true,
    ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.0/24' }],
  },
];

function policy(
  id: string,
  displayName: string,
  state: ConditionalAccessPolicy['state'],
  grant: BuiltInControl[],
  extra: Partial<ConditionalAccessPolicy['conditions']> = {},
  sessionControls: ConditionalAccessPolicy['sessionControls'] = null,
): ConditionalAccessPolicy {
  return {
    id,
    displayName,
    state,
    conditions: {
      users: {
        includeUsers: ['All'],
        excludeUsers: [],
        includeGroups: [],
        excludeGroups: [],
        includeRoles: [],
        excludeRoles: [],
      },
      applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [] },
      clientAppTypes: ['all'],
      signInRiskLevels: [],
      userRiskLevels: [],
      ...extra,
    },
    grantControls: grant.length > 0 ? { operator: 'OR', builtInControls: grant } : null,
    sessionControls,
  };
}

const policies = [
  policy('p-block', 'Block outside headquarters', 'enabled', ['block'], {
    locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
  }),
  policy(
    'p-mfa',
    'MFA for everyone',
    'enabled',
    ['mfa'],
    {},
    { signInFrequency: { isEnabled: true, type: 'hours', value: 8 } },
  ),
  policy('p-report', 'Report: compliant device', 'enabledForReportingButNotEnforced', ['compliantDevice']),
  policy('p-off', 'Old policy', 'disabled', ['block']),
];
const set = compilePolicySet(locations, policies);

function attempt(overrides: Partial<SignInLogInput>): SignInLogInput {
  return {
    tenantId: TENANT,
    id: 'e0000000-0000-4000-8000-000000000000',
    at: NOW,
    correlationId: 'c0000000-0000-4000-8000-0000000000c0',
    app: APP,
    ipAddress: HQ,
    country: 'us',
    userAgent: FIREFOX_ON_WINDOWS,
    clientAppType: 'browser',
    devicePlatform: 'windows',
    isInteractive: true,
    errorCode: 0,
    amr: ['pwd'],
    ...overrides,
  };
}

const aliceWithMfa = buildSignInEntry(
  attempt({
    user: alice,
    amr: ['pwd', 'mfa'],
    evaluation: evaluate(set, subjectOf(alice), { application: APP.appId, ipAddress: HQ }, ['mfa'], NOW),
  }),
);

test('alice at headquarters, password and MFA: the whole Graph entry', () => {
  assert.deepEqual(aliceWithMfa, {
    id: 'e0000000-0000-4000-8000-000000000000',
    createdDateTime: '2026-03-02T09:30:00.000Z',
    userDisplayName: 'Alice',
    userPrincipalName: 'alice@contoso.example',
    userId: alice.id,
    appId: APP.appId,
    appDisplayName: 'Payroll',
    resourceId: APP.appId,
    resourceDisplayName: 'Payroll',
    ipAddress: HQ,
    clientAppUsed: 'Browser',
    userAgent: FIREFOX_ON_WINDOWS,
    correlationId: 'c0000000-0000-4000-8000-0000000000c0',
    conditionalAccessStatus: 'success',
    isInteractive: true,
    authenticationRequirement: 'multiFactorAuthentication',
    riskDetail: 'none',
    riskLevelAggregated: 'none',
    riskLevelDuringSignIn: 'none',
    riskState: 'none',
    riskEventTypes: [],
    riskEventTypes_v2: [],
    status: { errorCode: 0, failureReason: null, additionalDetails: null },
    deviceDetail: {
      deviceId: '',
      displayName: '',
      operatingSystem: 'Windows',
      browser: 'Firefox 128',
      isCompliant: false,
      isManaged: false,
      trustType: '',
    },
    location: { city: null, state: null, countryOrRegion: 'US', geoCoordinates: null },
    appliedConditionalAccessPolicies: [
      {
        id: 'p-block',
        displayName: 'Block outside headquarters',
        enforcedGrantControls: [],
        enforcedSessionControls: [],
        result: 'notApplied',
      },
      {
        id: 'p-mfa',
        displayName: 'MFA for everyone',
        enforcedGrantControls: ['Mfa'],
        enforcedSessionControls: ['SignInFrequency'],
        result: 'success',
      },
      {
        id: 'p-report',
        displayName: 'Report: compliant device',
        enforcedGrantControls: ['RequireCompliantDevice'],
        enforcedSessionControls: [],
        result: 'reportOnlyFailure',
      },
      {
        id: 'p-off',
        displayName: 'Old policy',
        enforcedGrantControls: [],
        enforcedSessionControls: [],
        result: 'notEnabled',
      },
    ],
  } satisfies SignInEntry);
});

const cases: Array<{ name: string; input: SignInLogInput; expect: Partial<Record<keyof SignInEntry, unknown>> }> = [
  {
    name: 'bob abroad is blocked (53003): Conditional Access failed, the block policy says so',
    input: attempt({
      user: bob,
      ipAddress: ABROAD,
      country: 'FR',
      errorCode: 53003,
      evaluation: evaluate(set, subjectOf(bob), { application: APP.appId, ipAddress: ABROAD }, [], NOW),
    }),
    expect: {
      conditionalAccessStatus: 'failure',
      status: {
        errorCode: 53003,
        failureReason: 'Access has been blocked by Conditional Access policies.',
        additionalDetails: null,
      },
      location: { city: null, state: null, countryOrRegion: 'FR', geoCoordinates: null },
      // The MFA policy also applies to him, so MFA was part of what the sign-in required.
      authenticationRequirement: 'multiFactorAuthentication',
    },
  },
  {
    name: 'bob mistypes his password: Conditional Access never ran',
    input: attempt({ user: bob, errorCode: 50126, failureReason: 'wrong password' }),
    expect: {
      conditionalAccessStatus: 'notApplied',
      appliedConditionalAccessPolicies: [],
      authenticationRequirement: 'singleFactorAuthentication',
      status: {
        errorCode: 50126,
        failureReason: 'Your account or password is incorrect.',
        additionalDetails: 'wrong password',
      },
    },
  },
  {
    name: 'a name that matches no account is logged as typed, with no user id',
    input: attempt({ signInName: 'nobody@contoso.example', errorCode: 50126 }),
    expect: { userPrincipalName: 'nobody@contoso.example', userId: null, userDisplayName: null },
  },
  {
    name: 'guest carol on her iPhone must still give MFA (50076)',
    input: attempt({
      user: carol,
      userAgent: SAFARI_ON_IPHONE,
      devicePlatform: 'iOS',
      clientAppType: 'mobileAppsAndDesktopClients',
      errorCode: 50076,
      evaluation: evaluate(set, subjectOf(carol, 'guest'), { application: APP.appId, ipAddress: HQ }, [], NOW),
    }),
    expect: {
      conditionalAccessStatus: 'failure',
      authenticationRequirement: 'multiFactorAuthentication',
      clientAppUsed: 'Mobile Apps and Desktop clients',
      deviceDetail: {
        deviceId: '',
        displayName: '',
        operatingSystem: 'Ios',
        browser: 'Safari 17',
        isCompliant: false,
        isManaged: false,
        trustType: '',
      },
    },
  },
  {
    name: 'alice’s refresh token re-evaluated: not interactive, unknown country',
    input: attempt({
      user: alice,
      isInteractive: false,
      country: '',
      amr: ['pwd', 'mfa'],
      evaluation: evaluate(set, subjectOf(alice), { application: APP.appId, ipAddress: HQ }, ['mfa'], NOW),
    }),
    expect: {
      isInteractive: false,
      conditionalAccessStatus: 'success',
      location: { city: null, state: null, countryOrRegion: null, geoCoordinates: null },
    },
  },
  {
    name: 'a huge user agent from mallory is cut short in the log',
    input: attempt({ userAgent: 'x'.repeat(10_000), errorCode: 50126 }),
    expect: { userAgent: `${'x'.repeat(511)}…` },
  },
  {
    name: 'a sign-in risk given by the caller is reported',
    input: attempt({ user: bob, signInRiskLevel: 'high' }),
    expect: { riskLevelDuringSignIn: 'high', riskLevelAggregated: 'high' },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const entry = buildSignInEntry(c.input);
    for (const [field, value] of Object.entries(c.expect)) {
      assert.deepEqual(entry[field as keyof SignInEntry], value, field);
    }
  });
}

test('an entry without an id gets a fresh time-ordered UUID (version 7), so new entries append to the id index', () => {
  const before = Date.now();
  const a = buildSignInEntry(attempt({ id: undefined }));
  const b = buildSignInEntry(attempt({ id: undefined }));
  const after = Date.now();
  assertUuidV7Between(a.id, before, after);
  assert.notEqual(a.id, b.id);
});

test('an attempt without a time, code or addresses is refused, naming each field', () => {
  assert.throws(
    () => buildSignInEntry({ ...attempt({}), at: Number.NaN, errorCode: -1, correlationId: undefined as never }),
    /at must be a time in milliseconds, not NaN; errorCode must be 0 or a positive code, not -1; correlationId must be a string/,
  );
});
