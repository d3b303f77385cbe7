// Lets Kysely's own SqliteDialect run on Node's built-in `node:sqlite` (DatabaseSync) instead of better-sqlite3:
// a thin adapter giving DatabaseSync the few methods Kysely's SqliteDriver calls (prepare → reader/all/run/iterate),
// with the prepared statements kept in a bounded cache, since Kysely prepares every query it runs.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import {
  type CompiledQuery,
  type DatabaseConnection,
  DeleteQueryNode,
  type Dialect,
  type DialectAdapter,
  type Driver,
  InsertQueryNode,
  type Kysely,
  MergeQueryNode,
  type QueryResult,
  SelectQueryNode,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type SqliteStatement,
  UpdateQueryNode,
} from 'kysely';

/**
 * Kysely opens transactions with a plain `begin`, which SQLite makes DEFERRED: a transaction that reads and then
 * writes can fail with SQLITE_BUSY when another process (the CLI beside the server) wrote in between, without the
 * busy timeout helping. `begin immediate` takes the write lock up front and waits for it instead.
 */
const BEGIN = /^\s*begin\s*(transaction)?\s*;?\s*$/i;

function toSqlite(value: unknown, index: number): SQLInputValue {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === undefined) throw new TypeError(`SQL parameter ${index + 1} is undefined (use null)`);
  if (
    value === null ||
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'string' ||
    ArrayBuffer.isView(value)
  ) {
    return value as SQLInputValue;
  }
  throw new TypeError(
    `SQL parameter ${index + 1} has type ${value?.constructor?.name ?? typeof value}, which SQLite cannot store`,
  );
}

function params(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map(toSqlite);
}

/** node:sqlite returns rows with a null prototype; plain objects behave like pg's rows everywhere else. */
function plain(row: unknown): Record<string, unknown> {
  return { ...(row as Record<string, unknown>) };
}

/**
 * Prepared statements kept per database, by SQL text. Kysely asks for `prepare(sql)` before every query, and
 * compiling a statement (10–20 µs of CPU for our selects and upserts) costs several times what running a short
 * indexed query does. Our queries come from a fixed set of builders, so a few hundred distinct texts cover them;
 * `in (?, ?, …)` lists of every length are what the bound keeps from growing without limit.
 */
export const STATEMENT_CACHE_SIZE = 256;

class NodeSqliteStatement implements SqliteStatement {
  readonly #db: DatabaseSync;
  readonly #stmt: StatementSync;
  /** better-sqlite3's `reader`: the statement returns rows (a SELECT, or anything with RETURNING). */
  readonly reader: boolean;
  constructor(db: DatabaseSync, stmt: StatementSync) {
    this.#db = db;
    this.#stmt = stmt;
    this.reader = stmt.columns().length > 0;
  }
  // all and run step the statement to its end and reset it before they return (node:sqlite does), so a cached
  // statement is idle again between calls, whichever transaction the next call belongs to.
  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#stmt.all(...params(parameters)).map(plain);
  }
  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.#stmt.run(...params(parameters));
  }
  /**
   * An iteration holds its statement mid-way until the caller has read the last row (or stops); it gets a statement
   * of its own, so the cached one stays free for other queries.
   */
  *iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    for (const row of this.#db.prepare(this.#stmt.sourceSQL).iterate(...params(parameters))) yield plain(row);
  }
}

/**
 * Wraps an open DatabaseSync in the better-sqlite3-shaped interface that Kysely's SqliteDialect expects, keeping up
 * to `cacheSize` prepared statements (least recently used goes first). SQLite re-prepares a cached statement by
 * itself when the schema changes (a migration), and closing the database finalizes every one of them.
 */
export function adaptDatabaseSync(db: DatabaseSync, cacheSize = STATEMENT_CACHE_SIZE): SqliteDatabase {
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new RangeError(`statement cache size must be a whole number ≥ 0, got ${cacheSize}`);
  }
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first.
  const cache = new Map<string, NodeSqliteStatement>();
  return {
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached) {
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = new NodeSqliteStatement(db, db.prepare(BEGIN.test(sql) ? 'begin immediate' : sql));
      if (cacheSize > 0) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement;
    },
    close(): void {
      cache.clear();
      if (db.isOpen) db.close();
    },
  };
}

