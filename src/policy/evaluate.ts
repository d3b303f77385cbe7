// The pure Conditional Access evaluator: (compiled set, subject, request, satisfied controls, time) → a decision and,
// on demand, each policy's result with every condition's outcome. No I/O; the same result feeds the sign-in log,
// What If and the error page.
//
// Semantics follow Entra's documentation: every applicable policy applies; within a policy every configured
// condition must hold; an exclusion beats an inclusion; block wins; report-only policies are evaluated and reported
// but never enforced; disabled policies never apply; with no applicable policy access is allowed.
//
// The decision is computed over bitsets (see condition-bits.ts): each condition yields, for all policies at once,
// the policies it does not match and the policies it lacks a signal for. The per-policy results are read from the
// same bitsets, on demand, so the decision and the sign-in log cannot disagree.
import { type Ip, tryParseIp } from '../net/ip.ts';
import {
  CLIENT_APP_BIT,
  CONTROL_BIT,
  type CompiledPolicy,
  type CompiledPolicySet,
  type GrantRequirement,
  PLATFORM_BIT,
  RISK_BIT,
  STATE_DISABLED,
  STATE_ENABLED,
} from './compile.ts';
import { hasBit } from './condition-bits.ts';
import { isoTime } from './iso-time.ts';
import type {
  AppliedPolicyResult,
  BuiltInControl,
  ClientAppType,
  DevicePlatform,
  PolicyState,
  RiskLevel,
  WhatIfAnalysisReason,
} from './types.ts';

export { type GrantRequirement, SATISFIABLE_CONTROLS } from './compile.ts';

export interface Subject {
  readonly userId: string;
  /** Every group the user is in, nested groups already flattened. */
  readonly groups: readonly string[];
  /** Directory role template ids. */
  readonly roles: readonly string[];
  readonly userType: 'member' | 'guest';
}

export interface SignInRequest {
  /** The application (client) id being signed in to. Exactly one of application and userAction is expected. */
  readonly application?: string;
  /** A user action such as `urn:user:registersecurityinfo`. */
  readonly userAction?: string;
  readonly ipAddress?: string | Ip;
  /** ISO 3166-1 alpha-2; used as given. When absent it comes from the IP address; '' means unknown. */
  readonly country?: string;
  readonly clientAppType?: ClientAppType;
  /** `unknown` when the User-Agent names no platform Portcullis recognises. */
  readonly devicePlatform?: DevicePlatform | 'unknown';
  readonly signInRiskLevel?: RiskLevel;
  readonly userRiskLevel?: RiskLevel;
}

/** The named checks, in the order Graph declares the matching `whatIfAnalysisReasons`. */
export const CONDITIONS = [
  'users',
  'application',
  'devicePlatform',
  'clientApps',
  'location',
  'signInRisk',
  'userRisk',
] as const;
export type ConditionName = (typeof CONDITIONS)[number];
export type ConditionOutcome = 'matched' | 'notMatched' | 'notConfigured' | 'notEnoughInformation';

const MATCHED = 0;
const NOT_MATCHED = 1;
const NOT_CONFIGURED = 2;
const NO_INFO = 3;
const OUTCOMES: readonly ConditionOutcome[] = ['matched', 'notMatched', 'notConfigured', 'notEnoughInformation'];
const N_CONDITIONS = CONDITIONS.length;

export interface ConditionResult {
  readonly condition: ConditionName;
  readonly outcome: ConditionOutcome;
  /** Why, in words an admin reads in the sign-in log or What If. */
  readonly reason: string;
}

export interface PolicyEvaluation {
  readonly id: string;
  readonly displayName: string;
  readonly state: PolicyState;
  readonly applies: boolean;
  readonly result: AppliedPolicyResult;
  /** `notSet` when the policy applies, otherwise why not (Graph's whatIfAnalysisReasons). */
  readonly analysisReasons: readonly WhatIfAnalysisReason[];
  readonly conditions: readonly ConditionResult[];
  readonly enforcedGrantControls: readonly string[];
  readonly enforcedSessionControls: readonly string[];
}

export interface MergedSessionControls {
  /** Minutes after which the user must sign in again; 0 means every time. Absent when no policy sets it. */
  readonly signInFrequencyMinutes?: number;
  readonly persistentBrowser?: 'always' | 'never';
  /**
   * Strict location enforcement: the gateway must re-evaluate location conditions on every request of this session.
   * True when an enforced policy asks for it (continuous access evaluation `strictLocation` or `strictEnforcement`)
   * and has a location condition, and every condition other than location leaves it in scope — whether or not the
   * location matches now: "block outside trusted locations" must be re-checked precisely while the user is inside.
   * Absent otherwise. The tenant's `continuousLocationEnforcement` session setting asks for the same for every policy.
   */
  readonly strictLocation?: true;
}

