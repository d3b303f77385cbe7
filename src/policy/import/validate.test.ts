// Tests for the set-level rules: one case per rule, each asserting the field path and that the message names the value.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  ConditionalAccessPolicy,
  CountryNamedLocation,
  IpNamedLocation,
  IpRange,
  NamedLocation,
  SignInFrequencySessionControl,
} from '../types.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import type { Problem } from './problems.ts';
import { validateLocations, validatePolicies, validatePolicySet } from './validate.ts';

const HQ_ID = '3f1c9b2e-7a4d-4e5f-9c1a-2b6d8e0f4a71';

function v4(cidrAddress: string): IpRange {
  return { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress };
}
function v6(cidrAddress: string): IpRange {
  return { '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress };
}

function ipLocation(edit: Partial<IpNamedLocation> = {}): IpNamedLocation {
  return {
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    id: HQ_ID,
    displayName: 'Headquarters',
    isTrusted: true,
    ipRanges: [v4('12.34.221.11/22'), v6('2001:db8:1234::/48')],
    ...edit,
  };
}

function countryLocation(edit: Partial<CountryNamedLocation> = {}): CountryNamedLocation {
  return {
    '@odata.type': '#microsoft.graph.countryNamedLocation',
    id: 'c-1',
    displayName: 'Allowed countries',
    countriesAndRegions: ['DE', 'FR'],
    includeUnknownCountriesAndRegions: false,
    countryLookupMethod: 'clientIpAddress',
    ...edit,
  };
}

function policy(edit: (p: ConditionalAccessPolicy) => void = () => {}): ConditionalAccessPolicy {
  const p: ConditionalAccessPolicy = {
    id: 'p-1',
    displayName: 'Block outside HQ',
    state: 'enabled',
    conditions: {
      users: {
        includeUsers: ['All'],
        excludeUsers: ['breakglass'],
        includeGroups: [],
        excludeGroups: [],
        includeRoles: [],
        excludeRoles: [],
      },
      applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [] },
      clientAppTypes: ['all'],
      locations: { includeLocations: ['All'], excludeLocations: [HQ_ID] },
      platforms: null,
      signInRiskLevels: [],
      userRiskLevels: [],
    },
    grantControls: { operator: 'OR', builtInControls: ['block'] },
    sessionControls: null,
  };
  edit(p);
  return p;
}

function ranges(count: number): IpRange[] {
  return Array.from({ length: count }, (_, i) => v4(`10.${i >> 8}.${i & 255}.0/24`));
}

function locations(count: number): NamedLocation[] {
  return Array.from({ length: count }, (_, i) => ipLocation({ id: `l-${i}`, displayName: `L${i}` }));
}

const HQ = `location 'Headquarters' (id ${HQ_ID})`;

