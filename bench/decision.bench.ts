// Benchmark of the Conditional Access engine at Entra's maximum: 195 named locations × 2000 ranges (390,000 CIDRs,
// IPv4 and IPv6) and 200 policies. Measures compile time and heap, address → matching locations, and one full
// decision. Run: `npx node --expose-gc bench/decision.bench.ts` (or `npm run bench`).

import { type Ip, parseIp } from '../src/net/ip.ts';
import { compilePolicySet } from '../src/policy/compile.ts';
import { evaluate, type SignInRequest, type Subject } from '../src/policy/evaluate.ts';
import type {
  BuiltInControl,
  ClientAppType,
  ConditionalAccessPolicy,
  DevicePlatform,
  NamedLocation,
} from '../src/policy/types.ts';
import { mulberry32, percentile } from './stats.ts';

const LOCATIONS = 195;
const RANGES_PER_LOCATION = 2000;
const POLICIES = 200;
const USERS = 2000;
const GROUPS = 300;
const APPS = 60;
const ROLES = [
  '62e90394-69f5-4237-9190-012177145e10',
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9',
  '194ae4cb-b126-40b2-bd5b-6091b380977d',
  '5d6b6bb7-de71-4623-b4af-96380a352509',
  '4a5d8f65-41da-4de4-8968-e035b65339cf',
  'fe930be7-5e62-47db-91af-98c3a49a38b1',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
];

export interface DecisionBenchResult {
  ranges: number;
  policies: number;
  compileMs: number;
  heapMb: number;
  lookupMedianNs: number;
  lookupP99Ns: number;
  decisionMedianNs: number;
  decisionP99Ns: number;
  outcomes: Record<string, number>;
}