export interface Decision {
  /** allow: let in; challenge: ask for `missingControls` first; block: deny. */
  readonly outcome: 'allow' | 'challenge' | 'block';
  readonly blocked: boolean;
  /** Enforced policies that block: by the block control, or by controls Portcullis cannot satisfy. */
  readonly blockedBy: readonly string[];
  /** AADSTS-style code: 53003 blocked by Conditional Access, 53000 device state required, 50076 MFA required. */
  readonly errorCode?: 53003 | 53000 | 50076;
  /** Grant controls of every enforced policy that applies; all must be satisfied. */
  readonly grantRequirements: readonly GrantRequirement[];
  /** Controls to ask the user for, when the outcome is challenge. */
  readonly missingControls: readonly BuiltInControl[];
  readonly sessionControls: MergedSessionControls;
  /** Policies that could not be evaluated because the request lacked a signal they need. */
  readonly notEnoughInformation: readonly string[];
  readonly evaluatedAt: string;
}

export class EvaluationInputError extends Error {
  override name = 'EvaluationInputError';
}

export interface Evaluation {
  readonly decision: Decision;
  /** Every policy's result, with the outcome of each condition; computed on first use. */
  readonly policies: readonly PolicyEvaluation[];
}

/**
 * What the evaluator reads from a request before matching: parsed, looked up and turned into bit positions.
 * Mutable so that the decision's fast path can refill one per compiled set instead of allocating one per request.
 */
class Signals {
  ip: Ip | undefined = undefined;
  /** undefined: no signal; '': unknown country. */
  country: string | undefined = undefined;
  /** Indexes of the named locations that contain the address (a shared, frozen array). */
  ipHits: readonly number[] = NO_HITS;
  /** Those locations' entries of `ConditionBits.locationListed`, ORed together (see `listedAt`). */
  ipListed: Int32Array;
  /** Where `ipListed` is ORed together when it is neither shared nor cached. */
  readonly ipScratch: Int32Array;
  /** Indexes of the country locations that list the country. */
  countryHits: Int32Array | undefined = undefined;
  trusted = false;
  satisfiedMask = 0;
  /** Bit positions of the request's platform, client app type and risk levels; -1 when the request has none. */
  platform = -1;
  clientApp = -1;
  signInRisk = -1;
  userRisk = -1;
  constructor(nowhere: Int32Array) {
    this.ipListed = nowhere;
    this.ipScratch = new Int32Array(nowhere.length);
  }
}

/** One request matched against every policy: per condition (in CONDITIONS order), `words` words each. */
interface Match {
  /** Policies whose condition does not match. */
  readonly notMatched: Int32Array;
  /** Policies whose condition cannot be evaluated because the request lacks the signal. */
  readonly noInfo: Int32Array;
  /** Policies that list the user, one of their groups or roles: included in the first half, excluded in the second. */
  readonly listedUsers: Int32Array;
  /** Policies that list the application (or user action): included, then excluded. */
  readonly listedApps: Int32Array;
  /** Policies that list a country location the request is in: included, then excluded. */
  readonly listedCountries: Int32Array;
  /** Policies that some condition does not match: the OR of `notMatched` over the conditions. */
  readonly failed: Int32Array;
  /** Policies that some condition other than location does not match: out of scope wherever the request comes from. */
  readonly outOfScope: Int32Array;
  /** Policies that some condition lacks a signal for: the OR of `noInfo` over the conditions. */
  readonly lacking: Int32Array;
}

/** Per compiled set: the scratch of the evaluation in progress, and the location entries of label sets seen. */
interface SetState {
  readonly signals: Signals;
  readonly match: Match;
  /** Keyed by the prefix index's interned label-set arrays; grows to at most MAX_CACHED_LABEL_SETS entries. */
  readonly listedByLabels: Map<readonly number[], Int32Array>;
}

/**
 * An address can lie in many named locations (nested and overlapping ranges, up to all 195): ORing that many
 * locations' bitsets costs more than the rest of the decision, so the OR of a label set of CACHE_FROM or more
 * locations is kept once computed. At most MAX_CACHED_LABEL_SETS of them (about 450 bytes each), so that traffic
 * spread over every label set of the index cannot grow the cache past a few MB; beyond it they are ORed each time.
 */
