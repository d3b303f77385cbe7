// A tenant's settings: JSON values under well-known keys in tenant_settings (MFA trusted IPs, the lockout tag key).
// Callers that must change other tables in the same transaction pass the transaction's scope.
import type { TenantScope } from '../tenant-scope.ts';
import './schema.ts';

/** The keys in use, so two features cannot pick the same one by accident. */
export const SETTING_KEYS = {
  /** Entra's legacy "MFA trusted IPs": a JSON array of CIDR strings (see policy-repository.ts). */
  mfaTrustedIps: 'mfaTrustedIps',
  /** The keyring-sealed key for lockout's badPasswordTag (see auth/store/bad-password-key.ts). */
  badPasswordKey: 'badPasswordKey',
  /** Maximum session length, warning before expiry, inactivity timeout (see session/settings.ts). */
  sessionSettings: 'sessionSettings',
  /** Admin roles of applications calling the admin API with client credentials: appId → role ids (admin/auth.ts). */
  applicationRoles: 'applicationRoles',
  /** No value: a row locked by changes that must not leave the tenant without an enabled Global Administrator. */
  globalAdministratorsLock: 'lock.globalAdministrators',
} as const;

export type SettingKey = (typeof SETTING_KEYS)[keyof typeof SETTING_KEYS];

/** A stored value that is not JSON: fail closed and say which setting of which tenant. */
export class TenantSettingError extends Error {
  override name = 'TenantSettingError';
}

export class TenantSettings {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  /** The parsed value, or undefined when the setting was never set. */
  async get(key: SettingKey): Promise<unknown> {
    const row = await this.#scope
      .selectFrom('tenant_settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    try {
      return JSON.parse(row.value);
    } catch (error) {
      throw new TenantSettingError(
        `tenant ${this.#scope.tenantId}: setting '${key}' is not valid JSON (${(error as Error).message})`,
      );
    }
  }

  /** Sets (inserting or replacing) a JSON-serialisable value. */
  async put(key: SettingKey, value: unknown): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`setting '${key}': ${String(value)} cannot be stored as JSON`);
    const now = this.#scope.now();
    await this.#scope
      .insertInto('tenant_settings', { key, value: json, modified_at: now })
      .onConflict((oc) => oc.columns(['tenant_id', 'key']).doUpdateSet({ value: json, modified_at: now }))
      .execute();
  }

  /**
   * Stores `value` only if the setting is unset, then returns what is stored — `value`, or what a concurrent caller
   * stored first. For values that must be created once (keys).
   */
  async putIfAbsent(key: SettingKey, value: unknown): Promise<unknown> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`setting '${key}': ${String(value)} cannot be stored as JSON`);
    await this.#scope
      .insertInto('tenant_settings', { key, value: json, modified_at: this.#scope.now() })
      .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing())
      .execute();
    return this.get(key);
  }

  /**
   * Read-modify-write without lost updates: in one transaction the row is locked first (an UPDATE, which takes the
   * row lock on PostgreSQL and the write lock on SQLite), then `change` gets the current value (undefined when unset)
   * and returns the new one. Two concurrent updates of the same setting run one after the other.
   */
  async update(key: SettingKey, change: (current: unknown) => unknown): Promise<unknown> {
    return this.#scope.transaction(async (tx) => {
      const settings = new TenantSettings(tx);
      await settings.lock(key);
      const current = await settings.get(key);
      const next = change(current === null ? undefined : current);
      await settings.put(key, next);
      return next;
    });
  }

  /**
   * Inside a transaction: takes the setting's row lock until the transaction ends (PostgreSQL: the row; SQLite: the
   * write lock), so checks made after it and the changes they allow run one transaction at a time.
   */
  async lock(key: SettingKey): Promise<void> {
    const now = this.#scope.now();
    await this.#scope
      .insertInto('tenant_settings', { key, value: 'null', modified_at: now })
      .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing())
      .execute();
    await this.#scope.updateTable('tenant_settings', { modified_at: now }).where('key', '=', key).execute();
  }

  async delete(key: SettingKey): Promise<void> {
    await this.#scope.deleteFrom('tenant_settings').where('key', '=', key).execute();
  }
}