describe('validateLocations', () => {
  const cases: Array<{
    name: string;
    locations: NamedLocation[];
    problems: Problem[];
    limits?: typeof DEFAULT_LIMITS;
  }> = [
    { name: 'a valid set', locations: [ipLocation(), countryLocation()], problems: [] },
    {
      name: '196 locations: one problem for the set',
      locations: locations(196),
      problems: [{ message: '196 named locations is more than the limit of 195' }],
    },
    { name: '195 locations are allowed', locations: locations(195), problems: [] },
    {
      name: 'a location without ranges',
      locations: [ipLocation({ ipRanges: [] })],
      problems: [{ object: HQ, field: 'ipRanges', message: '0 ranges is fewer than the minimum of 1' }],
    },
    {
      name: '2001 ranges',
      locations: [ipLocation({ ipRanges: ranges(2001) })],
      problems: [{ object: HQ, field: 'ipRanges', message: '2001 ranges is more than the limit of 2000 per location' }],
    },
    { name: '2000 ranges are allowed', locations: [ipLocation({ ipRanges: ranges(2000) })], problems: [] },
    {
      name: 'a range that does not parse',
      locations: [ipLocation({ ipRanges: [v4('12.34.221.11/22'), v4('10.0.0.0/33')] })],
      problems: [
        {
          object: HQ,
          field: 'ipRanges[1].cidrAddress',
          message: "'10.0.0.0/33' is not a valid CIDR range: prefix length 33 is larger than 32",
        },
      ],
    },
    {
      name: 'an IPv6 range typed as IPv4',
      locations: [ipLocation({ ipRanges: [v4('2001:db8::/48')] })],
      problems: [
        {
          object: HQ,
          field: 'ipRanges[0].cidrAddress',
          message: "'2001:db8::/48' is an IPv6 range but its @odata.type is #microsoft.graph.iPv4CidrRange",
        },
      ],
    },
    {
      name: 'an IPv4 /8 is too broad',
      locations: [ipLocation({ ipRanges: [v4('10.0.0.0/8')] })],
      problems: [
        {
          object: HQ,
          field: 'ipRanges[0].cidrAddress',
          message: "'10.0.0.0/8' is too broad: the prefix of an IPv4 range must be /9 or longer",
        },
      ],
    },
    { name: 'an IPv4 /9 is allowed', locations: [ipLocation({ ipRanges: [v4('10.0.0.0/9')] })], problems: [] },
    {
      name: 'an IPv6 /8 is too broad',
      locations: [ipLocation({ ipRanges: [v6('2000::/8')] })],
      problems: [
        {
          object: HQ,
          field: 'ipRanges[0].cidrAddress',
          message: "'2000::/8' is too broad: the prefix of an IPv6 range must be /9 or longer",
        },
      ],
    },
    { name: 'an IPv6 /9 is allowed', locations: [ipLocation({ ipRanges: [v6('2000::/9')] })], problems: [] },
    {
      name: 'configured limits apply',
      locations: [ipLocation({ ipRanges: [v4('10.0.0.0/12'), v6('2001:db8::/32')] })],
      limits: { ...DEFAULT_LIMITS, minIpv4PrefixLength: 16, minIpv6PrefixLength: 48, maxRangesPerLocation: 1 },
      problems: [
        { object: HQ, field: 'ipRanges', message: '2 ranges is more than the limit of 1 per location' },
        {
          object: HQ,
          field: 'ipRanges[0].cidrAddress',
          message: "'10.0.0.0/12' is too broad: the prefix of an IPv4 range must be /16 or longer",
        },
        {
          object: HQ,
          field: 'ipRanges[1].cidrAddress',
          message: "'2001:db8::/32' is too broad: the prefix of an IPv6 range must be /48 or longer",
        },
      ],
    },
    {
      name: 'a duplicate id',
      locations: [ipLocation(), countryLocation({ id: HQ_ID })],
      problems: [
        {
          object: `location 'Allowed countries' (id ${HQ_ID})`,
          field: 'id',
          message: `'${HQ_ID}' is also the id of location 'Headquarters'`,
        },
      ],
    },
    {
      name: 'duplicate display names are allowed, as in Entra',
      locations: [ipLocation(), ipLocation({ id: 'other' })],
      problems: [],
    },
    {
      name: 'a code that is not ISO 3166-1 alpha-2',
      locations: [countryLocation({ countriesAndRegions: ['DE', 'UK', 'EU'] })],
      problems: [
        {
          object: "location 'Allowed countries' (id c-1)",
          field: 'countriesAndRegions[1]',
          message: "'UK' is not an ISO 3166-1 alpha-2 country code",
        },
        {
          object: "location 'Allowed countries' (id c-1)",
          field: 'countriesAndRegions[2]',
          message: "'EU' is not an ISO 3166-1 alpha-2 country code",
        },
      ],
    },
    {
      name: 'XK, which Entra accepts, is accepted',
      locations: [countryLocation({ countriesAndRegions: ['US', 'XK'] })],
      problems: [],
    },
    {
      name: 'no country and no unknown countries',
      locations: [countryLocation({ countriesAndRegions: [] })],
      problems: [
        {
          object: "location 'Allowed countries' (id c-1)",
          field: 'countriesAndRegions',
          message:
            'empty: a country location needs at least one country or region, or includeUnknownCountriesAndRegions',
        },
      ],
    },
    {
      name: 'only unknown countries is allowed',
      locations: [countryLocation({ countriesAndRegions: [], includeUnknownCountriesAndRegions: true })],
      problems: [],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(validateLocations(c.locations, c.limits ?? DEFAULT_LIMITS), c.problems));
  }
});

