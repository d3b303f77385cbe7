// oidc-provider's storage adapter on the store's `oidc_payloads` table, one tenant at a time: sessions, interactions,
// codes, tokens and grants as JSON rows keyed by (tenant, model, id), with expiry read from the injected clock.
// The `Client` model is not stored here: clients come from the directory (see clients.ts).
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { TenantScope } from '../store/tenant-scope.ts';

/** Looks up clients for the `Client` model (the directory's applications as oidc-provider metadata). */
export type ClientLookup = (clientId: string) => Promise<AdapterPayload | undefined>;

/** Models whose rows are looked up by the grant they belong to, for `revokeByGrantId`. */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'Grant',
]);

/** Ids and user codes come from requests: anything longer is not ours (oidc-provider's own ids are ~43 chars). */
const MAX_KEY_LENGTH = 512;

function usableKey(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_KEY_LENGTH;
}

/**
 * Returns the adapter class oidc-provider constructs once per model name (`new Adapter('AccessToken')`), bound to
 * one tenant's scope. Times in payloads are oidc-provider's (seconds); `expires_at` is ours (milliseconds).
 */
export function payloadAdapter(scope: TenantScope, clients: ClientLookup): new (model: string) => Adapter {
  return class TenantPayloadAdapter implements Adapter {
    readonly model: string;
    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed in the directory, not through OIDC');
      const now = scope.now();
      const row = {
        payload: JSON.stringify(payload),
        grant_id: GRANTABLE.has(this.model) && typeof payload.grantId === 'string' ? payload.grantId : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
        expires_at: Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : null,
        consumed_at: null,
      };
      // One statement (SQLite ≥ 3.24 and PostgreSQL share `ON CONFLICT … DO UPDATE`), not a transaction around a
      // delete and an insert: every token, code and session write goes through here (bench/token.bench.ts).
      await scope
        .insertInto('oidc_payloads', { model: this.model, id, ...row })
        .onConflict((conflict) => conflict.columns(['tenant_id', 'model', 'id']).doUpdateSet(row))
        .execute();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (!usableKey(id)) return undefined;
      if (this.model === 'Client') return clients(id);
      return this.#findBy('id', id);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return usableKey(userCode) ? this.#findBy('user_code', userCode) : undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return usableKey(uid) ? this.#findBy('uid', uid) : undefined;
    }

    async consume(id: string): Promise<void> {
      await scope
        .updateTable('oidc_payloads', { consumed_at: scope.now() })
        .where('model', '=', this.model)
        .where('id', '=', id)
        .execute();
    }

    async destroy(id: string): Promise<void> {
      await scope.deleteFrom('oidc_payloads').where('model', '=', this.model).where('id', '=', id).execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // oidc-provider calls this on every model; one statement removes every token of the grant whatever its model.
      await scope.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
    }

    async #findBy(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
      const row = await scope
        .selectFrom('oidc_payloads')
        .select(['payload', 'expires_at', 'consumed_at'])
        .where('model', '=', this.model)
        .where(column, '=', value)
        .executeTakeFirst();
      if (!row) return undefined;
      if (row.expires_at !== null && row.expires_at <= scope.now()) return undefined;
      const payload = JSON.parse(row.payload) as AdapterPayload;
      // oidc-provider reads `consumed` (epoch seconds) to detect a reused code or refresh token.
      return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(row.consumed_at / 1000) };
    }
  };
}

/** Deletes expired rows of the tenant; run now and then (expired rows are already invisible to `find`). */
export async function deleteExpiredPayloads(scope: TenantScope): Promise<number> {
  const result = await scope.deleteFrom('oidc_payloads').where('expires_at', '<=', scope.now()).executeTakeFirst();
  return Number(result.numDeletedRows);
}