const CACHE_FROM = 4;
const MAX_CACHED_LABEL_SETS = 8192;

const NO_HITS: readonly number[] = Object.freeze([]);
const EMPTY: readonly never[] = Object.freeze([]);
const NO_SESSION_CONTROLS: MergedSessionControls = Object.freeze({});
const STRICT_LOCATION_ONLY: MergedSessionControls = Object.freeze({ strictLocation: true });

export function evaluate(
  set: CompiledPolicySet,
  subject: Subject,
  request: SignInRequest,
  satisfied: Iterable<BuiltInControl>,
  now: number,
): Evaluation {
  // The country first: it may call the set's resolver, and no code but ours may run while the per-set scratch is in
  // use (evaluation is synchronous, so two evaluations never share it otherwise).
  const ip = addressOf(request);
  const country = resolveCountry(set, request, ip);
  const satisfiedMask = maskOf(satisfied);
  const state = stateFor(set);
  const { signals, match } = state;
  readSignals(set, state, request, ip, country, satisfiedMask, signals);
  matchConditions(set, subject, request, signals, match);

  const { words, active, enforced, strictLocation } = set.bits;
  const { failed, lacking, outOfScope } = match;
  const policies = set.policies;
  // Allocated only when something goes in: most decisions block nothing and lack no signal.
  let blockedBy: string[] | undefined;
  let requirements: GrantRequirement[] | undefined;
  let notEnoughInformation: string[] | undefined;
  let missing: BuiltInControl[] | undefined;
  let missingMask = 0;
  let blockedByControl = false;
  let frequency = -1;
  let persistent = 0;
  let strict = 0;

  for (let w = 0; w < words; w++) {
    // Strict location enforcement is asked for by enforced policies in scope, whatever their location condition says.
    strict |= active[w] & enforced[w] & strictLocation[w] & ~outOfScope[w];
    // An enforced policy applies when no condition failed and none lacked a signal; report-only ones change nothing.
    const reached = active[w] & enforced[w] & ~failed[w];
    for (let undecided = reached & lacking[w]; undecided !== 0; undecided &= undecided - 1) {
      notEnoughInformation = append(
        notEnoughInformation,
        policies[(w << 5) | (31 - Math.clz32(undecided & -undecided))].source.id,
      );
    }
    for (let applying = reached & ~lacking[w]; applying !== 0; applying &= applying - 1) {
      const policy = policies[(w << 5) | (31 - Math.clz32(applying & -applying))];
      if (policy.block) {
        blockedBy = append(blockedBy, policy.source.id);
        blockedByControl = true;
        continue;
      }
      if (policy.grantMask !== 0) {
        const ok = grantSatisfied(policy, satisfiedMask);
        requirements = append(requirements, ok ? policy.requirementMet : policy.requirementUnmet);
        if (!ok) {
          const askable = policy.askableControls;
          if (askable.length === 0) blockedBy = append(blockedBy, policy.source.id);
          for (let k = 0; k < askable.length; k++) {
            const bit = 1 << CONTROL_BIT[askable[k]];
            if ((missingMask & bit) !== 0) continue;
            missingMask |= bit;
            missing = append(missing, askable[k]);
          }
        }
      }
      const minutes = policy.signInFrequencyMinutes;
      if (minutes >= 0 && (frequency < 0 || minutes < frequency)) frequency = minutes;
      // 'never' (2) is the more restrictive persistent-browser mode and wins over 'always' (1).
      if (policy.persistentBrowser > persistent) persistent = policy.persistentBrowser;
    }
  }

  const blocked = blockedBy !== undefined;
  const outcome = blocked ? 'block' : missing !== undefined ? 'challenge' : 'allow';
  const sessionControls = mergedSessionControls(frequency, persistent, strict !== 0);
  const evaluatedAt = isoTime(now);
  const missingControls = blocked ? EMPTY : (missing ?? EMPTY);
  const decision: Decision =
    outcome === 'allow'
      ? {
          outcome,
          blocked,
          blockedBy: EMPTY,
          grantRequirements: requirements ?? EMPTY,
          missingControls,
          sessionControls,
          notEnoughInformation: notEnoughInformation ?? EMPTY,
          evaluatedAt,
        }
      : {
          outcome,
          blocked,
          blockedBy: blockedBy ?? EMPTY,
          errorCode: blocked ? (blockedByControl ? 53003 : 53000) : 50076,
          grantRequirements: requirements ?? EMPTY,
          missingControls,
          sessionControls,
          notEnoughInformation: notEnoughInformation ?? EMPTY,
          evaluatedAt,
        };
  return new LazyEvaluation(decision, set, subject, request, ip, country, satisfiedMask);
}

