// The tenant's key for lockout's badPasswordTag: 32 random bytes, created once per tenant, kept in tenant_settings
// sealed by the keyring — so the tags in lockout_states cannot be checked against guesses by whoever reads the table.
import { randomBytes } from 'node:crypto';
import type { Keyring } from '../../crypto/keyring.ts';
import { SETTING_KEYS, TenantSettings } from '../../store/repositories/tenant-settings.ts';
import type { TenantScope } from '../../store/tenant-scope.ts';

export const BAD_PASSWORD_KEY_PURPOSE = 'tenant_settings.badPasswordKey';
const KEY_BYTES = 32;

/**
 * The tenant's key, created on first use. Two nodes creating it at once both end up with the one stored first.
 * Throws KeyringError when the stored key does not open (fail closed: no sign-in without lockout).
 */
export async function badPasswordKeyFor(scope: TenantScope, keyring: Keyring): Promise<Uint8Array> {
  const settings = new TenantSettings(scope);
  let sealed = await settings.get(SETTING_KEYS.badPasswordKey);
  if (sealed === undefined) {
    const fresh = await keyring.encrypt(scope.tenantId, randomBytes(KEY_BYTES), BAD_PASSWORD_KEY_PURPOSE, scope);
    sealed = await settings.putIfAbsent(SETTING_KEYS.badPasswordKey, fresh);
  }
  if (typeof sealed !== 'string') {
    throw new TypeError(`tenant ${scope.tenantId}: setting 'badPasswordKey' is not a sealed key`);
  }
  const key = await keyring.decrypt(scope.tenantId, sealed, BAD_PASSWORD_KEY_PURPOSE, scope);
  if (key.length !== KEY_BYTES) {
    throw new TypeError(
      `tenant ${scope.tenantId}: setting 'badPasswordKey' holds ${key.length} bytes, not ${KEY_BYTES}`,
    );
  }
  return key;
}
