// The evaluator's semantics as a table of named cases with personas, each asserting the decision and the
// per-policy results that the sign-in log and What If show.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIp } from '../net/ip.ts';
import { type CountryResolver, compilePolicySet } from './compile.ts';
import { evaluate, type SignInRequest, type Subject } from './evaluate.ts';
import type { AppliedPolicyResult, BuiltInControl, ConditionalAccessPolicy, NamedLocation } from './types.ts';

const APP = 'a1b2c3d4-0000-0000-0000-00000000c0de';
const OTHER_APP = 'a1b2c3d4-0000-0000-0000-0000000000ff';
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const SALES = 'group-sales';
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

const alice: Subject = { userId: 'alice', groups: [SALES], roles: [], userType: 'member' };
const bob: Subject = { userId: 'bob', groups: [], roles: [], userType: 'member' };
const carol: Subject = { userId: 'carol', groups: [], roles: [], userType: 'guest' };
const dave: Subject = { userId: 'dave', groups: [], roles: [GLOBAL_ADMIN.toUpperCase()], userType: 'member' };
const erin: Subject = { userId: 'erin-breakglass', groups: [SALES], roles: [GLOBAL_ADMIN], userType: 'member' };

const HQ_V4 = '12.34.220.5'; // inside 12.34.221.11/22, Microsoft's own example of a range with host bits set
const HQ_V6 = '2001:db8:1::42';
const BRANCH = '198.51.100.20';
const ABROAD = '203.0.113.9';
const MFA_TRUSTED = '192.0.2.77';

