// Compiles a tenant's named locations and Conditional Access policies into an immutable, query-ready set:
// locations become one prefix index, policies become flags, bit masks and inverted indexes, so that evaluating a
// request costs a few word operations over every policy at once instead of walking the Graph JSON.
import { parseCidr } from '../net/cidr.ts';
import type { Ip } from '../net/ip.ts';
import { type PrefixSet, PrefixSetBuilder } from '../net/prefix-set.ts';
import { buildConditionBits, type ConditionBits, ListedBitsBuilder, wordsFor } from './condition-bits.ts';
import {
  BUILT_IN_CONTROLS,
  type BuiltInControl,
  CLIENT_APP_TYPES,
  type ConditionalAccessPolicy,
  DEVICE_PLATFORMS,
  type GrantOperator,
  MFA_TRUSTED_IPS_LOCATION_ID,
  type NamedLocation,
  type PolicyState,
  RISK_LEVELS,
  STRICT_LOCATION_MODES,
} from './types.ts';

/** Resolves an address to an ISO 3166-1 alpha-2 country, or undefined when unknown (geo/ provides one). */
export type CountryResolver = (ip: Ip) => string | undefined;

export interface CompileOptions {
  /** The tenant's "MFA trusted IPs" (the location id 00000000-0000-0000-0000-000000000000), as CIDR strings. */
  mfaTrustedIps?: readonly string[];
  /** IP → country for country locations when a request carries no country of its own. */
  countryOf?: CountryResolver;
}

export interface CompiledLocation {
  readonly index: number;
  readonly id: string;
  readonly displayName: string;
  readonly kind: 'ip' | 'country' | 'mfaTrustedIps';
  readonly trusted: boolean;
  /** Country locations whose lookup method is GPS from the Authenticator app: Portcullis has no GPS signal. */
  readonly needsGps: boolean;
}

/** Bit positions for the multi-valued conditions. */
export const CLIENT_APP_BIT: Readonly<Record<string, number>> = bits(CLIENT_APP_TYPES);
export const PLATFORM_BIT: Readonly<Record<string, number>> = bits([...DEVICE_PLATFORMS, 'unknown']);
export const RISK_BIT: Readonly<Record<string, number>> = bits(RISK_LEVELS);
export const CONTROL_BIT: Readonly<Record<string, number>> = bits(BUILT_IN_CONTROLS);

/** Controls Portcullis itself can satisfy during sign-in; the device and app controls need an MDM it does not have. */
export const SATISFIABLE_CONTROLS: readonly BuiltInControl[] = ['mfa', 'passwordChange'];
const SATISFIABLE_MASK = SATISFIABLE_CONTROLS.reduce((m, c) => m | (1 << CONTROL_BIT[c]), 0);

/** One enforced policy's grant controls in a decision, and whether the request already satisfies them. */
export interface GrantRequirement {
  readonly policyId: string;
  readonly displayName: string;
  readonly operator: GrantOperator;
  readonly builtInControls: readonly BuiltInControl[];
  readonly satisfied: boolean;
}

export const STATE_ENABLED = 0;
export const STATE_DISABLED = 1;
export const STATE_REPORT_ONLY = 2;
const STATE_CODE: Record<PolicyState, number> = {
  enabled: STATE_ENABLED,
  disabled: STATE_DISABLED,
  enabledForReportingButNotEnforced: STATE_REPORT_ONLY,
};

