// One sign-in attempt as Microsoft Graph's `signIn` (v1.0, plus `userAgent` and `authenticationRequirement` from
// beta, which Entra's exports carry): what `/auditLogs/signIns` serves, so scripts written for Entra read it as is.
// The caller passes the time and everything the pipeline saw; the entry's id is a new time-ordered UUID (from the
// wall clock, not the passed time) unless the caller passes one.
import { randomUUIDv7 } from 'node:crypto';
import { ERROR_CODES } from '../errors.ts';
import type { Evaluation } from '../policy/evaluate.ts';
import type { AppliedPolicyResult, ClientAppType, DevicePlatform, RiskLevel } from '../policy/types.ts';
import { browserOf } from '../signin/device-platform.ts';

/** Graph `appliedConditionalAccessPolicy` (v1.0 properties). */
export interface AppliedConditionalAccessPolicy {
  readonly id: string;
  readonly displayName: string;
  /** Entra's names as its logs write them: `Block`, `Mfa`, `RequireCompliantDevice`, … */
  readonly enforcedGrantControls: readonly string[];
  /** `SignInFrequency`, `PersistentBrowserSessionMode`. */
  readonly enforcedSessionControls: readonly string[];
  readonly result: AppliedPolicyResult;
}

export type ConditionalAccessStatus = 'success' | 'failure' | 'notApplied';
export type AuthenticationRequirement = 'singleFactorAuthentication' | 'multiFactorAuthentication';

/** Graph `signIn`. */
export interface SignInEntry {
  readonly id: string;
  readonly createdDateTime: string;
  readonly userDisplayName: string | null;
  /** The user's name; for a name that matched no user, the name as typed. */
  readonly userPrincipalName: string | null;
  readonly userId: string | null;
  readonly appId: string | null;
  readonly appDisplayName: string | null;
  readonly resourceId: string | null;
  readonly resourceDisplayName: string | null;
  readonly ipAddress: string;
  /** `Browser`, `Mobile Apps and Desktop clients`, `Exchange ActiveSync`, `Other clients`. */
  readonly clientAppUsed: string;
  readonly userAgent: string;
  readonly correlationId: string;
  readonly conditionalAccessStatus: ConditionalAccessStatus;
  readonly isInteractive: boolean;
  readonly authenticationRequirement: AuthenticationRequirement;
  readonly riskDetail: 'none';
  readonly riskLevelAggregated: RiskLevel;
  readonly riskLevelDuringSignIn: RiskLevel;
  readonly riskState: 'none';
  readonly riskEventTypes: readonly string[];
  readonly riskEventTypes_v2: readonly string[];
  readonly status: {
    /** 0 on success; otherwise a code from errors.ts (docs/errors.md). */
    readonly errorCode: number;
    readonly failureReason: string | null;
    readonly additionalDetails: string | null;
  };
  readonly deviceDetail: {
    readonly deviceId: string;
    readonly displayName: string;
    readonly operatingSystem: string;
    readonly browser: string;
    /** Portcullis has no device management: no device is compliant or managed (policies see the same). */
    readonly isCompliant: boolean;
    readonly isManaged: boolean;
    readonly trustType: string;
  };
  readonly location: {
    readonly city: string | null;
    readonly state: string | null;
    /** ISO 3166-1 alpha-2, or null when unknown. */
    readonly countryOrRegion: string | null;
    readonly geoCoordinates: null;
  };
  readonly appliedConditionalAccessPolicies: readonly AppliedConditionalAccessPolicy[];
}

/**
 * What the entry is built from: the sign-in pipeline's `SignInAttempt` (signin/ports.ts) fits as it is. The client
 * IP is the one resolved once through the trusted proxies, the same that policy and lockout saw.
 */
export interface SignInLogInput {
  readonly tenantId: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly correlationId: string;
  readonly user?: { readonly id: string; readonly userPrincipalName: string; readonly displayName: string };
  /** The name typed when it matched no user (or before one was found). */
  readonly signInName?: string;
  readonly app?: { readonly appId: string; readonly displayName: string };
  readonly ipAddress: string;
  /** ISO 3166-1 alpha-2, or '' when unknown. */
  readonly country: string;
  readonly userAgent: string;
  readonly clientAppType: ClientAppType;
  readonly devicePlatform: DevicePlatform | 'unknown';
  readonly isInteractive: boolean;
  /** 0 on success, otherwise the code from errors.ts. */
  readonly errorCode: number;
  /** Why, for admins: goes to `status.additionalDetails`. */
  readonly failureReason?: string;
  /** Absent when the attempt ended before Conditional Access ran (wrong password, locked). */
  readonly evaluation?: Evaluation;
  /** How the user authenticated so far (`pwd`, `mfa`, `otp`, `hwk`, `swk`). */
  readonly amr: readonly string[];
  /** The sign-in risk the evaluation used; Portcullis has no risk detection of its own, so 'none' by default. */
  readonly signInRiskLevel?: RiskLevel;
  /** The entry's id; when absent, a new time-ordered UUID (version 7), so entries append to the id index. */
  readonly id?: string;
}

const CLIENT_APP_USED: Readonly<Record<ClientAppType, string>> = {
  browser: 'Browser',
  mobileAppsAndDesktopClients: 'Mobile Apps and Desktop clients',
  exchangeActiveSync: 'Exchange ActiveSync',
  easSupported: 'Exchange ActiveSync',
  other: 'Other clients',
  all: 'Other clients',
};

