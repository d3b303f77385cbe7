// Microsoft's documented Graph examples (test/fixtures/graph-examples), imported as they are and evaluated: each
// policy does what Microsoft's page says it does, for named personas.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatIp } from '../../src/net/ip.ts';
import { compilePolicySet } from '../../src/policy/compile.ts';
import { evaluate, type SignInRequest, type Subject } from '../../src/policy/evaluate.ts';
import { loadExports } from '../../src/policy/import/load.ts';
import { validatePolicySet } from '../../src/policy/import/validate.ts';

const examples = new URL('../fixtures/graph-examples/', import.meta.url).pathname;
const EXCHANGE_ONLINE = '00000002-0000-0ff1-ce00-000000000000';
const EXO_GROUP = 'ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba';
const APPLICATION_ADMINISTRATOR = '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3';
const DEMO_USER = 'a702a13d-a437-4a07-8a7e-8c052de62dfd';

const locations = loadExports(
  [
    join(examples, 'create-namedlocation-1-ip.request.json'),
    join(examples, 'create-namedlocation-2-country.request.json'),
    join(examples, 'companion/named-locations.json'),
  ],
  'locations',
);
const policies = loadExports(
  [1, 2, 3, 4].map((n) => {
    const names = [
      'require-mfa-exo-outside-trusted-locations',
      'block-exo-non-trusted-regions',
      'all-conditions-and-controls',
      'require-mfa-exo-non-compliant-devices',
    ];
    return join(examples, `create-policy-${n}-${names[n - 1]}.request.json`);
  }),
  'policies',
);
// Create requests carry no ids; the store gives them, so do it here.
locations.locations.forEach((l, i) => {
  l.id ||= `created-location-${i}`;
});
policies.policies.forEach((p, i) => {
  p.id = `example-${i + 1}`;
});

// Iran for one documentation address, the United States for another, nothing for the rest.
const countryOf = (ip: Parameters<typeof formatIp>[0]) => ({ '203.0.113.50': 'IR', '192.0.2.10': 'US' })[formatIp(ip)];

const alice: Subject = { userId: 'alice', groups: [EXO_GROUP], roles: [], userType: 'member' };
const bob: Subject = { userId: 'bob', groups: [], roles: [], userType: 'member' };
const demoUser: Subject = { userId: DEMO_USER, groups: [], roles: [], userType: 'member' };
const appAdmin: Subject = { userId: 'frank', groups: [], roles: [APPLICATION_ADMINISTRATOR], userType: 'member' };

const exo = (ipAddress: string, extra: Partial<SignInRequest> = {}): SignInRequest => ({
  application: EXCHANGE_ONLINE,
  ipAddress,
  clientAppType: 'browser',
  devicePlatform: 'windows',
  signInRiskLevel: 'none',
  userRiskLevel: 'none',
  ...extra,
});

test('the examples import and validate without problems', () => {
  assert.deepEqual([...locations.problems, ...policies.problems], []);
  const problems = validatePolicySet({ locations: locations.locations, policies: policies.policies });
  assert.deepEqual(problems, []);
  assert.equal(locations.locations.length, 4);
  assert.equal(policies.policies.length, 4);
});

interface Case {
  name: string;
  subject: Subject;
  request: SignInRequest;
  satisfied?: ('mfa' | 'compliantDevice')[];
  outcome: 'allow' | 'challenge' | 'block';
  applied: string[];
}

