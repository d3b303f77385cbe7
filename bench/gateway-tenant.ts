// The Conditional Access set of the forward-auth benchmark (bench/gateway.bench.ts): a mid-sized tenant shaped like
// bench/decision.bench.ts's realistic mix, at the size most organisations run — 7 named locations with 4,000 IP
// ranges plus a country location, and 100 policies — written through PolicyRepository as the Graph API writes them.
//
// The benchmarked user (in four groups, one of them nested) signs in with MFA from 127.0.0.1, which lies in the
// trusted "Headquarters" location. On the benchmarked application, for that user:
//   applies and is satisfied: "Require MFA for all users", "Wiki: MFA except from the VPN egress" (a location
//   condition that matches: All locations minus one), and group and platform MFA policies of the filler;
//   applies, report-only: "Wiki: compliant device (trial)";
//   evaluated, does not apply: "Wiki: block outside trusted locations" (the address is trusted), "Block sanctioned
//   countries" (a country location), "Block legacy authentication", block policies for the blocked networks.
// So every request is allowed, after all 100 policies and the location lookup have been evaluated.
import type {
  BuiltInControl,
  ClientAppType,
  ConditionalAccessPolicy,
  IpNamedLocation,
  IpRange,
} from '../src/policy/types.ts';
import type { PolicyRepository } from '../src/store/repositories/policy-repository.ts';
import { mulberry32 } from './stats.ts';

export const BENCH_POLICIES = 100;
/** Name, trusted, IPv4 ranges (Headquarters also holds 127.0.0.0/16, where the benchmark's client is). */
const LOCATIONS: readonly (readonly [string, boolean, number])[] = [
  ['Headquarters', true, 1000],
  ['Branch offices', true, 1000],
  ['VPN egress', true, 200],
  ['Partner networks', false, 500],
  ['Cloud data centres', false, 500],
  ['Blocked networks A', false, 400],
  ['Blocked networks B', false, 400],
];
const ROLES = ['62e90394-69f5-4237-9190-012177145e10', '194ae4cb-b126-40b2-bd5b-6091b380977d'];

export interface BenchTenantInput {
  /** The benchmarked application's appId. */
  readonly appId: string;
  /** Other applications' appIds (the filler targets them too). */
  readonly otherApps: readonly string[];
  /** Group ids the benchmarked user is in (directly or nested). */
  readonly userGroups: readonly string[];
  /** Every other group id of the tenant. */
  readonly otherGroups: readonly string[];
  /** Two break-glass accounts every policy excludes. */
  readonly breakGlass: readonly string[];
}

export interface BenchTenantSummary {
  readonly locations: number;
  readonly ranges: number;
  readonly policies: number;
}

type Conditions = ConditionalAccessPolicy['conditions'];
type NewPolicy = Omit<ConditionalAccessPolicy, 'id'>;

