// Checks a set of canonical named locations and policies against Entra's rules and the configured limits. Every
// problem is collected (never only the first), each naming the object, the field and the offending value.

import { isCountryCode } from '../../geo/iso3166.ts';
import { CidrParseError, parseCidr } from '../../net/cidr.ts';
import {
  type ConditionalAccessPolicy,
  type ConditionalAccessSessionControls,
  IPV4_RANGE_TYPE,
  IPV6_RANGE_TYPE,
  MFA_TRUSTED_IPS_LOCATION_ID,
  type NamedLocation,
} from '../types.ts';
import { DEFAULT_LIMITS, type PolicyLimits } from './limits.ts';
import { describeObject, type Problem, show } from './problems.ts';

export interface ValidateOptions {
  /** The file an object came from, so problems name it (see LoadResult.sourceFile). */
  fileOf?: (item: NamedLocation | ConditionalAccessPolicy) => string | undefined;
}

/** Location values that are not ids of named locations. */
const SPECIAL_LOCATIONS: ReadonlySet<string> = new Set(['All', 'AllTrusted', MFA_TRUSTED_IPS_LOCATION_ID]);

/**
 * Named locations: the count limit, ranges per location, each range parses with the family its @odata.type says and
 * is no broader than the limit, ids are unique, countries are ISO 3166-1 alpha-2 codes, a country location names at
 * least one country (or includes unknown ones).
 *
 * Display names may repeat: Entra does not require unique names for named locations (tenants have them, and tools
 * such as Microsoft365DSC handle "multiple named locations with the same name"), so neither does Portcullis.
 */
export function validateLocations(
  locations: NamedLocation[],
  limits: PolicyLimits = DEFAULT_LIMITS,
  options: ValidateOptions = {},
): Problem[] {
  const problems: Problem[] = [];
  if (locations.length > limits.maxNamedLocations) {
    problems.push({
      message: `${locations.length} named locations is more than the limit of ${limits.maxNamedLocations}`,
    });
  }
  const byId = new Map<string, NamedLocation>();
  locations.forEach((location, index) => {
    const add = problemAdder(problems, 'location', location, index, options);
    if (location.id !== '') {
      const first = byId.get(location.id);
      if (first !== undefined) add('id', `${show(location.id)} is also the id of location ${show(first.displayName)}`);
      else byId.set(location.id, location);
    }
    if (location['@odata.type'] === '#microsoft.graph.ipNamedLocation') {
      const count = location.ipRanges.length;
      if (count < limits.minRangesPerLocation) {
        add('ipRanges', `${count} ranges is fewer than the minimum of ${limits.minRangesPerLocation}`);
      }
      if (count > limits.maxRangesPerLocation) {
        add('ipRanges', `${count} ranges is more than the limit of ${limits.maxRangesPerLocation} per location`);
      }
      location.ipRanges.forEach((range, i) => {
        const message = rangeProblem(range.cidrAddress, range['@odata.type'], limits);
        if (message !== undefined) add(`ipRanges[${i}].cidrAddress`, message);
      });
    } else {
      if (location.countriesAndRegions.length === 0 && !location.includeUnknownCountriesAndRegions) {
        add(
          'countriesAndRegions',
          'empty: a country location needs at least one country or region, or includeUnknownCountriesAndRegions',
        );
      }
      location.countriesAndRegions.forEach((code, i) => {
        // XK (Kosovo) is user-assigned, yet Microsoft's own Graph PowerShell example creates a location with it.
        if (!isCountryCode(code) && code !== 'XK') {
          add(`countriesAndRegions[${i}]`, `${show(code)} is not an ISO 3166-1 alpha-2 country code`);
        }
      });
    }
  });
  return problems;
}

function rangeProblem(text: string, type: string, limits: PolicyLimits): string | undefined {
  let cidr: ReturnType<typeof parseCidr>;
  try {
    cidr = parseCidr(text);
  } catch (error) {
    if (error instanceof CidrParseError) return error.message;
    throw error;
  }
  const declared = type === IPV6_RANGE_TYPE ? 6 : type === IPV4_RANGE_TYPE ? 4 : undefined;
  if (declared !== undefined && declared !== cidr.family) {
    return `${show(text)} is an IPv${cidr.family} range but its @odata.type is ${type}`;
  }
  const min = cidr.family === 4 ? limits.minIpv4PrefixLength : limits.minIpv6PrefixLength;
  if (cidr.prefixLength < min) {
    return `${show(text)} is too broad: the prefix of an IPv${cidr.family} range must be /${min} or longer`;
  }
  return undefined;
}

/**
 * Policies: the count limit, unique ids, every referenced named location exists, 'block' stands alone, the policy
 * has a grant or a session control, it includes users and applications, sign-in frequency is in Entra's range.
 */
