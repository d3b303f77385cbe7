// oidc-provider's storage adapter on the store's `oidc_payloads` table, one tenant at a time: sessions, interactions,
// codes, tokens and grants as JSON rows keyed by (tenant, model, id), with expiry read from the injected clock.
// The `Client` model is not stored here: clients come from the directory (see clients.ts).
import { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import type { TenantScope } from '../store/tenant-scope.ts';
import { requestMemo } from './request-memo.ts';

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

export interface PayloadAdapterOptions {
  /**
   * Rows stored under the same id as another model's row and needed later in the same request: when a request
   * (request-memo.ts) finds a row of the key model by id, the same statement reads the companion model's row, and
   * a `find` of it later in that request is answered from the memo — `{ Grant: 'PortcullisGrantContext' }`: the
   * refresh check's sign-in context comes with the grant. A write or destroy of the companion row in the request
   * drops what was kept.
   */
  readonly readAlong?: Readonly<Record<string, string>>;
}

interface PayloadRow {
  readonly payload: string;
  readonly expires_at: number | null;
  readonly consumed_at: number | null;
}

/** Ids and user codes come from requests: anything longer is not ours (oidc-provider's own ids are ~43 chars). */
const MAX_KEY_LENGTH = 512;

function usableKey(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_KEY_LENGTH;
}

/**
 * Returns the adapter class oidc-provider constructs once per model name (`new Adapter('AccessToken')`), bound to
 * one tenant's scope. Times in payloads are oidc-provider's (seconds); `expires_at` is ours (milliseconds).
 */
export function payloadAdapter(
  scope: TenantScope,
  clients: ClientLookup,
  options: PayloadAdapterOptions = {},
): new (
  model: string,
) => Adapter {
  const readAlong = new Map(Object.entries(options.readAlong ?? {}));
  const companions = new Set(readAlong.values());
  // The tenant is in the key too: one request serves one tenant, and a kept row must not be able to cross anyway.
  const memoKey = (model: string, id: string) => `oidc_payloads\n${scope.tenantId}\n${model}\n${id}`;
  // The statements of every token request, built and compiled once per tenant (TenantScope.prepare).
  type Row = {
    model: string;
    id: string;
    payload: string;
    grant_id: string | null;
    uid: string | null;
    user_code: string | null;
    expires_at: number | null;
  };
  const upsertRow = scope.prepare((v: Row) => {
    const changes = {
      payload: v.payload,
      grant_id: v.grant_id,
      uid: v.uid,
      user_code: v.user_code,
      expires_at: v.expires_at,
      consumed_at: null,
    };
    return scope
      .insertInto('oidc_payloads', { model: v.model, id: v.id, ...changes })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'model', 'id']).doUpdateSet(changes));
  });
  const PAYLOAD = ['payload', 'expires_at', 'consumed_at'] as const;
  const findBy = {
    id: scope.prepare((v: { model: string; value: string }) =>
      scope.selectFrom('oidc_payloads').select(PAYLOAD).where('model', '=', v.model).where('id', '=', v.value),
    ),
    uid: scope.prepare((v: { model: string; value: string }) =>
      scope.selectFrom('oidc_payloads').select(PAYLOAD).where('model', '=', v.model).where('uid', '=', v.value),
    ),
    user_code: scope.prepare((v: { model: string; value: string }) =>
      scope.selectFrom('oidc_payloads').select(PAYLOAD).where('model', '=', v.model).where('user_code', '=', v.value),
    ),
  };
  const findWithCompanion = scope.prepare((v: { model: string; companion: string; id: string }) =>
    scope
      .selectFrom('oidc_payloads')
      .select(['model', ...PAYLOAD])
      .where('model', 'in', [v.model, v.companion])
      .where('id', '=', v.id),
  );
  // Only a row not yet consumed: of two uses racing past oidc-provider's "is it consumed?" check (two nodes, or two
  // connections of a pool), one consumes it and the other finds nothing to consume.
  const consumeRow = scope.prepare((v: { model: string; id: string; at: number }) =>
    scope
      .updateTable('oidc_payloads', { consumed_at: v.at })
      .where('model', '=', v.model)
      .where('id', '=', v.id)
      .where('consumed_at', 'is', null),
  );
  /** A stored row as oidc-provider sees it: undefined once expired, `consumed` (epoch seconds) once consumed. */
  const visible = (row: PayloadRow | undefined): AdapterPayload | undefined => {
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at <= scope.now()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    // oidc-provider reads `consumed` (epoch seconds) to detect a reused code or refresh token.
    return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(row.consumed_at / 1000) };
  };
  return class TenantPayloadAdapter implements Adapter {
    readonly model: string;
    constructor(model: string) {
      this.model = model;
    }

    /** A companion row kept by this request is about to change: later finds must read it again. */
    #forget(id: string): void {
      if (companions.has(this.model)) requestMemo()?.delete(memoKey(this.model, id));
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed in the directory, not through OIDC');
      this.#forget(id);
      const now = scope.now();
      // One statement (SQLite ≥ 3.24 and PostgreSQL share `ON CONFLICT … DO UPDATE`), not a transaction around a
      // delete and an insert: every token, code and session write goes through here (bench/token.bench.ts).
      await upsertRow({
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grant_id: GRANTABLE.has(this.model) && typeof payload.grantId === 'string' ? payload.grantId : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
        expires_at: Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (!usableKey(id)) return undefined;
      if (this.model === 'Client') return clients(id);
      const memo = requestMemo();
      const key = memoKey(this.model, id);
      if (memo?.has(key)) return visible(memo.get(key) as PayloadRow | undefined);
      const companion = readAlong.get(this.model);
      if (memo && companion !== undefined) return this.#findWith(companion, id, memo);
      return this.#findBy('id', id);
    }

    /** This model's row and the companion's (same id) in one statement; the companion's row is kept for the request. */
    async #findWith(companion: string, id: string, memo: Map<string, unknown>): Promise<AdapterPayload | undefined> {
      const { rows } = await findWithCompanion({ model: this.model, companion, id });
      // Kept as stored (expiry is judged when it is asked for); undefined records that there is none.
      memo.set(
        memoKey(companion, id),
        rows.find((row) => row.model === companion),
      );
      return visible(rows.find((row) => row.model === this.model));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return usableKey(userCode) ? this.#findBy('user_code', userCode) : undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return usableKey(uid) ? this.#findBy('uid', uid) : undefined;
    }

    /**
     * Consumes a code or refresh token that oidc-provider has just read unconsumed. When another use consumed it (or
     * it went) in between, this use is refused with invalid_grant and the grant's tokens are revoked, as oidc-provider
     * does when it sees the reuse itself (RFC 6749 §4.1.2, a code used twice).
     */
    async consume(id: string): Promise<void> {
      this.#forget(id);
      const { numAffectedRows } = await consumeRow({ model: this.model, id, at: scope.now() });
      if (numAffectedRows !== 0n) return;
      const row = await scope
        .selectFrom('oidc_payloads')
        .select('grant_id')
        .where('model', '=', this.model)
        .where('id', '=', id)
        .executeTakeFirst();
      if (row?.grant_id) await this.revokeByGrantId(row.grant_id);
      throw new errors.InvalidGrant(`${this.model} already used`);
    }

    async destroy(id: string): Promise<void> {
      this.#forget(id);
      await scope.deleteFrom('oidc_payloads').where('model', '=', this.model).where('id', '=', id).execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // oidc-provider calls this on every model; one statement removes every token of the grant whatever its model.
      await scope.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
    }

    async #findBy(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
      const { rows } = await findBy[column]({ model: this.model, value });
      return visible(rows[0]);
    }
  };
}

/** Deletes expired rows of the tenant; run now and then (expired rows are already invisible to `find`). */
export async function deleteExpiredPayloads(scope: TenantScope): Promise<number> {
  const result = await scope.deleteFrom('oidc_payloads').where('expires_at', '<=', scope.now()).executeTakeFirst();
  return Number(result.numDeletedRows);
}
