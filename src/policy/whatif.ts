// What If: Graph's `POST /identity/conditionalAccess/evaluate` — translates its request body into a subject and a
// sign-in request, runs the evaluator, and answers with Graph's `whatIfAnalysisResult` collection plus the decision.
import { isCountryCode } from '../geo/iso3166.ts';
import { tryParseIp } from '../net/ip.ts';
import type { CompiledPolicySet } from './compile.ts';
import { type Decision, type Evaluation, evaluate, type SignInRequest, type Subject } from './evaluate.ts';
import {
  CLIENT_APP_TYPES,
  type ClientAppType,
  type ConditionalAccessPolicy,
  DEVICE_PLATFORMS,
  type DevicePlatform,
  RISK_LEVELS,
  type RiskLevel,
  WHAT_IF_ANALYSIS_REASONS,
  type WhatIfAnalysisReason,
} from './types.ts';

/** The directory the CLI reads: `{"users": [{"id", "userPrincipalName", "userType", "groups", "roles"}]}`. */
export interface DirectoryUser {
  id: string;
  userPrincipalName?: string;
  userType?: 'member' | 'guest';
  groups?: string[];
  roles?: string[];
}

/** Finds a user by id (or user principal name) and returns the subject the evaluator needs. */
export type SubjectResolver = (userIdOrUpn: string) => Subject | undefined;

