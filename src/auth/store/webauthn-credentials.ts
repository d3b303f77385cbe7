// WebAuthnCredentialPort on the store: one row per passkey in webauthn_credentials, for one tenant. Public keys and
// counters are not secret; what matters is that a credential id names one user, and that counters only move by
// compare-and-set.
import type { WebauthnCredentialsTable } from '../../store/database.ts';
import '../../store/repositories/schema.ts';
import type { TenantScope } from '../../store/tenant-scope.ts';
import type { WebAuthnCredentialPort, WebAuthnCredentialRecord } from '../ports.ts';

/**
 * The credential id is already registered to another user of the tenant. WebAuthn Level 3, registration step 27:
 * "Verify that the credentialId is not yet registered for any user. If the credentialId is already known then the
 * Relying Party SHOULD fail this registration ceremony."
 */
export class CredentialIdTakenError extends Error {
  override name = 'CredentialIdTakenError';
}

const COLUMNS = [
  'id',
  'user_id',
  'public_key',
  'counter',
  'transports',
  'device_type',
  'backed_up',
  'display_name',
  'created_at',
  'last_used_at',
  'user_handle',
  'aaguid',
  'disabled_at',
] as const;

type Row = Pick<WebauthnCredentialsTable, (typeof COLUMNS)[number]>;

function toRecord(row: Row): WebAuthnCredentialRecord {
  let transports: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.transports);
    if (Array.isArray(parsed)) transports = parsed.filter((t): t is string => typeof t === 'string');
  } catch {
    // Transports are a hint for the browser; unreadable ones are dropped, never a reason to lock a user out.
  }
  return {
    userId: row.user_id,
    credentialId: row.id,
    publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
    counter: Number(row.counter),
    transports,
    userHandle: row.user_handle,
    deviceType: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backedUp: row.backed_up === 1,
    aaguid: row.aaguid,
    name: row.display_name ?? '',
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    disabledAt: row.disabled_at,
  };
}

function counterOf(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new RangeError(`WebAuthn ${field} must be a whole number of 0 or more, not ${String(value)}`);
  }
  return value as number;
}

export class WebAuthnCredentialRepository implements WebAuthnCredentialPort {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  async listByUser(userId: string): Promise<WebAuthnCredentialRecord[]> {
    const rows = await this.#scope
      .selectFrom('webauthn_credentials')
      .select(COLUMNS)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async getById(credentialId: string): Promise<WebAuthnCredentialRecord | undefined> {
    const row = await this.#scope
      .selectFrom('webauthn_credentials')
      .select(COLUMNS)
      .where('id', '=', credentialId)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * Inserts, or replaces the user's own credential with this id. Throws CredentialIdTakenError when the id belongs to
   * another user: the upsert only updates a row of the same user, so no interleaving can move a passkey between users.
   */
  async put(record: WebAuthnCredentialRecord): Promise<void> {
    if (!/^[A-Za-z0-9_-]+$/.test(record?.credentialId ?? '')) {
      throw new TypeError('WebAuthn credential: credentialId must be base64url');
    }
    const row: Omit<WebauthnCredentialsTable, 'tenant_id'> = {
      id: record.credentialId,
      user_id: record.userId,
      public_key: Buffer.from(record.publicKey).toString('base64url'),
      counter: counterOf(record.counter, 'counter'),
      transports: JSON.stringify([...record.transports]),
      device_type: record.deviceType,
      backed_up: record.backedUp ? 1 : 0,
      display_name: record.name,
      created_at: record.createdAt,
      last_used_at: record.lastUsedAt,
      user_handle: record.userHandle,
      aaguid: record.aaguid,
      disabled_at: record.disabledAt,
    };
    const { id: _id, user_id: _user, created_at: _created, ...changes } = row;
    const result = await this.#scope
      .insertInto('webauthn_credentials', row)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'id']).doUpdateSet(changes).where('webauthn_credentials.user_id', '=', record.userId),
      )
      .executeTakeFirst();
    if (result.numInsertedOrUpdatedRows === 0n) {
      throw new CredentialIdTakenError(
        `WebAuthn credential ${record.credentialId} is already registered to another user of this tenant`,
      );
    }
  }

  async delete(userId: string, credentialId: string): Promise<void> {
    await this.#scope
      .deleteFrom('webauthn_credentials')
      .where('user_id', '=', userId)
      .where('id', '=', credentialId)
      .execute();
  }

  /** Compare-and-set on the counter; a disabled credential is never updated (and so never accepted). */
  async recordUse(
    credentialId: string,
    update: { expectedCounter: number; counter: number; lastUsedAt: number; backedUp: boolean },
  ): Promise<boolean> {
    const result = await this.#scope
      .updateTable('webauthn_credentials', {
        counter: counterOf(update.counter, 'counter'),
        last_used_at: update.lastUsedAt,
        backed_up: update.backedUp ? 1 : 0,
      })
      .where('id', '=', credentialId)
      .where('counter', '=', counterOf(update.expectedCounter, 'expectedCounter'))
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /** Keeps the first time it was disabled. */
  async disable(credentialId: string, at: number): Promise<void> {
    await this.#scope
      .updateTable('webauthn_credentials', { disabled_at: at })
      .where('id', '=', credentialId)
      .where('disabled_at', 'is', null)
      .execute();
  }
}
