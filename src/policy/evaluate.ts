// The pure Conditional Access evaluator: (compiled set, subject, request, satisfied controls, time) → a decision and,
// on demand, each policy's result with every condition's outcome. No I/O; the same result feeds the sign-in log,
// What If and the error page.
//
// Semantics follow Entra's documentation: every applicable policy applies; within a policy every configured
// condition must hold; an exclusion beats an inclusion; block wins; report-only policies are evaluated and reported
// but never enforced; disabled policies never apply; with no applicable policy access is allowed.
import { type Ip, tryParseIp } from '../net/ip.ts';
import {
  CLIENT_APP_BIT,
  CONTROL_BIT,
  type CompiledPolicy,
  type CompiledPolicySet,
  controlsOfMask,
  PLATFORM_BIT,
  RISK_BIT,
  STATE_DISABLED,
  STATE_ENABLED,
} from './compile.ts';
import type {
  AppliedPolicyResult,
  BuiltInControl,
  ClientAppType,
  DevicePlatform,
  GrantOperator,
  PolicyState,
  RiskLevel,
  WhatIfAnalysisReason,
} from './types.ts';

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

export interface GrantRequirement {
  readonly policyId: string;
  readonly displayName: string;
  readonly operator: GrantOperator;
  readonly builtInControls: readonly BuiltInControl[];
  readonly satisfied: boolean;
}

