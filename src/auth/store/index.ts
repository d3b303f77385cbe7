// auth/'s ports on the store for one tenant, in one object: what the sign-in pipeline's `credentials(scope)` returns
// (signin/ports.ts CredentialPorts). Build it per request; it holds nothing but the scope and the keyring.
import type { Keyring } from '../../crypto/keyring.ts';
import type { TenantScope } from '../../store/tenant-scope.ts';
import type {
  LockoutStatePort,
  PasswordCredentialPort,
  RecoveryCodePort,
  TotpCredentialPort,
  WebAuthnChallengePort,
  WebAuthnCredentialPort,
} from '../ports.ts';
import { badPasswordKeyFor } from './bad-password-key.ts';
import { LockoutStateRepository } from './lockout-state.ts';
import { PasswordCredentialRepository } from './password-credentials.ts';
import { RecoveryCodeRepository } from './recovery-codes.ts';
import { TotpCredentialRepository } from './totp-credentials.ts';
import { WebAuthnChallengeRepository } from './webauthn-challenges.ts';
import { WebAuthnCredentialRepository } from './webauthn-credentials.ts';

export { BAD_PASSWORD_KEY_PURPOSE, badPasswordKeyFor } from './bad-password-key.ts';
export { LockoutStateRepository } from './lockout-state.ts';
export { PasswordCredentialRepository } from './password-credentials.ts';
export { RecoveryCodeRepository } from './recovery-codes.ts';
export { TotpCredentialRepository, totpSecretPurpose } from './totp-credentials.ts';
export { WebAuthnChallengeRepository } from './webauthn-challenges.ts';
export { CredentialIdTakenError, WebAuthnCredentialRepository } from './webauthn-credentials.ts';

export interface StoreCredentialPorts {
  readonly passwords: PasswordCredentialPort;
  readonly totp: TotpCredentialPort;
  readonly recoveryCodes: RecoveryCodePort;
  readonly webauthn: WebAuthnCredentialPort;
  readonly challenges: WebAuthnChallengePort;
  readonly lockouts: LockoutStatePort;
  badPasswordKey(): Promise<Uint8Array>;
}

export function storeCredentialPorts(scope: TenantScope, keyring: Keyring): StoreCredentialPorts {
  return {
    passwords: new PasswordCredentialRepository(scope),
    totp: new TotpCredentialRepository(scope, keyring),
    recoveryCodes: new RecoveryCodeRepository(scope),
    webauthn: new WebAuthnCredentialRepository(scope),
    challenges: new WebAuthnChallengeRepository(scope),
    lockouts: new LockoutStateRepository(scope),
    badPasswordKey: () => badPasswordKeyFor(scope, keyring),
  };
}