export interface CompiledPolicy {
  readonly index: number;
  readonly source: ConditionalAccessPolicy;
  readonly state: number;
  // users
  readonly includeAllUsers: boolean;
  readonly includeGuests: boolean;
  readonly excludeGuests: boolean;
  // applications (inverted indexes hold the ids; these flags hold the special values)
  readonly includeAllApps: boolean;
  readonly targetsUserActions: boolean;
  // locations
  readonly locationsConfigured: boolean;
  readonly includeAnyLocation: boolean;
  readonly includeAllTrusted: boolean;
  readonly excludeAllTrusted: boolean;
  readonly excludeAnyLocation: boolean;
  readonly includeLocations: Int32Array;
  readonly excludeLocations: Int32Array;
  /** Whether any include or exclude location of this policy needs the client IP / the country to be evaluated. */
  readonly locationsNeedIp: boolean;
  readonly locationsNeedCountry: boolean;
  // client apps, platforms, risk: 0 = not configured
  readonly clientAppMask: number;
  readonly platformsConfigured: boolean;
  readonly includePlatformMask: number;
  readonly excludePlatformMask: number;
  readonly signInRiskMask: number;
  readonly userRiskMask: number;
  // controls
  readonly block: boolean;
  readonly grantMask: number;
  readonly grantOperator: 'AND' | 'OR';
  /** The grant controls other than block, in Graph's order (precomputed: the hot path must not allocate). */
  readonly grantControlList: readonly BuiltInControl[];
  /** The controls a user could still give to satisfy the grant; empty when Portcullis can never satisfy it. */
  readonly askableControls: readonly BuiltInControl[];
  /** This policy's entry in `Decision.grantRequirements`, satisfied and not; frozen and shared by every decision. */
  readonly requirementMet: GrantRequirement;
  readonly requirementUnmet: GrantRequirement;
  /** Sign-in frequency in minutes; 0 = every time; -1 = not set. */
  readonly signInFrequencyMinutes: number;
  /** 1 = always, 2 = never, 0 = not set. */
  readonly persistentBrowser: number;
  /**
   * The policy has a location condition and asks for it to be re-evaluated on every request (continuous access
   * evaluation `strictLocation`, or `strictEnforcement`, whose location part is the same).
   */
  readonly strictLocation: boolean;
  /** The policy has no condition that can ever match (`None` users or applications, or nothing included). */
  readonly empty: boolean;
}

export interface CompiledPolicySet {
  readonly locations: readonly CompiledLocation[];
  readonly locationById: ReadonlyMap<string, CompiledLocation>;
  readonly ipIndex: PrefixSet;
  /** Per location index: 1 when the location is trusted (trusted IP locations and MFA trusted IPs). */
  readonly trustedMask: Uint8Array;
  /** Country (upper case) → country locations listing it; `''` → locations that include unknown countries. */
  readonly countryIndex: ReadonlyMap<string, Int32Array>;
  readonly hasCountryLocations: boolean;
  readonly policies: readonly CompiledPolicy[];
  /** Every policy's conditions as bitsets over policies, with the user, group, role and app inverted indexes. */
  readonly bits: ConditionBits;
  readonly countryOf?: CountryResolver;
}

export class PolicyCompileError extends Error {
  override name = 'PolicyCompileError';
}

/**
 * Builds the compiled set. Input is expected to be validated already (see import/validate.ts); anything that still
 * cannot be compiled — a range that does not parse, a policy naming a location that does not exist — throws, because
 * silently dropping a range or a location could widen or narrow a policy.
 */
