// The bitset evaluator checked against a naive one that reads the Graph JSON directly (a linear scan over CIDRs, list
// membership for every condition), on random tenants of up to 70 policies — so the policy bitsets span three 32-bit
// words — and random requests, some of them missing signals, from addresses in up to four nested locations (so both
// the ORed and the cached location entries are used). Both the decision and every policy's result must agree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cidrContains, parseCidr } from '../net/cidr.ts';
import { type Ip, parseIp } from '../net/ip.ts';
import { type CountryResolver, compilePolicySet } from './compile.ts';
import {
  CONDITIONS,
  type ConditionName,
  type ConditionOutcome,
  type Decision,
  evaluate,
  SATISFIABLE_CONTROLS,
  type SignInRequest,
  type Subject,
} from './evaluate.ts';
import {
  type AppliedPolicyResult,
  BUILT_IN_CONTROLS,
  type BuiltInControl,
  CLIENT_APP_TYPES,
  type ClientAppType,
  CONTINUOUS_ACCESS_EVALUATION_MODES,
  type ConditionalAccessPolicy,
  DEVICE_PLATFORMS,
  MFA_TRUSTED_IPS_LOCATION_ID,
  type NamedLocation,
  RISK_LEVELS,
  USER_ACTIONS,
  type WhatIfAnalysisReason,
} from './types.ts';

const USERS = ['alice', 'bob', 'carol'];
const GROUPS = ['group-sales', 'group-ops', 'group-eng', 'group-everyone'];
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const SECURITY_ADMIN = '194ae4cb-b126-40b2-bd5b-6091b380977d';
const ROLES = [GLOBAL_ADMIN, GLOBAL_ADMIN.toUpperCase(), SECURITY_ADMIN];
const APPS = ['app-mail', 'APP-CRM', 'app-wiki'];
const MFA_TRUSTED_IPS = ['192.0.2.128/25'];
const NOW = Date.UTC(2026, 10, 23, 9, 30, 15, 250);

const ip = (id: string, isTrusted: boolean, ranges: string[]): NamedLocation => ({
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  id,
  displayName: id,
  isTrusted,
  ipRanges: ranges.map((cidrAddress) => ({
    '@odata.type': cidrAddress.includes(':') ? '#microsoft.graph.iPv6CidrRange' : '#microsoft.graph.iPv4CidrRange',
    cidrAddress,
  })),
});
const countries = (
  id: string,
  list: string[],
  includeUnknown: boolean,
  countryLookupMethod: 'clientIpAddress' | 'authenticatorAppGps' = 'clientIpAddress',
): NamedLocation => ({
  '@odata.type': '#microsoft.graph.countryNamedLocation',
  id,
  displayName: id,
  countriesAndRegions: list,
  includeUnknownCountriesAndRegions: includeUnknown,
  countryLookupMethod,
});

const LOCATIONS: NamedLocation[] = [
  ip('loc-hq', true, ['10.1.0.0/16', '2001:db8:1::/48']),
  ip('loc-branch', false, ['10.1.2.0/24', '192.0.2.0/24']),
  ip('loc-lab', false, ['10.2.0.0/16']),
  ip('loc-vpn', true, ['2001:db8:2::/48']),
  // Nested inside the branch: 10.1.2.3 is in four locations at once, 10.1.2.100 in three.
  ip('loc-floor', false, ['10.1.2.0/25']),
  ip('loc-desk', false, ['10.1.2.0/28', '2001:db8:1:1::/64']),
  countries('loc-sanctioned', ['KP', 'ir'], false),
  countries('loc-unknown', ['AQ'], true),
  countries('loc-gps', ['FR'], true, 'authenticatorAppGps'),
];
const LOCATION_IDS = [...LOCATIONS.map((l) => l.id), MFA_TRUSTED_IPS_LOCATION_ID];
const ADDRESSES = [
  '10.1.2.3',
  '10.1.2.100',
  '10.1.9.9',
  '2001:db8:1:1::7',
  '10.2.0.1',
  '192.0.2.1',
  '192.0.2.200',
  '203.0.113.5',
  '2001:db8:1::5',
  '2001:db8:2::1',
  '2001:db8:3::1',
  '::ffff:10.1.2.3',
];
/** A stand-in for geo/: some addresses have a country, some are unknown. */
const countryOf: CountryResolver = (address) => {
  if (address.family === 6) return address.value >> 80n === 0x20010db80001n ? 'AQ' : undefined;
  const a = address.value >>> 16;
  return a === 0x0a01 ? 'FR' : a === 0x0a02 ? 'KP' : a === 0xcb00 ? 'US' : undefined;
};