/** deviceDetail.operatingSystem as Entra's logs write it. */
const OPERATING_SYSTEM: Readonly<Record<DevicePlatform | 'unknown', string>> = {
  windows: 'Windows',
  macOS: 'MacOs',
  iOS: 'Ios',
  android: 'Android',
  linux: 'Linux',
  windowsPhone: 'WindowsPhone',
  all: '',
  unknown: '',
};

/** Graph's builtInControls as Entra's sign-in logs name them in enforcedGrantControls. */
const GRANT_CONTROL_NAMES: Readonly<Record<string, string>> = {
  block: 'Block',
  mfa: 'Mfa',
  compliantDevice: 'RequireCompliantDevice',
  domainJoinedDevice: 'RequireDomainJoinedDevice',
  approvedApplication: 'RequireApprovedApp',
  compliantApplication: 'RequireCompliantApp',
  passwordChange: 'RequirePasswordChange',
};

const SESSION_CONTROL_NAMES: Readonly<Record<string, string>> = {
  signInFrequency: 'SignInFrequency',
  persistentBrowser: 'PersistentBrowserSessionMode',
};

/** Names, user agents and reasons come from outside: bounded, so one request cannot bloat the log. */
const MAX_TEXT = 512;

function bounded(text: string | undefined | null): string | null {
  if (typeof text !== 'string') return null;
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

/**
 * Graph: "success, failure, notApplied". Only enforced policies count: failure when one that applied was not
 * satisfied (blocked, or a control not yet given), success when all that applied were, notApplied when none applied
 * or Conditional Access did not run.
 */
export function conditionalAccessStatusOf(evaluation: Evaluation | undefined): ConditionalAccessStatus {
  if (evaluation === undefined) return 'notApplied';
  let applied = false;
  for (const policy of evaluation.policies) {
    if (policy.result === 'failure') return 'failure';
    if (policy.result === 'success') applied = true;
  }
  return applied ? 'success' : 'notApplied';
}

function checkInput(input: SignInLogInput): void {
  const problems: string[] = [];
  if (!Number.isFinite(input?.at)) problems.push(`at must be a time in milliseconds, not ${String(input?.at)}`);
  if (!Number.isInteger(input?.errorCode) || input.errorCode < 0) {
    problems.push(`errorCode must be 0 or a positive code, not ${String(input?.errorCode)}`);
  }
  if (typeof input?.correlationId !== 'string') problems.push('correlationId must be a string');
  if (typeof input?.ipAddress !== 'string') problems.push('ipAddress must be a string');
  if (problems.length > 0) throw new TypeError(`sign-in log entry: ${problems.join('; ')}`);
}

export function buildSignInEntry(input: SignInLogInput): SignInEntry {
  checkInput(input);
  const code = input.errorCode;
  const known = (ERROR_CODES as Readonly<Record<number, { message: string }>>)[code];
  const evaluation = input.evaluation;
  const mfaDone = input.amr.includes('mfa');
  const mfaAsked =
    evaluation?.decision.grantRequirements.some((g) => g.builtInControls.includes('mfa')) === true ||
    evaluation?.decision.missingControls.includes('mfa') === true;
  const risk = input.signInRiskLevel ?? 'none';
  return {
    id: input.id ?? randomUUIDv7(),
    createdDateTime: new Date(input.at).toISOString(),
    userDisplayName: bounded(input.user?.displayName),
    userPrincipalName: bounded(input.user?.userPrincipalName ?? input.signInName),
    userId: input.user?.id ?? null,
    appId: input.app?.appId ?? null,
    appDisplayName: bounded(input.app?.displayName),
    // The application signed in to is also the resource the tokens are for.
    resourceId: input.app?.appId ?? null,
    resourceDisplayName: bounded(input.app?.displayName),
    ipAddress: input.ipAddress,
    clientAppUsed: CLIENT_APP_USED[input.clientAppType] ?? 'Other clients',
    userAgent: bounded(input.userAgent) ?? '',
    correlationId: input.correlationId,
    conditionalAccessStatus: conditionalAccessStatusOf(evaluation),
    isInteractive: input.isInteractive === true,
    authenticationRequirement: mfaDone || mfaAsked ? 'multiFactorAuthentication' : 'singleFactorAuthentication',
    riskDetail: 'none',
    riskLevelAggregated: risk,
    riskLevelDuringSignIn: risk,
    riskState: 'none',
    riskEventTypes: [],
    riskEventTypes_v2: [],
    status: {
      errorCode: code,
      failureReason: code === 0 ? null : (known?.message ?? 'Other.'),
      additionalDetails: bounded(input.failureReason),
    },
    deviceDetail: {
      deviceId: '',
      displayName: '',
      operatingSystem: OPERATING_SYSTEM[input.devicePlatform] ?? '',
      browser: browserOf(input.userAgent),
      isCompliant: false,
      isManaged: false,
      trustType: '',
    },
    location: {
      city: null,
      state: null,
      countryOrRegion: input.country ? input.country.toUpperCase() : null,
      geoCoordinates: null,
    },
    appliedConditionalAccessPolicies: (evaluation?.policies ?? []).map((policy) => ({
      id: policy.id,
      displayName: policy.displayName,
      enforcedGrantControls: policy.enforcedGrantControls.map((c) => GRANT_CONTROL_NAMES[c] ?? c),
      enforcedSessionControls: policy.enforcedSessionControls.map((c) => SESSION_CONTROL_NAMES[c] ?? c),
      result: policy.result,
    })),
  };
}
