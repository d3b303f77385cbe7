// What the sign-in pipeline and OIDC need from the rest of Portcullis, as small interfaces: the tenant's compiled
// policies, the credential ports of auth/, and the sign-in log. The composition root (server/cli) wires the
// store-backed implementations; tests may pass in-memory ones (see testing/memory.ts).

import type { SignInLogInput } from '../audit/sign-in-entry.ts';
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
import type { Sessions } from '../session/sessions.ts';
import type { Store } from '../store/store.ts';
import type { TenantScope } from '../store/tenant-scope.ts';

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

/**
 * One sign-in attempt as the pipeline saw it: exactly what `audit/` turns into Graph's `signIn`, so the type is the
 * log's own input rather than a copy of it.
 */
export type SignInAttempt = SignInLogInput;

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
  /** The tenant's browser sessions (session/): created at sign-in, checked for single sign-on and at every refresh. */
  sessions(tenantId: string): Sessions;
}