export function compilePolicySet(
  locations: readonly NamedLocation[],
  policies: readonly ConditionalAccessPolicy[],
  options: CompileOptions = {},
): CompiledPolicySet {
  const compiledLocations: CompiledLocation[] = [];
  const locationById = new Map<string, CompiledLocation>();
  const builder = new PrefixSetBuilder();
  const countryLists = new Map<string, number[]>();

  for (const location of locations) {
    const index = compiledLocations.length;
    if (locationById.has(location.id)) throw new PolicyCompileError(`named location id '${location.id}' is used twice`);
    const isIp = location['@odata.type'] === '#microsoft.graph.ipNamedLocation';
    const compiled: CompiledLocation = {
      index,
      id: location.id,
      displayName: location.displayName,
      kind: isIp ? 'ip' : 'country',
      // Country locations are never trusted (Entra: only IP ranges can be marked trusted).
      trusted: isIp ? location.isTrusted === true : false,
      needsGps: !isIp && location.countryLookupMethod === 'authenticatorAppGps',
    };
    compiledLocations.push(compiled);
    locationById.set(location.id, compiled);
    if (location['@odata.type'] === '#microsoft.graph.ipNamedLocation') {
      for (const range of location.ipRanges) {
        builder.add(parseRange(range.cidrAddress, location.displayName), index);
      }
    } else if (!compiled.needsGps) {
      for (const country of location.countriesAndRegions) push(countryLists, country.toUpperCase(), index);
      if (location.includeUnknownCountriesAndRegions) push(countryLists, '', index);
    } else if (location.includeUnknownCountriesAndRegions) {
      // Without a GPS signal every sign-in's GPS country is unknown.
      push(countryLists, '', index);
    }
  }

  const mfaIndex = compiledLocations.length;
  const mfaLocation: CompiledLocation = {
    index: mfaIndex,
    id: MFA_TRUSTED_IPS_LOCATION_ID,
    displayName: 'MFA Trusted IPs',
    kind: 'mfaTrustedIps',
    trusted: true,
    needsGps: false,
  };
  compiledLocations.push(mfaLocation);
  locationById.set(MFA_TRUSTED_IPS_LOCATION_ID, mfaLocation);
  for (const cidr of options.mfaTrustedIps ?? []) builder.add(parseRange(cidr, 'MFA trusted IPs'), mfaIndex);

  const trustedMask = new Uint8Array(compiledLocations.length);
  for (const location of compiledLocations) trustedMask[location.index] = location.trusted ? 1 : 0;

  const words = wordsFor(policies.length);
  const indexes: ListedIndexes = {
    users: new ListedBitsBuilder(words),
    groups: new ListedBitsBuilder(words),
    roles: new ListedBitsBuilder(words),
    apps: new ListedBitsBuilder(words),
    userActions: new ListedBitsBuilder(words),
  };

  const compiledPolicies = policies.map((policy, index) =>
    compilePolicy(policy, index, locationById, compiledLocations, indexes),
  );
  const userActions = new Map<string, Int32Array>();
  for (const [action, listed] of indexes.userActions.build()) userActions.set(action, listed.subarray(0, words));
  const conditionBits = buildConditionBits({
    policies: compiledPolicies,
    trustedMask,
    users: indexes.users.build(),
    groups: indexes.groups.build(),
    roles: indexes.roles.build(),
    apps: indexes.apps.build(),
    userActions,
    platformBits: PLATFORM_BIT,
    clientAppBits: CLIENT_APP_BIT,
    riskBits: RISK_BIT,
    stateEnabled: STATE_ENABLED,
    stateDisabled: STATE_DISABLED,
  });

  return Object.freeze({
    locations: Object.freeze(compiledLocations),
    locationById,
    ipIndex: builder.build(),
    trustedMask,
    countryIndex: freezeIndex(countryLists),
    hasCountryLocations: countryLists.size > 0,
    policies: Object.freeze(compiledPolicies),
    bits: conditionBits,
    countryOf: options.countryOf,
  });
}

interface ListedIndexes {
  readonly users: ListedBitsBuilder;
  readonly groups: ListedBitsBuilder;
  readonly roles: ListedBitsBuilder;
  readonly apps: ListedBitsBuilder;
  readonly userActions: ListedBitsBuilder;
}