/** The decision now; every policy's result only when someone reads `policies` (the sign-in log, What If). */
class LazyEvaluation implements Evaluation {
  readonly decision: Decision;
  readonly #set: CompiledPolicySet;
  readonly #subject: Subject;
  readonly #request: SignInRequest;
  // Kept rather than read again: the country resolver need not be called twice, nor `satisfied` iterated twice.
  readonly #ip: Ip | undefined;
  readonly #country: string | undefined;
  readonly #satisfiedMask: number;
  #policies: readonly PolicyEvaluation[] | undefined;

  constructor(
    decision: Decision,
    set: CompiledPolicySet,
    subject: Subject,
    request: SignInRequest,
    ip: Ip | undefined,
    country: string | undefined,
    satisfiedMask: number,
  ) {
    this.decision = decision;
    this.#set = set;
    this.#subject = subject;
    this.#request = request;
    this.#ip = ip;
    this.#country = country;
    this.#satisfiedMask = satisfiedMask;
  }

  get policies(): readonly PolicyEvaluation[] {
    if (!this.#policies) {
      // The scratch belongs to whichever evaluation ran last: read and match again into buffers of our own.
      const set = this.#set;
      const signals = new Signals(set.bits.nowhere);
      readSignals(set, stateFor(set), this.#request, this.#ip, this.#country, this.#satisfiedMask, signals);
      this.#policies = describeAll(set, this.#subject, this.#request, signals);
    }
    return this.#policies;
  }
}

/** Pushes onto a list made on first use, sized to its first item (a first push would reserve room for 17). */
function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

function mergedSessionControls(frequency: number, persistent: number, strictLocation: boolean): MergedSessionControls {
  if (frequency < 0 && persistent === 0) return strictLocation ? STRICT_LOCATION_ONLY : NO_SESSION_CONTROLS;
  const controls: { -readonly [K in keyof MergedSessionControls]: MergedSessionControls[K] } = {};
  if (frequency >= 0) controls.signInFrequencyMinutes = frequency;
  if (persistent !== 0) controls.persistentBrowser = persistent === 2 ? 'never' : 'always';
  if (strictLocation) controls.strictLocation = true;
  return controls;
}

const stateBySet = new WeakMap<CompiledPolicySet, SetState>();
// Most processes evaluate against one set at a time: remember it ahead of the WeakMap.
let lastSet: CompiledPolicySet | undefined;
let lastState: SetState | undefined;

function stateFor(set: CompiledPolicySet): SetState {
  if (set === lastSet && lastState) return lastState;
  let state = stateBySet.get(set);
  if (!state) {
    state = { signals: new Signals(set.bits.nowhere), match: newMatch(set.bits.words), listedByLabels: new Map() };
    stateBySet.set(set, state);
  }
  lastSet = set;
  lastState = state;
  return state;
}

/**
 * The OR of the locations' `locationListed` entries: the compiled entry for one location, a cached one for a large
 * label set, else `scratch` filled in. Only `scratch` is ever written, and only here.
 */
function listedAt(set: CompiledPolicySet, state: SetState, hits: readonly number[], scratch: Int32Array): Int32Array {
  const b = set.bits;
  if (hits.length === 0) return b.nowhere;
  if (hits.length === 1) return b.locationListed[hits[0]];
  const cached = hits.length >= CACHE_FROM ? state.listedByLabels.get(hits) : undefined;
  if (cached) return cached;
  const caching = hits.length >= CACHE_FROM && state.listedByLabels.size < MAX_CACHED_LABEL_SETS;
  const listed = caching ? new Int32Array(scratch.length) : scratch;
  if (!caching) listed.fill(0);
  for (let k = 0; k < hits.length; k++) orInto(listed, b.locationListed[hits[k]]);
  if (caching) state.listedByLabels.set(hits, listed);
  return listed;
}

function newMatch(words: number): Match {
  return {
    notMatched: new Int32Array(N_CONDITIONS * words),
    noInfo: new Int32Array(N_CONDITIONS * words),
    listedUsers: new Int32Array(2 * words),
    listedApps: new Int32Array(2 * words),
    listedCountries: new Int32Array(2 * words),
    failed: new Int32Array(words),
    outOfScope: new Int32Array(words),
    lacking: new Int32Array(words),
  };
}

function addressOf(request: SignInRequest): Ip | undefined {
  const address = request.ipAddress;
  if (typeof address !== 'string') return address ?? undefined;
  const ip = tryParseIp(address);
  if (!ip) throw new EvaluationInputError(`ipAddress '${address}' is not a valid IP address`);
  return ip;
}

function resolveCountry(set: CompiledPolicySet, request: SignInRequest, ip: Ip | undefined): string | undefined {
  if (request.country !== undefined && request.country !== null) return request.country.toUpperCase();
  // The geo lookup is skipped when no policy names a country location: no result could depend on it.
  if (ip && set.countryOf && set.bits.anyNeedsCountry) return set.countryOf(ip) ?? '';
  return undefined;
}

function maskOf(satisfied: Iterable<BuiltInControl>): number {
  let mask = 0;
  // Arrays by index: a for-of would allocate an iterator and its results on every request.
  if (Array.isArray(satisfied)) {
    for (let k = 0; k < satisfied.length; k++) mask |= bitOf(satisfied[k]);
  } else for (const control of satisfied) mask |= bitOf(control);
  return mask;
}

/** The control's bit; 0 for a control Portcullis does not know, which then satisfies nothing. */
function bitOf(control: BuiltInControl): number {
  const bit = CONTROL_BIT[control];
  return typeof bit === 'number' ? 1 << bit : 0;
}

function readSignals(
  set: CompiledPolicySet,
  state: SetState,
  request: SignInRequest,
  ip: Ip | undefined,
  country: string | undefined,
  satisfiedMask: number,
  out: Signals,
): void {
  // Enum values first: a bad one throws before anything is written.
  const platform = position(PLATFORM_BIT, request.devicePlatform, 'devicePlatform');
  const clientApp = position(CLIENT_APP_BIT, request.clientAppType, 'clientAppType');
  const signInRisk = position(RISK_BIT, request.signInRiskLevel, 'signInRiskLevel');
  const userRisk = position(RISK_BIT, request.userRiskLevel, 'userRiskLevel');
  const ipHits = ip ? set.ipIndex.lookup(ip) : NO_HITS;
  const ipListed = listedAt(set, state, ipHits, out.ipScratch);
  out.ip = ip;
  out.country = country;
  out.ipHits = ipHits;
  out.ipListed = ipListed;
  // '' (unknown) is itself the key of the locations that include unknown countries and regions.
  out.countryHits = country !== undefined && set.hasCountryLocations ? set.countryIndex.get(country) : undefined;
  out.trusted = ipListed[2 * set.bits.words] === 1;
  out.satisfiedMask = satisfiedMask;
  out.platform = platform;
  out.clientApp = clientApp;
  out.signInRisk = signInRisk;
  out.userRisk = userRisk;
}

/** The bit position of an enum value, -1 when absent; a value outside the enum is an input error, not a match. */
function position(table: Readonly<Record<string, number>>, value: string | undefined, field: string): number {
  if (value === undefined || value === null) return -1;
  const bit = table[value];
  if (typeof bit !== 'number') {
    throw new EvaluationInputError(`${field} '${value}' is not one of ${Object.keys(table).join(', ')}`);
  }
  return bit;
}

/** Fills `m` with every condition's outcome for every policy. The one place where condition semantics live. */
function matchConditions(
  set: CompiledPolicySet,
  subject: Subject,
  request: SignInRequest,
  signals: Signals,
  m: Match,
): void {
  const b = set.bits;
  const words = b.words;
  const { notMatched, noInfo, listedUsers, listedApps, listedCountries } = m;

  listedUsers.fill(0);
  orInto(listedUsers, b.users.get(subject.userId));
  const groups = subject.groups;
  for (let k = 0; k < groups.length; k++) orInto(listedUsers, b.groups.get(groups[k]));
  const roles = subject.roles;
  for (let k = 0; k < roles.length; k++) orInto(listedUsers, b.roles.get(lowerCase(roles[k])));
  const guest = subject.userType === 'guest';

  listedApps.fill(0);
  const hasApp = request.application !== undefined;
  const hasAction = !hasApp && request.userAction !== undefined;
  if (hasApp) orInto(listedApps, b.apps.get(lowerCase(request.application as string)));
  else if (hasAction) orInto(listedApps, b.userActions.get(lowerCase(request.userAction as string)));

  const { ipListed, countryHits, trusted } = signals;
  listedCountries.fill(0);
  if (countryHits) {
    for (let k = 0; k < countryHits.length; k++) orInto(listedCountries, b.locationListed[countryHits[k]]);
  }
  const hasIp = signals.ip !== undefined;
  const hasCountry = signals.country !== undefined;

  // A request without a value for a condition matches no configured policy's: an all-zero "not matched" set.
  const none = b.nowhere;
  const platform = signals.platform < 0 ? none : b.platformNotMatched[signals.platform];
  const platformUnknown = signals.platform < 0 ? b.platformConfigured : none;
  const clientApp = signals.clientApp < 0 ? none : b.clientAppNotMatched[signals.clientApp];
  const clientAppUnknown = signals.clientApp < 0 ? b.clientAppConfigured : none;
  const signInRisk = signals.signInRisk < 0 ? none : b.signInRiskNotMatched[signals.signInRisk];
  const signInRiskUnknown = signals.signInRisk < 0 ? b.signInRiskConfigured : none;
  const userRisk = signals.userRisk < 0 ? none : b.userRiskNotMatched[signals.userRisk];
  const userRiskUnknown = signals.userRisk < 0 ? b.userRiskConfigured : none;
  const allUsers = b.allUsers;
  const guestsIncluded = guest ? b.includeGuests : none;
  const guestsExcluded = guest ? b.excludeGuests : none;
  const allApps = b.allApps;
  const locationConfigured = b.locationConfigured;
  const needIp = hasIp ? none : b.locationsNeedIp;
  const needCountry = hasCountry ? none : b.locationsNeedCountry;
  const anywhere = b.includeAnyLocation;
  const nowhere = b.excludeAnyLocation;
  const insideTrusted = trusted ? b.includeAllTrusted : none;
  const outsideTrusted = trusted ? b.excludeAllTrusted : none;
  const anyLocation = b.anyLocationNoExclusion;
  const { failed, outOfScope, lacking } = m;

  for (let w = 0; w < words; w++) {
    // users: an exclusion beats an inclusion.
    const included = listedUsers[w] | allUsers[w] | guestsIncluded[w];
    const excluded = listedUsers[words + w] | guestsExcluded[w];
    const users = excluded | ~included;

    // application, or user action; a request with neither cannot be evaluated.
    let application = 0;
    if (hasApp) application = listedApps[words + w] | ~(allApps[w] | listedApps[w]);
    else if (hasAction) application = ~listedApps[w];
    const applicationUnknown = hasApp || hasAction ? 0 : -1;

    // location: a policy whose locations need an address (or a country) the request lacks cannot be evaluated,
    // unless it covers all locations and excludes none.
    const configured = locationConfigured[w];
    const unknown = needIp[w] | needCountry[w];
    const inside = anywhere[w] | insideTrusted[w] | ipListed[w] | listedCountries[w];
    const outside = nowhere[w] | outsideTrusted[w] | ipListed[words + w] | listedCountries[words + w];
    const location = configured & ~unknown & (outside | ~inside);
    const locationUnknown = configured & unknown & ~anyLocation[w];

    // In CONDITIONS order, for the explanations; the decision reads only `failed` and `lacking`.
    notMatched[w] = users;
    noInfo[w] = 0;
    notMatched[words + w] = application;
    noInfo[words + w] = applicationUnknown;
    notMatched[2 * words + w] = platform[w];
    noInfo[2 * words + w] = platformUnknown[w];
    notMatched[3 * words + w] = clientApp[w];
    noInfo[3 * words + w] = clientAppUnknown[w];
    notMatched[4 * words + w] = location;
    noInfo[4 * words + w] = locationUnknown;
    notMatched[5 * words + w] = signInRisk[w];
    noInfo[5 * words + w] = signInRiskUnknown[w];
    notMatched[6 * words + w] = userRisk[w];
    noInfo[6 * words + w] = userRiskUnknown[w];
    const others = users | application | platform[w] | clientApp[w] | signInRisk[w] | userRisk[w];
    outOfScope[w] = others;
    failed[w] = others | location;
    lacking[w] =
      applicationUnknown |
      platformUnknown[w] |
      clientAppUnknown[w] |
      locationUnknown |
      signInRiskUnknown[w] |
      userRiskUnknown[w];
  }
}

/** `text.toLowerCase()`, without allocating a copy when it is lower-case ASCII already (app ids nearly always are). */
function lowerCase(text: string): string {
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c >= 0x80 || (c >= 0x41 && c <= 0x5a)) return text.toLowerCase();
  }
  return text;
}