export function buildTenant(seed = 1) {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const locations: NamedLocation[] = [];
  for (let l = 0; l < LOCATIONS; l++) {
    const ranges = [];
    for (let r = 0; r < RANGES_PER_LOCATION; r++) {
      if (random() < 0.7) {
        // IPv4 /16–/30 anywhere in unicast space, host bits sometimes set as real exports have them.
        const prefix = 16 + Math.floor(random() * 15);
        const address = [1 + Math.floor(random() * 222), rnd(random, 256), rnd(random, 256), rnd(random, 256)];
        ranges.push({
          '@odata.type': '#microsoft.graph.iPv4CidrRange' as const,
          cidrAddress: `${address.join('.')}/${prefix}`,
        });
      } else {
        const prefix = 32 + Math.floor(random() * 33);
        const words = [0x2001, 0x0db8 + rnd(random, 8), rnd(random, 65536), rnd(random, 65536)].map((w) =>
          w.toString(16),
        );
        ranges.push({
          '@odata.type': '#microsoft.graph.iPv6CidrRange' as const,
          cidrAddress: `${words.join(':')}::/${prefix}`,
        });
      }
    }
    locations.push({
      '@odata.type': '#microsoft.graph.ipNamedLocation',
      id: `loc-${l}`,
      displayName: `Location ${l}`,
      isTrusted: l % 4 === 0,
      ipRanges: ranges,
    });
  }

  const groups = Array.from({ length: GROUPS }, (_, i) => `group-${i}`);
  const apps = Array.from({ length: APPS }, (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`);
  const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
  const policies: ConditionalAccessPolicy[] = [];
  for (let p = 0; p < POLICIES; p++) {
    const kind = random();
    const grant: BuiltInControl[] = kind < 0.3 ? ['block'] : kind < 0.8 ? ['mfa'] : ['mfa', 'compliantDevice'];
    // As in real tenants, most policies target groups or roles, and blocks target specific locations.
    const byGroup = random() < 0.8;
    const locationRule = random();
    policies.push({
      id: `policy-${p}`,
      displayName: `Policy ${p}`,
      state: random() < 0.7 ? 'enabled' : random() < 0.66 ? 'enabledForReportingButNotEnforced' : 'disabled',
      conditions: {
        users: {
          includeUsers: byGroup ? [] : ['All'],
          excludeUsers: [pick(users), pick(users)],
          includeGroups: byGroup ? [pick(groups), pick(groups), pick(groups)] : [],
          excludeGroups: [pick(groups)],
          includeRoles: random() < 0.2 ? [pick(ROLES)] : [],
          excludeRoles: [],
        },
        applications: {
          includeApplications: random() < 0.5 ? ['All'] : [pick(apps), pick(apps)],
          excludeApplications: random() < 0.3 ? [pick(apps)] : [],
          includeUserActions: [],
        },
        clientAppTypes: random() < 0.2 ? ['exchangeActiveSync', 'other'] : ['all'],
        locations:
          kind < 0.3
            ? {
                includeLocations: [`loc-${rnd(random, LOCATIONS)}`, `loc-${rnd(random, LOCATIONS)}`],
                excludeLocations: [],
              }
            : locationRule < 0.4
              ? { includeLocations: ['All'], excludeLocations: ['AllTrusted'] }
              : locationRule < 0.7
                ? {
                    includeLocations: [`loc-${rnd(random, LOCATIONS)}`, `loc-${rnd(random, LOCATIONS)}`],
                    excludeLocations: [],
                  }
                : null,
        platforms: random() < 0.2 ? { includePlatforms: ['all'], excludePlatforms: ['iOS', 'android'] } : null,
        signInRiskLevels: random() < 0.1 ? ['high', 'medium'] : [],
        userRiskLevels: [],
      },
      grantControls: { operator: random() < 0.5 ? 'AND' : 'OR', builtInControls: grant },
      sessionControls:
        random() < 0.2
          ? {
              signInFrequency: {
                isEnabled: true,
                type: 'hours',
                value: 1 + rnd(random, 23),
                frequencyInterval: 'timeBased',
              },
            }
          : null,
    });
  }

  const subjects: Subject[] = users.map((userId, i) => ({
    userId,
    groups: Array.from({ length: rnd(random, 12) }, () => pick(groups)),
    roles: i % 50 === 0 ? [pick(ROLES)] : [],
    userType: i % 20 === 0 ? 'guest' : 'member',
  }));
  // Half the addresses fall inside some location's range, half are random.
  const addresses: string[] = [];
  for (let i = 0; i < 4096; i++) {
    if (i % 2 === 0) {
      const location = pick(locations);
      if (location['@odata.type'] !== '#microsoft.graph.ipNamedLocation') continue;
      addresses.push(location.ipRanges[rnd(random, location.ipRanges.length)].cidrAddress.split('/')[0]);
    } else if (i % 3 === 0) {
      addresses.push(`2001:db8:${rnd(random, 65536).toString(16)}::${rnd(random, 65536).toString(16)}`);
    } else {
      addresses.push([1 + rnd(random, 222), rnd(random, 256), rnd(random, 256), rnd(random, 256)].join('.'));
    }
  }
  const clientApps: ClientAppType[] = ['browser', 'browser', 'browser', 'mobileAppsAndDesktopClients', 'other'];
  const platforms: DevicePlatform[] = ['windows', 'macOS', 'iOS', 'android', 'linux'];
  const requests: Array<{ subject: Subject; request: SignInRequest }> = addresses.map((ipAddress) => ({
    subject: pick(subjects),
    request: {
      application: pick(apps),
      ipAddress,
      clientAppType: pick(clientApps),
      devicePlatform: pick(platforms),
      signInRiskLevel: 'none',
      userRiskLevel: 'none',
    },
  }));
  return { locations, policies, requests };
}

function rnd(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

export function benchDecision(): DecisionBenchResult {
  const { locations, policies, requests } = buildTenant();
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  const set = compilePolicySet(locations, policies);
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  globalThis.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

  // address → matching locations: parse + prefix lookup, timed per call.
  const ips: Ip[] = requests.map((r) => parseIp(r.request.ipAddress as string));
  const lookups: number[] = [];
  let sink = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < ips.length; i++) {
      const start = process.hrtime.bigint();
      sink += set.ipIndex.lookup(ips[i]).length;
      lookups.push(Number(process.hrtime.bigint() - start));
    }
  }

  // One full decision: IP parse, location lookup, every policy's conditions, grant and session merge.
  const decisions: number[] = [];
  const outcomes: Record<string, number> = { allow: 0, challenge: 0, block: 0 };
  for (let round = 0; round < 15; round++) {
    for (const { subject, request } of requests) {
      const start = process.hrtime.bigint();
      const { decision } = evaluate(set, subject, request, [], 0);
      decisions.push(Number(process.hrtime.bigint() - start));
      if (round === 0) outcomes[decision.outcome]++;
    }
  }
  if (sink < 0) console.log(sink);
  // Warm-up rounds are dropped so the figures describe the optimised code.
  const steadyLookups = lookups.slice(ips.length * 5);
  const steadyDecisions = decisions.slice(requests.length * 3);
  return {
    ranges: LOCATIONS * RANGES_PER_LOCATION,
    policies: POLICIES,
    compileMs,
    heapMb,
    lookupMedianNs: percentile(steadyLookups, 50),
    lookupP99Ns: percentile(steadyLookups, 99),
    decisionMedianNs: percentile(steadyDecisions, 50),
    decisionP99Ns: percentile(steadyDecisions, 99),
    outcomes,
  };
}

/** The markdown table recorded in docs/benchmarks.md. */
export function formatDecision(r: DecisionBenchResult): string {
  const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;
  return [
    '| ranges | policies | compile | lookup median | lookup p99 | decision median | decision p99 |',
    '|---|---|---|---|---|---|---|',
    `| ${r.ranges} | ${r.policies} | ${r.compileMs.toFixed(0)} ms | ${r.lookupMedianNs} ns | ${r.lookupP99Ns} ns | ${us(r.decisionMedianNs)} | ${us(r.decisionP99Ns)} |`,
    '',
    `outcomes of the first round: ${JSON.stringify(r.outcomes)}`,
  ].join('\n');
}

if (import.meta.main) console.log(formatDecision(benchDecision()));
