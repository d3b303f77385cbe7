// The only way to reach a tenant's rows: a TenantScope binds one tenant id into every query it builds, so a query
// that forgets the tenant cannot be written. Repositories are constructed with a TenantScope, never with Kysely.
import {
  type Compilable,
  type CompiledQuery,
  createQueryId,
  type DeleteQueryBuilder,
  type DeleteResult,
  type Expression,
  type Insertable,
  type InsertQueryBuilder,
  type InsertResult,
  type Kysely,
  type QueryCreator,
  type QueryResult,
  type SelectQueryBuilder,
  type Updateable,
  type UpdateQueryBuilder,
  type UpdateResult,
} from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database, TenantTable } from './database.ts';

/** A row to insert, without its tenant: the scope sets `tenant_id`. */
export type TenantInsert<T extends TenantTable> = Omit<Insertable<Database[T]>, 'tenant_id'>;
/** Columns to change; `tenant_id` is not among them (a row never moves between tenants). */
export type TenantUpdate<T extends TenantTable> = Omit<Updateable<Database[T]>, 'tenant_id'>;
/** The tables a scope reads: the tenant's tables, plus any common table expression it was given (`withRecursive`). */
export type ScopedTable<DB> = Exclude<keyof DB & string, 'tenants'>;
/** A common table expression's rows carry their tenant, so a scope restricts them as it restricts a table. */
export type CteRow<R> = R & { tenant_id: string };

/** Stands for a value in a prepared query (see TenantScope.prepare); replaced by the value at each run. */
class Slot {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

/** A query prepared by TenantScope.prepare: runs with new values, on the scope it was prepared on. */
export type PreparedQuery<V, R> = (values: V) => Promise<QueryResult<R>>;

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
 * - `insertInto(t, rows)` sets `tenant_id` on every row;
 * - `withRecursive(name, …)` adds a common table expression whose rows carry `tenant_id`, restricted like a table.
 * Add further `where`s, `select`s, `orderBy`s, `returning`s to the builders as usual. Two rules keep the guarantee:
 * a join to another table must match on `tenant_id` too (foreign keys are composite, so linked rows share a tenant
 * anyway), and inside `transaction(fn)` use only the scope `fn` receives (on SQLite, the outer one would wait for
 * the transaction to end: a deadlock).
 */
export class TenantScope<DB extends Database = Database> {
  readonly tenantId: string;
  readonly clock: Clock;
  readonly #db: Kysely<Database>;
  /** What builds the queries: the database itself, or (in a `withRecursive` scope) a creator carrying the CTE. */
  #creator: QueryCreator<DB>;

  constructor(db: Kysely<Database>, tenantId: string, clock: Clock) {
    assertTenantId(tenantId);
    this.#db = db;
    this.#creator = db as unknown as QueryCreator<DB>;
    this.tenantId = tenantId;
    this.clock = clock;
  }

  /** The same tenant, database and clock, with queries built by `creator`. */
  #using<D extends Database>(creator: QueryCreator<D>): TenantScope<D> {
    const scope = new TenantScope<D>(this.#db, this.tenantId, this.clock);
    scope.#creator = creator;
    return scope;
  }

  /** Milliseconds since the epoch, from the store's clock: what `created_at`/`modified_at` columns hold. */
  now(): number {
    return this.clock.now();
  }

  selectFrom<T extends ScopedTable<DB>>(table: T): SelectQueryBuilder<DB, T, object> {
    return (this.#creator as unknown as QueryCreator<Database>)
      .selectFrom(table as TenantTable)
      .where(`${table}.tenant_id` as never, '=', this.tenantId as never) as never;
  }

  /**
   * A walk over this tenant's rows in one statement (groups within groups): the scope returned starts its queries
   * with `with recursive <name>(tenant_id, …columns) as (<body>)` and can select from `name` like a table.
   * `body` gets a scope that can name the CTE too (for the recursive step's join) and returns the anchor `union`
   * the step; both must select `tenant_id` (from a table of this scope) first, then `columns`, so that the CTE's rows
   * are restricted to the tenant like any table's. Put the `selectFrom(name)` first in a compound query (the `with`
   * goes on that query), and build the other parts of the compound from the scope this was called on.
   */
  withRecursive<N extends string, R extends Record<string, unknown>>(
    name: N,
    columns: readonly (keyof R & string)[],
    body: (scope: TenantScope<DB & Record<N, CteRow<R>>>) => Expression<CteRow<R>>,
  ): TenantScope<DB & Record<N, CteRow<R>>> {
    if (!/^[a-z_][a-z0-9_]*$/.test(name) || columns.some((c) => !/^[a-z_][a-z0-9_]*$/.test(c))) {
      throw new TypeError(`withRecursive(${name}): the name and columns must be plain lower-case identifiers`);
    }
    // The body's scope builds plain queries (no `with` of their own); only the outer query carries the CTE.
    const named = this.#using(this.#creator as unknown as QueryCreator<DB & Record<N, CteRow<R>>>);
    const creator = (this.#creator as unknown as QueryCreator<Database>).withRecursive(
      `${name}(tenant_id, ${columns.join(', ')})` as never,
      (() => body(named)) as never,
    );
    return this.#using(creator as unknown as QueryCreator<DB & Record<N, CteRow<R>>>);
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
   * A query built through this scope once and then run many times with new values: `build` gets stand-ins for the
   * values (`values.id`, …) and returns the query; it is built and compiled at the first run only, and every run
   * passes the SQL with the values put in the stand-ins' places. Kysely spends 15–20 µs building and compiling a
   * query, more than SQLite spends running a short indexed one, so hot paths (the token endpoint's payload reads and
   * writes) prepare theirs. The tenant restriction is part of what is built, as for any query of the scope. Values
   * are only ever used where a value goes (`where(col, '=', values.x)`, `values({ col: values.x })`): a stand-in
   * used as an identifier or in a condition's shape would not be replaced.
   */
  prepare<V extends Record<string, unknown>, R>(build: (values: V) => Compilable<R>): PreparedQuery<V, R> {
    let compiled: { readonly query: CompiledQuery<R>; readonly names: readonly (string | undefined)[] } | undefined;
    return async (values) => {
      if (compiled === undefined) {
        const slots = new Proxy({} as V, {
          get: (_target, name) => new Slot(String(name)),
          // A spread would silently copy nothing: the stand-ins are named one by one.
          ownKeys: () => {
            throw new TypeError('prepared query: name each value (values.x); the stand-ins cannot be spread');
          },
        });
        const query = build(slots).compile();
        compiled = { query, names: query.parameters.map((p) => (p instanceof Slot ? p.name : undefined)) };
      }
      const { query, names } = compiled;
      const parameters = query.parameters.map((fixed, i) => {
        const name = names[i];
        if (name === undefined) return fixed;
        if (!(name in values)) throw new TypeError(`prepared query: no value for '${name}'`);
        return values[name];
      });
      return this.#db.executeQuery({ ...query, parameters, queryId: createQueryId() });
    };
  }

  /**
   * Runs `fn` in one database transaction, with a scope bound to it; commits when `fn` resolves, rolls back when it
   * throws. Inside a transaction already, `fn` joins it.
   */
  async transaction<R>(fn: (tx: TenantScope) => Promise<R>): Promise<R> {
    if (this.#db.isTransaction) {
      // A `withRecursive` scope's queries would carry its CTE; the transaction's scope is a plain one.
      return fn((this.#creator as unknown) === this.#db ? (this as unknown as TenantScope) : this.#using(this.#db));
    }
    return this.#db.transaction().execute((trx) => fn(new TenantScope(trx, this.tenantId, this.clock)));
  }
}