function compilePolicy(
  policy: ConditionalAccessPolicy,
  index: number,
  locationById: ReadonlyMap<string, CompiledLocation>,
  locations: readonly CompiledLocation[],
  indexes: ListedIndexes,
): CompiledPolicy {
  const { users, applications } = policy.conditions;
  const special = (list: readonly string[], value: string) => list.some((v) => v.toLowerCase() === value);

  const includeNoUsers = special(users.includeUsers, 'none');
  const includeAllUsers = !includeNoUsers && special(users.includeUsers, 'all');
  const includeGuests = !includeNoUsers && special(users.includeUsers, 'guestsorexternalusers');
  const excludeGuests = special(users.excludeUsers, 'guestsorexternalusers');
  if (!includeNoUsers) {
    for (const id of users.includeUsers) if (!isSpecialUser(id)) indexes.users.include(id, index);
    for (const id of users.includeGroups) indexes.groups.include(id, index);
    for (const id of users.includeRoles) indexes.roles.include(id.toLowerCase(), index);
  }
  for (const id of users.excludeUsers) if (!isSpecialUser(id)) indexes.users.exclude(id, index);
  for (const id of users.excludeGroups) indexes.groups.exclude(id, index);
  for (const id of users.excludeRoles) indexes.roles.exclude(id.toLowerCase(), index);

  const includeNoApps = special(applications.includeApplications, 'none');
  const includeAllApps = !includeNoApps && special(applications.includeApplications, 'all');
  if (!includeNoApps) {
    for (const id of applications.includeApplications) {
      if (!isSpecialApp(id)) indexes.apps.include(id.toLowerCase(), index);
    }
  }
  for (const id of applications.excludeApplications) {
    if (!isSpecialApp(id)) indexes.apps.exclude(id.toLowerCase(), index);
  }
  for (const action of applications.includeUserActions) indexes.userActions.include(action.toLowerCase(), index);
  const targetsUserActions = applications.includeUserActions.length > 0;

  const loc = policy.conditions.locations;
  const includeIds = loc?.includeLocations ?? [];
  const excludeIds = loc?.excludeLocations ?? [];
  const locationsConfigured = includeIds.length > 0 || excludeIds.length > 0;
  const includeAnyLocation = special(includeIds, 'all');
  const includeAllTrusted = special(includeIds, 'alltrusted');
  const excludeAllTrusted = special(excludeIds, 'alltrusted');
  const resolve = (ids: readonly string[], field: string) => {
    const out: number[] = [];
    for (const id of ids) {
      const lower = id.toLowerCase();
      if (lower === 'all' || lower === 'alltrusted') continue;
      const location = locationById.get(id);
      if (!location) {
        throw new PolicyCompileError(
          `policy '${policy.displayName}': conditions.locations.${field} names location '${id}', which does not exist`,
        );
      }
      out.push(location.index);
    }
    return Int32Array.from(out);
  };
  const includeLocations = resolve(includeIds, 'includeLocations');
  const excludeLocations = resolve(excludeIds, 'excludeLocations');
  // 'All' on exclude makes the policy never apply; kept as written rather than rejected.
  const excludeAny = special(excludeIds, 'all');
  const usedLocations = [...includeLocations, ...excludeLocations].map((i) => locations[i]);
  const locationsNeedIp = includeAllTrusted || excludeAllTrusted || usedLocations.some((l) => l.kind !== 'country');
  const locationsNeedCountry = usedLocations.some((l) => l.kind === 'country');

  const clientAppMask = policy.conditions.clientAppTypes.some((t) => t === 'all')
    ? 0
    : maskOf(policy.conditions.clientAppTypes, CLIENT_APP_BIT);
  const platforms = policy.conditions.platforms;
  const platformsConfigured = (platforms?.includePlatforms.length ?? 0) > 0;
  const includePlatformMask = platforms?.includePlatforms.includes('all')
    ? allBits(PLATFORM_BIT)
    : maskOf(platforms?.includePlatforms ?? [], PLATFORM_BIT);
  const excludePlatformMask = maskOf(platforms?.excludePlatforms ?? [], PLATFORM_BIT);

  const grant = policy.grantControls;
  const controls = grant?.builtInControls ?? [];
  const grantMask = maskOf(
    controls.filter((c) => c !== 'block'),
    CONTROL_BIT,
  );
  const grantOperator: GrantOperator = grant?.operator === 'AND' ? 'AND' : 'OR';
  const grantControlList = Object.freeze(BUILT_IN_CONTROLS.filter((c) => c !== 'block' && controls.includes(c)));
  const requirement = (satisfied: boolean): GrantRequirement =>
    Object.freeze({
      policyId: policy.id,
      displayName: policy.displayName,
      operator: grantOperator,
      builtInControls: grantControlList,
      satisfied,
    });
  const session = policy.sessionControls;
  const frequency = session?.signInFrequency;
  let signInFrequencyMinutes = -1;
  if (frequency?.isEnabled) {
    if (frequency.frequencyInterval === 'everyTime') signInFrequencyMinutes = 0;
    else if (frequency.value && frequency.type) {
      signInFrequencyMinutes = frequency.value * (frequency.type === 'days' ? 1440 : 60);
    }
  }
  const persistent = session?.persistentBrowser;
  const persistentBrowser = persistent?.isEnabled ? (persistent.mode === 'never' ? 2 : 1) : 0;
  const caeMode = session?.continuousAccessEvaluation?.mode;
  const strictLocation = locationsConfigured && caeMode !== undefined && STRICT_LOCATION_MODES.includes(caeMode);

  const includesSomeone =
    includeAllUsers ||
    includeGuests ||
    (!includeNoUsers &&
      (users.includeUsers.some((id) => !isSpecialUser(id)) ||
        users.includeGroups.length > 0 ||
        users.includeRoles.length > 0));
  const includesSomething =
    includeAllApps ||
    targetsUserActions ||
    (!includeNoApps && applications.includeApplications.some((id) => !isSpecialApp(id)));

  return Object.freeze({
    index,
    source: policy,
    state: STATE_CODE[policy.state],
    includeAllUsers,
    includeGuests,
    excludeGuests,
    includeAllApps,
    targetsUserActions,
    locationsConfigured,
    // Graph requires includeLocations when locations are set; an empty list is read as 'All'.
    includeAnyLocation: includeAnyLocation || includeIds.length === 0,
    includeAllTrusted,
    excludeAnyLocation: excludeAny,
    excludeAllTrusted,
    includeLocations,
    excludeLocations,
    locationsNeedIp,
    locationsNeedCountry,
    clientAppMask,
    platformsConfigured,
    includePlatformMask,
    excludePlatformMask,
    signInRiskMask: maskOf(policy.conditions.signInRiskLevels, RISK_BIT),
    userRiskMask: maskOf(policy.conditions.userRiskLevels, RISK_BIT),
    block: controls.includes('block'),
    grantMask,
    grantOperator,
    grantControlList,
    askableControls: askableControls(grantMask, grantOperator, grantControlList),
    requirementMet: requirement(true),
    requirementUnmet: requirement(false),
    signInFrequencyMinutes,
    persistentBrowser,
    strictLocation,
    empty: !includesSomeone || !includesSomething,
  });
}