/** ORs `source` into `target`, word by word, as far as the shorter of the two goes. */
function orInto(target: Int32Array, source: Int32Array | undefined): void {
  if (!source) return;
  const n = Math.min(target.length, source.length);
  for (let k = 0; k < n; k++) target[k] |= source[k];
}

function grantSatisfied(policy: CompiledPolicy, satisfiedMask: number): boolean {
  return policy.grantOperator === 'AND'
    ? (policy.grantMask & satisfiedMask) === policy.grantMask
    : (policy.grantMask & satisfiedMask) !== 0;
}

/** Everything the per-policy explanations read about one request. */
interface DetailContext {
  readonly set: CompiledPolicySet;
  readonly subject: Subject;
  readonly request: SignInRequest;
  readonly signals: Signals;
  readonly match: Match;
  /** Per location index: 1 when the request is in it. */
  readonly locationFlags: Uint8Array;
}

function describeAll(
  set: CompiledPolicySet,
  subject: Subject,
  request: SignInRequest,
  signals: Readonly<Signals>,
): PolicyEvaluation[] {
  const match = newMatch(set.bits.words);
  matchConditions(set, subject, request, signals, match);
  const locationFlags = new Uint8Array(set.locations.length);
  for (const index of signals.ipHits) locationFlags[index] = 1;
  for (const index of signals.countryHits ?? EMPTY) locationFlags[index] = 1;
  const ctx: DetailContext = { set, subject, request, signals, match, locationFlags };
  return set.policies.map((policy) => describePolicy(policy, ctx));
}

