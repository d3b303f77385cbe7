// The only way to reach a tenant's rows: a TenantScope binds one tenant id into every query it builds, so a query
// that forgets the tenant cannot be written. Repositories are constructed with a TenantScope, never with Kysely.

import { randomUUID } from 'node:crypto';
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

/**
 * A query defined once for every tenant (`defineQuery`) and run with `scope.run(definition, values)`: it is built and
 * compiled at its first run in a store and the compiled SQL is kept, with the tenant and the values as parameters.
 */
export interface QueryDefinition<V extends Record<string, unknown>, R> {
  readonly build: (scope: TenantScope, values: V) => Compilable<R>;
}

/**
 * Defines a query for `TenantScope.run`. `build` gets a scope and stand-ins for the values, and builds the query
 * through that scope (so the tenant restriction is part of it), using the stand-ins only where a value goes. Define it
 * at module level: the definition object is the key of the compiled query.
 */
export function defineQuery<V extends Record<string, unknown>, R>(
  build: (scope: TenantScope, values: V) => Compilable<R>,
): QueryDefinition<V, R> {
  return Object.freeze({ build });
}

/** Compiled SQL, and what goes in each parameter: a value's name, the scope's tenant, or the fixed value. */
interface Compiled {
  readonly query: CompiledQuery<unknown>;
  readonly names: readonly (string | typeof TENANT | undefined)[];
}

/** Compiled definitions, shared by the scopes of one store (one dialect); a store keeps one. */
export type CompiledQueries = Map<QueryDefinition<never, unknown>, Compiled>;

const TENANT = Symbol('tenant');
/**
 * The tenant a definition is built for: a random UUID, fixed for the process, that no stored row carries. Its
 * parameters in the compiled query are the tenant restriction, and each run puts the scope's tenant there.
 */
const STAND_IN_TENANT = randomUUID();

function compileWithSlots<V>(build: (values: V) => Compilable<unknown>): Compiled {
  const slots = new Proxy({} as V & object, {
    get: (_target, name) => new Slot(String(name)),
    // A spread would silently copy nothing: the stand-ins are named one by one.
    ownKeys: () => {
      throw new TypeError('prepared query: name each value (values.x); the stand-ins cannot be spread');
    },
  });
  const query = build(slots).compile();
  const names = query.parameters.map((p) => (p instanceof Slot ? p.name : p === STAND_IN_TENANT ? TENANT : undefined));
  return { query, names };
}

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
  readonly #compiled: CompiledQueries;

  /** `compiled`: the store's compiled definitions (see `run`); a scope without one compiles for itself. */
  constructor(db: Kysely<Database>, tenantId: string, clock: Clock, compiled: CompiledQueries = new Map()) {
    assertTenantId(tenantId);
    this.#db = db;
    this.#creator = db as unknown as QueryCreator<DB>;
    this.tenantId = tenantId;
    this.clock = clock;
    this.#compiled = compiled;
  }

  /** The same tenant, database and clock, with queries built by `creator`. */
  #using<D extends Database>(creator: QueryCreator<D>): TenantScope<D> {
    const scope = new TenantScope<D>(this.#db, this.tenantId, this.clock, this.#compiled);
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
    let compiled: Compiled | undefined;
    return async (values) => {
      compiled ??= compileWithSlots(build);
      return this.#execute(compiled, values);
    };
  }

  /**
   * Runs a query defined once for every tenant (`defineQuery`), with `values`. The first run in a store builds it for a
   * stand-in tenant and compiles it; every run then passes that SQL with this scope's tenant and `values` in their
   * places, as `prepare` does, but the compiled query serves every scope of the store, however short-lived (a
   * repository made per request still runs compiled SQL).
   */
  async run<V extends Record<string, unknown>, R>(
    definition: QueryDefinition<V, R>,
    values: V,
  ): Promise<QueryResult<R>> {
    const key = definition as unknown as QueryDefinition<never, unknown>;
    let compiled = this.#compiled.get(key);
    if (compiled === undefined) {
      const standIn = new TenantScope(this.#db, STAND_IN_TENANT, this.clock, this.#compiled);
      compiled = compileWithSlots((slots: V) => definition.build(standIn, slots));
      // Built through a scope, a query names its tenant; one that does not was not built through the scope given.
      if (!compiled.names.includes(TENANT)) {
        throw new TypeError('defineQuery: the query does not restrict the tenant; build it through the scope given');
      }
      this.#compiled.set(key, compiled);
    }
    return this.#execute(compiled, values) as Promise<QueryResult<R>>;
  }

  #execute<V extends Record<string, unknown>, R>(compiled: Compiled, values: V): Promise<QueryResult<R>> {
    const { query, names } = compiled;
    const parameters = query.parameters.map((fixed, i) => {
      const name = names[i];
      if (name === undefined) return fixed;
      if (name === TENANT) return this.tenantId;
      if (!(name in values)) throw new TypeError(`prepared query: no value for '${name}'`);
      return values[name];
    });
    return this.#db.executeQuery({ ...query, parameters, queryId: createQueryId() }) as Promise<QueryResult<R>>;
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
    return this.#db.transaction().execute((trx) => fn(new TenantScope(trx, this.tenantId, this.clock, this.#compiled)));
  }
}