describe('validatePolicies', () => {
  const known = new Set([HQ_ID]);
  const P = "policy 'Block outside HQ' (id p-1)";
  const frequency = (f: Partial<SignInFrequencySessionControl>) => (p: ConditionalAccessPolicy) => {
    p.grantControls = null;
    p.sessionControls = { signInFrequency: { isEnabled: true, type: 'hours', value: 12, ...f } };
  };
  const cases: Array<{ name: string; policies: ConditionalAccessPolicy[]; problems: Problem[] }> = [
    { name: 'a valid policy', policies: [policy()], problems: [] },
    {
      name: 'a location that does not exist',
      policies: [
        policy((p) => {
          p.conditions.locations = { includeLocations: ['198ad66e-87b3-4157-85a3-8a7b51794ee9'], excludeLocations: [] };
        }),
      ],
      problems: [
        {
          object: P,
          field: 'conditions.locations.includeLocations[0]',
          message: "named location '198ad66e-87b3-4157-85a3-8a7b51794ee9' does not exist",
        },
      ],
    },
    {
      name: 'All, AllTrusted and the MFA trusted IPs need no named location',
      policies: [
        policy((p) => {
          p.conditions.locations = {
            includeLocations: ['All'],
            excludeLocations: ['AllTrusted', '00000000-0000-0000-0000-000000000000'],
          };
        }),
      ],
      problems: [],
    },
    {
      name: "'block' with another control",
      policies: [
        policy((p) => {
          p.grantControls = { operator: 'OR', builtInControls: ['block', 'mfa'] };
        }),
      ],
      problems: [
        {
          object: P,
          field: 'grantControls.builtInControls',
          message: "'block' cannot be combined with other controls ('mfa'): a policy blocks or grants",
        },
      ],
    },
    {
      name: "'block' with terms of use",
      policies: [
        policy((p) => {
          p.grantControls = { operator: 'OR', builtInControls: ['block'], termsOfUse: ['tou-1'] };
        }),
      ],
      problems: [
        {
          object: P,
          field: 'grantControls.builtInControls',
          message: "'block' cannot be combined with other controls ('tou-1'): a policy blocks or grants",
        },
      ],
    },
    {
      name: 'neither grant nor session controls',
      policies: [
        policy((p) => {
          p.grantControls = null;
          p.sessionControls = { persistentBrowser: { isEnabled: false, mode: 'never' } };
        }),
      ],
      problems: [
        { object: P, field: 'grantControls', message: 'the policy has neither grant controls nor session controls' },
      ],
    },
    { name: 'session controls alone are enough', policies: [policy(frequency({}))], problems: [] },
    {
      name: 'a session control Portcullis keeps but does not enforce counts',
      policies: [
        policy((p) => {
          p.grantControls = null;
          p.sessionControls = { cloudAppSecurity: { isEnabled: true, cloudAppSecurityType: 'monitorOnly' } };
        }),
      ],
      problems: [],
    },
    {
      name: 'continuous access evaluation alone counts as a session control, in any mode',
      policies: (['strictLocation', 'strictEnforcement', 'disabled'] as const).map((mode) =>
        policy((p) => {
          p.id = `p-${mode}`;
          p.grantControls = null;
          p.sessionControls = { continuousAccessEvaluation: { mode } };
        }),
      ),
      problems: [],
    },
    {
      name: 'no users, groups or roles',
      policies: [
        policy((p) => {
          p.conditions.users.includeUsers = [];
        }),
      ],
      problems: [
        {
          object: P,
          field: 'conditions.users',
          message: "the policy must include users, groups or roles (use 'None' to include nobody)",
        },
      ],
    },
    {
      name: "'None' includes nobody, explicitly",
      policies: [
        policy((p) => {
          p.conditions.users.includeUsers = ['None'];
        }),
      ],
      problems: [],
    },
    {
      name: 'a role is enough',
      policies: [
        policy((p) => {
          p.conditions.users.includeUsers = [];
          p.conditions.users.includeRoles = ['62e90394-69f5-4237-9190-012177145e10'];
        }),
      ],
      problems: [],
    },
    {
      name: 'no applications, user actions or authentication contexts',
      policies: [
        policy((p) => {
          p.conditions.applications.includeApplications = [];
        }),
      ],
      problems: [
        {
          object: P,
          field: 'conditions.applications',
          message:
            "the policy must include applications, user actions or authentication contexts (use 'None' to include none)",
        },
      ],
    },
    {
      name: 'a user action is enough',
      policies: [
        policy((p) => {
          p.conditions.applications.includeApplications = [];
          p.conditions.applications.includeUserActions = ['urn:user:registersecurityinfo'];
        }),
      ],
      problems: [],
    },
    {
      name: 'sign-in frequency of 24 hours',
      policies: [policy(frequency({ value: 24 }))],
      problems: [
        {
          object: P,
          field: 'sessionControls.signInFrequency.value',
          message: '24 hours is out of range: hours must be from 1 to 23',
        },
      ],
    },
    { name: 'sign-in frequency of 23 hours', policies: [policy(frequency({ value: 23 }))], problems: [] },
    {
      name: 'sign-in frequency of 366 days',
      policies: [policy(frequency({ type: 'days', value: 366 }))],
      problems: [
        {
          object: P,
          field: 'sessionControls.signInFrequency.value',
          message: '366 days is out of range: days must be from 1 to 365',
        },
      ],
    },
    {
      name: 'sign-in frequency of 365 days',
      policies: [policy(frequency({ type: 'days', value: 365 }))],
      problems: [],
    },
    {
      name: 'sign-in frequency of 0 hours',
      policies: [policy(frequency({ value: 0 }))],
      problems: [
        {
          object: P,
          field: 'sessionControls.signInFrequency.value',
          message: '0 hours is out of range: hours must be from 1 to 23',
        },
      ],
    },
    {
      name: 'sign-in frequency without a value',
      policies: [policy(frequency({ value: null }))],
      problems: [
        {
          object: P,
          field: 'sessionControls.signInFrequency.value',
          message: 'required: the number of hours, from 1 to 23',
        },
      ],
    },
    {
      name: 'sign-in frequency without a unit',
      policies: [policy(frequency({ type: null }))],
      problems: [
        {
          object: P,
          field: 'sessionControls.signInFrequency.type',
          message: 'required when sign-in frequency is enabled: hours or days',
        },
      ],
    },
    {
      name: 'sign-in frequency every time needs no value',
      policies: [policy(frequency({ type: null, value: null, frequencyInterval: 'everyTime' }))],
      problems: [],
    },
    {
      name: 'persistent browser enabled without a mode',
      policies: [
        policy((p) => {
          p.grantControls = null;
          p.sessionControls = { persistentBrowser: { isEnabled: true, mode: null } };
        }),
      ],
      problems: [
        {
          object: P,
          field: 'sessionControls.persistentBrowser.mode',
          message: 'required when persistent browser is enabled: always or never',
        },
      ],
    },
    {
      name: 'a duplicate id',
      policies: [policy(), policy((p) => (p.displayName = 'Second'))],
      problems: [
        {
          object: "policy 'Second' (id p-1)",
          field: 'id',
          message: "'p-1' is also the id of policy 'Block outside HQ'",
        },
      ],
    },
    {
      name: 'policies without ids yet are not duplicates',
      policies: [policy((p) => (p.id = '')), policy((p) => (p.id = ''))],
      problems: [],
    },
    {
      name: 'every problem is reported',
      policies: [
        policy((p) => {
          p.conditions.users.includeUsers = [];
          p.conditions.locations = { includeLocations: ['nowhere'], excludeLocations: [] };
          p.grantControls = { operator: 'AND', builtInControls: ['block', 'compliantDevice'] };
        }),
      ],
      problems: [
        {
          object: P,
          field: 'conditions.locations.includeLocations[0]',
          message: "named location 'nowhere' does not exist",
        },
        {
          object: P,
          field: 'conditions.users',
          message: "the policy must include users, groups or roles (use 'None' to include nobody)",
        },
        {
          object: P,
          field: 'grantControls.builtInControls',
          message: "'block' cannot be combined with other controls ('compliantDevice'): a policy blocks or grants",
        },
      ],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(validatePolicies(c.policies, known), c.problems));

  test('196 policies: one problem for the set', () => {
    const many = Array.from({ length: 196 }, (_, i) => policy((p) => (p.id = `p-${i}`)));
    assert.deepEqual(validatePolicies(many, known), [{ message: '196 policies is more than the limit of 195' }]);
    assert.deepEqual(validatePolicies(many.slice(1), known), []);
  });
});

describe('validatePolicySet', () => {
  test('runs both checks, policies against the set’s own locations, and names files', () => {
    const hq = ipLocation({ ipRanges: [v4('10.0.0.0/8')] });
    const p = policy((x) => {
      x.conditions.locations = { includeLocations: ['All'], excludeLocations: [HQ_ID, 'gone'] };
    });
    const files = new Map<object, string>([
      [hq, 'locations.json'],
      [p, 'policies.json'],
    ]);
    assert.deepEqual(
      validatePolicySet({ locations: [hq], policies: [p] }, DEFAULT_LIMITS, { fileOf: (i) => files.get(i) }),
      [
        {
          file: 'locations.json',
          object: HQ,
          field: 'ipRanges[0].cidrAddress',
          message: "'10.0.0.0/8' is too broad: the prefix of an IPv4 range must be /9 or longer",
        },
        {
          file: 'policies.json',
          object: "policy 'Block outside HQ' (id p-1)",
          field: 'conditions.locations.excludeLocations[1]',
          message: "named location 'gone' does not exist",
        },
      ],
    );
  });

  test('the default limits are Entra’s', () => {
    assert.deepEqual(
      { ...DEFAULT_LIMITS },
      {
        maxNamedLocations: 195,
        minRangesPerLocation: 1,
        maxRangesPerLocation: 2000,
        minIpv4PrefixLength: 9,
        minIpv6PrefixLength: 9,
        maxPolicies: 195,
      },
    );
    assert.ok(Object.isFrozen(DEFAULT_LIMITS));
  });
});