const locations: NamedLocation[] = [
  {
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    id: 'loc-hq',
    displayName: 'Headquarters',
    isTrusted: true,
    ipRanges: [
      { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '12.34.221.11/22' },
      { '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '2001:db8:1::/48' },
    ],
  },
  {
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    id: 'loc-branch',
    displayName: 'Branch office',
    isTrusted: false,
    ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.0/24' }],
  },
  {
    '@odata.type': '#microsoft.graph.countryNamedLocation',
    id: 'loc-sanctioned',
    displayName: 'Sanctioned countries',
    countriesAndRegions: ['KP', 'IR'],
    includeUnknownCountriesAndRegions: false,
    countryLookupMethod: 'clientIpAddress',
  },
  {
    '@odata.type': '#microsoft.graph.countryNamedLocation',
    id: 'loc-unknown',
    displayName: 'Unknown countries',
    countriesAndRegions: ['AQ'],
    includeUnknownCountriesAndRegions: true,
    countryLookupMethod: 'clientIpAddress',
  },
];

type PolicyPatch = {
  id: string;
  state?: ConditionalAccessPolicy['state'];
  users?: Partial<ConditionalAccessPolicy['conditions']['users']>;
  applications?: Partial<ConditionalAccessPolicy['conditions']['applications']>;
  locations?: { includeLocations: string[]; excludeLocations?: string[] };
  clientAppTypes?: ConditionalAccessPolicy['conditions']['clientAppTypes'];
  platforms?: ConditionalAccessPolicy['conditions']['platforms'];
  signInRiskLevels?: ConditionalAccessPolicy['conditions']['signInRiskLevels'];
  grant?: BuiltInControl[];
  operator?: 'AND' | 'OR';
  session?: ConditionalAccessPolicy['sessionControls'];
};

function policy(p: PolicyPatch): ConditionalAccessPolicy {
  return {
    id: p.id,
    displayName: p.id,
    state: p.state ?? 'enabled',
    conditions: {
      users: {
        includeUsers: ['All'],
        excludeUsers: [],
        includeGroups: [],
        excludeGroups: [],
        includeRoles: [],
        excludeRoles: [],
        ...p.users,
      },
      applications: {
        includeApplications: ['All'],
        excludeApplications: [],
        includeUserActions: [],
        ...p.applications,
      },
      clientAppTypes: p.clientAppTypes ?? ['all'],
      locations: p.locations ? { excludeLocations: [], ...p.locations } : null,
      platforms: p.platforms ?? null,
      signInRiskLevels: p.signInRiskLevels ?? [],
      userRiskLevels: [],
    },
    grantControls: p.grant ? { operator: p.operator ?? 'OR', builtInControls: p.grant } : null,
    sessionControls: p.session ?? null,
  };
}

const blockOutsideTrusted = policy({
  id: 'block-outside-trusted',
  users: { excludeUsers: ['erin-breakglass'] },
  locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
  grant: ['block'],
});
/** Entra's "Strictly enforce location policies" on the usual location block. */
const strictBlockPatch: PolicyPatch = {
  id: 'block-outside-trusted',
  users: { excludeUsers: ['erin-breakglass'] },
  locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
  grant: ['block'],
  session: { continuousAccessEvaluation: { mode: 'strictLocation' } },
};
const strictBlockOutsideTrusted = policy(strictBlockPatch);
const mfaForAdmins = policy({
  id: 'mfa-for-admins',
  users: { includeUsers: [], includeRoles: [GLOBAL_ADMIN] },
  grant: ['mfa'],
});

const browser = (ip: string, extra: Partial<SignInRequest> = {}): SignInRequest => ({
  application: APP,
  ipAddress: ip,
  clientAppType: 'browser',
  devicePlatform: 'windows',
  signInRiskLevel: 'none',
  userRiskLevel: 'none',
  ...extra,
});

interface Case {
  name: string;
  policies: ConditionalAccessPolicy[];
  subject: Subject;
  request: SignInRequest;
  satisfied?: BuiltInControl[];
  countryOf?: CountryResolver;
  mfaTrustedIps?: string[];
  outcome: 'allow' | 'challenge' | 'block';
  errorCode?: number;
  missing?: BuiltInControl[];
  results?: Record<string, AppliedPolicyResult>;
  reasons?: Record<string, string[]>;
  session?: object;
}

const cases: Case[] = [
  { name: 'no policies: allowed', policies: [], subject: alice, request: browser(ABROAD), outcome: 'allow' },
  {
    name: 'alice at headquarters is inside a trusted location, so block-outside-trusted does not apply',
    policies: [blockOutsideTrusted],
    subject: alice,
    request: browser(HQ_V4),
    outcome: 'allow',
    results: { 'block-outside-trusted': 'notApplied' },
    reasons: { 'block-outside-trusted': ['location'] },
  },
  {
    name: 'alice at headquarters over IPv6 is inside the trusted location too',
    policies: [blockOutsideTrusted],
    subject: alice,
    request: browser(HQ_V6),
    outcome: 'allow',
  },
  {
    name: 'an IPv4-mapped IPv6 address is the IPv4 address',
    policies: [blockOutsideTrusted],
    subject: alice,
    request: browser(`::ffff:${HQ_V4}`),
    outcome: 'allow',
  },
  {
    name: 'bob abroad is blocked (53003)',
    policies: [blockOutsideTrusted],
    subject: bob,
    request: browser(ABROAD),
    outcome: 'block',
    errorCode: 53003,
    results: { 'block-outside-trusted': 'failure' },
    reasons: { 'block-outside-trusted': ['notSet'] },
  },
  {
    name: 'bob at the branch office is blocked: the branch is not trusted',
    policies: [blockOutsideTrusted],
    subject: bob,
    request: browser(BRANCH),
    outcome: 'block',
  },
  {
    name: 'erin, break-glass, is excluded: exclusion beats inclusion of All users',
    policies: [blockOutsideTrusted],
    subject: erin,
    request: browser(ABROAD),
    outcome: 'allow',
    results: { 'block-outside-trusted': 'notApplied' },
    reasons: { 'block-outside-trusted': ['users'] },
  },
  {
    name: 'a group inclusion loses to a user exclusion',
    policies: [
      policy({
        id: 'block-sales',
        users: { includeUsers: [], includeGroups: [SALES], excludeUsers: ['erin-breakglass'] },
        grant: ['block'],
      }),
    ],
    subject: erin,
    request: browser(HQ_V4),
    outcome: 'allow',
  },
  {
    name: 'a role exclusion beats a group inclusion',
    policies: [
      policy({
        id: 'block-sales',
        users: { includeUsers: [], includeGroups: [SALES], excludeRoles: [GLOBAL_ADMIN] },
        grant: ['block'],
      }),
    ],
    subject: erin,
    request: browser(HQ_V4),
    outcome: 'allow',
  },
  {
    name: 'dave the admin must do MFA (50076); role template ids compare case-insensitively',
    policies: [mfaForAdmins],
    subject: dave,
    request: browser(HQ_V4),
    outcome: 'challenge',
    errorCode: 50076,
    missing: ['mfa'],
    results: { 'mfa-for-admins': 'failure' },
  },
  {
    name: 'dave after MFA is allowed and the policy succeeds',
    policies: [mfaForAdmins],
    subject: dave,
    request: browser(HQ_V4),
    satisfied: ['mfa'],
    outcome: 'allow',
    results: { 'mfa-for-admins': 'success' },
  },
  {
    name: 'alice is no admin: the MFA policy does not apply to her',
    policies: [mfaForAdmins],
    subject: alice,
    request: browser(HQ_V4),
    outcome: 'allow',
    results: { 'mfa-for-admins': 'notApplied' },
    reasons: { 'mfa-for-admins': ['users'] },
  },
  {
    name: 'block wins over a satisfied MFA requirement',
    policies: [
      mfaForAdmins,
      {
        ...blockOutsideTrusted,
        conditions: {
          ...blockOutsideTrusted.conditions,
          users: { ...blockOutsideTrusted.conditions.users, excludeUsers: [] },
        },
      },
    ],
    subject: dave,
    request: browser(ABROAD),
    satisfied: ['mfa'],
    outcome: 'block',
    errorCode: 53003,
    results: { 'mfa-for-admins': 'success', 'block-outside-trusted': 'failure' },
  },
  {
    name: 'a report-only block is reported as reportOnlyFailure and does not block',
    policies: [policy({ id: 'ro-block', state: 'enabledForReportingButNotEnforced', grant: ['block'] })],
    subject: bob,
    request: browser(ABROAD),
    outcome: 'allow',
    results: { 'ro-block': 'reportOnlyFailure' },
  },
  {
    name: 'a report-only MFA policy would have interrupted the sign-in',
    policies: [policy({ id: 'ro-mfa', state: 'enabledForReportingButNotEnforced', grant: ['mfa'] })],
    subject: bob,
    request: browser(ABROAD),
    outcome: 'allow',
    results: { 'ro-mfa': 'reportOnlyInterrupted' },
  },
  {
    name: 'a report-only MFA policy after MFA is reportOnlySuccess',
    policies: [policy({ id: 'ro-mfa', state: 'enabledForReportingButNotEnforced', grant: ['mfa'] })],
    subject: bob,
    request: browser(ABROAD),
    satisfied: ['mfa'],
    outcome: 'allow',
    results: { 'ro-mfa': 'reportOnlySuccess' },
  },
  {
    name: 'a report-only policy that does not apply is reportOnlyNotApplied',
    policies: [
      policy({
        id: 'ro-guests',
        state: 'enabledForReportingButNotEnforced',
        users: { includeUsers: ['GuestsOrExternalUsers'] },
        grant: ['block'],
      }),
    ],
    subject: bob,
    request: browser(ABROAD),
    outcome: 'allow',
    results: { 'ro-guests': 'reportOnlyNotApplied' },
  },
  {
    name: 'a disabled policy never applies',
    policies: [policy({ id: 'off', state: 'disabled', grant: ['block'] })],
    subject: bob,
    request: browser(ABROAD),
    outcome: 'allow',
    results: { off: 'notEnabled' },
    reasons: { off: ['policyNotEnabled'] },
  },
  {
    name: 'guest carol is blocked by a guests-only policy',
    policies: [policy({ id: 'block-guests', users: { includeUsers: ['GuestsOrExternalUsers'] }, grant: ['block'] })],
    subject: carol,
    request: browser(HQ_V4),
    outcome: 'block',
  },
  {
    name: 'guests excluded from an All-users policy',
    policies: [
      policy({ id: 'block-all-but-guests', users: { excludeUsers: ['GuestsOrExternalUsers'] }, grant: ['block'] }),
    ],
    subject: carol,
    request: browser(HQ_V4),
    outcome: 'allow',
    reasons: { 'block-all-but-guests': ['users'] },
  },
  {
    name: 'None includes nobody',
    policies: [policy({ id: 'none', users: { includeUsers: ['None'] }, grant: ['block'] })],
    subject: alice,
    request: browser(ABROAD),
    outcome: 'allow',
  },
  {
    name: 'AllTrusted covers the MFA trusted IPs',
    policies: [blockOutsideTrusted],
    subject: bob,
    request: browser(MFA_TRUSTED),
    mfaTrustedIps: ['192.0.2.0/24'],
    outcome: 'allow',
  },
  {
    name: 'the MFA trusted IPs location id can be named directly',
    policies: [
      policy({
        id: 'block-mfa-ips',
        locations: { includeLocations: ['00000000-0000-0000-0000-000000000000'] },
        grant: ['block'],
      }),
    ],
    subject: bob,
    request: browser(MFA_TRUSTED),
    mfaTrustedIps: ['192.0.2.0/24'],
    outcome: 'block',
  },
  {
    name: 'a country location is never trusted, even when the country matches',
    policies: [
      policy({
        id: 'block-untrusted',
        locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
        grant: ['block'],
      }),
    ],
    subject: bob,
    request: browser(ABROAD, { country: 'AQ' }),
    outcome: 'block',
  },
  {
    name: 'a given country is used as is, even from a headquarters address',
    policies: [
      policy({ id: 'block-sanctioned', locations: { includeLocations: ['loc-sanctioned'] }, grant: ['block'] }),
    ],
    subject: alice,
    request: browser(HQ_V4, { country: 'kp' }),
    countryOf: () => 'US',
    outcome: 'block',
  },
  {
    name: 'without a given country, the country comes from the IP',
    policies: [
      policy({ id: 'block-sanctioned', locations: { includeLocations: ['loc-sanctioned'] }, grant: ['block'] }),
    ],
    subject: bob,
    request: browser(ABROAD),
    countryOf: (ip) => (formatIp(ip) === ABROAD ? 'IR' : undefined),
    outcome: 'block',
  },
  {
    name: 'an address with no known country matches a location that includes unknown countries',
    policies: [policy({ id: 'block-unknown', locations: { includeLocations: ['loc-unknown'] }, grant: ['block'] })],
    subject: bob,
    request: browser(ABROAD),
    countryOf: () => undefined,
    outcome: 'block',
  },
  {
    name: 'a known country does not match the unknown-countries location',
    policies: [policy({ id: 'block-unknown', locations: { includeLocations: ['loc-unknown'] }, grant: ['block'] })],
    subject: bob,
    request: browser(ABROAD),
    countryOf: () => 'FR',
    outcome: 'allow',
  },
  {
    name: 'legacy authentication: exchangeActiveSync is matched by easSupported',
    policies: [policy({ id: 'block-legacy', clientAppTypes: ['easSupported', 'other'], grant: ['block'] })],
    subject: bob,
    request: browser(HQ_V4, { clientAppType: 'exchangeActiveSync' }),
    outcome: 'block',
  },
  {
    name: 'legacy authentication policy leaves browsers alone',
    policies: [policy({ id: 'block-legacy', clientAppTypes: ['exchangeActiveSync', 'other'], grant: ['block'] })],
    subject: bob,
    request: browser(HQ_V4),
    outcome: 'allow',
    reasons: { 'block-legacy': ['clientApps'] },
  },
  {
    name: 'platforms: all but iOS includes an unknown platform',
    policies: [
      policy({
        id: 'block-odd',
        platforms: { includePlatforms: ['all'], excludePlatforms: ['iOS'] },
        grant: ['block'],
      }),
    ],
    subject: bob,
    request: browser(HQ_V4, { devicePlatform: 'unknown' }),
    outcome: 'block',
  },
  {
    name: 'platforms: an excluded platform is not matched',
    policies: [
      policy({
        id: 'block-odd',
        platforms: { includePlatforms: ['all'], excludePlatforms: ['iOS'] },
        grant: ['block'],
      }),
    ],
    subject: bob,
    request: browser(HQ_V4, { devicePlatform: 'iOS' }),
    outcome: 'allow',
    reasons: { 'block-odd': ['devicePlatform'] },
  },
  {
    name: 'sign-in risk: a high-risk-only policy ignores a low-risk sign-in',
    policies: [policy({ id: 'block-high-risk', signInRiskLevels: ['high'], grant: ['block'] })],
    subject: bob,
    request: browser(HQ_V4, { signInRiskLevel: 'low' }),
    outcome: 'allow',
    reasons: { 'block-high-risk': ['signInRisk'] },
  },
  {
    name: 'AND with a device control Portcullis cannot verify fails closed (53000)',
    policies: [policy({ id: 'mfa-and-compliant', grant: ['mfa', 'compliantDevice'], operator: 'AND' })],
    subject: bob,
    request: browser(HQ_V4),
    satisfied: ['mfa'],
    outcome: 'block',
    errorCode: 53000,
  },
  {
    name: 'OR with a device control can be satisfied with MFA',
    policies: [policy({ id: 'mfa-or-compliant', grant: ['mfa', 'compliantDevice'], operator: 'OR' })],
    subject: bob,
    request: browser(HQ_V4),
    outcome: 'challenge',
    missing: ['mfa'],
  },
  {
    name: 'session controls merge: the shortest sign-in frequency and never-persistent win',
    policies: [
      policy({
        id: 'sif-1-day',
        session: {
          signInFrequency: { isEnabled: true, type: 'days', value: 1, frequencyInterval: 'timeBased' },
          persistentBrowser: { isEnabled: true, mode: 'always' },
        },
      }),
      policy({
        id: 'sif-4-hours',
        session: {
          signInFrequency: { isEnabled: true, type: 'hours', value: 4, frequencyInterval: 'timeBased' },
          persistentBrowser: { isEnabled: true, mode: 'never' },
        },
      }),
      policy({
        id: 'sif-ro',
        state: 'enabledForReportingButNotEnforced',
        session: { signInFrequency: { isEnabled: true, frequencyInterval: 'everyTime' } },
      }),
    ],
    subject: bob,
    request: browser(HQ_V4),
    outcome: 'allow',
    session: { signInFrequencyMinutes: 240, persistentBrowser: 'never' },
    results: { 'sif-1-day': 'success', 'sif-4-hours': 'success', 'sif-ro': 'reportOnlySuccess' },
  },
  // Strict location enforcement (continuous access evaluation strictLocation / strictEnforcement): the gateway must
  // re-check location on every request while an enforced policy with a location condition has the user in scope.
  {
    name: 'strict location: alice at headquarters is let in, and her location must be re-checked on every request',
    policies: [strictBlockOutsideTrusted],
    subject: alice,
    request: browser(HQ_V4),
    outcome: 'allow',
    session: { strictLocation: true },
    results: { 'block-outside-trusted': 'notApplied' },
  },
  {
    name: 'strict location: alice abroad is blocked, and stays marked for re-checking',
    policies: [strictBlockOutsideTrusted],
    subject: alice,
    request: browser(ABROAD),
    outcome: 'block',
    errorCode: 53003,
    session: { strictLocation: true },
  },
  {
    name: 'strict location: a request with no address cannot be evaluated, and is still marked for re-checking',
    policies: [strictBlockOutsideTrusted],
    subject: alice,
    request: { ...browser(HQ_V4), ipAddress: undefined },
    outcome: 'allow',
    session: { strictLocation: true },
    reasons: { 'block-outside-trusted': ['notEnoughInformation', 'location'] },
  },
  {
    name: 'strict location: erin, the excluded break-glass account, is out of scope and not re-checked',
    policies: [strictBlockOutsideTrusted],
    subject: erin,
    request: browser(HQ_V4),
    outcome: 'allow',
    session: {},
  },
  {
    name: 'strict location: a policy for another application leaves this one unmarked',
    policies: [policy({ ...strictBlockPatch, applications: { includeApplications: [OTHER_APP] } })],
    subject: alice,
    request: browser(HQ_V4),
    outcome: 'allow',
    session: {},
  },
  {
    name: 'strict location: a report-only or disabled policy asks for nothing',
    policies: [
      policy({ ...strictBlockPatch, id: 'report-only', state: 'enabledForReportingButNotEnforced' }),
      policy({ ...strictBlockPatch, id: 'off', state: 'disabled' }),
    ],
    subject: alice,
    request: browser(HQ_V4),
    outcome: 'allow',
    session: {},
  },
  {
    name: "strict location: 'strictEnforcement' asks for it too (its location part is the same)",
    policies: [policy({ ...strictBlockPatch, session: { continuousAccessEvaluation: { mode: 'strictEnforcement' } } })],
    subject: alice,
    request: browser(HQ_V4),
    outcome: 'allow',
    session: { strictLocation: true },
  },
  {
    name: "strict location: mode 'disabled' on a location policy marks nothing",
    policies: [policy({ ...strictBlockPatch, session: { continuousAccessEvaluation: { mode: 'disabled' } } })],
    subject: alice,
    request: browser(HQ_V4),
    outcome: 'allow',
    session: {},
  },
  {
    name: 'strict location: a policy without a location condition has nothing to re-check',
    policies: [
      policy({
        id: 'mfa-strict',
        users: { includeUsers: [], includeRoles: [GLOBAL_ADMIN] },
        grant: ['mfa'],
        session: { continuousAccessEvaluation: { mode: 'strictLocation' } },
      }),
    ],
    subject: dave,
    request: browser(HQ_V4),
    satisfied: ['mfa'],
    outcome: 'allow',
    session: {},
  },
  {
    name: 'strict location merges with the other session controls',
    policies: [
      strictBlockOutsideTrusted,
      policy({
        id: 'sif-8-hours',
        session: { signInFrequency: { isEnabled: true, type: 'hours', value: 8, frequencyInterval: 'timeBased' } },
      }),
    ],
    subject: alice,
    request: browser(HQ_V4),
    outcome: 'allow',
    session: { signInFrequencyMinutes: 480, strictLocation: true },
  },
  {
    name: 'a user-action policy applies to registering security info',
    policies: [
      policy({
        id: 'mfa-register',
        applications: { includeApplications: [], includeUserActions: ['urn:user:registersecurityinfo'] },
        grant: ['mfa'],
      }),
    ],
    subject: bob,
    request: { ...browser(ABROAD), application: undefined, userAction: 'urn:user:registersecurityinfo' },
    outcome: 'challenge',
  },
  {
    name: 'a user-action policy does not apply to an application sign-in',
    policies: [
      policy({
        id: 'mfa-register',
        applications: { includeApplications: [], includeUserActions: ['urn:user:registersecurityinfo'] },
        grant: ['mfa'],
      }),
    ],
    subject: bob,
    request: browser(ABROAD),
    outcome: 'allow',
    reasons: { 'mfa-register': ['application'] },
  },
  {
    name: 'an All-applications policy does not apply to a user action',
    policies: [policy({ id: 'block-all-apps', grant: ['block'] })],
    subject: bob,
    request: { ...browser(ABROAD), application: undefined, userAction: 'urn:user:registersecurityinfo' },
    outcome: 'allow',
    reasons: { 'block-all-apps': ['userActions'] },
  },
  {
    name: 'an excluded application is not matched by All',
    policies: [
      policy({ id: 'block-but-app', applications: { excludeApplications: [APP.toUpperCase()] }, grant: ['block'] }),
    ],
    subject: bob,
    request: browser(ABROAD),
    outcome: 'allow',
    reasons: { 'block-but-app': ['application'] },
  },
  {
    name: 'a policy for one application does not apply to another',
    policies: [policy({ id: 'block-other', applications: { includeApplications: [OTHER_APP] }, grant: ['block'] })],
    subject: bob,
    request: browser(ABROAD),
    outcome: 'allow',
  },
  {
    name: 'a location policy without an IP address cannot be evaluated',
    policies: [blockOutsideTrusted],
    subject: bob,
    request: { ...browser(ABROAD), ipAddress: undefined },
    outcome: 'allow',
    reasons: { 'block-outside-trusted': ['notEnoughInformation', 'location'] },
  },
  {
    name: 'several failing conditions are all reported',
    policies: [
      policy({
        id: 'narrow',
        users: { includeUsers: ['GuestsOrExternalUsers'] },
        clientAppTypes: ['other'],
        grant: ['block'],
      }),
    ],
    subject: bob,
    request: browser(ABROAD),
    outcome: 'allow',
    reasons: { narrow: ['users', 'clientApps'] },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const set = compilePolicySet(locations, c.policies, { mfaTrustedIps: c.mfaTrustedIps, countryOf: c.countryOf });
    const { decision, policies } = evaluate(set, c.subject, c.request, c.satisfied ?? [], NOW);
    assert.equal(
      decision.outcome,
      c.outcome,
      JSON.stringify(
        policies.map((p) => [p.id, p.conditions]),
        null,
        1,
      ),
    );
    assert.equal(decision.blocked, c.outcome === 'block');
    assert.equal(decision.errorCode, c.errorCode ?? (c.outcome === 'allow' ? undefined : decision.errorCode));
    if (c.missing) assert.deepEqual(decision.missingControls, c.missing);
    if (c.session) assert.deepEqual(decision.sessionControls, c.session);
    for (const [id, want] of Object.entries(c.results ?? {})) {
      assert.equal(policies.find((p) => p.id === id)?.result, want, `result of ${id}`);
    }
    for (const [id, want] of Object.entries(c.reasons ?? {})) {
      assert.deepEqual(policies.find((p) => p.id === id)?.analysisReasons, want, `analysisReasons of ${id}`);
    }
    assert.equal(decision.evaluatedAt, new Date(NOW).toISOString());
  });
}