export interface MergedSessionControls {
  /** Minutes after which the user must sign in again; 0 means every time. Absent when no policy sets it. */
  readonly signInFrequencyMinutes?: number;
  readonly persistentBrowser?: 'always' | 'never';
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

/** Controls Portcullis itself can satisfy during sign-in; the device and app controls need an MDM it does not have. */
export const SATISFIABLE_CONTROLS: readonly BuiltInControl[] = ['mfa', 'passwordChange'];
const SATISFIABLE_MASK = SATISFIABLE_CONTROLS.reduce((m, c) => m | (1 << CONTROL_BIT[c]), 0);

export class EvaluationInputError extends Error {
  override name = 'EvaluationInputError';
}

export interface Evaluation {
  readonly decision: Decision;
  /** Every policy's result, with the outcome of each condition; computed on first use. */
  readonly policies: readonly PolicyEvaluation[];
}

interface RequestContext {
  readonly set: CompiledPolicySet;
  readonly subject: Subject;
  readonly request: SignInRequest;
  readonly ip: Ip | undefined;
  /** undefined: no signal; '': unknown country. */
  readonly country: string | undefined;
  readonly locationFlags: Uint8Array;
  readonly trusted: boolean;
  readonly userFlags: Uint8Array;
  readonly appFlags: Uint8Array;
  readonly satisfiedMask: number;
  /** The request's platform, client app type and risk levels as bits (0 = not in the request), computed once. */
  readonly platformBit: number;
  readonly clientAppBit: number;
  readonly signInRiskBit: number;
  readonly userRiskBit: number;
}

const INCLUDED = 1;
const EXCLUDED = 2;

export function evaluate(
  set: CompiledPolicySet,
  subject: Subject,
  request: SignInRequest,
  satisfied: Iterable<BuiltInControl>,
  now: number,
): Evaluation {
  // The hot path works in per-set scratch buffers (evaluation is synchronous, so they are never shared by two
  // evaluations at once); allocating five typed arrays per request cost more than evaluating 200 policies.
  const scratch = scratchFor(set);
  const ctx = buildContext(set, subject, request, satisfied, scratch);
  const policies = set.policies;
  const n = policies.length;
  const codes = scratch.codes;
  const applies = scratch.applies;
  applies.fill(0);

  const blockedBy: string[] = [];
  const requirements: GrantRequirement[] = [];
  const missing = new Set<BuiltInControl>();
  const noInfo: string[] = [];
  let blockedByControl = false;
  let frequency = -1;
  let persistent = 0;

  for (let i = 0; i < n; i++) {
    const policy = policies[i];
    if (policy.state === STATE_DISABLED) continue;
    const verdict = checkAll(policy, ctx, codes, i * N_CONDITIONS);
    if (verdict === NO_INFO && policy.state === STATE_ENABLED) noInfo.push(policy.source.id);
    if (verdict !== MATCHED) continue;
    applies[i] = 1;
    if (policy.state !== STATE_ENABLED) continue;

    if (policy.block) {
      blockedBy.push(policy.source.id);
      blockedByControl = true;
      continue;
    }
    if (policy.grantMask !== 0) {
      const ok = grantSatisfied(policy, ctx.satisfiedMask);
      requirements.push({
        policyId: policy.source.id,
        displayName: policy.source.displayName,
        operator: policy.grantOperator,
        builtInControls: policy.grantControlList,
        satisfied: ok,
      });
      if (!ok) {
        const askable = askableControls(policy);
        if (askable.length === 0) blockedBy.push(policy.source.id);
        else for (const control of askable) missing.add(control);
      }
    }
    if (policy.signInFrequencyMinutes >= 0) {
      frequency = frequency < 0 ? policy.signInFrequencyMinutes : Math.min(frequency, policy.signInFrequencyMinutes);
    }
    // 'never' (2) is the more restrictive persistent-browser mode and wins over 'always' (1).
    if (policy.persistentBrowser > persistent) persistent = policy.persistentBrowser;
  }

  const blocked = blockedBy.length > 0;
  const outcome = blocked ? 'block' : missing.size > 0 ? 'challenge' : 'allow';
  const sessionControls: MergedSessionControls = {
    ...(frequency >= 0 ? { signInFrequencyMinutes: frequency } : {}),
    ...(persistent > 0 ? { persistentBrowser: persistent === 2 ? ('never' as const) : ('always' as const) } : {}),
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
    grantRequirements: requirements,
    missingControls: blocked ? [] : [...missing],
    sessionControls,
    notEnoughInformation: noInfo,
    evaluatedAt: new Date(now).toISOString(),
  };

  let details: PolicyEvaluation[] | undefined;
  return {
    decision,
    get policies() {
      // The scratch buffers belong to whichever evaluation ran last: recompute into buffers of our own.
      if (!details) {
        const own = buildContext(set, subject, request, satisfied);
        const ownCodes = new Uint8Array(n * N_CONDITIONS);
        details = policies.map((policy, i) => {
          const applied =
            policy.state !== STATE_DISABLED && checkAll(policy, own, ownCodes, i * N_CONDITIONS) === MATCHED;
          return describePolicy(policy, own, ownCodes, i, applied);
        });
      }
      return details;
    },
  };
}

interface Scratch {
  readonly codes: Uint8Array;
  readonly applies: Uint8Array;
  readonly locationFlags: Uint8Array;
  readonly userFlags: Uint8Array;
  readonly appFlags: Uint8Array;
}

const scratchBySet = new WeakMap<CompiledPolicySet, Scratch>();

function scratchFor(set: CompiledPolicySet): Scratch {
  let scratch = scratchBySet.get(set);
  if (!scratch) {
    const n = set.policies.length;
    scratch = {
      codes: new Uint8Array(n * N_CONDITIONS),
      applies: new Uint8Array(n),
      locationFlags: new Uint8Array(set.locations.length),
      userFlags: new Uint8Array(n),
      appFlags: new Uint8Array(n),
    };
    scratchBySet.set(set, scratch);
  }
  return scratch;
}

function zeroed(scratch: Uint8Array | undefined, length: number): Uint8Array {
  if (!scratch) return new Uint8Array(length);
  scratch.fill(0);
  return scratch;
}

function buildContext(
  set: CompiledPolicySet,
  subject: Subject,
  request: SignInRequest,
  satisfied: Iterable<BuiltInControl>,
  scratch?: Scratch,
): RequestContext {
  let ip: Ip | undefined;
  if (typeof request.ipAddress === 'string') {
    ip = tryParseIp(request.ipAddress);
    if (!ip) throw new EvaluationInputError(`ipAddress '${request.ipAddress}' is not a valid IP address`);
  } else ip = request.ipAddress;

  let country: string | undefined;
  if (request.country !== undefined && request.country !== null) country = request.country.toUpperCase();
  else if (ip && set.countryOf) country = set.countryOf(ip) ?? '';

  const locationFlags = zeroed(scratch?.locationFlags, set.locations.length);
  let trusted = false;
  if (ip) {
    for (const index of set.ipIndex.lookup(ip)) {
      locationFlags[index] = 1;
      if (set.trustedMask[index] === 1) trusted = true;
    }
  }
  if (country !== undefined && set.hasCountryLocations) {
    const hits = set.countryIndex.get(country);
    // '' (unknown) is itself the key of the locations that include unknown countries and regions.
    if (hits) for (const index of hits) locationFlags[index] = 1;
  }

  const n = set.policies.length;
  const userFlags = zeroed(scratch?.userFlags, n);
  mark(userFlags, set.includeUsers.get(subject.userId), INCLUDED);
  mark(userFlags, set.excludeUsers.get(subject.userId), EXCLUDED);
  for (const group of subject.groups) {
    mark(userFlags, set.includeGroups.get(group), INCLUDED);
    mark(userFlags, set.excludeGroups.get(group), EXCLUDED);
  }
  for (const role of subject.roles) {
    const key = role.toLowerCase();
    mark(userFlags, set.includeRoles.get(key), INCLUDED);
    mark(userFlags, set.excludeRoles.get(key), EXCLUDED);
  }

  const appFlags = zeroed(scratch?.appFlags, n);
  if (request.application !== undefined) {
    const key = request.application.toLowerCase();
    mark(appFlags, set.includeApps.get(key), INCLUDED);
    mark(appFlags, set.excludeApps.get(key), EXCLUDED);
  } else if (request.userAction !== undefined) {
    mark(appFlags, set.includeUserActions.get(request.userAction.toLowerCase()), INCLUDED);
  }

  let satisfiedMask = 0;
  for (const control of satisfied) {
    const bit = CONTROL_BIT[control];
    if (bit !== undefined) satisfiedMask |= 1 << bit;
  }
  const { devicePlatform, clientAppType, signInRiskLevel, userRiskLevel } = request;
  let clientAppBit = 0;
  if (clientAppType === 'all') clientAppBit = -1;
  else if (clientAppType === 'exchangeActiveSync' || clientAppType === 'easSupported') {
    // Exchange ActiveSync clients are covered by both the exchangeActiveSync and the easSupported values.
    clientAppBit = (1 << CLIENT_APP_BIT.exchangeActiveSync) | (1 << CLIENT_APP_BIT.easSupported);
  } else if (clientAppType !== undefined) clientAppBit = 1 << CLIENT_APP_BIT[clientAppType];
  return {
    set,
    subject,
    request,
    ip,
    country,
    locationFlags,
    trusted,
    userFlags,
    appFlags,
    satisfiedMask,
    platformBit: devicePlatform === undefined ? 0 : 1 << PLATFORM_BIT[devicePlatform],
    clientAppBit,
    signInRiskBit: signInRiskLevel === undefined ? 0 : 1 << RISK_BIT[signInRiskLevel],
    userRiskBit: userRiskLevel === undefined ? 0 : 1 << RISK_BIT[userRiskLevel],
  };
}

function mark(flags: Uint8Array, policies: Int32Array | undefined, bit: number): void {
  if (!policies) return;
  for (let i = 0; i < policies.length; i++) flags[policies[i]] |= bit;
}

/** Runs every condition of one policy, writes each outcome, and returns MATCHED, NOT_MATCHED or NO_INFO. */
function checkAll(policy: CompiledPolicy, ctx: RequestContext, codes: Uint8Array, at: number): number {
  codes[at] = checkUsers(policy, ctx);
  codes[at + 1] = checkApplication(policy, ctx);
  codes[at + 2] = checkPlatform(policy, ctx);
  codes[at + 3] = checkClientApps(policy, ctx);
  codes[at + 4] = checkLocation(policy, ctx);
  codes[at + 5] = checkRisk(policy.signInRiskMask, ctx.signInRiskBit);
  codes[at + 6] = checkRisk(policy.userRiskMask, ctx.userRiskBit);
  let verdict = MATCHED;
  for (let k = 0; k < N_CONDITIONS; k++) {
    const code = codes[at + k];
    if (code === NOT_MATCHED) return NOT_MATCHED;
    if (code === NO_INFO) verdict = NO_INFO;
  }
  return verdict;
}

function checkUsers(policy: CompiledPolicy, ctx: RequestContext): number {
  const flags = ctx.userFlags[policy.index];
  const guest = ctx.subject.userType === 'guest';
  if (flags & EXCLUDED || (policy.excludeGuests && guest)) return NOT_MATCHED;
  if (policy.includeAllUsers || flags & INCLUDED || (policy.includeGuests && guest)) return MATCHED;
  return NOT_MATCHED;
}

function checkApplication(policy: CompiledPolicy, ctx: RequestContext): number {
  const { application, userAction } = ctx.request;
  const flags = ctx.appFlags[policy.index];
  if (application !== undefined) {
    if (flags & EXCLUDED) return NOT_MATCHED;
    return policy.includeAllApps || flags & INCLUDED ? MATCHED : NOT_MATCHED;
  }
  if (userAction !== undefined) return flags & INCLUDED ? MATCHED : NOT_MATCHED;
  return NO_INFO;
}

function checkPlatform(policy: CompiledPolicy, ctx: RequestContext): number {
  if (!policy.platformsConfigured) return NOT_CONFIGURED;
  const bit = ctx.platformBit;
  if (bit === 0) return NO_INFO;
  return policy.includePlatformMask & bit && !(policy.excludePlatformMask & bit) ? MATCHED : NOT_MATCHED;
}

function checkClientApps(policy: CompiledPolicy, ctx: RequestContext): number {
  if (policy.clientAppMask === 0) return NOT_CONFIGURED;
  const bit = ctx.clientAppBit;
  if (bit === 0) return NO_INFO;
  return policy.clientAppMask & bit ? MATCHED : NOT_MATCHED;
}

function checkLocation(policy: CompiledPolicy, ctx: RequestContext): number {
  if (!policy.locationsConfigured) return NOT_CONFIGURED;
  if ((policy.locationsNeedIp && !ctx.ip) || (policy.locationsNeedCountry && ctx.country === undefined)) {
    // "All locations" with no exclusions matches whatever the address.
    if (policy.includeAnyLocation && policy.excludeLocations.length === 0 && !policy.excludeAllTrusted) return MATCHED;
    return NO_INFO;
  }
  const flags = ctx.locationFlags;
  if (
    policy.excludeAnyLocation ||
    (policy.excludeAllTrusted && ctx.trusted) ||
    anyFlag(flags, policy.excludeLocations)
  ) {
    return NOT_MATCHED;
  }
  if (
    policy.includeAnyLocation ||
    (policy.includeAllTrusted && ctx.trusted) ||
    anyFlag(flags, policy.includeLocations)
  ) {
    return MATCHED;
  }
  return NOT_MATCHED;
}

function anyFlag(flags: Uint8Array, indexes: Int32Array): boolean {
  for (let i = 0; i < indexes.length; i++) if (flags[indexes[i]] === 1) return true;
  return false;
}

function checkRisk(mask: number, bit: number): number {
  if (mask === 0) return NOT_CONFIGURED;
  if (bit === 0) return NO_INFO;
  return mask & bit ? MATCHED : NOT_MATCHED;
}

function grantSatisfied(policy: CompiledPolicy, satisfiedMask: number): boolean {
  return policy.grantOperator === 'AND'
    ? (policy.grantMask & satisfiedMask) === policy.grantMask
    : (policy.grantMask & satisfiedMask) !== 0;
}

/** The controls a user could still provide to satisfy the policy; empty when it can never be satisfied here. */
function askableControls(policy: CompiledPolicy): readonly BuiltInControl[] {
  const askable = policy.grantMask & SATISFIABLE_MASK;
  if (askable === 0 || (policy.grantOperator === 'AND' && askable !== policy.grantMask)) return NONE;
  return askable === policy.grantMask ? policy.grantControlList : controlsOfMask(askable);
}

const NONE: readonly BuiltInControl[] = Object.freeze([]);

function resultOf(policy: CompiledPolicy, ctx: RequestContext, applies: boolean): AppliedPolicyResult {
  if (policy.state === STATE_DISABLED) return 'notEnabled';
  const reportOnly = policy.state !== STATE_ENABLED;
  if (!applies) return reportOnly ? 'reportOnlyNotApplied' : 'notApplied';
  if (policy.block) return reportOnly ? 'reportOnlyFailure' : 'failure';
  if (policy.grantMask === 0 || grantSatisfied(policy, ctx.satisfiedMask)) {
    return reportOnly ? 'reportOnlySuccess' : 'success';
  }
  if (!reportOnly) return 'failure';
  // Report-only: it would have interrupted the sign-in to ask for a control the user can give.
  return askableControls(policy).length > 0 ? 'reportOnlyInterrupted' : 'reportOnlyFailure';
}

function describePolicy(
  policy: CompiledPolicy,
  ctx: RequestContext,
  codes: Uint8Array,
  index: number,
  applies: boolean,
): PolicyEvaluation {
  const source = policy.source;
  const disabled = policy.state === STATE_DISABLED;
  // Disabled policies were skipped on the fast path; evaluate them now so What If can still explain them.
  if (disabled) checkAll(policy, ctx, codes, index * N_CONDITIONS);
  const conditions: ConditionResult[] = CONDITIONS.map((condition, k) => {
    const code = codes[index * N_CONDITIONS + k];
    return { condition, outcome: OUTCOMES[code], reason: explain(condition, code, policy, ctx) };
  });
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
    result: resultOf(policy, ctx, applies),
    analysisReasons,
    conditions,
    enforcedGrantControls: applies ? (source.grantControls?.builtInControls ?? []) : [],
    enforcedSessionControls,
  };
}