// ---------------------------------------------------------------------------------------------------------------
// The naive evaluator, straight from Entra's documented semantics over the Graph JSON.

type Outcome = ConditionOutcome;
const lower = (list: readonly string[]) => list.map((v) => v.toLowerCase());
const specialUser = (id: string) => ['all', 'none', 'guestsorexternalusers'].includes(id.toLowerCase());
const specialApp = (id: string) => ['all', 'none'].includes(id.toLowerCase());

interface Signals {
  ip: Ip | undefined;
  country: string | undefined;
  trusted: boolean;
}

function inLocation(id: string, s: Signals): boolean {
  if (id === MFA_TRUSTED_IPS_LOCATION_ID) return s.ip !== undefined && inRanges(MFA_TRUSTED_IPS, s.ip);
  const location = LOCATIONS.find((l) => l.id === id)!;
  if (location['@odata.type'] === '#microsoft.graph.ipNamedLocation') {
    return (
      s.ip !== undefined &&
      inRanges(
        location.ipRanges.map((r) => r.cidrAddress),
        s.ip,
      )
    );
  }
  if (s.country === undefined) return false;
  if (s.country === '' && location.includeUnknownCountriesAndRegions) return true;
  // There is no GPS signal: a GPS country location only ever matches an unknown country.
  if (location.countryLookupMethod === 'authenticatorAppGps') return false;
  return location.countriesAndRegions.map((c) => c.toUpperCase()).includes(s.country);
}

function inRanges(ranges: readonly string[], address: Ip): boolean {
  return ranges.some((r) => cidrContains(parseCidr(r), address));
}

function isCountry(id: string): boolean {
  return LOCATIONS.find((l) => l.id === id)?.['@odata.type'] === '#microsoft.graph.countryNamedLocation';
}

