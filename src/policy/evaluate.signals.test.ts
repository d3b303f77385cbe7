// How the evaluator reads a request's signals and keeps each evaluation its own: values outside Graph's enums are
// input errors (not silent matches), satisfied controls are read once, the geo lookup runs only when a policy needs a
// country, and the lazily built per-policy results describe their own request whatever ran after it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CountryResolver, compilePolicySet } from './compile.ts';
import { EvaluationInputError, evaluate, type SignInRequest, type Subject } from './evaluate.ts';
import type { BuiltInControl, ConditionalAccessPolicy, NamedLocation } from './types.ts';

const APP = 'a1b2c3d4-0000-0000-0000-00000000c0de';
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const alice: Subject = { userId: 'alice', groups: ['group-sales'], roles: [], userType: 'member' };
const bob: Subject = { userId: 'bob', groups: [], roles: [], userType: 'member' };

const sanctioned: NamedLocation = {
  '@odata.type': '#microsoft.graph.countryNamedLocation',
  id: 'loc-sanctioned',
  displayName: 'Sanctioned countries',
  countriesAndRegions: ['KP'],
  includeUnknownCountriesAndRegions: false,
  countryLookupMethod: 'clientIpAddress',
};

function policy(id: string, patch: Partial<ConditionalAccessPolicy['conditions']>, grant: BuiltInControl[]) {
  const p: ConditionalAccessPolicy = {
    id,
    displayName: id,
    state: 'enabled',
    conditions: {
      users: {
        includeUsers: [],
        excludeUsers: [],
        includeGroups: ['group-sales'],
        excludeGroups: [],
        includeRoles: [],
        excludeRoles: [],
      },
      applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [] },
      clientAppTypes: ['all'],
      signInRiskLevels: [],
      userRiskLevels: [],
      ...patch,
    },
    grantControls: { operator: 'OR', builtInControls: grant },
  };
  return p;
}
const mfaForSales = policy('mfa-for-sales', {}, ['mfa']);
const blockSanctioned = policy(
  'block-sanctioned',
  { locations: { includeLocations: ['loc-sanctioned'], excludeLocations: [] } },
  ['block'],
);

const browser = (extra: Partial<SignInRequest> = {}): SignInRequest => ({
  application: APP,
  ipAddress: '203.0.113.9',
  clientAppType: 'browser',
  devicePlatform: 'windows',
  signInRiskLevel: 'none',
  userRiskLevel: 'none',
  ...extra,
});

const badValues: Array<{ name: string; request: SignInRequest; message: RegExp }> = [
  {
    name: 'a device platform Graph does not know (once read as android)',
    request: browser({ devicePlatform: 'Windows ' as SignInRequest['devicePlatform'] }),
    message: /devicePlatform 'Windows ' is not one of android, iOS/,
  },
  {
    name: 'a client app type Graph does not know',
    request: browser({ clientAppType: 'web' as SignInRequest['clientAppType'] }),
    message: /clientAppType 'web' is not one of all, browser/,
  },
  {
    name: 'a sign-in risk level Graph does not know (once read as low)',
    request: browser({ signInRiskLevel: 'severe' as SignInRequest['signInRiskLevel'] }),
    message: /signInRiskLevel 'severe' is not one of low, medium/,
  },
  {
    name: 'a user risk level that is the name of an Object property',
    request: browser({ userRiskLevel: 'toString' as SignInRequest['userRiskLevel'] }),
    message: /userRiskLevel 'toString' is not one of/,
  },
];

for (const c of badValues) {
  test(`${c.name} is an input error naming the field and the value`, () => {
    const set = compilePolicySet([], [mfaForSales]);
    assert.throws(
      () => evaluate(set, alice, c.request, [], NOW),
      (error: unknown) => {
        assert.ok(error instanceof EvaluationInputError);
        assert.match(error.message, c.message);
        return true;
      },
    );
  });
}

test('alice, having done MFA, passes a one-shot iterable: the per-policy results agree with the decision', () => {
  const set = compilePolicySet([], [mfaForSales]);
  function* done(): Generator<BuiltInControl> {
    yield 'mfa';
  }
  const evaluation = evaluate(set, alice, browser(), done(), NOW);
  assert.equal(evaluation.decision.outcome, 'allow');
  assert.equal(evaluation.decision.grantRequirements[0].satisfied, true);
  assert.equal(evaluation.policies[0].result, 'success');
});

test('the country resolver is consulted only when some policy names a country location', () => {
  let calls = 0;
  const countryOf: CountryResolver = () => {
    calls++;
    return 'KP';
  };
  const withoutCountries = compilePolicySet([sanctioned], [mfaForSales], { countryOf });
  assert.equal(evaluate(withoutCountries, alice, browser(), [], NOW).decision.outcome, 'challenge');
  assert.equal(calls, 0, 'no policy needs a country: no geo lookup');

  const withCountries = compilePolicySet([sanctioned], [mfaForSales, blockSanctioned], { countryOf });
  const evaluation = evaluate(withCountries, alice, browser(), [], NOW);
  assert.equal(calls, 1);
  assert.deepEqual(evaluation.decision.blockedBy, ['block-sanctioned']);
});

test("alice's evaluation still describes alice after bob's, and after an evaluation against another set", () => {
  const set = compilePolicySet([], [mfaForSales]);
  const other = compilePolicySet([], [policy('mfa-for-sales-too', {}, ['mfa'])]);
  const forAlice = evaluate(set, alice, browser(), [], NOW);
  const forBob = evaluate(set, bob, browser(), [], NOW);
  const elsewhere = evaluate(other, bob, browser(), [], NOW);
  const again = evaluate(set, alice, browser(), ['mfa'], NOW);

  assert.equal(forAlice.decision.outcome, 'challenge');
  assert.equal(forBob.decision.outcome, 'allow');
  assert.equal(elsewhere.decision.outcome, 'allow', 'bob is not in sales');
  assert.equal(again.decision.outcome, 'allow');
  assert.equal(forAlice.policies[0].result, 'failure');
  assert.deepEqual(forAlice.policies[0].analysisReasons, ['notSet']);
  assert.equal(forBob.policies[0].result, 'notApplied');
  assert.deepEqual(forBob.policies[0].analysisReasons, ['users']);
  assert.equal(again.policies[0].result, 'success');
});

test('the grant requirements a decision shares between evaluations cannot be changed by a reader', () => {
  const set = compilePolicySet([], [mfaForSales]);
  const first = evaluate(set, alice, browser(), [], NOW).decision.grantRequirements[0];
  assert.throws(() => {
    (first as { satisfied: boolean }).satisfied = true;
  }, TypeError);
  assert.equal(evaluate(set, alice, browser(), [], NOW).decision.grantRequirements[0].satisfied, false);
});
