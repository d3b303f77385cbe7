// What the sign-in pipeline and OIDC need from the rest of Portcullis, as small interfaces: the tenant's compiled
// policies, the credential ports of auth/, and the sign-in log. The composition root (server/cli) wires the
// store-backed implementations; tests may pass in-memory ones (see testing/memory.ts).

import type { LockoutPolicy } from '../auth/lockout.ts';
import type {
  LockoutStatePort,
  PasswordCredentialPort,
  RecoveryCodePort,
  TotpCredentialPort,
  WebAuthnChallengePort,
  WebAuthnCredentialPort,
} from '../auth/ports.ts';
import type { Clock } from '../clock.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { CompiledPolicySet } from '../policy/compile.ts';
import type { Evaluation } from '../policy/evaluate.ts';
import type { ClientAppType } from '../policy/types.ts';
import type { Store } from '../store/store.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import type { DetectedPlatform } from './device-platform.ts';

/** auth/'s ports for one tenant. */
export interface CredentialPorts {
  readonly passwords: PasswordCredentialPort;
  readonly totp: TotpCredentialPort;
  readonly recoveryCodes: RecoveryCodePort;
  readonly webauthn: WebAuthnCredentialPort;
  readonly challenges: WebAuthnChallengePort;
  readonly lockouts: LockoutStatePort;
  /** The tenant's key for lockout's badPasswordTag (from the keyring; never stored beside the tags). */
  badPasswordKey(): Promise<Uint8Array>;
}

/** One sign-in attempt as the pipeline saw it: what `audit/sign-in-log.ts` turns into Graph's `signIn`. */
export interface SignInAttempt {
  readonly tenantId: string;
  readonly at: number;
  readonly correlationId: string;
  readonly user?: { readonly id: string; readonly userPrincipalName: string; readonly displayName: string };
  /** The name typed when no user was found (or before one was). */
  readonly signInName?: string;
  readonly app?: { readonly appId: string; readonly displayName: string };
  /** The client address resolved once through the trusted proxies: the same one policy and lockout saw. */
  readonly ipAddress: string;
  /** ISO 3166-1 alpha-2, or '' when unknown. */
  readonly country: string;
  readonly userAgent: string;
  readonly clientAppType: ClientAppType;
  readonly devicePlatform: DetectedPlatform;
  /** false for refresh-token re-evaluation (no user present). */
  readonly isInteractive: boolean;
  /** 0 on success, otherwise the code from errors.ts (50126, 50053, 50057, 50076, 500121, 53003, 53000). */
  readonly errorCode: number;
  /** Why, for admins (never shown to the user). */
  readonly failureReason?: string;
  /** Absent when the attempt ended before Conditional Access ran (wrong password, locked). */
  readonly evaluation?: Evaluation;
  /** `pwd`, `mfa`, `otp`, `hwk`, `swk`: how the user authenticated so far. */
  readonly amr: readonly string[];
}

export interface SignInLogSink {
  append(attempt: SignInAttempt): Promise<void>;
}

export interface SignInServices {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly clock: Clock;
  /** The tenant's compiled named locations and policies (CompiledPolicyCache in store/repositories). */
  policies(tenantId: string): Promise<CompiledPolicySet>;
  credentials(scope: TenantScope): CredentialPorts;
  readonly signInLog: SignInLogSink;
  readonly lockoutPolicy?: LockoutPolicy;
}
