// Reading and changing a tenant's session settings in the store (tenant_settings, key 'sessionSettings'). A change
// is validated merged over the current values, stored, and carried into the running sessions in one transaction.
import { sql } from 'kysely';
import { SETTING_KEYS, TenantSettingError, TenantSettings } from '../store/repositories/tenant-settings.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import type { SessionCache } from './cache.ts';
import { SessionRepository } from './repository.ts';
import {
  DEFAULT_SESSION_SETTINGS,
  parseStoredSessionSettings,
  type SessionSettings,
  SessionSettingsError,
  type SessionSettingsValidation,
  validateSessionSettings,
} from './settings.ts';

const KEY = SETTING_KEYS.sessionSettings;

/**
 * Stored activity lags real activity by up to this much (the write throttle; see sessions.ts). Kept here rather than
 * imported from sessions.ts so the two modules do not import each other; sessions.ts re-exports it.
 */
export const ACTIVITY_WRITE_INTERVAL_MS = 60_000;

/**
 * The tenant's settings: the defaults when never set. A stored value that is not valid settings throws
 * SessionSettingsError (fail closed: sessions are not checked against limits nobody set).
 */
export async function readSessionSettings(scope: TenantScope): Promise<SessionSettings> {
  let value: unknown;
  try {
    value = await new TenantSettings(scope).get(KEY);
  } catch (error) {
    if (!(error instanceof TenantSettingError)) throw error;
    throw new SessionSettingsError(
      `tenant ${scope.tenantId}: the stored session settings are invalid, so sessions cannot be checked: ${error.message}`,
    );
  }
  return value === undefined ? DEFAULT_SESSION_SETTINGS : parseStoredSessionSettings(value, scope.tenantId);
}

export type SessionSettingsUpdate =
  | (SessionSettingsValidation & { readonly ok: true; readonly previous: SessionSettings })
  | (SessionSettingsValidation & { readonly ok: false });

class Rejected extends Error {
  readonly result: SessionSettingsUpdate;
  constructor(result: SessionSettingsUpdate) {
    super('session settings rejected');
    this.result = result;
  }
}

/**
 * Applies a partial update (PATCH: the named fields over the current values). Returns every problem and changes
 * nothing when it is invalid. When valid, in one transaction: stores the merged settings and carries them into the
 * running sessions — a shorter maximum length shortens every session at once, and sessions already idle past the
 * previous inactivity timeout stay ended even if the timeout is relaxed (SessionRepository.applySettingsChange).
 * Pass the process's SessionCache so this node sees the change at once (other nodes within its TTL).
 */
export async function updateSessionSettings(
  scope: TenantScope,
  patch: unknown,
  options: { readonly cache?: SessionCache } = {},
): Promise<SessionSettingsUpdate> {
  let result: SessionSettingsUpdate;
  try {
    result = await scope.transaction(async (tx) => {
      // Lock the settings row first (INSERT … ON CONFLICT DO UPDATE keeps the row locked on PostgreSQL until commit;
      // SQLite's transaction already holds the write lock), so two concurrent updates do not lose one another's
      // fields. A first update inserts the defaults, which are replaced below or rolled back.
      const now = tx.now();
      await tx
        .insertInto('tenant_settings', { key: KEY, value: JSON.stringify(DEFAULT_SESSION_SETTINGS), modified_at: now })
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'key']).doUpdateSet({ value: sql`${sql.ref('tenant_settings.value')}` }),
        )
        .execute();
      const previous = await readSessionSettings(tx);
      const validation = validateSessionSettings(patch, previous);
      if (!validation.ok) throw new Rejected(validation);
      await new TenantSettings(tx).put(KEY, validation.settings);
      await new SessionRepository(tx).applySettingsChange(
        previous,
        validation.settings,
        now,
        ACTIVITY_WRITE_INTERVAL_MS,
      );
      return { ...validation, previous };
    });
  } catch (error) {
    if (error instanceof Rejected) return error.result;
    throw error;
  }
  options.cache?.forgetTenant(scope.tenantId);
  return result;
}