function codeOf(policy: CompiledPolicy, k: number, match: Match, words: number): number {
  if (hasBit(match.notMatched, policy.index, k * words)) return NOT_MATCHED;
  if (hasBit(match.noInfo, policy.index, k * words)) return NO_INFO;
  return configured(policy, CONDITIONS[k]) ? MATCHED : NOT_CONFIGURED;
}

function configured(policy: CompiledPolicy, condition: ConditionName): boolean {
  switch (condition) {
    case 'users':
    case 'application':
      return true;
    case 'devicePlatform':
      return policy.platformsConfigured;
    case 'clientApps':
      return policy.clientAppMask !== 0;
    case 'location':
      return policy.locationsConfigured;
    case 'signInRisk':
      return policy.signInRiskMask !== 0;
    case 'userRisk':
      return policy.userRiskMask !== 0;
  }
}

function resultOf(policy: CompiledPolicy, satisfiedMask: number, applies: boolean): AppliedPolicyResult {
  if (policy.state === STATE_DISABLED) return 'notEnabled';
  const reportOnly = policy.state !== STATE_ENABLED;
  if (!applies) return reportOnly ? 'reportOnlyNotApplied' : 'notApplied';
  if (policy.block) return reportOnly ? 'reportOnlyFailure' : 'failure';
  if (policy.grantMask === 0 || grantSatisfied(policy, satisfiedMask)) {
    return reportOnly ? 'reportOnlySuccess' : 'success';
  }
  if (!reportOnly) return 'failure';
  // Report-only: it would have interrupted the sign-in to ask for a control the user can give.
  return policy.askableControls.length > 0 ? 'reportOnlyInterrupted' : 'reportOnlyFailure';
}