export function controlsOfMask(mask: number): BuiltInControl[] {
  return BUILT_IN_CONTROLS.filter((c) => (mask & (1 << CONTROL_BIT[c])) !== 0);
}

/** The controls a user could still provide to satisfy a grant; empty when it can never be satisfied here. */
function askableControls(
  grantMask: number,
  operator: GrantOperator,
  list: readonly BuiltInControl[],
): readonly BuiltInControl[] {
  const askable = grantMask & SATISFIABLE_MASK;
  if (askable === 0 || (operator === 'AND' && askable !== grantMask)) return Object.freeze([]);
  return askable === grantMask ? list : Object.freeze(controlsOfMask(askable));
}

function parseRange(text: string, owner: string) {
  try {
    return parseCidr(text);
  } catch (error) {
    throw new PolicyCompileError(`location '${owner}': ${(error as Error).message}`);
  }
}

function isSpecialUser(id: string): boolean {
  const lower = id.toLowerCase();
  return lower === 'all' || lower === 'none' || lower === 'guestsorexternalusers';
}

function isSpecialApp(id: string): boolean {
  const lower = id.toLowerCase();
  return lower === 'all' || lower === 'none';
}

function bits(names: readonly string[]): Readonly<Record<string, number>> {
  const out: Record<string, number> = {};
  names.forEach((name, i) => {
    out[name] = i;
  });
  return Object.freeze(out);
}

function allBits(table: Readonly<Record<string, number>>): number {
  let mask = 0;
  for (const bit of Object.values(table)) mask |= 1 << bit;
  return mask;
}

function maskOf(values: readonly string[], table: Readonly<Record<string, number>>): number {
  let mask = 0;
  for (const value of values) {
    const bit = table[value];
    if (bit === undefined) throw new PolicyCompileError(`unknown value '${value}'`);
    mask |= 1 << bit;
  }
  return mask;
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) {
    if (list[list.length - 1] !== value) list.push(value);
  } else map.set(key, [value]);
}

function freezeIndex(map: Map<string, number[]>): ReadonlyMap<string, Int32Array> {
  const out = new Map<string, Int32Array>();
  for (const [key, list] of map) out.set(key, Int32Array.from(list));
  return out;
}
