// TotpCredentialPort on the store: one TOTP secret per user, sealed with the tenant's data key before it is written
// (keyring, AES-256-GCM) under associated data naming the tenant, the table and the user, so a ciphertext copied to
// another user's or tenant's row does not open.
import type { Keyring } from '../../crypto/keyring.ts';
import type { TotpCredentialsTable } from '../../store/database.ts';
import type { TenantScope } from '../../store/tenant-scope.ts';
import type { TotpCredential, TotpCredentialPort } from '../ports.ts';

/** The keyring's purpose (associated data) for a user's secret; the keyring adds the tenant and key version. */
export function totpSecretPurpose(userId: string): string {
  return `totp_credentials.secret_ciphertext|user:${userId}`;
}

export class TotpCredentialRepository implements TotpCredentialPort {
  readonly #scope: TenantScope;
  readonly #keyring: Keyring;
  constructor(scope: TenantScope, keyring: Keyring) {
    this.#scope = scope;
    this.#keyring = keyring;
  }

  /** Throws KeyringError when the stored secret does not open (tampered, moved, wrong master key): fail closed. */
  async get(userId: string): Promise<TotpCredential | undefined> {
    const row = await this.#scope
      .selectFrom('totp_credentials')
      .select(['user_id', 'secret_ciphertext', 'last_used_step', 'created_at', 'confirmed_at'])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const secret = await this.#keyring.decryptText(
      this.#scope.tenantId,
      row.secret_ciphertext,
      totpSecretPurpose(userId),
      this.#scope,
    );
    return {
      userId: row.user_id,
      secret,
      lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
      createdAt: row.created_at,
      confirmedAt: row.confirmed_at,
    };
  }

  /** Insert or replace the user's secret (a new enrolment replaces the old one, and its replay state). */
  async put(credential: TotpCredential): Promise<void> {
    if (typeof credential?.secret !== 'string' || credential.secret.length === 0) {
      throw new TypeError('TOTP credential: the secret must be a non-empty base32 string');
    }
    const ciphertext = await this.#keyring.encrypt(
      this.#scope.tenantId,
      credential.secret,
      totpSecretPurpose(credential.userId),
      this.#scope,
    );
    // One secret per user: the row id is the user id (and a unique index on user_id says so).
    const row: Omit<TotpCredentialsTable, 'tenant_id'> = {
      id: credential.userId,
      user_id: credential.userId,
      secret_ciphertext: ciphertext,
      confirmed: credential.confirmedAt === null ? 0 : 1,
      last_used_step: credential.lastUsedStep,
      created_at: credential.createdAt,
      confirmed_at: credential.confirmedAt,
    };
    const { id: _id, user_id: _user, ...changes } = row;
    await this.#scope
      .insertInto('totp_credentials', row)
      .onConflict((oc) => oc.columns(['tenant_id', 'id']).doUpdateSet(changes))
      .execute();
  }

  async delete(userId: string): Promise<void> {
    await this.#scope.deleteFrom('totp_credentials').where('user_id', '=', userId).execute();
  }

  /** RFC 6238 section 5.2: one UPDATE whose condition is the check, so of concurrent uses of one code only one wins. */
  async markStepUsed(userId: string, step: number): Promise<boolean> {
    if (!Number.isSafeInteger(step) || step < 0)
      throw new RangeError(`TOTP time step must be a whole number, not ${step}`);
    const result = await this.#scope
      .updateTable('totp_credentials', { last_used_step: step })
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }
}