function describePolicy(policy: CompiledPolicy, ctx: DetailContext): PolicyEvaluation {
  const source = policy.source;
  const disabled = policy.state === STATE_DISABLED;
  const words = ctx.set.bits.words;
  // Disabled policies are matched too, so that What If can still explain them.
  const conditions: ConditionResult[] = CONDITIONS.map((condition, k) => {
    const code = codeOf(policy, k, ctx.match, words);
    return { condition, outcome: OUTCOMES[code], reason: explain(condition, code, policy, ctx) };
  });
  const applies = !disabled && conditions.every((c) => c.outcome === 'matched' || c.outcome === 'notConfigured');
  let analysisReasons: WhatIfAnalysisReason[];
  if (disabled) analysisReasons = ['policyNotEnabled'];
  else if (applies) analysisReasons = ['notSet'];
  else {
    const failed = conditions.filter((c) => c.outcome === 'notMatched').map((c) => reasonOf(c.condition, ctx));
    analysisReasons =
      failed.length > 0
        ? failed
        : [
            'notEnoughInformation',
            ...conditions.filter((c) => c.outcome === 'notEnoughInformation').map((c) => reasonOf(c.condition, ctx)),
          ];
  }
  const enforcedSessionControls: string[] = [];
  if (applies && policy.signInFrequencyMinutes >= 0) enforcedSessionControls.push('signInFrequency');
  if (applies && policy.persistentBrowser > 0) enforcedSessionControls.push('persistentBrowser');
  return {
    id: source.id,
    displayName: source.displayName,
    state: source.state,
    applies,
    result: resultOf(policy, ctx.signals.satisfiedMask, applies),
    analysisReasons,
    conditions,
    enforcedGrantControls: applies ? (source.grantControls?.builtInControls ?? []) : [],
    enforcedSessionControls,
  };
}

