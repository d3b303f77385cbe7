// Limits on named locations and Conditional Access policies. The defaults are Entra's, so that whatever imports into
// Portcullis can also go back into Entra; a deployment may loosen or tighten them.

export interface PolicyLimits {
  maxNamedLocations: number;
  minRangesPerLocation: number;
  maxRangesPerLocation: number;
  /** The shortest IPv4 prefix a range may have: 9 means /9 is allowed and /8 is not. */
  minIpv4PrefixLength: number;
  /** The shortest IPv6 prefix a range may have. */
  minIpv6PrefixLength: number;
  maxPolicies: number;
}

/**
 * Entra's limits, from "Conditional Access: Network assignment"
 * (learn.microsoft.com/entra/identity/conditional-access/concept-assignment-network), which says of
 * "Named locations defined by IPv4 or IPv6 address ranges":
 *   "No more than 195 named locations. No more than 2000 IP ranges per named location.
 *    Only CIDR masks greater than /8 are allowed when defining an IP range."
 *
 * IPv6 uses the same rule as IPv4 (/9 or longer): the sentence above is written for both families and Entra gives
 * no separate IPv6 minimum, so this is the strictest reading that still accepts every range an Entra export can
 * hold. A stricter IPv6 floor (say /16, where a /8 is absurdly large) would make some Entra exports fail to import.
 *
 * Policies: Entra documents no per-tenant count in its Graph reference. "Plan a Conditional Access deployment" says
 * "Conditional Access will only apply the first 195 policies per user", so 195 is the number that keeps every
 * imported policy effective in Entra too; it is a judgement, not a quoted tenant limit.
 */
export const DEFAULT_LIMITS: Readonly<PolicyLimits> = Object.freeze({
  maxNamedLocations: 195,
  minRangesPerLocation: 1,
  maxRangesPerLocation: 2000,
  minIpv4PrefixLength: 9,
  minIpv6PrefixLength: 9,
  maxPolicies: 195,
});
