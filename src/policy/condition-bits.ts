// The compiled policy set's conditions as bitsets over policies (bit i of word i >>> 5 is policy i), so that a request
// is matched against every policy and every condition with a few dozen word operations instead of a walk over each
// policy. Built once per compiled set; the evaluator reads it, the builder here is its only writer.
import type { CompiledPolicy } from './compile.ts';

/** A set of policies: bit i of word `i >>> 5` is policy i. Words past the last policy are zero. */
export type PolicyBits = Int32Array;

export interface ConditionBits {
  /** Words per bitset: ceil(policies / 32). */
  readonly words: number;
  /** Policies that are not disabled (enabled or report-only). */
  readonly active: PolicyBits;
  /** Policies that are enabled (enforced). */
  readonly enforced: PolicyBits;

  // users: the maps hold `2 × words` per key, the included policies then the excluded ones.
  readonly allUsers: PolicyBits;
  readonly includeGuests: PolicyBits;
  readonly excludeGuests: PolicyBits;
  readonly users: ReadonlyMap<string, Int32Array>;
  readonly groups: ReadonlyMap<string, Int32Array>;
  /** Keys are role template ids in lower case. */
  readonly roles: ReadonlyMap<string, Int32Array>;

  // applications: `apps` holds included then excluded policies per lower-case app id; user actions are include-only.
  readonly allApps: PolicyBits;
  readonly apps: ReadonlyMap<string, Int32Array>;
  readonly userActions: ReadonlyMap<string, PolicyBits>;

  // multi-valued conditions: which configured policies a request value does NOT match, per bit position.
  readonly platformConfigured: PolicyBits;
  readonly platformNotMatched: readonly PolicyBits[];
  readonly clientAppConfigured: PolicyBits;
  /** Indexed by the request's client app type's bit position (see `clientAppRequestMask`). */
  readonly clientAppNotMatched: readonly PolicyBits[];
  readonly signInRiskConfigured: PolicyBits;
  readonly signInRiskNotMatched: readonly PolicyBits[];
  readonly userRiskConfigured: PolicyBits;
  readonly userRiskNotMatched: readonly PolicyBits[];

  // locations
  readonly locationConfigured: PolicyBits;
  readonly includeAnyLocation: PolicyBits;
  readonly excludeAnyLocation: PolicyBits;
  readonly includeAllTrusted: PolicyBits;
  readonly excludeAllTrusted: PolicyBits;
  readonly locationsNeedIp: PolicyBits;
  readonly locationsNeedCountry: PolicyBits;
  /** "All locations" with no exclusion at all: matches whatever the address, even without one. */
  readonly anyLocationNoExclusion: PolicyBits;
  /**
   * Per location index: `2 × words + 1` words, the policies that include it, the policies that exclude it, then 1
   * when the location is trusted (else 0). Several locations' entries OR together into the same layout.
   */
  readonly locationListed: readonly Int32Array[];
  /** An entry in the layout of `locationListed` for no location at all. */
  readonly nowhere: Int32Array;
  /** Whether any policy needs the country (so the evaluator can skip the geo lookup when none does). */
  readonly anyNeedsCountry: boolean;

  // session controls
  /** Policies with a location condition that ask for strict location enforcement (CompiledPolicy.strictLocation). */
  readonly strictLocation: PolicyBits;
}

export function wordsFor(policyCount: number): number {
  return Math.max(1, Math.ceil(policyCount / 32));
}

/** Whether policy `index` is in the bitset that starts at word `offset` of `bits`. */
export function hasBit(bits: Int32Array, index: number, offset = 0): boolean {
  return (bits[offset + (index >>> 5)] & (1 << (index & 31))) !== 0;
}

function setBit(bits: Int32Array, index: number): void {
  bits[index >>> 5] |= 1 << (index & 31);
}

/**
 * Per-key include/exclude bitsets (users, groups, roles, applications), filled while policies are compiled.
 * Each key owns `2 × words` words: the policies that include it, then the policies that exclude it.
 */
