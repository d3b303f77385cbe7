// The only way to reach a tenant's rows: a TenantScope binds one tenant id into every query it builds, so a query
// that forgets the tenant cannot be written. Repositories are constructed with a TenantScope, never with Kysely.
import type {
  DeleteQueryBuilder,
  DeleteResult,
  Insertable,
  InsertQueryBuilder,
  InsertResult,
  Kysely,
  SelectQueryBuilder,
  Updateable,
  UpdateQueryBuilder,
  UpdateResult,
} from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database, TenantTable } from './database.ts';

/** A row to insert, without its tenant: the scope sets `tenant_id`. */
export type TenantInsert<T extends TenantTable> = Omit<Insertable<Database[T]>, 'tenant_id'>;
/** Columns to change; `tenant_id` is not among them (a row never moves between tenants). */
export type TenantUpdate<T extends TenantTable> = Omit<Updateable<Database[T]>, 'tenant_id'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Tenant ids are lower-case UUIDs; anything else (a tenant *name*, an empty string) is a caller's bug. */
export function assertTenantId(tenantId: unknown): asserts tenantId is string {
  if (typeof tenantId !== 'string' || !UUID.test(tenantId)) {
    throw new TypeError(`tenant id must be a lower-case UUID, got ${JSON.stringify(tenantId)}`);
  }
}

/**
 * One tenant's view of the store. Every builder it returns is already restricted to the tenant:
 * - `selectFrom(t)`, `updateTable(t, values)` and `deleteFrom(t)` add `where t.tenant_id = <tenant>`;
 * - `insertInto(t, rows)` sets `tenant_id` on every row.
 * Add further `where`s, `select`s, `orderBy`s, `returning`s to the builders as usual. Two rules keep the guarantee:
 * a join to another table must match on `tenant_id` too (foreign keys are composite, so linked rows share a tenant
 * anyway), and inside `transaction(fn)` use only the scope `fn` receives (on SQLite, the outer one would wait for
 * the transaction to end: a deadlock).
 */
export class TenantScope {
  readonly tenantId: string;
  readonly clock: Clock;
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>, tenantId: string, clock: Clock) {
    assertTenantId(tenantId);
    this.#db = db;
    this.tenantId = tenantId;
    this.clock = clock;
  }

  /** Milliseconds since the epoch, from the store's clock: what `created_at`/`modified_at` columns hold. */
  now(): number {
    return this.clock.now();
  }

  selectFrom<T extends TenantTable>(table: T): SelectQueryBuilder<Database, T, object> {
    return this.#db
      .selectFrom(table as TenantTable)
      .where(`${table}.tenant_id` as never, '=', this.tenantId as never) as never;
  }

  insertInto<T extends TenantTable>(
    table: T,
    rows: TenantInsert<T> | readonly TenantInsert<T>[],
  ): InsertQueryBuilder<Database, T, InsertResult> {
    const list = (Array.isArray(rows) ? rows : [rows]) as readonly Record<string, unknown>[];
    if (list.length === 0) throw new TypeError(`insertInto(${table}): no rows to insert`);
    const scoped = list.map((row) => {
      if ('tenant_id' in row)
        throw new TypeError(`insertInto(${table}): tenant_id is set by the scope, not the caller`);
      return { ...row, tenant_id: this.tenantId };
    });
    return this.#db.insertInto(table as TenantTable).values(scoped as never) as never;
  }

  updateTable<T extends TenantTable>(
    table: T,
    values: TenantUpdate<T>,
  ): UpdateQueryBuilder<Database, T, T, UpdateResult> {
    if ('tenant_id' in values) throw new TypeError(`updateTable(${table}): a row never moves to another tenant`);
    return this.#db
      .updateTable(table as TenantTable)
      .set(values as never)
      .where(`${table}.tenant_id` as never, '=', this.tenantId as never) as never;
  }

  deleteFrom<T extends TenantTable>(table: T): DeleteQueryBuilder<Database, T, DeleteResult> {
    return this.#db
      .deleteFrom(table as TenantTable)
      .where(`${table}.tenant_id` as never, '=', this.tenantId as never) as never;
  }

  /**
   * Runs `fn` in one database transaction, with a scope bound to it; commits when `fn` resolves, rolls back when it
   * throws. Inside a transaction already, `fn` joins it.
   */
  async transaction<R>(fn: (tx: TenantScope) => Promise<R>): Promise<R> {
    if (this.#db.isTransaction) return fn(this);
    return this.#db.transaction().execute((trx) => fn(new TenantScope(trx, this.tenantId, this.clock)));
  }
}