export function validatePolicies(
  policies: ConditionalAccessPolicy[],
  locationIds: ReadonlySet<string>,
  limits: PolicyLimits = DEFAULT_LIMITS,
  options: ValidateOptions = {},
): Problem[] {
  const problems: Problem[] = [];
  if (policies.length > limits.maxPolicies) {
    problems.push({ message: `${policies.length} policies is more than the limit of ${limits.maxPolicies}` });
  }
  const byId = new Map<string, ConditionalAccessPolicy>();
  policies.forEach((policy, index) => {
    const add = problemAdder(problems, 'policy', policy, index, options);
    if (policy.id !== '') {
      const first = byId.get(policy.id);
      if (first !== undefined) add('id', `${show(policy.id)} is also the id of policy ${show(first.displayName)}`);
      else byId.set(policy.id, policy);
    }

    const { users, applications, locations } = policy.conditions;
    for (const side of ['includeLocations', 'excludeLocations'] as const) {
      (locations?.[side] ?? []).forEach((id, i) => {
        if (!SPECIAL_LOCATIONS.has(id) && !locationIds.has(id)) {
          add(`conditions.locations.${side}[${i}]`, `named location ${show(id)} does not exist`);
        }
      });
    }

    if (users.includeUsers.length === 0 && users.includeGroups.length === 0 && users.includeRoles.length === 0) {
      add('conditions.users', "the policy must include users, groups or roles (use 'None' to include nobody)");
    }
    const contexts = applications.includeAuthenticationContextClassReferences ?? [];
    if (
      applications.includeApplications.length === 0 &&
      applications.includeUserActions.length === 0 &&
      contexts.length === 0
    ) {
      add(
        'conditions.applications',
        "the policy must include applications, user actions or authentication contexts (use 'None' to include none)",
      );
    }

    const grant = policy.grantControls;
    const others = [
      ...(grant?.builtInControls ?? []).filter((control) => control !== 'block'),
      ...(grant?.customAuthenticationFactors ?? []),
      ...(grant?.termsOfUse ?? []),
    ];
    if (grant?.builtInControls.includes('block') && others.length > 0) {
      // Entra offers "Block access" or "Grant access" with requirements, never both in one policy.
      add(
        'grantControls.builtInControls',
        `'block' cannot be combined with other controls (${others.map((value) => show(value)).join(', ')}): a policy blocks or grants`,
      );
    }
    const hasGrant = grant != null && (grant.builtInControls.length > 0 || others.length > 0);
    if (!hasGrant && !hasSessionControl(policy.sessionControls)) {
      // "A valid policy should contain … at least one grant/session control" (Create conditionalAccessPolicy).
      add('grantControls', 'the policy has neither grant controls nor session controls');
    }

    const frequency = policy.sessionControls?.signInFrequency;
    if (frequency?.isEnabled && frequency.frequencyInterval !== 'everyTime') {
      const field = 'sessionControls.signInFrequency';
      const range = frequency.type === 'hours' ? [1, 23] : frequency.type === 'days' ? [1, 365] : undefined;
      if (range === undefined) {
        const type = frequency.type;
        add(
          `${field}.type`,
          type == null
            ? 'required when sign-in frequency is enabled: hours or days'
            : `${show(type)} is not a sign-in frequency unit: hours or days`,
        );
      } else if (typeof frequency.value !== 'number' || !Number.isInteger(frequency.value)) {
        add(`${field}.value`, `required: the number of ${frequency.type}, from ${range[0]} to ${range[1]}`);
      } else if (frequency.value < range[0] || frequency.value > range[1]) {
        add(
          `${field}.value`,
          `${frequency.value} ${frequency.type} is out of range: ${frequency.type} must be from ${range[0]} to ${range[1]}`,
        );
      }
    }
    const browser = policy.sessionControls?.persistentBrowser;
    if (browser?.isEnabled && (browser.mode === null || browser.mode === undefined)) {
      add('sessionControls.persistentBrowser.mode', 'required when persistent browser is enabled: always or never');
    }
  });
  return problems;
}

function hasSessionControl(controls: ConditionalAccessSessionControls | null | undefined): boolean {
  if (controls == null) return false;
  return (
    controls.signInFrequency?.isEnabled === true ||
    controls.persistentBrowser?.isEnabled === true ||
    controls.disableResilienceDefaults === true ||
    controls.continuousAccessEvaluation?.mode !== undefined ||
    controls.applicationEnforcedRestrictions?.isEnabled === true ||
    controls.cloudAppSecurity?.isEnabled === true ||
    controls.secureSignInSession?.isEnabled === true
  );
}

/** Both checks over one set; policies are checked against the ids of these locations. */
export function validatePolicySet(
  set: { locations: NamedLocation[]; policies: ConditionalAccessPolicy[] },
  limits: PolicyLimits = DEFAULT_LIMITS,
  options: ValidateOptions = {},
): Problem[] {
  const locationIds = new Set(set.locations.map((location) => location.id));
  return [
    ...validateLocations(set.locations, limits, options),
    ...validatePolicies(set.policies, locationIds, limits, options),
  ];
}

function problemAdder(
  problems: Problem[],
  kind: 'location' | 'policy',
  item: NamedLocation | ConditionalAccessPolicy,
  index: number,
  options: ValidateOptions,
): (field: string, message: string) => void {
  const object = describeObject(kind, item.displayName, item.id, index + 1);
  const file = options.fileOf?.(item);
  return (field, message) => {
    const problem: Problem = { object, field, message };
    if (file !== undefined) problem.file = file;
    problems.push(problem);
  };
}