function reasonOf(condition: ConditionName, ctx: RequestContext): WhatIfAnalysisReason {
  if (condition === 'application' && ctx.request.userAction !== undefined) return 'userActions';
  return condition;
}

function explain(condition: ConditionName, code: number, policy: CompiledPolicy, ctx: RequestContext): string {
  if (code === NOT_CONFIGURED) return 'not configured';
  const req = ctx.request;
  switch (condition) {
    case 'users': {
      const flags = ctx.userFlags[policy.index];
      const guest = ctx.subject.userType === 'guest';
      if (flags & EXCLUDED) return 'excluded: the user, one of their groups or one of their roles is excluded';
      if (policy.excludeGuests && guest) return 'excluded: guests or external users are excluded';
      if (policy.includeAllUsers) return 'included: all users';
      if (flags & INCLUDED) return 'included: the user, one of their groups or one of their roles is included';
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
      if (ctx.appFlags[policy.index] & EXCLUDED) return `application ${req.application} is excluded`;
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

function explainLocation(code: number, policy: CompiledPolicy, ctx: RequestContext): string {
  if (code === NO_INFO) return 'no IP address or country in the request';
  const names = (indexes: Int32Array) =>
    [...indexes]
      .filter((i) => ctx.locationFlags[i] === 1)
      .map((i) => `'${ctx.set.locations[i].displayName}'`)
      .join(', ');
  const where = ctx.ip ? 'the address' : 'the country';
  if (code === NOT_MATCHED) {
    if (policy.excludeAnyLocation) return 'excluded: all locations are excluded';
    if (policy.excludeAllTrusted && ctx.trusted) return `excluded: ${where} is in a trusted location`;
    const excluded = names(policy.excludeLocations);
    if (excluded) return `excluded: ${where} is in ${excluded}`;
    return `not included: ${where} is in none of the included locations`;
  }
  if (policy.includeAnyLocation) return 'included: any location';
  if (policy.includeAllTrusted && ctx.trusted) return `included: ${where} is in a trusted location`;
  return `included: ${where} is in ${names(policy.includeLocations)}`;
}
