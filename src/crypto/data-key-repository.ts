// The keyring's storage: one tenant's wrapped data keys, by version. Built on a TenantScope like every repository.
import type { TenantScope } from '../store/tenant-scope.ts';

export interface WrappedDataKey {
  readonly version: number;
  /** base64url(iv ‖ ciphertext ‖ tag) of the data key under the master key. */
  readonly wrappedKey: string;
  readonly masterKeyId: string;
  readonly createdAt: number;
}

export class DataKeyRepository {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  async latest(): Promise<WrappedDataKey | undefined> {
    const row = await this.#scope
      .selectFrom('data_keys')
      .select(['version', 'wrapped_key', 'master_key_id', 'created_at'])
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toKey(row);
  }

  async get(version: number): Promise<WrappedDataKey | undefined> {
    const row = await this.#scope
      .selectFrom('data_keys')
      .select(['version', 'wrapped_key', 'master_key_id', 'created_at'])
      .where('version', '=', version)
      .executeTakeFirst();
    return row && toKey(row);
  }

  async list(): Promise<WrappedDataKey[]> {
    const rows = await this.#scope
      .selectFrom('data_keys')
      .select(['version', 'wrapped_key', 'master_key_id', 'created_at'])
      .orderBy('version')
      .execute();
    return rows.map(toKey);
  }

  /** Adds a version; false when that version exists already (another caller created it first). */
  async insert(key: Omit<WrappedDataKey, 'createdAt'>): Promise<boolean> {
    const result = await this.#scope
      .insertInto('data_keys', {
        version: key.version,
        wrapped_key: key.wrappedKey,
        master_key_id: key.masterKeyId,
        created_at: this.#scope.now(),
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'version']).doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  /** Replaces a version's wrapping (master key rotation); the data key inside stays the same. */
  async rewrap(version: number, wrappedKey: string, masterKeyId: string): Promise<void> {
    await this.#scope
      .updateTable('data_keys', { wrapped_key: wrappedKey, master_key_id: masterKeyId })
      .where('version', '=', version)
      .execute();
  }
}

function toKey(row: { version: number; wrapped_key: string; master_key_id: string; created_at: number }) {
  return {
    version: row.version,
    wrappedKey: row.wrapped_key,
    masterKeyId: row.master_key_id,
    createdAt: row.created_at,
  };
}