function naiveCondition(
  condition: ConditionName,
  p: ConditionalAccessPolicy,
  subject: Subject,
  r: SignInRequest,
  s: Signals,
): Outcome {
  const c = p.conditions;
  const guest = subject.userType === 'guest';
  switch (condition) {
    case 'users': {
      const u = c.users;
      const excluded =
        u.excludeUsers.some((id) => !specialUser(id) && id === subject.userId) ||
        subject.groups.some((g) => u.excludeGroups.includes(g)) ||
        subject.roles.some((role) => lower(u.excludeRoles).includes(role.toLowerCase())) ||
        (guest && lower(u.excludeUsers).includes('guestsorexternalusers'));
      if (excluded) return 'notMatched';
      if (lower(u.includeUsers).includes('none')) return 'notMatched';
      const included =
        lower(u.includeUsers).includes('all') ||
        u.includeUsers.some((id) => !specialUser(id) && id === subject.userId) ||
        subject.groups.some((g) => u.includeGroups.includes(g)) ||
        subject.roles.some((role) => lower(u.includeRoles).includes(role.toLowerCase())) ||
        (guest && lower(u.includeUsers).includes('guestsorexternalusers'));
      return included ? 'matched' : 'notMatched';
    }
    case 'application': {
      const a = c.applications;
      if (r.application !== undefined) {
        const app = r.application.toLowerCase();
        if (a.excludeApplications.some((id) => !specialApp(id) && id.toLowerCase() === app)) return 'notMatched';
        if (lower(a.includeApplications).includes('none')) return 'notMatched';
        const included =
          lower(a.includeApplications).includes('all') ||
          a.includeApplications.some((id) => !specialApp(id) && id.toLowerCase() === app);
        return included ? 'matched' : 'notMatched';
      }
      if (r.userAction !== undefined) {
        return lower(a.includeUserActions).includes(r.userAction.toLowerCase()) ? 'matched' : 'notMatched';
      }
      return 'notEnoughInformation';
    }
    case 'devicePlatform': {
      const include = c.platforms?.includePlatforms ?? [];
      if (include.length === 0) return 'notConfigured';
      const platform = r.devicePlatform;
      if (platform === undefined) return 'notEnoughInformation';
      const excluded = (c.platforms?.excludePlatforms ?? []).some((x) => x === platform);
      const included = include.some((x) => x === 'all' || x === platform);
      return included && !excluded ? 'matched' : 'notMatched';
    }
    case 'clientApps': {
      const types = c.clientAppTypes;
      if (types.length === 0 || types.includes('all')) return 'notConfigured';
      const t = r.clientAppType;
      if (t === undefined) return 'notEnoughInformation';
      if (t === 'all') return 'matched';
      const eas = t === 'exchangeActiveSync' || t === 'easSupported';
      const hit = eas ? types.includes('exchangeActiveSync') || types.includes('easSupported') : types.includes(t);
      return hit ? 'matched' : 'notMatched';
    }
    case 'location': {
      const include = c.locations?.includeLocations ?? [];
      const exclude = c.locations?.excludeLocations ?? [];
      if (include.length === 0 && exclude.length === 0) return 'notConfigured';
      const includeAny = include.length === 0 || lower(include).includes('all');
      const includeTrusted = lower(include).includes('alltrusted');
      const excludeAny = lower(exclude).includes('all');
      const excludeTrusted = lower(exclude).includes('alltrusted');
      const named = (list: string[]) => list.filter((id) => !['all', 'alltrusted'].includes(id.toLowerCase()));
      const used = [...named(include), ...named(exclude)];
      const needIp = includeTrusted || excludeTrusted || used.some((id) => !isCountry(id));
      const needCountry = used.some(isCountry);
      if ((needIp && !s.ip) || (needCountry && s.country === undefined)) {
        return includeAny && named(exclude).length === 0 && !excludeTrusted ? 'matched' : 'notEnoughInformation';
      }
      if (excludeAny || (excludeTrusted && s.trusted) || named(exclude).some((id) => inLocation(id, s))) {
        return 'notMatched';
      }
      if (includeAny || (includeTrusted && s.trusted) || named(include).some((id) => inLocation(id, s))) {
        return 'matched';
      }
      return 'notMatched';
    }
    case 'signInRisk':
    case 'userRisk': {
      const levels = condition === 'signInRisk' ? c.signInRiskLevels : c.userRiskLevels;
      if (levels.length === 0) return 'notConfigured';
      const level = condition === 'signInRisk' ? r.signInRiskLevel : r.userRiskLevel;
      if (level === undefined) return 'notEnoughInformation';
      return levels.includes(level) ? 'matched' : 'notMatched';
    }
  }
}

interface NaivePolicy {
  applies: boolean;
  result: AppliedPolicyResult;
  outcomes: Outcome[];
  analysisReasons: WhatIfAnalysisReason[];
}