const cases: Case[] = [
  {
    name: 'alice (in the Exchange group) from the trusted lab network: only MFA for non-compliant devices applies',
    subject: alice,
    request: exo('198.51.100.7', { country: 'US' }),
    outcome: 'challenge',
    applied: ['example-4'],
  },
  {
    name: 'alice outside trusted locations, in the US: example 1 and example 4 require MFA',
    subject: alice,
    request: exo('192.0.2.10'),
    outcome: 'challenge',
    applied: ['example-1', 'example-4'],
  },
  {
    name: 'alice outside trusted locations after MFA is let in',
    subject: alice,
    request: exo('192.0.2.10'),
    satisfied: ['mfa'],
    outcome: 'allow',
    applied: ['example-1', 'example-4'],
  },
  {
    name: 'alice from Iran is blocked by example 2 even after MFA',
    subject: alice,
    request: exo('203.0.113.50'),
    satisfied: ['mfa'],
    outcome: 'block',
    applied: ['example-1', 'example-2', 'example-4'],
  },
  {
    name: 'alice from an address with no known country is blocked: example 2 includes unknown regions',
    subject: alice,
    request: exo('100.64.0.1'),
    satisfied: ['mfa'],
    outcome: 'block',
    applied: ['example-1', 'example-2', 'example-4'],
  },
  {
    name: 'alice on Exchange ActiveSync outside trusted locations: example 1 covers only browsers and desktop clients',
    subject: alice,
    request: exo('192.0.2.10', { clientAppType: 'exchangeActiveSync' }),
    outcome: 'challenge',
    applied: ['example-4'],
  },
  {
    name: 'bob, not in the group, is not targeted by any example',
    subject: bob,
    request: exo('203.0.113.50'),
    outcome: 'allow',
    applied: [],
  },
  {
    name: 'the disabled example 3 never applies, even to the user and role it names',
    subject: appAdmin,
    request: exo('12.34.220.1', { clientAppType: 'other', signInRiskLevel: 'high', devicePlatform: 'android' }),
    outcome: 'allow',
    applied: [],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const set = compilePolicySet(locations.locations, policies.policies, { countryOf });
    const { decision, policies: results } = evaluate(set, c.subject, c.request, c.satisfied ?? [], 0);
    assert.equal(decision.outcome, c.outcome);
    assert.deepEqual(
      results.filter((r) => r.applies).map((r) => r.id),
      c.applied,
    );
    assert.equal(results.find((r) => r.id === 'example-3')?.result, 'notEnabled');
  });
}

test('example 3 switched on: all its conditions and its OR of controls, satisfied by MFA', () => {
  const enabled = policies.policies.map((p) => (p.id === 'example-3' ? { ...p, state: 'enabled' as const } : p));
  // AllTrusted minus the MFA trusted IPs and the lab network: a trusted location of its own is needed.
  const trustedOffice = {
    '@odata.type': '#microsoft.graph.ipNamedLocation' as const,
    id: 'office',
    displayName: 'Office',
    isTrusted: true,
    ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange' as const, cidrAddress: '192.0.2.0/28' }],
  };
  const set = compilePolicySet([...locations.locations, trustedOffice], enabled, { countryOf });
  const risky = exo('192.0.2.5', { clientAppType: 'other', signInRiskLevel: 'high', devicePlatform: 'android' });
  const forDemoUser = evaluate(set, demoUser, { ...risky, application: 'some-app' }, [], 0);
  assert.equal(forDemoUser.policies.find((r) => r.id === 'example-3')?.applies, true);
  assert.deepEqual(forDemoUser.decision.missingControls, ['mfa']);
  // The lab network is excluded; an excluded application is not targeted; iOS is excluded.
  const fromLab = evaluate(set, demoUser, { ...risky, ipAddress: '198.51.100.9', application: 'some-app' }, [], 0);
  assert.deepEqual(fromLab.policies.find((r) => r.id === 'example-3')?.analysisReasons, ['location']);
  const excludedApp = evaluate(set, demoUser, { ...risky, application: '00000007-0000-0000-c000-000000000000' }, [], 0);
  assert.deepEqual(excludedApp.policies.find((r) => r.id === 'example-3')?.analysisReasons, ['application']);
  const fromIos = evaluate(set, appAdmin, { ...risky, application: 'some-app', devicePlatform: 'iOS' }, [], 0);
  assert.deepEqual(fromIos.policies.find((r) => r.id === 'example-3')?.analysisReasons, ['devicePlatform']);
  const lowRisk = evaluate(set, appAdmin, { ...risky, application: 'some-app', signInRiskLevel: 'low' }, [], 0);
  assert.deepEqual(lowRisk.policies.find((r) => r.id === 'example-3')?.analysisReasons, ['signInRisk']);
  const afterMfa = evaluate(set, appAdmin, { ...risky, application: 'some-app' }, ['mfa'], 0);
  assert.equal(afterMfa.decision.outcome, 'allow');
  assert.equal(afterMfa.decision.sessionControls.signInFrequencyMinutes, 240);
});
