// Tolerant reading of exported Graph JSON into Portcullis's canonical named locations and Conditional Access
// policies: it accepts what Entra, Graph Explorer and the Graph PowerShell SDK really write, and reports the rest.
//
// Tolerated: `@odata.*` annotations; unknown fields; `null` where Graph allows an empty value; property names in any
// case (PowerShell's ConvertTo-Json writes SDK objects with PascalCase names) and derived-type properties inside
// `AdditionalProperties` (where the Graph PowerShell SDK keeps `ipRanges`, `isTrusted`, …); enum values in any case.
// Reported as problems: missing required fields, values of the wrong type, enum values Portcullis does not know,
// `<placeholder>` ids copied from documentation. Reported as warnings: parts Portcullis keeps but does not evaluate.
//
// A missing `id` is left as '' for the caller to assign: the store gives ids, and an import must not invent them.

import { normalizeCountryCode } from '../../geo/iso3166.ts';
import {
  BUILT_IN_CONTROLS,
  type BuiltInControl,
  CLIENT_APP_TYPES,
  type ClientAppType,
  CONTINUOUS_ACCESS_EVALUATION_MODES,
  COUNTRY_LOOKUP_METHODS,
  COUNTRY_NAMED_LOCATION_TYPE,
  type ConditionalAccessApplications,
  type ConditionalAccessConditionSet,
  type ConditionalAccessGrantControls,
  type ConditionalAccessLocations,
  type ConditionalAccessPlatforms,
  type ConditionalAccessPolicy,
  type ConditionalAccessSessionControls,
  type ConditionalAccessUsers,
  DEVICE_PLATFORMS,
  GRANT_OPERATORS,
  IP_NAMED_LOCATION_TYPE,
  IPV4_RANGE_TYPE,
  IPV6_RANGE_TYPE,
  type IpRange,
  type NamedLocation,
  PERSISTENT_BROWSER_MODES,
  type PersistentBrowserSessionControl,
  POLICY_STATES,
  RISK_LEVELS,
  SIGN_IN_FREQUENCY_AUTH_TYPES,
  SIGN_IN_FREQUENCY_INTERVALS,
  SIGN_IN_FREQUENCY_TYPES,
  type SignInFrequencySessionControl,
  STRICT_LOCATION_MODES,
  type UnenforcedSessionControl,
  USER_ACTIONS,
} from '../types.ts';
import { describeObject, jsonTypeOf, type Problem, show } from './problems.ts';

export interface NormalizeContext {
  file?: string;
  /** The object's 0-based position in its file; unnamed objects are called `policy #<index + 1>`. */
  index: number;
}

export interface NormalizedLocation {
  /** Present only when there were no problems. */
  location?: NamedLocation;
  problems: Problem[];
  warnings: Problem[];
}

export interface NormalizedPolicy {
  /** Present only when there were no problems. */
  policy?: ConditionalAccessPolicy;
  problems: Problem[];
  warnings: Problem[];
}

/** Special values of conditionalAccessUsers.includeUsers / excludeUsers, in Graph's casing. */
export const USER_SPECIAL_VALUES = ['All', 'None', 'GuestsOrExternalUsers'] as const;
/** Special values of conditionalAccessApplications.includeApplications / excludeApplications. */
export const APPLICATION_SPECIAL_VALUES = ['All', 'None', 'Office365', 'MicrosoftAdminPortals'] as const;
/** Special values of conditionalAccessLocations.includeLocations / excludeLocations. */
export const LOCATION_SPECIAL_VALUES = ['All', 'AllTrusted'] as const;

type Json = Record<string, unknown>;