function naiveEvaluate(
  policies: readonly ConditionalAccessPolicy[],
  subject: Subject,
  r: SignInRequest,
  satisfied: readonly BuiltInControl[],
  withGeo: boolean,
): { decision: Decision; policies: NaivePolicy[] } {
  const address = typeof r.ipAddress === 'string' ? parseIp(r.ipAddress) : r.ipAddress;
  const country =
    r.country !== undefined ? r.country.toUpperCase() : address && withGeo ? (countryOf(address) ?? '') : undefined;
  const trusted =
    address !== undefined &&
    (inRanges(MFA_TRUSTED_IPS, address) ||
      LOCATIONS.some(
        (l) =>
          l['@odata.type'] === '#microsoft.graph.ipNamedLocation' &&
          l.isTrusted &&
          inRanges(
            l.ipRanges.map((x) => x.cidrAddress),
            address,
          ),
      ));
  const s: Signals = { ip: address, country, trusted };

  const blockedBy: string[] = [];
  const grantRequirements: Decision['grantRequirements'][number][] = [];
  const missing: BuiltInControl[] = [];
  const notEnoughInformation: string[] = [];
  let blockedByControl = false;
  const frequencies: number[] = [];
  const modes: string[] = [];
  let strictLocation = false;
  const results: NaivePolicy[] = [];

  for (const p of policies) {
    const outcomes = CONDITIONS.map((c) => naiveCondition(c, p, subject, r, s));
    const failed = outcomes.includes('notMatched');
    const lacking = !failed && outcomes.includes('notEnoughInformation');
    const disabled = p.state === 'disabled';
    const applies = !disabled && !failed && !lacking;
    const enforced = p.state === 'enabled';
    const controls = p.grantControls?.builtInControls ?? [];
    const grant = BUILT_IN_CONTROLS.filter((c) => c !== 'block' && controls.includes(c));
    const and = p.grantControls?.operator === 'AND';
    const ok = and ? grant.every((c) => satisfied.includes(c)) : grant.some((c) => satisfied.includes(c));
    const askable = grant.filter((c) => SATISFIABLE_CONTROLS.includes(c));
    const canAsk = askable.length > 0 && (!and || askable.length === grant.length);
    if (enforced && lacking) notEnoughInformation.push(p.id);
    // Strict location enforcement: an enforced policy with a location condition that asks for it, in scope by every
    // other condition, whatever its location condition says now.
    const mode = p.sessionControls?.continuousAccessEvaluation?.mode;
    const hasLocationCondition =
      (p.conditions.locations?.includeLocations.length ?? 0) + (p.conditions.locations?.excludeLocations.length ?? 0) >
      0;
    const inScope = CONDITIONS.every((c, k) => c === 'location' || outcomes[k] !== 'notMatched');
    if (enforced && hasLocationCondition && (mode === 'strictLocation' || mode === 'strictEnforcement') && inScope) {
      strictLocation = true;
    }
    if (enforced && applies) {
      if (controls.includes('block')) {
        blockedBy.push(p.id);
        blockedByControl = true;
      } else {
        if (grant.length > 0) {
          grantRequirements.push({
            policyId: p.id,
            displayName: p.displayName,
            operator: and ? 'AND' : 'OR',
            builtInControls: grant,
            satisfied: ok,
          });
          if (!ok && !canAsk) blockedBy.push(p.id);
          if (!ok && canAsk) for (const c of askable) if (!missing.includes(c)) missing.push(c);
        }
        const f = p.sessionControls?.signInFrequency;
        if (f?.isEnabled && f.frequencyInterval === 'everyTime') frequencies.push(0);
        else if (f?.isEnabled && f.value && f.type) frequencies.push(f.value * (f.type === 'days' ? 1440 : 60));
        const pb = p.sessionControls?.persistentBrowser;
        if (pb?.isEnabled) modes.push(pb.mode === 'never' ? 'never' : 'always');
      }
    }

    const reportOnly = p.state === 'enabledForReportingButNotEnforced';
    let result: AppliedPolicyResult;
    if (disabled) result = 'notEnabled';
    else if (!applies) result = reportOnly ? 'reportOnlyNotApplied' : 'notApplied';
    else if (controls.includes('block')) result = reportOnly ? 'reportOnlyFailure' : 'failure';
    else if (grant.length === 0 || ok) result = reportOnly ? 'reportOnlySuccess' : 'success';
    else if (!reportOnly) result = 'failure';
    else result = canAsk ? 'reportOnlyInterrupted' : 'reportOnlyFailure';

    const reason = (c: ConditionName): WhatIfAnalysisReason =>
      c === 'application' && r.userAction !== undefined ? 'userActions' : c;
    const named = (o: Outcome) => CONDITIONS.filter((_, k) => outcomes[k] === o).map(reason);
    const analysisReasons: WhatIfAnalysisReason[] = disabled
      ? ['policyNotEnabled']
      : applies
        ? ['notSet']
        : failed
          ? named('notMatched')
          : ['notEnoughInformation', ...named('notEnoughInformation')];
    results.push({ applies, result, outcomes, analysisReasons });
  }

  const blocked = blockedBy.length > 0;
  const outcome = blocked ? 'block' : missing.length > 0 ? 'challenge' : 'allow';
  const sessionControls: Decision['sessionControls'] = {
    ...(frequencies.length > 0 ? { signInFrequencyMinutes: Math.min(...frequencies) } : {}),
    ...(modes.length > 0 ? { persistentBrowser: modes.includes('never') ? 'never' : 'always' } : {}),
    ...(strictLocation ? { strictLocation: true as const } : {}),
  };
  const decision: Decision = {
    outcome,
    blocked,
    blockedBy,
    ...(blocked
      ? { errorCode: blockedByControl ? 53003 : 53000 }
      : outcome === 'challenge'
        ? { errorCode: 50076 }
        : {}),
    grantRequirements,
    missingControls: blocked ? [] : missing,
    sessionControls,
    notEnoughInformation,
    evaluatedAt: new Date(NOW).toISOString(),
  };
  return { decision, policies: results };
}