export class ListedBitsBuilder {
  readonly #words: number;
  readonly #map = new Map<string, Int32Array>();
  constructor(words: number) {
    this.#words = words;
  }
  include(key: string, policy: number): void {
    setBit(this.#entry(key), policy);
  }
  exclude(key: string, policy: number): void {
    setBit(this.#entry(key).subarray(this.#words), policy);
  }
  build(): ReadonlyMap<string, Int32Array> {
    return this.#map;
  }
  #entry(key: string): Int32Array {
    let entry = this.#map.get(key);
    if (!entry) {
      entry = new Int32Array(2 * this.#words);
      this.#map.set(key, entry);
    }
    return entry;
  }
}

/** The bits that a request's client app type covers; Exchange ActiveSync is both exchangeActiveSync and easSupported. */
export function clientAppRequestMask(type: string, bitOf: Readonly<Record<string, number>>): number {
  if (type === 'all') return -1;
  if (type === 'exchangeActiveSync' || type === 'easSupported') {
    return (1 << bitOf.exchangeActiveSync) | (1 << bitOf.easSupported);
  }
  return 1 << bitOf[type];
}

export interface ConditionBitsInput {
  readonly policies: readonly CompiledPolicy[];
  /** Per location index: 1 when trusted. */
  readonly trustedMask: Uint8Array;
  readonly users: ReadonlyMap<string, Int32Array>;
  readonly groups: ReadonlyMap<string, Int32Array>;
  readonly roles: ReadonlyMap<string, Int32Array>;
  readonly apps: ReadonlyMap<string, Int32Array>;
  readonly userActions: ReadonlyMap<string, Int32Array>;
  readonly platformBits: Readonly<Record<string, number>>;
  readonly clientAppBits: Readonly<Record<string, number>>;
  readonly riskBits: Readonly<Record<string, number>>;
  readonly stateEnabled: number;
  readonly stateDisabled: number;
}

/** Turns the compiled policies' flags and masks into the bitsets above. */
export function buildConditionBits(input: ConditionBitsInput): ConditionBits {
  const { policies } = input;
  const words = wordsFor(policies.length);
  const bitsWhere = (test: (p: CompiledPolicy) => boolean) => {
    const bits = new Int32Array(words);
    for (const policy of policies) if (test(policy)) setBit(bits, policy.index);
    return bits;
  };
  const perValue = (
    table: Readonly<Record<string, number>>,
    notMatched: (p: CompiledPolicy, bit: number) => boolean,
  ) => {
    const out: PolicyBits[] = [];
    for (const position of Object.values(table)) out[position] = bitsWhere((p) => notMatched(p, position));
    return out;
  };

  const clientAppNotMatched: PolicyBits[] = [];
  for (const [type, position] of Object.entries(input.clientAppBits)) {
    const mask = clientAppRequestMask(type, input.clientAppBits);
    clientAppNotMatched[position] = bitsWhere((p) => p.clientAppMask !== 0 && (p.clientAppMask & mask) === 0);
  }

  const locationListed: Int32Array[] = [];
  for (let l = 0; l < input.trustedMask.length; l++) {
    const listed = new Int32Array(2 * words + 1);
    listed[2 * words] = input.trustedMask[l];
    locationListed.push(listed);
  }
  for (const policy of policies) {
    for (const l of policy.includeLocations) setBit(locationListed[l], policy.index);
    for (const l of policy.excludeLocations) setBit(locationListed[l].subarray(words), policy.index);
  }
  const locationsNeedCountry = bitsWhere((p) => p.locationsConfigured && p.locationsNeedCountry);

  return Object.freeze({
    words,
    active: bitsWhere((p) => p.state !== input.stateDisabled),
    enforced: bitsWhere((p) => p.state === input.stateEnabled),
    allUsers: bitsWhere((p) => p.includeAllUsers),
    includeGuests: bitsWhere((p) => p.includeGuests),
    excludeGuests: bitsWhere((p) => p.excludeGuests),
    users: input.users,
    groups: input.groups,
    roles: input.roles,
    allApps: bitsWhere((p) => p.includeAllApps),
    apps: input.apps,
    userActions: input.userActions,
    platformConfigured: bitsWhere((p) => p.platformsConfigured),
    platformNotMatched: perValue(
      input.platformBits,
      (p, bit) =>
        p.platformsConfigured &&
        !((p.includePlatformMask & (1 << bit)) !== 0 && (p.excludePlatformMask & (1 << bit)) === 0),
    ),
    clientAppConfigured: bitsWhere((p) => p.clientAppMask !== 0),
    clientAppNotMatched,
    signInRiskConfigured: bitsWhere((p) => p.signInRiskMask !== 0),
    signInRiskNotMatched: perValue(
      input.riskBits,
      (p, bit) => p.signInRiskMask !== 0 && (p.signInRiskMask & (1 << bit)) === 0,
    ),
    userRiskConfigured: bitsWhere((p) => p.userRiskMask !== 0),
    userRiskNotMatched: perValue(
      input.riskBits,
      (p, bit) => p.userRiskMask !== 0 && (p.userRiskMask & (1 << bit)) === 0,
    ),
    locationConfigured: bitsWhere((p) => p.locationsConfigured),
    includeAnyLocation: bitsWhere((p) => p.includeAnyLocation),
    excludeAnyLocation: bitsWhere((p) => p.excludeAnyLocation),
    includeAllTrusted: bitsWhere((p) => p.includeAllTrusted),
    excludeAllTrusted: bitsWhere((p) => p.excludeAllTrusted),
    locationsNeedIp: bitsWhere((p) => p.locationsConfigured && p.locationsNeedIp),
    locationsNeedCountry,
    anyLocationNoExclusion: bitsWhere(
      (p) => p.includeAnyLocation && p.excludeLocations.length === 0 && !p.excludeAllTrusted,
    ),
    locationListed,
    nowhere: new Int32Array(2 * words + 1),
    anyNeedsCountry: locationsNeedCountry.some((w) => w !== 0),
    strictLocation: bitsWhere((p) => p.strictLocation),
  });
}