/** What the store can learn about group commit (the tests and the benchmark read it). */
export interface NodeSqliteOptions {
  /** Called after each group commit with the number of statements it committed (also 1: a write on its own). */
  readonly onCommit?: (statements: number) => void;
}

/** A write waiting for the next group commit, and how to answer its caller. */
interface PendingWrite {
  readonly query: CompiledQuery;
  readonly resolve: (result: QueryResult<unknown>) => void;
  readonly reject: (error: unknown) => void;
}

/** Statements that change rows: the ones a group commit collects (with or without RETURNING). */
function changesRows(query: CompiledQuery): boolean {
  const node = query.query;
  return InsertQueryNode.is(node) || UpdateQueryNode.is(node) || DeleteQueryNode.is(node) || MergeQueryNode.is(node);
}

function execute(database: SqliteDatabase, query: CompiledQuery): QueryResult<unknown> {
  const statement = database.prepare(query.sql);
  if (statement.reader) return { rows: statement.all(query.parameters) };
  const { changes, lastInsertRowid } = statement.run(query.parameters);
  return { rows: [], insertId: BigInt(lastInsertRowid), numAffectedRows: BigInt(changes) };
}

/**
 * The driver behind `nodeSqliteDialect`: one SQLite connection, shared by every caller, with group commit.
 *
 * A write outside a transaction does not commit on its own. It joins the writes that other requests issue in the
 * same turn of the event loop, and all of them commit in one SQLite transaction when the turn's I/O is done
 * (`setImmediate`); each caller's promise settles after that commit, so what a caller has awaited is as durable as
 * before. In WAL mode a commit appends every page it changed to the log and updates the shared index under locks,
 * so sixteen token writes committed together cost far less than sixteen commits (docs/benchmarks.md).
 *
 * - A statement that fails in a group (a unique violation, say) is undone on its own, as SQLite undoes a failed
 *   statement inside any transaction; only its caller sees the error and the rest commit. An error that ends the
 *   transaction itself (the disk is full, the commit fails) reaches every caller of the group: none of it was kept.
 * - Reads run at once. A read does not see a write still waiting for its group, which no caller has been told is
 *   done yet; a caller that awaited its write reads it back.
 * - A transaction (`db.transaction()`) has the connection to itself from `begin immediate` to its end: writes
 *   waiting for a group commit first, then the transaction, while everyone else's queries wait for it to finish.
 */
class NodeSqliteDriver implements Driver {
  readonly #raw: DatabaseSync;
  readonly #database: SqliteDatabase;
  readonly #onCommit: ((statements: number) => void) | undefined;
  /** The connection whose transaction is open, and how the queries waiting for its end learn of it. */
  #holder: NodeSqliteConnection | undefined;
  #ended: Promise<void> = Promise.resolve();
  #end: () => void = () => {};
  #pending: PendingWrite[] = [];
  #scheduled = false;

  constructor(raw: DatabaseSync, options: NodeSqliteOptions) {
    this.#raw = raw;
    this.#database = adaptDatabaseSync(raw);
    this.#onCommit = options.onCommit;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new NodeSqliteConnection(this);
  }