// ---------------------------------------------------------------------------------------------------------------
// Random tenants and requests.

const some = <T>(values: readonly T[]) => fc.subarray([...values], { minLength: 0 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });

const policyArb = (index: number): fc.Arbitrary<ConditionalAccessPolicy> =>
  fc
    .record({
      state: fc.constantFrom('enabled', 'enabled', 'disabled', 'enabledForReportingButNotEnforced'),
      includeUsers: fc.oneof(
        some(USERS),
        fc.constantFrom<string[]>(['All'], ['all'], ['None'], ['GuestsOrExternalUsers'], ['All', 'alice']),
      ),
      excludeUsers: some(['GuestsOrExternalUsers', ...USERS]),
      includeGroups: some(GROUPS),
      excludeGroups: fc.oneof(fc.constant<never[]>([]), some(GROUPS)),
      includeRoles: some(ROLES),
      excludeRoles: fc.oneof(fc.constant<never[]>([]), some(ROLES)),
      includeApplications: fc.oneof(
        some([...APPS, 'App-Mail']),
        fc.constantFrom<string[]>(['All'], ['None'], ['all', 'app-wiki']),
      ),
      excludeApplications: fc.oneof(fc.constant<never[]>([]), some(APPS)),
      includeUserActions: fc.oneof(fc.constant<never[]>([]), some([...USER_ACTIONS, 'URN:USER:REGISTERDEVICE'])),
      clientAppTypes: fc.oneof(fc.constant<ClientAppType[]>(['all']), some(CLIENT_APP_TYPES)),
      locations: maybe(
        fc.record({
          includeLocations: fc.oneof(some(['All', 'AllTrusted', ...LOCATION_IDS]), fc.constant<string[]>(['All'])),
          excludeLocations: fc.oneof(fc.constant<never[]>([]), some(['AllTrusted', 'all', ...LOCATION_IDS])),
        }),
      ),
      platforms: maybe(
        fc.record({ includePlatforms: some(DEVICE_PLATFORMS), excludePlatforms: some(DEVICE_PLATFORMS) }),
      ),
      signInRiskLevels: fc.oneof(fc.constant<never[]>([]), some(RISK_LEVELS)),
      userRiskLevels: fc.oneof(fc.constant<never[]>([]), some(RISK_LEVELS)),
      grant: maybe(
        fc.record({
          operator: fc.constantFrom('AND' as const, 'OR' as const),
          builtInControls: some(BUILT_IN_CONTROLS),
        }),
      ),
      frequency: maybe(
        fc.oneof(
          fc.constant({ isEnabled: true, frequencyInterval: 'everyTime' as const }),
          fc.record({
            isEnabled: fc.boolean(),
            type: fc.constantFrom('hours' as const, 'days' as const),
            value: fc.integer({ min: 1, max: 30 }),
            frequencyInterval: fc.constant('timeBased' as const),
          }),
        ),
      ),
      persistent: maybe(
        fc.record({ isEnabled: fc.boolean(), mode: fc.constantFrom('always' as const, 'never' as const) }),
      ),
      cae: maybe(fc.constantFrom(...CONTINUOUS_ACCESS_EVALUATION_MODES)),
    })
    .map(
      (p): ConditionalAccessPolicy => ({
        id: `policy-${index}`,
        displayName: `Policy ${index}`,
        state: p.state,
        conditions: {
          users: {
            includeUsers: p.includeUsers,
            excludeUsers: p.excludeUsers,
            includeGroups: p.includeGroups,
            excludeGroups: p.excludeGroups,
            includeRoles: p.includeRoles,
            excludeRoles: p.excludeRoles,
          },
          applications: {
            includeApplications: p.includeApplications,
            excludeApplications: p.excludeApplications,
            includeUserActions: p.includeUserActions,
          },
          clientAppTypes: p.clientAppTypes,
          locations: p.locations ?? null,
          platforms: p.platforms ?? null,
          signInRiskLevels: p.signInRiskLevels,
          userRiskLevels: p.userRiskLevels,
        },
        grantControls: p.grant ?? null,
        sessionControls:
          p.frequency || p.persistent || p.cae
            ? {
                signInFrequency: p.frequency ?? null,
                persistentBrowser: p.persistent ?? null,
                continuousAccessEvaluation: p.cae ? { mode: p.cae } : null,
              }
            : null,
      }),
    );