function reasonOf(condition: ConditionName, ctx: DetailContext): WhatIfAnalysisReason {
  if (condition === 'application' && ctx.request.userAction !== undefined) return 'userActions';
  return condition;
}

/** Whether the policy is in the first (included) or second (excluded) half of a listed-by bitset. */
function listed(bits: Int32Array, words: number, policy: CompiledPolicy, half: 0 | 1): boolean {
  return hasBit(bits, policy.index, half * words);
}

function explain(condition: ConditionName, code: number, policy: CompiledPolicy, ctx: DetailContext): string {
  if (code === NOT_CONFIGURED) return 'not configured';
  const req = ctx.request;
  const words = ctx.set.bits.words;
  switch (condition) {
    case 'users': {
      const guest = ctx.subject.userType === 'guest';
      if (listed(ctx.match.listedUsers, words, policy, 1)) {
        return 'excluded: the user, one of their groups or one of their roles is excluded';
      }
      if (policy.excludeGuests && guest) return 'excluded: guests or external users are excluded';
      if (policy.includeAllUsers) return 'included: all users';
      if (listed(ctx.match.listedUsers, words, policy, 0)) {
        return 'included: the user, one of their groups or one of their roles is included';
      }
      if (policy.includeGuests && guest) return 'included: guests or external users';
      return 'not included: neither the user nor their groups or roles are included';
    }
    case 'application':
      if (code === NO_INFO) return 'no application or user action in the request';
      if (req.userAction !== undefined) {
        return code === MATCHED
          ? `includes user action ${req.userAction}`
          : `does not include user action ${req.userAction}`;
      }
      if (listed(ctx.match.listedApps, words, policy, 1)) return `application ${req.application} is excluded`;
      if (code === MATCHED) return policy.includeAllApps ? 'included: all applications' : `includes ${req.application}`;
      return `application ${req.application} is not included`;
    case 'devicePlatform':
      if (code === NO_INFO) return 'no device platform in the request';
      return `${req.devicePlatform} is ${code === MATCHED ? 'included' : 'not included or is excluded'}`;
    case 'clientApps':
      if (code === NO_INFO) return 'no client app type in the request';
      return `${req.clientAppType} is ${code === MATCHED ? 'included' : 'not included'}`;
    case 'location':
      return explainLocation(code, policy, ctx);
    case 'signInRisk':
      if (code === NO_INFO) return 'no sign-in risk level in the request';
      return `sign-in risk ${req.signInRiskLevel} is ${code === MATCHED ? 'included' : 'not included'}`;
    case 'userRisk':
      if (code === NO_INFO) return 'no user risk level in the request';
      return `user risk ${req.userRiskLevel} is ${code === MATCHED ? 'included' : 'not included'}`;
  }
}

function explainLocation(code: number, policy: CompiledPolicy, ctx: DetailContext): string {
  if (code === NO_INFO) return 'no IP address or country in the request';
  const names = (indexes: Int32Array) =>
    [...indexes]
      .filter((i) => ctx.locationFlags[i] === 1)
      .map((i) => `'${ctx.set.locations[i].displayName}'`)
      .join(', ');
  const { ip, trusted } = ctx.signals;
  const where = ip ? 'the address' : 'the country';
  if (code === NOT_MATCHED) {
    if (policy.excludeAnyLocation) return 'excluded: all locations are excluded';
    if (policy.excludeAllTrusted && trusted) return `excluded: ${where} is in a trusted location`;
    const excluded = names(policy.excludeLocations);
    if (excluded) return `excluded: ${where} is in ${excluded}`;
    return `not included: ${where} is in none of the included locations`;
  }
  if (policy.includeAnyLocation) return 'included: any location';
  if (policy.includeAllTrusted && trusted) return `included: ${where} is in a trusted location`;
  return `included: ${where} is in ${names(policy.includeLocations)}`;
}