class Report {
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];
  readonly file: string | undefined;
  readonly object: string;
  constructor(file: string | undefined, object: string) {
    this.file = file;
    this.object = object;
  }
  problem(field: string | undefined, message: string): void {
    this.problems.push(this.#entry(field, message));
  }
  warn(field: string | undefined, message: string): void {
    this.warnings.push(this.#entry(field, message));
  }
  #entry(field: string | undefined, message: string): Problem {
    const entry: Problem = { object: this.object, message };
    if (this.file !== undefined) entry.file = this.file;
    if (field !== undefined) entry.field = field;
    return entry;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Named locations

export function normalizeNamedLocation(raw: unknown, ctx: NormalizeContext): NormalizedLocation {
  if (!isRecord(raw)) return notAnObject('location', raw, ctx);
  const r = new Report(ctx.file, describeObject('location', prop(raw, 'displayName'), prop(raw, 'id'), ctx.index + 1));
  const id = readId(raw, r);
  const displayName = readDisplayName(raw, r);
  const kind = locationKind(raw, r);
  const dates = readDates(raw);

  let location: NamedLocation | undefined;
  if (kind === 'ip') {
    const ipRanges = readIpRanges(prop(raw, 'ipRanges'), r);
    const isTrusted = readBoolean(prop(raw, 'isTrusted'), 'isTrusted', r, false);
    location = { '@odata.type': IP_NAMED_LOCATION_TYPE, id, displayName, ...dates, isTrusted, ipRanges };
  } else if (kind === 'country') {
    const countriesAndRegions = readCountries(prop(raw, 'countriesAndRegions'), r);
    const includeUnknownCountriesAndRegions = readBoolean(
      prop(raw, 'includeUnknownCountriesAndRegions'),
      'includeUnknownCountriesAndRegions',
      r,
      false,
    );
    // Graph: countryLookupMethod defaults to clientIpAddress.
    const countryLookupMethod =
      readEnum(prop(raw, 'countryLookupMethod'), COUNTRY_LOOKUP_METHODS, 'countryLookupMethod', r) ?? 'clientIpAddress';
    if (countryLookupMethod === 'authenticatorAppGps') {
      r.warn(
        'countryLookupMethod',
        "'authenticatorAppGps': Portcullis has no GPS signal from the Authenticator app, so every sign-in's GPS " +
          `country is unknown and this location matches only through includeUnknownCountriesAndRegions ` +
          `(${includeUnknownCountriesAndRegions})`,
      );
    }
    location = {
      '@odata.type': COUNTRY_NAMED_LOCATION_TYPE,
      id,
      displayName,
      ...dates,
      countriesAndRegions,
      includeUnknownCountriesAndRegions,
      countryLookupMethod,
    };
  }
  if (r.problems.length > 0 || location === undefined) return { problems: r.problems, warnings: r.warnings };
  return { location, problems: r.problems, warnings: r.warnings };
}

function locationKind(raw: Json, r: Report): 'ip' | 'country' | undefined {
  const type = prop(raw, '@odata.type');
  if (type !== undefined && type !== null) {
    const name = typeof type === 'string' ? type.trim().replace(/^#/, '').toLowerCase() : '';
    if (name === 'microsoft.graph.ipnamedlocation') return 'ip';
    if (name === 'microsoft.graph.countrynamedlocation') return 'country';
    r.problem(
      '@odata.type',
      `${show(type)} is not a kind of named location Portcullis supports: expected ` +
        `'${IP_NAMED_LOCATION_TYPE}' or '${COUNTRY_NAMED_LOCATION_TYPE}'`,
    );
    return undefined;
  }
  // Without @odata.type (some export scripts drop annotations), the shape tells the kind.
  const hasRanges = isPresent(prop(raw, 'ipRanges'));
  const hasCountries = isPresent(prop(raw, 'countriesAndRegions'));
  if (hasRanges && !hasCountries) return 'ip';
  if (hasCountries && !hasRanges) return 'country';
  if (hasRanges && hasCountries) {
    r.problem(
      '@odata.type',
      'missing, and the location has both ipRanges and countriesAndRegions, so its kind is unclear',
    );
  } else {
    r.problem(
      'ipRanges',
      'required but missing: a named location needs ipRanges (an IP location) or countriesAndRegions (a country location)',
    );
  }
  return undefined;
}

function readIpRanges(value: unknown, r: Report): IpRange[] {
  const items = readArray(value, 'ipRanges', r, true);
  const ranges: IpRange[] = [];
  items.forEach((item, i) => {
    const field = `ipRanges[${i}]`;
    let cidr: unknown;
    let type: unknown;
    if (typeof item === 'string') {
      cidr = item; // a bare "1.2.3.0/24", as some export scripts simplify ranges
    } else if (isRecord(item)) {
      cidr = prop(item, 'cidrAddress');
      type = prop(item, '@odata.type');
    } else {
      r.problem(field, `expected an object with a cidrAddress but found ${jsonTypeOf(item)}`);
      return;
    }
    if (typeof cidr !== 'string' || cidr.trim() === '') {
      r.problem(
        `${field}.cidrAddress`,
        cidr == null ? 'required but missing' : `expected a string but found ${show(cidr)}`,
      );
      return;
    }
    const cidrAddress = cidr.trim();
    let rangeType: IpRange['@odata.type'];
    if (type === undefined || type === null) {
      // No @odata.type on the range: an IPv6 address always contains ':', an IPv4 one never does.
      rangeType = cidrAddress.includes(':') ? IPV6_RANGE_TYPE : IPV4_RANGE_TYPE;
    } else {
      const name = typeof type === 'string' ? type.trim().replace(/^#/, '').toLowerCase() : '';
      if (name === 'microsoft.graph.ipv4cidrrange') rangeType = IPV4_RANGE_TYPE;
      else if (name === 'microsoft.graph.ipv6cidrrange') rangeType = IPV6_RANGE_TYPE;
      else {
        r.problem(
          `${field}.@odata.type`,
          `${show(type)} is not a kind of IP range: expected '${IPV4_RANGE_TYPE}' or '${IPV6_RANGE_TYPE}'`,
        );
        return;
      }
    }
    ranges.push({ '@odata.type': rangeType, cidrAddress });
  });
  return ranges;
}

function readCountries(value: unknown, r: Report): string[] {
  const items = readArray(value, 'countriesAndRegions', r, true);
  const countries: string[] = [];
  items.forEach((item, i) => {
    const field = `countriesAndRegions[${i}]`;
    if (typeof item !== 'string') {
      r.problem(field, `expected a two-letter country code but found ${show(item)}`);
      return;
    }
    // Unknown codes pass through upper-cased; the validator names them.
    const code = normalizeCountryCode(item) ?? item.trim().toUpperCase();
    if (code === 'XK') {
      // Microsoft's own example (New-MgIdentityConditionalAccessNamedLocation, "Create a country named location")
      // uses "XK", so Entra accepts it; it is user-assigned in ISO 3166-1, and geo/ resolves no address to it.
      r.warn(
        field,
        "'XK' (Kosovo) is not an assigned ISO 3166-1 code: Portcullis's IP-to-country lookup never reports it, so " +
          'addresses in Kosovo count as an unknown country here',
      );
    }
    countries.push(code);
  });
  return countries;
}

// ---------------------------------------------------------------------------------------------------------------
// Policies

export function normalizePolicy(raw: unknown, ctx: NormalizeContext): NormalizedPolicy {
  if (!isRecord(raw)) return notAnObject('policy', raw, ctx);
  const r = new Report(ctx.file, describeObject('policy', prop(raw, 'displayName'), prop(raw, 'id'), ctx.index + 1));
  const id = readId(raw, r);
  const displayName = readDisplayName(raw, r);
  const stateValue = prop(raw, 'state');
  const state =
    stateValue === undefined || stateValue === null
      ? void r.problem('state', `required but missing: one of ${POLICY_STATES.join(', ')}`)
      : readEnum(stateValue, POLICY_STATES, 'state', r);
  const dates = readDates(raw);
  const templateId = prop(raw, 'templateId');
  const conditions = readConditions(prop(raw, 'conditions'), r);
  const grantControls = readGrantControls(prop(raw, 'grantControls'), r);
  const sessionControls = readSessionControls(prop(raw, 'sessionControls'), r);
  if (r.problems.length > 0 || state === undefined || conditions === undefined) {
    return { problems: r.problems, warnings: r.warnings };
  }
  const mode = sessionControls?.continuousAccessEvaluation?.mode;
  const locations = conditions.locations;
  const hasLocationCondition =
    (locations?.includeLocations.length ?? 0) > 0 || (locations?.excludeLocations.length ?? 0) > 0;
  if (mode !== undefined && STRICT_LOCATION_MODES.includes(mode) && !hasLocationCondition) {
    r.warn(
      'sessionControls.continuousAccessEvaluation.mode',
      `${show(mode)} has no effect here: the policy has no location condition to re-evaluate on each request`,
    );
  }
  const policy: ConditionalAccessPolicy = {
    id,
    displayName,
    state,
    ...dates,
    ...(typeof templateId === 'string' || templateId === null ? { templateId } : {}),
    conditions,
    grantControls,
    sessionControls,
  };
  return { policy, problems: r.problems, warnings: r.warnings };
}

function readConditions(value: unknown, r: Report): ConditionalAccessConditionSet | undefined {
  const c = readObject(value, 'conditions', r, true);
  if (c === undefined) return undefined;
  const users = readUsers(prop(c, 'users'), r);
  const applications = readApplications(prop(c, 'applications'), r);
  let clientAppTypes = readEnumList(prop(c, 'clientAppTypes'), CLIENT_APP_TYPES, 'conditions.clientAppTypes', r);
  // Graph answers ["all"] for a policy created without clientAppTypes (Create conditionalAccessPolicy, example 4).
  if (clientAppTypes.length === 0) clientAppTypes = ['all' satisfies ClientAppType];
  const locations = readLocationCondition(prop(c, 'locations'), r);
  const platforms = readPlatformCondition(prop(c, 'platforms'), r);
  const signInRiskLevels = readEnumList(prop(c, 'signInRiskLevels'), RISK_LEVELS, 'conditions.signInRiskLevels', r);
  const userRiskLevels = readEnumList(prop(c, 'userRiskLevels'), RISK_LEVELS, 'conditions.userRiskLevels', r);
  warnUnevaluatedConditions(c, r);
  if (users === undefined || applications === undefined) return undefined;
  return { users, applications, clientAppTypes, locations, platforms, signInRiskLevels, userRiskLevels };
}

function readUsers(value: unknown, r: Report): ConditionalAccessUsers | undefined {
  const u = readObject(value, 'conditions.users', r, true);
  if (u === undefined) return undefined;
  const list = (name: string, specials: readonly string[] = []) =>
    readIdList(prop(u, name), `conditions.users.${name}`, r, specials);
  const users: ConditionalAccessUsers = {
    includeUsers: list('includeUsers', USER_SPECIAL_VALUES),
    excludeUsers: list('excludeUsers', USER_SPECIAL_VALUES),
    includeGroups: list('includeGroups'),
    excludeGroups: list('excludeGroups'),
    includeRoles: list('includeRoles'),
    excludeRoles: list('excludeRoles'),
  };
  const includeGuests = prop(u, 'includeGuestsOrExternalUsers');
  if (isRecord(includeGuests) && !users.includeUsers.includes('All')) {
    // Including some guest types becomes including every guest: broader, so a block or MFA policy fails closed.
    if (!users.includeUsers.includes('GuestsOrExternalUsers')) users.includeUsers.push('GuestsOrExternalUsers');
    r.warn(
      'conditions.users.includeGuestsOrExternalUsers',
      `applied to all guests and external users ('GuestsOrExternalUsers' added to includeUsers): Portcullis does ` +
        `not tell guest types (${guestTypes(includeGuests)}) or their home tenants apart`,
    );
  }
  const excludeGuests = prop(u, 'excludeGuestsOrExternalUsers');
  if (isRecord(excludeGuests)) {
    // Excluding them as 'GuestsOrExternalUsers' would exempt every guest: fail open. Ignoring it fails closed.
    r.warn(
      'conditions.users.excludeGuestsOrExternalUsers',
      `ignored: Portcullis does not tell guest types (${guestTypes(excludeGuests)}) or their home tenants apart, ` +
        'so these guests are not excluded and the policy applies to them too',
    );
  }
  return users;
}

function guestTypes(guests: Json): string {
  const types = prop(guests, 'guestOrExternalUserTypes');
  return typeof types === 'string' && types !== '' ? types : 'none named';
}

function readApplications(value: unknown, r: Report): ConditionalAccessApplications | undefined {
  const a = readObject(value, 'conditions.applications', r, true);
  if (a === undefined) return undefined;
  const list = (name: string, specials: readonly string[] = []) =>
    readIdList(prop(a, name), `conditions.applications.${name}`, r, specials);
  const applications: ConditionalAccessApplications = {
    includeApplications: list('includeApplications', APPLICATION_SPECIAL_VALUES),
    excludeApplications: list('excludeApplications', APPLICATION_SPECIAL_VALUES),
    includeUserActions: readUserActions(prop(a, 'includeUserActions'), r),
    includeAuthenticationContextClassReferences: list('includeAuthenticationContextClassReferences'),
  };
  const filter = prop(a, 'applicationFilter');
  if (isRecord(filter)) {
    r.warn(
      'conditions.applications.applicationFilter',
      `ignored: application filters are not evaluated (rule ${show(prop(filter, 'rule'))}), so the policy applies ` +
        'to every application in includeApplications — more broadly than in Entra',
    );
  }
  return applications;
}

function readUserActions(value: unknown, r: Report): string[] {
  const field = 'conditions.applications.includeUserActions';
  const actions: string[] = [];
  readStrings(value, field, r).forEach(([text, i]) => {
    // Graph writes user actions in lower case (urn:user:registersecurityinfo).
    const action = text.trim().toLowerCase();
    if ((USER_ACTIONS as readonly string[]).includes(action)) actions.push(action);
    else r.problem(`${field}[${i}]`, `${show(text)} is not a user action Portcullis knows: ${USER_ACTIONS.join(', ')}`);
  });
  return actions;
}

function readLocationCondition(value: unknown, r: Report): ConditionalAccessLocations | null {
  const l = readObject(value, 'conditions.locations', r, false);
  if (l === undefined) return null;
  const field = 'conditions.locations';
  const includeLocations = readIdList(
    prop(l, 'includeLocations'),
    `${field}.includeLocations`,
    r,
    LOCATION_SPECIAL_VALUES,
  );
  const excludeLocations = readIdList(
    prop(l, 'excludeLocations'),
    `${field}.excludeLocations`,
    r,
    LOCATION_SPECIAL_VALUES,
  );
  // The Graph PowerShell SDK writes an unset condition as an object of empty lists: that is "not configured".
  if (includeLocations.length === 0 && excludeLocations.length === 0) return null;
  if (includeLocations.length === 0) {
    includeLocations.push('All');
    r.warn(`${field}.includeLocations`, "empty while excludeLocations is set: read as 'All' (any location but those)");
  }
  return { includeLocations, excludeLocations };
}

function readPlatformCondition(value: unknown, r: Report): ConditionalAccessPlatforms | null {
  const p = readObject(value, 'conditions.platforms', r, false);
  if (p === undefined) return null;
  const field = 'conditions.platforms';
  const includePlatforms = readEnumList(prop(p, 'includePlatforms'), DEVICE_PLATFORMS, `${field}.includePlatforms`, r);
  const excludePlatforms = readEnumList(prop(p, 'excludePlatforms'), DEVICE_PLATFORMS, `${field}.excludePlatforms`, r);
  if (includePlatforms.length === 0 && excludePlatforms.length === 0) return null;
  if (includePlatforms.length === 0) {
    includePlatforms.push('all');
    r.warn(`${field}.includePlatforms`, "empty while excludePlatforms is set: read as 'all' (any platform but those)");
  }
  return { includePlatforms, excludePlatforms };
}

/**
 * Condition parts Portcullis does not evaluate. Each narrows who or what a policy applies to, so ignoring it makes the
 * policy apply more broadly than in Entra: for block and MFA policies that is the stricter (fail-closed) direction,
 * but a block policy meant for a narrow case now blocks its users everywhere, which the warnings say.
 */
function warnUnevaluatedConditions(c: Json, r: Report): void {
  const devices = prop(c, 'devices');
  if (isRecord(devices) && isPresent(prop(devices, 'deviceFilter'))) {
    const filter = prop(devices, 'deviceFilter');
    const rule = isRecord(filter) ? prop(filter, 'rule') : undefined;
    r.warn(
      'conditions.devices',
      `ignored: device filters are not evaluated (rule ${show(rule)}), so the policy applies to every device — ` +
        'more broadly than in Entra, which for a block or MFA policy is the stricter direction',
    );
  }
  const deviceStates = prop(c, 'deviceStates');
  if (isRecord(deviceStates) && hasContent(deviceStates)) {
    r.warn(
      'conditions.deviceStates',
      'ignored: device states are not evaluated, so the policy applies to every device',
    );
  }
  const clientApplications = prop(c, 'clientApplications');
  if (isRecord(clientApplications) && hasContent(clientApplications)) {
    r.warn(
      'conditions.clientApplications',
      'ignored: workload identities (service principals) are not evaluated; the policy applies only to the users it names',
    );
  }
  const flows = prop(c, 'authenticationFlows');
  const transferMethods = isRecord(flows) ? prop(flows, 'transferMethods') : undefined;
  if (typeof transferMethods === 'string' && transferMethods !== '' && transferMethods !== 'none') {
    r.warn(
      'conditions.authenticationFlows',
      `ignored: authentication flows (${show(transferMethods)}) are not evaluated, and Portcullis offers neither ` +
        'device code flow nor authentication transfer, so the policy applies to every sign-in of its users; ' +
        'a block here blocks them everywhere — review it before enabling',
    );
  }
  const servicePrincipalRisk = prop(c, 'servicePrincipalRiskLevels');
  if (Array.isArray(servicePrincipalRisk) && servicePrincipalRisk.length > 0) {
    r.warn(
      'conditions.servicePrincipalRiskLevels',
      'ignored: service principal risk concerns workload identities, which Portcullis does not evaluate',
    );
  }
  const insiderRisk = prop(c, 'insiderRiskLevels');
  if (typeof insiderRisk === 'string' && insiderRisk !== '') {
    r.warn(
      'conditions.insiderRiskLevels',
      `ignored: insider risk (${show(insiderRisk)}) is not evaluated, so the policy applies whatever a user's ` +
        'insider risk — more broadly than in Entra',
    );
  }
  const times = prop(c, 'times');
  if (isRecord(times) && hasContent(times)) {
    r.warn('conditions.times', 'ignored: time conditions are not evaluated; the policy applies at any time');
  }
}

function readGrantControls(value: unknown, r: Report): ConditionalAccessGrantControls | null {
  const g = readObject(value, 'grantControls', r, false);
  if (g === undefined) return null;
  const builtInControls: BuiltInControl[] = readEnumList(
    prop(g, 'builtInControls'),
    BUILT_IN_CONTROLS,
    'grantControls.builtInControls',
    r,
  );
  const customAuthenticationFactors = readIdList(
    prop(g, 'customAuthenticationFactors'),
    'grantControls.customAuthenticationFactors',
    r,
  );
  const termsOfUse = readIdList(prop(g, 'termsOfUse'), 'grantControls.termsOfUse', r);
  const strength = prop(g, 'authenticationStrength');
  const hasStrength = isRecord(strength);
  const count = builtInControls.length + customAuthenticationFactors.length + termsOfUse.length + (hasStrength ? 1 : 0);

  const operatorValue = prop(g, 'operator');
  let operator = readEnum(operatorValue, GRANT_OPERATORS, 'grantControls.operator', r);
  if (operatorValue === undefined || operatorValue === null) {
    if (count > 1) r.problem('grantControls.operator', 'required but missing: AND or OR, to combine the controls');
    operator = 'OR';
  }

  // A strength or a custom control stands in for a second factor; Portcullis cannot check either, so it asks for
  // its own MFA instead of dropping the requirement (which would fail open).
  const substitutes = !builtInControls.includes('block') && !builtInControls.includes('mfa');
  if (hasStrength) {
    const name = prop(strength, 'displayName') ?? prop(strength, 'id');
    r.warn(
      'grantControls.authenticationStrength',
      `treated as requiring 'mfa': Portcullis does not check which methods satisfy authentication strength ` +
        `${show(name)}, so any second factor it offers passes`,
    );
  }
  if (customAuthenticationFactors.length > 0) {
    r.warn(
      'grantControls.customAuthenticationFactors',
      `treated as requiring 'mfa': Portcullis cannot call custom controls (${customAuthenticationFactors.map((value) => show(value)).join(', ')})`,
    );
  }
  if ((hasStrength || customAuthenticationFactors.length > 0) && substitutes) builtInControls.push('mfa');
  if (termsOfUse.length > 0) {
    r.warn(
      'grantControls.termsOfUse',
      `not shown: Portcullis has no terms of use, so users are not asked to accept ${termsOfUse.map((value) => show(value)).join(', ')}`,
    );
  }
  if (count === 0) return null; // an empty grant block, as Graph writes for session-only policies
  if (operator === undefined) return null;
  return { operator, builtInControls, customAuthenticationFactors, termsOfUse };
}

function readSessionControls(value: unknown, r: Report): ConditionalAccessSessionControls | null {
  const s = readObject(value, 'sessionControls', r, false);
  if (s === undefined) return null;
  const controls: ConditionalAccessSessionControls = {};

  const frequency = readObject(prop(s, 'signInFrequency'), 'sessionControls.signInFrequency', r, false);
  if (frequency !== undefined) {
    const field = 'sessionControls.signInFrequency';
    const control: SignInFrequencySessionControl = {
      isEnabled: readBoolean(prop(frequency, 'isEnabled'), `${field}.isEnabled`, r, false),
      type: readEnum(prop(frequency, 'type'), SIGN_IN_FREQUENCY_TYPES, `${field}.type`, r) ?? null,
      value: readInteger(prop(frequency, 'value'), `${field}.value`, r),
      frequencyInterval:
        readEnum(prop(frequency, 'frequencyInterval'), SIGN_IN_FREQUENCY_INTERVALS, `${field}.frequencyInterval`, r) ??
        null,
      authenticationType:
        readEnum(
          prop(frequency, 'authenticationType'),
          SIGN_IN_FREQUENCY_AUTH_TYPES,
          `${field}.authenticationType`,
          r,
        ) ?? null,
    };
    if (control.isEnabled) controls.signInFrequency = control;
  }

  const browser = readObject(prop(s, 'persistentBrowser'), 'sessionControls.persistentBrowser', r, false);
  if (browser !== undefined) {
    const field = 'sessionControls.persistentBrowser';
    const control: PersistentBrowserSessionControl = {
      isEnabled: readBoolean(prop(browser, 'isEnabled'), `${field}.isEnabled`, r, false),
      mode: readEnum(prop(browser, 'mode'), PERSISTENT_BROWSER_MODES, `${field}.mode`, r) ?? null,
    };
    if (control.isEnabled) controls.persistentBrowser = control;
  }

  const resilience = prop(s, 'disableResilienceDefaults');
  if (resilience !== undefined && resilience !== null) {
    controls.disableResilienceDefaults = readBoolean(resilience, 'sessionControls.disableResilienceDefaults', r, false);
  }

  const cae = readObject(prop(s, 'continuousAccessEvaluation'), 'sessionControls.continuousAccessEvaluation', r, false);
  if (cae !== undefined) {
    const field = 'sessionControls.continuousAccessEvaluation.mode';
    const mode = readEnum(prop(cae, 'mode'), CONTINUOUS_ACCESS_EVALUATION_MODES, field, r);
    if (mode !== undefined) controls.continuousAccessEvaluation = { mode };
    if (mode === 'strictEnforcement') {
      // Entra's "Strict enforcement" is strict location enforcement plus blocking clients that cannot do CAE.
      r.warn(
        field,
        "'strictEnforcement': its location part is enforced, as 'strictLocation' (location conditions are " +
          're-evaluated on every forward-auth request); its other part, blocking clients that cannot do continuous ' +
          'access evaluation, has no counterpart in Portcullis',
      );
    } else if (mode === 'disabled') {
      // Turning re-evaluation off for some policies would weaken a tenant that asked for it: fail closed.
      r.warn(
        field,
        "'disabled': kept, but it does not turn off the tenant's continuousLocationEnforcement setting for this " +
          "policy's users",
      );
    }
  }

  // Kept (so a session-only policy stays a well-formed policy and exports round-trip) but not enforced.
  const unenforced: Array<[keyof ConditionalAccessSessionControls & string, string]> = [
    ['applicationEnforcedRestrictions', 'not enforced: Portcullis passes no app-enforced restrictions to applications'],
    ['cloudAppSecurity', 'not enforced: Portcullis has no Defender for Cloud Apps session proxy'],
    ['secureSignInSession', 'not enforced: Portcullis does not bind tokens to devices (token protection)'],
  ];
  for (const [name, why] of unenforced) {
    const control = readObject(prop(s, name), `sessionControls.${name}`, r, false);
    if (control === undefined) continue;
    const isEnabled = readBoolean(prop(control, 'isEnabled'), `sessionControls.${name}.isEnabled`, r, false);
    if (!isEnabled) continue;
    const kept: UnenforcedSessionControl = { isEnabled };
    const type = prop(control, 'cloudAppSecurityType');
    if (typeof type === 'string') kept.cloudAppSecurityType = type;
    (controls as Record<string, unknown>)[name] = kept;
    r.warn(`sessionControls.${name}`, why);
  }
  for (const name of ['globalSecureAccessFilteringProfile', 'networkAccessSecurity']) {
    const control = prop(s, name);
    if (isRecord(control) && hasContent(control))
      r.warn(`sessionControls.${name}`, 'ignored: not supported by Portcullis');
  }
  return Object.keys(controls).length > 0 ? controls : null;
}

// ---------------------------------------------------------------------------------------------------------------
// Readers: each reads one value tolerantly and reports what it cannot read, naming the field and the value.

function notAnObject(kind: 'location' | 'policy', raw: unknown, ctx: NormalizeContext) {
  const problem: Problem = {
    object: `${kind} #${ctx.index + 1}`,
    message: `expected a JSON object but found ${jsonTypeOf(raw)}${powerShellHint(raw)}`,
  };
  if (ctx.file !== undefined) problem.file = ctx.file;
  return { problems: [problem], warnings: [] };
}

/**
 * Looks a property up the way Graph clients write it: by its Graph name; then case-insensitively (PowerShell's
 * ConvertTo-Json writes SDK objects as `DisplayName`, `Conditions`, …); then inside `AdditionalProperties`, where the
 * Graph PowerShell SDK keeps properties of derived types (`@odata.type`, `ipRanges`, `isTrusted`, …).
 */
export function prop(obj: Json, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  const extra = Object.hasOwn(obj, 'AdditionalProperties') ? obj.AdditionalProperties : obj.additionalProperties;
  return isRecord(extra) ? prop(extra, name) : undefined;
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Whether an object sets anything: a non-empty list, a non-empty string, a nested object, a true flag or a number. */
function hasContent(obj: Json): boolean {
  return Object.entries(obj).some(([key, value]) => {
    if (key.startsWith('@odata.') || key.toLowerCase() === 'additionalproperties') {
      return key.toLowerCase() === 'additionalproperties' && isRecord(value) && hasContent(value);
    }
    if (Array.isArray(value)) return value.length > 0;
    if (typeof value === 'string') return value !== '' && value !== 'none';
    if (isRecord(value)) return true;
    return value === true || typeof value === 'number';
  });
}

/** A string where an object or a list belongs, naming a .NET type: ConvertTo-Json ran out of depth. */
function powerShellHint(value: unknown): string {
  if (typeof value !== 'string') return '';
  const typeName = /^(Microsoft\.Graph\.|System\.)[\w.`+[\]]*$/.test(value.trim()) || /^@\{.*\}$/s.test(value.trim());
  return typeName
    ? ` (${show(value)} is a PowerShell type name: ConvertTo-Json cut the export off at its default depth of 2; ` +
        'export again with ConvertTo-Json -Depth 10)'
    : '';
}

function readObject(value: unknown, field: string, r: Report, required: boolean): Json | undefined {
  if (value === undefined || value === null) {
    if (required) r.problem(field, 'required but missing');
    return undefined;
  }
  if (isRecord(value)) return value;
  r.problem(field, `expected an object but found ${jsonTypeOf(value)}${powerShellHint(value)}`);
  return undefined;
}

function readArray(value: unknown, field: string, r: Report, required: boolean): unknown[] {
  if (value === undefined || value === null) {
    if (required) r.problem(field, 'required but missing');
    return [];
  }
  if (Array.isArray(value)) return value;
  const hint = powerShellHint(value);
  if (typeof value === 'string' && hint === '') return [value]; // one value where Graph has a list of one
  r.problem(field, `expected a list but found ${jsonTypeOf(value)}${hint}`);
  return [];
}

/** The strings of a list, each with its index; other items are reported. */
function readStrings(value: unknown, field: string, r: Report): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  readArray(value, field, r, false).forEach((item, i) => {
    if (typeof item === 'string') out.push([item, i]);
    else r.problem(`${field}[${i}]`, `expected a string but found ${show(item)}`);
  });
  return out;
}

/** Documentation examples write ids as `<group-id>` or `<Placeholder>`; such text is never a real id. */
export function isPlaceholder(text: string): boolean {
  return /<[^<>]*>/.test(text);
}

function readIdList(value: unknown, field: string, r: Report, specials: readonly string[] = []): string[] {
  const ids: string[] = [];
  for (const [text, i] of readStrings(value, field, r)) {
    const id = text.trim();
    const special = specials.find((s) => s.toLowerCase() === id.toLowerCase());
    if (special !== undefined) ids.push(special);
    else if (id === '') r.problem(`${field}[${i}]`, 'an empty string is not an id');
    else if (isPlaceholder(id)) r.problem(`${field}[${i}]`, `${show(text)} is a placeholder, not an id`);
    else ids.push(id);
  }
  return ids;
}

function readEnum<T extends string>(value: unknown, allowed: readonly T[], field: string, r: Report): T | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  const match = text === undefined ? undefined : allowed.find((a) => a.toLowerCase() === text);
  if (match === undefined) {
    r.problem(field, `${show(value)} is not one of the values Portcullis supports: ${allowed.join(', ')}`);
  }
  return match;
}

function readEnumList<T extends string>(value: unknown, allowed: readonly T[], field: string, r: Report): T[] {
  const out: T[] = [];
  for (const [text, i] of readStrings(value, field, r)) {
    const match = readEnum(text, allowed, `${field}[${i}]`, r);
    if (match !== undefined && !out.includes(match)) out.push(match);
  }
  return out;
}

function readBoolean(value: unknown, field: string, r: Report, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  r.problem(field, `expected true or false but found ${show(value)}`);
  return fallback;
}

function readInteger(value: unknown, field: string, r: Report): number | null {
  if (value === undefined || value === null) return null;
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number === 'number' && Number.isInteger(number)) return number;
  r.problem(field, `expected a whole number but found ${show(value)}`);
  return null;
}

function readId(raw: Json, r: Report): string {
  const id = prop(raw, 'id');
  if (id === undefined || id === null) return '';
  if (typeof id !== 'string') {
    r.problem('id', `expected a string but found ${show(id)}`);
    return '';
  }
  if (isPlaceholder(id)) r.problem('id', `${show(id)} is a placeholder, not an id`);
  return id.trim();
}

function readDisplayName(raw: Json, r: Report): string {
  const name = prop(raw, 'displayName');
  if (typeof name === 'string' && name.trim() !== '') return name;
  if (name === undefined || name === null) r.problem('displayName', 'required but missing');
  else if (typeof name === 'string') r.problem('displayName', 'must not be empty');
  else r.problem('displayName', `expected a string but found ${show(name)}`);
  return '';
}

/** createdDateTime / modifiedDateTime as given; Windows PowerShell 5.1 writes dates as "/Date(1673341200000)/". */
function readDates(raw: Json): { createdDateTime?: string | null; modifiedDateTime?: string | null } {
  const out: { createdDateTime?: string | null; modifiedDateTime?: string | null } = {};
  for (const name of ['createdDateTime', 'modifiedDateTime'] as const) {
    const value = prop(raw, name);
    if (value === null) out[name] = null;
    else if (typeof value === 'string') {
      const ms = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(value);
      out[name] = ms ? new Date(Number(ms[1])).toISOString() : value;
    }
  }
  return out;
}