const tenantArb = fc
  .integer({ min: 0, max: 70 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => policyArb(i))))
  .map((policies) => policies as ConditionalAccessPolicy[]);

const subjectArb: fc.Arbitrary<Subject> = fc.record({
  userId: fc.constantFrom(...USERS, 'dave'),
  groups: some(GROUPS),
  roles: fc.oneof(fc.constant<never[]>([]), some(ROLES)),
  userType: fc.constantFrom('member' as const, 'member' as const, 'guest' as const),
});

const requestArb: fc.Arbitrary<SignInRequest> = fc
  .record({
    target: fc.oneof(
      fc.constantFrom(...APPS, 'app-mail', 'APP-WIKI', 'app-unknown').map((application) => ({ application })),
      fc.constantFrom(...USER_ACTIONS, 'urn:user:RegisterSecurityInfo').map((userAction) => ({ userAction })),
      fc.constant({}),
    ),
    ipAddress: maybe(fc.constantFrom(...ADDRESSES)),
    country: fc.option(fc.constantFrom('KP', 'ir', 'AQ', 'FR', 'US', ''), { nil: undefined, freq: 1 }),
    clientAppType: maybe(fc.constantFrom(...CLIENT_APP_TYPES)),
    devicePlatform: maybe(fc.constantFrom(...DEVICE_PLATFORMS, 'unknown' as const)),
    signInRiskLevel: maybe(fc.constantFrom(...RISK_LEVELS)),
    userRiskLevel: maybe(fc.constantFrom(...RISK_LEVELS)),
  })
  .map(({ target, ...rest }) => {
    const request: Record<string, unknown> = { ...target };
    // Absent signals are absent keys, as the HTTP layer builds them.
    for (const [key, value] of Object.entries(rest)) if (value !== undefined) request[key] = value;
    return request as SignInRequest;
  });

const casesArb = fc.array(fc.tuple(subjectArb, requestArb, some(BUILT_IN_CONTROLS)), { minLength: 1, maxLength: 8 });

test('the bitset evaluator agrees with a naive evaluation of the Graph JSON, decision and every policy', () => {
  fc.assert(
    fc.property(tenantArb, fc.boolean(), casesArb, (policies, withGeo, cases) => {
      const set = compilePolicySet(LOCATIONS, policies, {
        mfaTrustedIps: MFA_TRUSTED_IPS,
        ...(withGeo ? { countryOf } : {}),
      });
      // All evaluations first, then their details: each must describe its own request, not the last one's.
      const evaluations = cases.map(([subject, request, satisfied]) => evaluate(set, subject, request, satisfied, NOW));
      cases.forEach(([subject, request, satisfied], k) => {
        const expected = naiveEvaluate(policies, subject, request, satisfied, withGeo);
        const actual = evaluations[k];
        assert.deepStrictEqual(actual.decision, expected.decision);
        assert.deepStrictEqual(
          actual.policies.map((p) => ({
            applies: p.applies,
            result: p.result,
            outcomes: p.conditions.map((c) => c.outcome),
            analysisReasons: p.analysisReasons,
          })),
          expected.policies,
        );
      });
    }),
    { numRuns: 400 },
  );
});