/** Writes the named locations and policies into the tenant; returns what was written. */
export async function writeBenchTenant(
  repository: PolicyRepository,
  input: BenchTenantInput,
  seed = 7,
): Promise<BenchTenantSummary> {
  const random = mulberry32(seed);
  const rnd = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]) => items[rnd(items.length)];
  const some = <T>(items: readonly T[], min: number, max: number) =>
    Array.from({ length: min + rnd(max - min + 1) }, () => pick(items));

  const ids = new Map<string, string>();
  let ranges = 0;
  for (const [index, [displayName, isTrusted, count]] of LOCATIONS.entries()) {
    const ipRanges: IpRange[] = [];
    if (index === 0) ipRanges.push({ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '127.0.0.0/16' });
    const blocked = displayName.startsWith('Blocked');
    while (ipRanges.length < count) {
      // Blocked networks live in 223.0.0.0/8, away from everything else; the rest anywhere in unicast space.
      const first = blocked ? 223 : 1 + rnd(222);
      if (first === 127) continue;
      const address = [first, rnd(256), rnd(256), rnd(256)].join('.');
      ipRanges.push({
        '@odata.type': '#microsoft.graph.iPv4CidrRange',
        cidrAddress: `${address}/${16 + rnd(15)}`,
      });
    }
    ranges += ipRanges.length;
    const saved = await repository.createLocation({
      '@odata.type': '#microsoft.graph.ipNamedLocation',
      displayName,
      isTrusted,
      ipRanges,
    } satisfies Omit<IpNamedLocation, 'id'>);
    ids.set(displayName, saved.value.id);
  }
  const sanctioned = await repository.createLocation({
    '@odata.type': '#microsoft.graph.countryNamedLocation',
    displayName: 'Sanctioned countries',
    countriesAndRegions: ['KP', 'IR', 'SY', 'CU'],
    includeUnknownCountriesAndRegions: false,
    countryLookupMethod: 'clientIpAddress',
  });
  const location = (name: string) => ids.get(name) as string;

  const users = (more: Partial<Conditions['users']>): Conditions['users'] => ({
    includeUsers: [],
    excludeUsers: [...input.breakGlass],
    includeGroups: [],
    excludeGroups: [],
    includeRoles: [],
    excludeRoles: [],
    ...more,
  });
  const apps = (includeApplications: string[]): Conditions['applications'] => ({
    includeApplications,
    excludeApplications: [],
    includeUserActions: [],
  });
  const policy = (
    displayName: string,
    conditions: Partial<Conditions> & Pick<Conditions, 'users' | 'applications'>,
    grant: BuiltInControl[],
    extra: Partial<NewPolicy> = {},
  ): NewPolicy => ({
    displayName,
    state: 'enabled',
    conditions: {
      clientAppTypes: ['all'],
      locations: null,
      platforms: null,
      signInRiskLevels: [],
      userRiskLevels: [],
      ...conditions,
    },
    grantControls: { operator: 'OR', builtInControls: grant },
    sessionControls: null,
    ...extra,
  });

  const policies: NewPolicy[] = [
    policy('Require MFA for all users', { users: users({ includeUsers: ['All'] }), applications: apps(['All']) }, [
      'mfa',
    ]),
    policy(
      'Wiki: MFA except from the VPN egress',
      {
        users: users({ includeUsers: ['All'] }),
        applications: apps([input.appId]),
        locations: { includeLocations: ['All'], excludeLocations: [location('VPN egress')] },
      },
      ['mfa'],
    ),
    policy(
      'Wiki: block outside trusted locations',
      {
        users: users({ includeUsers: ['All'] }),
        applications: apps([input.appId]),
        locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
      },
      ['block'],
    ),
    policy(
      'Wiki: compliant device (trial)',
      { users: users({ includeUsers: ['All'] }), applications: apps([input.appId]) },
      ['mfa', 'compliantDevice'],
      {
        state: 'enabledForReportingButNotEnforced',
        grantControls: { operator: 'AND', builtInControls: ['mfa', 'compliantDevice'] },
      },
    ),
    policy(
      'Block sanctioned countries',
      {
        users: users({ includeUsers: ['All'] }),
        applications: apps(['All']),
        locations: { includeLocations: [sanctioned.value.id], excludeLocations: [] },
      },
      ['block'],
    ),
    policy(
      'Block legacy authentication',
      {
        users: users({ includeUsers: ['All'] }),
        applications: apps(['All']),
        clientAppTypes: ['exchangeActiveSync', 'other'] as ClientAppType[],
      },
      ['block'],
    ),
  ];
  // The filler, in bench/decision.bench.ts's realistic proportions. Groups are drawn from all of the tenant's, so
  // some of these policies apply to the benchmarked user; none of those blocks or asks for more than MFA.
  const allGroups = [...input.userGroups, ...input.otherGroups];
  const allApps = [input.appId, ...input.otherApps];
  const blockedNetwork = () => location(random() < 0.5 ? 'Blocked networks A' : 'Blocked networks B');
  for (let p = policies.length; p < BENCH_POLICIES; p++) {
    const kind = random();
    const stateDraw = random();
    const state: NewPolicy['state'] =
      stateDraw < 0.85 ? 'enabled' : stateDraw < 0.9 ? 'enabledForReportingButNotEnforced' : 'disabled';
    if (kind < 0.35) {
      policies.push(
        policy(
          `MFA for teams ${p}`,
          {
            users: users({ includeGroups: some(allGroups, 1, 3) }),
            applications: apps(random() < 0.7 ? some(allApps, 1, 3) : ['All']),
            locations: random() < 0.25 ? { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } : null,
          },
          ['mfa'],
          { state },
        ),
      );
    } else if (kind < 0.45) {
      policies.push(
        policy(`MFA for admins ${p}`, { users: users({ includeRoles: [pick(ROLES)] }), applications: apps(['All']) }, [
          'mfa',
        ]),
      );
    } else if (kind < 0.55) {
      policies.push(
        policy(
          `Managed desktops ${p}`,
          {
            users: users({ includeGroups: some(allGroups, 1, 3) }),
            applications: apps(['All']),
            platforms: { includePlatforms: ['windows', 'macOS'], excludePlatforms: [] },
          },
          ['mfa', 'compliantDevice'],
          { state },
        ),
      );
    } else if (kind < 0.75) {
      policies.push(
        policy(
          `Block blocked networks ${p}`,
          {
            users: random() < 0.3 ? users({ includeUsers: ['All'] }) : users({ includeGroups: some(allGroups, 1, 3) }),
            applications: apps(['All']),
            locations: { includeLocations: [blockedNetwork(), blockedNetwork()], excludeLocations: [] },
          },
          ['block'],
          { state },
        ),
      );
    } else {
      const strict = random() < 0.6;
      policies.push(
        policy(
          `Trial ${p}`,
          {
            users: random() < 0.5 ? users({ includeUsers: ['All'] }) : users({ includeGroups: some(allGroups, 1, 3) }),
            applications: apps(random() < 0.5 ? ['All'] : some(allApps, 1, 3)),
            locations: strict ? null : { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
          },
          strict ? ['mfa', 'compliantDevice'] : ['block'],
          {
            state: 'enabledForReportingButNotEnforced',
            grantControls: { operator: 'AND', builtInControls: strict ? ['mfa', 'compliantDevice'] : ['block'] },
          },
        ),
      );
    }
  }
  for (const p of policies) await repository.createPolicy(p);
  return { locations: LOCATIONS.length + 1, ranges, policies: policies.length };
}