  /** Runs `query` for `connection`: in its transaction, at once, or (a write outside one) in the next group. */
  async execute(connection: NodeSqliteConnection, query: CompiledQuery): Promise<QueryResult<unknown>> {
    if (this.#holder !== connection) {
      while (this.#holder) await this.#ended;
      if (changesRows(query)) {
        return new Promise((resolve, reject) => {
          this.#pending.push({ query, resolve, reject });
          if (!this.#scheduled) {
            this.#scheduled = true;
            setImmediate(() => this.#commitPending());
          }
        });
      }
    }
    return execute(this.#database, query);
  }

  async *stream(connection: NodeSqliteConnection, query: CompiledQuery): AsyncIterableIterator<QueryResult<unknown>> {
    if (!SelectQueryNode.is(query.query)) throw new Error('node:sqlite: only a select can be streamed');
    if (this.#holder !== connection) while (this.#holder) await this.#ended;
    for (const row of this.#database.prepare(query.sql).iterate(query.parameters)) yield { rows: [row] };
  }

  async beginTransaction(connection: NodeSqliteConnection): Promise<void> {
    while (this.#holder) await this.#ended;
    this.#holder = connection;
    this.#ended = new Promise((resolve) => {
      this.#end = resolve;
    });
    this.#commitPending();
    try {
      this.#run('begin immediate');
    } catch (error) {
      this.#release();
      throw error;
    }
  }

  async commitTransaction(): Promise<void> {
    this.#run('commit');
    this.#release();
  }

  async rollbackTransaction(): Promise<void> {
    try {
      if (this.#raw.isTransaction) this.#run('rollback');
    } finally {
      this.#release();
    }
  }

  async savepoint(connection: NodeSqliteConnection, name: string): Promise<void> {
    this.#holding(connection);
    this.#run(`savepoint "${name}"`);
  }

  async rollbackToSavepoint(connection: NodeSqliteConnection, name: string): Promise<void> {
    this.#holding(connection);
    this.#run(`rollback to "${name}"`);
  }

  async releaseSavepoint(connection: NodeSqliteConnection, name: string): Promise<void> {
    this.#holding(connection);
    this.#run(`release "${name}"`);
  }

  async releaseConnection(): Promise<void> {}

  /** Closes the database once the writes issued before it (still on their way through Kysely) have committed. */
  async destroy(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.#commitPending();
    this.#database.close();
  }

  #holding(connection: NodeSqliteConnection): void {
    if (this.#holder !== connection) throw new Error('node:sqlite: a savepoint needs the open transaction');
  }

  #run(text: string): void {
    this.#database.prepare(text).run([]);
  }

  #release(): void {
    this.#holder = undefined;
    this.#end();
  }

  /** Commits every write waiting for a group, in one transaction (a lone write commits on its own, as before). */
  #commitPending(): void {
    this.#scheduled = false;
    const group = this.#pending;
    if (group.length === 0) return;
    this.#pending = [];
    if (group.length === 1) {
      const [write] = group;
      try {
        write.resolve(execute(this.#database, write.query));
      } catch (error) {
        write.reject(error);
      }
      this.#onCommit?.(1);
      return;
    }
    const results: ({ ok: true; value: QueryResult<unknown> } | { ok: false; error: unknown })[] = [];
    let failed: { error: unknown } | undefined;
    try {
      this.#run('begin immediate');
      for (const write of group) {
        try {
          results.push({ ok: true, value: execute(this.#database, write.query) });
        } catch (error) {
          // SQLite undid this statement alone, unless the error ended the transaction (then nothing was kept).
          if (!this.#raw.isTransaction) throw error;
          results.push({ ok: false, error });
        }
      }
      this.#run('commit');
    } catch (error) {
      failed = { error };
      if (this.#raw.isTransaction) {
        try {
          this.#run('rollback');
        } catch {
          // The connection reports the first error to every caller; a failed rollback adds nothing they can act on.
        }
      }
    }
    group.forEach((write, i) => {
      const result = results[i];
      if (failed) write.reject(failed.error);
      else if (result.ok) write.resolve(result.value);
      else write.reject(result.error);
    });
    if (!failed) this.#onCommit?.(group.length);
  }
}

class NodeSqliteConnection implements DatabaseConnection {
  readonly #driver: NodeSqliteDriver;
  constructor(driver: NodeSqliteDriver) {
    this.#driver = driver;
  }
  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.#driver.execute(this, query) as Promise<QueryResult<R>>;
  }
  streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    return this.#driver.stream(this, query) as AsyncIterableIterator<QueryResult<R>>;
  }
}

/** Kysely's SQLite adapter, but the driver, not a Kysely-wide mutex, decides what shares the one connection. */
class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

/**
 * A Kysely dialect on `node:sqlite`, with group commit (`NodeSqliteDriver`). Transactions are serialised: one holds
 * the connection from its `begin immediate` to its end, and other queries wait for it.
 */
export function nodeSqliteDialect(db: DatabaseSync, options: NodeSqliteOptions = {}): Dialect {
  return {
    createAdapter: (): DialectAdapter => new NodeSqliteAdapter(),
    createDriver: (): Driver => new NodeSqliteDriver(db, options),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (kysely: Kysely<unknown>) => new SqliteIntrospector(kysely),
  };
}