export class WhatIfInputError extends Error {
  override name = 'WhatIfInputError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

export interface WhatIfQuery {
  readonly userId: string;
  readonly applications: readonly string[];
  readonly userAction?: string;
  readonly conditions: Omit<SignInRequest, 'application' | 'userAction'>;
  readonly appliedPoliciesOnly: boolean;
}

/** Graph's user action names in `userActionContext` and the `includeUserActions` URNs they correspond to. */
const USER_ACTION_URNS: Record<string, string> = {
  registersecurityinformation: 'urn:user:registersecurityinfo',
  registerorjoindevices: 'urn:user:registerdevice',
};

export type WhatIfAnalysisResult = ConditionalAccessPolicy & {
  '@odata.type': '#microsoft.graph.whatIfAnalysisResult';
  policyApplies: boolean;
  analysisReasons: string;
};

export interface WhatIfResponse {
  '@odata.context'?: string;
  value: WhatIfAnalysisResult[];
  decision: Decision;
}

export function directoryResolver(users: readonly DirectoryUser[]): SubjectResolver {
  const byKey = new Map<string, Subject>();
  for (const user of users) {
    const subject: Subject = {
      userId: user.id,
      groups: user.groups ?? [],
      roles: user.roles ?? [],
      userType: user.userType === 'guest' ? 'guest' : 'member',
    };
    byKey.set(user.id.toLowerCase(), subject);
    if (user.userPrincipalName) byKey.set(user.userPrincipalName.toLowerCase(), subject);
  }
  return (key) => byKey.get(key.toLowerCase());
}

/** Checks the request body and names the first field that is wrong. */
export function parseWhatIfRequest(body: unknown): WhatIfQuery {
  const root = object(body, '(request body)');
  const identity = object(root.signInIdentity, 'signInIdentity');
  const identityType = odataType(identity);
  if (identityType === 'serviceprincipalsignin') {
    throw new WhatIfInputError('signInIdentity', 'workload identity (service principal) sign-ins are not supported');
  }
  if (identityType !== undefined && identityType !== 'usersignin') {
    throw new WhatIfInputError('signInIdentity', `'@odata.type' must be '#microsoft.graph.userSignIn'`);
  }
  const userId = identity.userId;
  if (typeof userId !== 'string' || userId === '') {
    throw new WhatIfInputError('signInIdentity.userId', 'is required');
  }

  const context = object(root.signInContext, 'signInContext');
  const contextType = odataType(context);
  let applications: string[] = [];
  let userAction: string | undefined;
  if (contextType === 'useractioncontext' || 'userAction' in context) {
    const action = context.userAction;
    const urn = typeof action === 'string' ? USER_ACTION_URNS[action.toLowerCase()] : undefined;
    if (!urn) {
      throw new WhatIfInputError(
        'signInContext.userAction',
        `must be 'registerSecurityInformation' or 'registerOrJoinDevices' but it is ${JSON.stringify(action)}`,
      );
    }
    userAction = urn;
  } else if (contextType === 'authcontext' || 'authenticationContextValue' in context) {
    throw new WhatIfInputError('signInContext', 'authentication contexts are not supported');
  } else {
    const apps = context.includeApplications;
    if (!Array.isArray(apps) || apps.length === 0 || apps.some((a) => typeof a !== 'string' || a === '')) {
      throw new WhatIfInputError('signInContext.includeApplications', 'must list at least one application id');
    }
    applications = apps as string[];
  }

  const raw = root.signInConditions === undefined || root.signInConditions === null ? {} : root.signInConditions;
  const conds = object(raw, 'signInConditions');
  const conditions: {
    ipAddress?: string;
    country?: string;
    clientAppType?: ClientAppType;
    devicePlatform?: DevicePlatform;
    signInRiskLevel?: RiskLevel;
    userRiskLevel?: RiskLevel;
  } = {};
  if (present(conds.ipAddress)) {
    if (typeof conds.ipAddress !== 'string' || !tryParseIp(conds.ipAddress)) {
      throw new WhatIfInputError(
        'signInConditions.ipAddress',
        `${JSON.stringify(conds.ipAddress)} is not an IP address`,
      );
    }
    conditions.ipAddress = conds.ipAddress;
  }
  if (present(conds.country)) {
    const country = typeof conds.country === 'string' ? conds.country.toUpperCase() : '';
    if (!isCountryCode(country)) {
      throw new WhatIfInputError(
        'signInConditions.country',
        `${JSON.stringify(conds.country)} is not an ISO 3166-1 alpha-2 country code`,
      );
    }
    conditions.country = country;
  }
  if (present(conds.clientAppType)) {
    conditions.clientAppType = enumValue(conds.clientAppType, CLIENT_APP_TYPES, 'signInConditions.clientAppType');
  }
  if (present(conds.devicePlatform)) {
    conditions.devicePlatform = enumValue(conds.devicePlatform, DEVICE_PLATFORMS, 'signInConditions.devicePlatform');
  }
  if (present(conds.signInRiskLevel)) {
    conditions.signInRiskLevel = enumValue(conds.signInRiskLevel, RISK_LEVELS, 'signInConditions.signInRiskLevel');
  }
  if (present(conds.userRiskLevel)) {
    conditions.userRiskLevel = enumValue(conds.userRiskLevel, RISK_LEVELS, 'signInConditions.userRiskLevel');
  }
  const only = root.appliedPoliciesOnly;
  if (present(only) && typeof only !== 'boolean') {
    throw new WhatIfInputError('appliedPoliciesOnly', 'must be true or false');
  }
  return { userId, applications, userAction, conditions, appliedPoliciesOnly: only === true };
}

/** Runs What If. With several applications, a policy applies when it applies to any of them. */
export function whatIf(
  set: CompiledPolicySet,
  resolveSubject: SubjectResolver,
  body: unknown,
  now: number,
): WhatIfResponse {
  const query = parseWhatIfRequest(body);
  const subject = resolveSubject(query.userId);
  if (!subject) {
    throw new WhatIfInputError('signInIdentity.userId', `'${query.userId}' is not a user in the directory`);
  }
  const requests: SignInRequest[] = query.userAction
    ? [{ ...query.conditions, userAction: query.userAction }]
    : query.applications.map((application) => ({ ...query.conditions, application }));
  const evaluations = requests.map((request) => evaluate(set, subject, request, [], now));
  const value: WhatIfAnalysisResult[] = [];
  set.policies.forEach((policy, i) => {
    const results = evaluations.map((e) => e.policies[i]);
    const applying = results.find((r) => r.applies);
    const chosen = applying ?? results[0];
    if (query.appliedPoliciesOnly && !applying) return;
    value.push({
      '@odata.type': '#microsoft.graph.whatIfAnalysisResult',
      ...policy.source,
      policyApplies: applying !== undefined,
      analysisReasons: serializeFlags(chosen.analysisReasons),
    });
  });
  return { value, decision: mergeDecisions(evaluations) };
}

/** Graph serialises a flag enum as its member names joined by commas, in declaration order. */
export function serializeFlags(reasons: readonly WhatIfAnalysisReason[]): string {
  const unique = new Set(reasons);
  return WHAT_IF_ANALYSIS_REASONS.filter((r) => unique.has(r)).join(',');
}

function mergeDecisions(evaluations: readonly Evaluation[]): Decision {
  if (evaluations.length === 1) return evaluations[0].decision;
  const decisions = evaluations.map((e) => e.decision);
  const uniqueBy = <T>(items: T[], key: (t: T) => string) => [...new Map(items.map((t) => [key(t), t])).values()];
  const blockedBy = [...new Set(decisions.flatMap((d) => d.blockedBy))];
  const blocked = blockedBy.length > 0;
  const missing = [...new Set(decisions.flatMap((d) => d.missingControls))];
  const frequencies = decisions
    .map((d) => d.sessionControls.signInFrequencyMinutes)
    .filter((m): m is number => m !== undefined);
  const modes = decisions.map((d) => d.sessionControls.persistentBrowser).filter((m) => m !== undefined);
  const errorCode =
    decisions.find((d) => d.errorCode === 53003)?.errorCode ?? decisions.find((d) => d.errorCode)?.errorCode;
  return {
    outcome: blocked ? 'block' : missing.length > 0 ? 'challenge' : 'allow',
    blocked,
    blockedBy,
    ...(errorCode ? { errorCode } : {}),
    grantRequirements: uniqueBy(
      decisions.flatMap((d) => d.grantRequirements),
      (r) => r.policyId,
    ),
    missingControls: blocked ? [] : missing,
    sessionControls: {
      ...(frequencies.length ? { signInFrequencyMinutes: Math.min(...frequencies) } : {}),
      ...(modes.length ? { persistentBrowser: modes.includes('never') ? 'never' : 'always' } : {}),
      ...(decisions.some((d) => d.sessionControls.strictLocation) ? { strictLocation: true as const } : {}),
    },
    notEnoughInformation: [...new Set(decisions.flatMap((d) => d.notEnoughInformation))],
    evaluatedAt: decisions[0].evaluatedAt,
  };
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WhatIfInputError(field, 'must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function odataType(value: Record<string, unknown>): string | undefined {
  const type = value['@odata.type'];
  return typeof type === 'string' ? type.replace(/^#?microsoft\.graph\./i, '').toLowerCase() : undefined;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function enumValue<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  const match = typeof value === 'string' ? allowed.find((a) => a.toLowerCase() === value.toLowerCase()) : undefined;
  if (!match) {
    throw new WhatIfInputError(field, `must be one of ${allowed.join(', ')} but it is ${JSON.stringify(value)}`);
  }
  return match;
}