test('each policy result names every condition with its outcome and a reason', () => {
  const set = compilePolicySet(locations, [blockOutsideTrusted]);
  const [result] = evaluate(set, bob, browser(ABROAD), [], NOW).policies;
  assert.deepEqual(
    result.conditions.map((c) => [c.condition, c.outcome]),
    [
      ['users', 'matched'],
      ['application', 'matched'],
      ['devicePlatform', 'notConfigured'],
      ['clientApps', 'notConfigured'],
      ['location', 'matched'],
      ['signInRisk', 'notConfigured'],
      ['userRisk', 'notConfigured'],
    ],
  );
  assert.match(result.conditions[4].reason, /any location/);
  const atHq = evaluate(set, alice, browser(HQ_V4), [], NOW).policies[0];
  assert.equal(atHq.conditions[4].reason, 'excluded: the address is in a trusted location');
  assert.deepEqual(atHq.enforcedGrantControls, []);
});

test('an unparsable IP address in the request is an input error naming it', () => {
  const set = compilePolicySet(locations, [blockOutsideTrusted]);
  assert.throws(
    () => evaluate(set, bob, browser('10.0.0.300'), [], NOW),
    /ipAddress '10.0.0.300' is not a valid IP address/,
  );
});

test('a policy naming a location that does not exist does not compile', () => {
  assert.throws(
    () =>
      compilePolicySet(locations, [policy({ id: 'x', locations: { includeLocations: ['nope'] }, grant: ['block'] })]),
    /includeLocations names location 'nope', which does not exist/,
  );
});

test('the compiled set is immutable', () => {
  const set = compilePolicySet(locations, [blockOutsideTrusted]);
  assert.ok(Object.isFrozen(set));
  assert.ok(Object.isFrozen(set.policies));
  assert.ok(Object.isFrozen(set.policies[0]));
});
