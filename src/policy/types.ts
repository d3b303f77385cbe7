// Graph v1.0 shapes for named locations and Conditional Access policies, as Portcullis stores and serves them.
// Names, enums and nesting follow Microsoft Graph so that exports from Entra import as they are.

/** The well-known location id that Entra uses for "MFA trusted IPs" (the legacy per-user MFA trusted IP list). */
export const MFA_TRUSTED_IPS_LOCATION_ID = '00000000-0000-0000-0000-000000000000';

export const IP_NAMED_LOCATION_TYPE = '#microsoft.graph.ipNamedLocation';
export const COUNTRY_NAMED_LOCATION_TYPE = '#microsoft.graph.countryNamedLocation';
export const IPV4_RANGE_TYPE = '#microsoft.graph.iPv4CidrRange';
export const IPV6_RANGE_TYPE = '#microsoft.graph.iPv6CidrRange';

export interface IpRange {
  '@odata.type': typeof IPV4_RANGE_TYPE | typeof IPV6_RANGE_TYPE;
  cidrAddress: string;
}

interface NamedLocationBase {
  id: string;
  displayName: string;
  createdDateTime?: string | null;
  modifiedDateTime?: string | null;
}

export interface IpNamedLocation extends NamedLocationBase {
  '@odata.type': typeof IP_NAMED_LOCATION_TYPE;
  isTrusted: boolean;
  ipRanges: IpRange[];
}

export const COUNTRY_LOOKUP_METHODS = ['clientIpAddress', 'authenticatorAppGps'] as const;
export type CountryLookupMethod = (typeof COUNTRY_LOOKUP_METHODS)[number];

export interface CountryNamedLocation extends NamedLocationBase {
  '@odata.type': typeof COUNTRY_NAMED_LOCATION_TYPE;
  countriesAndRegions: string[];
  includeUnknownCountriesAndRegions: boolean;
  countryLookupMethod: CountryLookupMethod;
}

export type NamedLocation = IpNamedLocation | CountryNamedLocation;

export const POLICY_STATES = ['enabled', 'disabled', 'enabledForReportingButNotEnforced'] as const;
export type PolicyState = (typeof POLICY_STATES)[number];

export const CLIENT_APP_TYPES = [
  'all',
  'browser',
  'mobileAppsAndDesktopClients',
  'exchangeActiveSync',
  'easSupported',
  'other',
] as const;
export type ClientAppType = (typeof CLIENT_APP_TYPES)[number];

export const DEVICE_PLATFORMS = ['android', 'iOS', 'windows', 'windowsPhone', 'macOS', 'linux', 'all'] as const;
export type DevicePlatform = (typeof DEVICE_PLATFORMS)[number];

export const RISK_LEVELS = ['low', 'medium', 'high', 'hidden', 'none'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const BUILT_IN_CONTROLS = [
  'block',
  'mfa',
  'compliantDevice',
  'domainJoinedDevice',
  'approvedApplication',
  'compliantApplication',
  'passwordChange',
] as const;
export type BuiltInControl = (typeof BUILT_IN_CONTROLS)[number];

export const GRANT_OPERATORS = ['AND', 'OR'] as const;
export type GrantOperator = (typeof GRANT_OPERATORS)[number];

/** Graph's user actions (`includeUserActions`). */
export const USER_ACTIONS = ['urn:user:registersecurityinfo', 'urn:user:registerdevice'] as const;
export type UserAction = (typeof USER_ACTIONS)[number];

export interface ConditionalAccessUsers {
  includeUsers: string[];
  excludeUsers: string[];
  includeGroups: string[];
  excludeGroups: string[];
  includeRoles: string[];
  excludeRoles: string[];
}

export interface ConditionalAccessApplications {
  includeApplications: string[];
  excludeApplications: string[];
  includeUserActions: string[];
  includeAuthenticationContextClassReferences?: string[];
}

export interface ConditionalAccessLocations {
  includeLocations: string[];
  excludeLocations: string[];
}

export interface ConditionalAccessPlatforms {
  includePlatforms: DevicePlatform[];
  excludePlatforms: DevicePlatform[];
}

export interface ConditionalAccessConditionSet {
  users: ConditionalAccessUsers;
  applications: ConditionalAccessApplications;
  clientAppTypes: ClientAppType[];
  locations?: ConditionalAccessLocations | null;
  platforms?: ConditionalAccessPlatforms | null;
  signInRiskLevels: RiskLevel[];
  userRiskLevels: RiskLevel[];
}

export interface ConditionalAccessGrantControls {
  operator: GrantOperator;
  builtInControls: BuiltInControl[];
  customAuthenticationFactors?: string[];
  termsOfUse?: string[];
}

export const SIGN_IN_FREQUENCY_TYPES = ['days', 'hours'] as const;
export const SIGN_IN_FREQUENCY_INTERVALS = ['timeBased', 'everyTime'] as const;
export const SIGN_IN_FREQUENCY_AUTH_TYPES = ['primaryAndSecondaryAuthentication', 'secondaryAuthentication'] as const;
export const PERSISTENT_BROWSER_MODES = ['always', 'never'] as const;
/**
 * Graph's `continuousAccessEvaluationMode` (beta). `strictLocation` is the portal's "Strictly enforce location
 * policies"; `strictEnforcement` (the older "Strict enforcement") means strict location enforcement as well, plus
 * blocking clients that cannot do continuous access evaluation; `disabled` turns continuous access evaluation off.
 */
export const CONTINUOUS_ACCESS_EVALUATION_MODES = ['strictEnforcement', 'disabled', 'strictLocation'] as const;
export type ContinuousAccessEvaluationMode = (typeof CONTINUOUS_ACCESS_EVALUATION_MODES)[number];
/** The modes that ask for a policy's location conditions to be re-evaluated on every request. */
export const STRICT_LOCATION_MODES: readonly ContinuousAccessEvaluationMode[] = ['strictLocation', 'strictEnforcement'];

export interface SignInFrequencySessionControl {
  isEnabled: boolean;
  type?: (typeof SIGN_IN_FREQUENCY_TYPES)[number] | null;
  value?: number | null;
  frequencyInterval?: (typeof SIGN_IN_FREQUENCY_INTERVALS)[number] | null;
  authenticationType?: (typeof SIGN_IN_FREQUENCY_AUTH_TYPES)[number] | null;
}

export interface PersistentBrowserSessionControl {
  isEnabled: boolean;
  mode?: (typeof PERSISTENT_BROWSER_MODES)[number] | null;
}

/** Graph's `continuousAccessEvaluationSessionControl` (beta): how continuous access evaluation treats the policy. */
export interface ContinuousAccessEvaluationSessionControl {
  mode: ContinuousAccessEvaluationMode;
}

/**
 * A Graph session control that Portcullis keeps, so that a policy whose only controls are these stays well-formed and
 * exports round-trip, but does not enforce (the importer warns). `cloudAppSecurity` also carries `cloudAppSecurityType`.
 */
export interface UnenforcedSessionControl {
  isEnabled: boolean;
  [property: string]: unknown;
}

export interface ConditionalAccessSessionControls {
  signInFrequency?: SignInFrequencySessionControl | null;
  persistentBrowser?: PersistentBrowserSessionControl | null;
  disableResilienceDefaults?: boolean | null;
  /** Graph beta. `strictLocation` / `strictEnforcement` ask for strict location enforcement (docs/sessions.md). */
  continuousAccessEvaluation?: ContinuousAccessEvaluationSessionControl | null;
  applicationEnforcedRestrictions?: UnenforcedSessionControl | null;
  cloudAppSecurity?: UnenforcedSessionControl | null;
  secureSignInSession?: UnenforcedSessionControl | null;
}

export interface ConditionalAccessPolicy {
  id: string;
  displayName: string;
  state: PolicyState;
  createdDateTime?: string | null;
  modifiedDateTime?: string | null;
  templateId?: string | null;
  conditions: ConditionalAccessConditionSet;
  grantControls?: ConditionalAccessGrantControls | null;
  sessionControls?: ConditionalAccessSessionControls | null;
}

/** Graph's `appliedConditionalAccessPolicyResult`, as written into each sign-in log entry. */
export const APPLIED_POLICY_RESULTS = [
  'success',
  'failure',
  'notApplied',
  'notEnabled',
  'unknown',
  'reportOnlySuccess',
  'reportOnlyFailure',
  'reportOnlyNotApplied',
  'reportOnlyInterrupted',
] as const;
export type AppliedPolicyResult = (typeof APPLIED_POLICY_RESULTS)[number];

/** Graph's `whatIfAnalysisReasons` flag names, in Graph's declaration order (serialised comma-separated). */
export const WHAT_IF_ANALYSIS_REASONS = [
  'notSet',
  'notEnoughInformation',
  'invalidCondition',
  'users',
  'workloadIdentities',
  'application',
  'userActions',
  'authenticationContext',
  'devicePlatform',
  'devices',
  'clientApps',
  'location',
  'signInRisk',
  'emptyPolicy',
  'invalidPolicy',
  'policyNotEnabled',
  'userRisk',
  'time',
  'insiderRisk',
  'authenticationFlow',
] as const;
export type WhatIfAnalysisReason = (typeof WHAT_IF_ANALYSIS_REASONS)[number];
