// Kysely on Node's built-in `node:sqlite` (DatabaseSync): a thin adapter giving DatabaseSync the better-sqlite3-shaped
// methods (prepare → reader/all/run/iterate), with the prepared statements kept in a bounded cache since every query
// is prepared before it runs, and a driver of our own on it with group commit (`NodeSqliteDriver`, below).
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
      const statement = new NodeSqliteStatement(db, db.prepare(sql));
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

/** What the store can learn about group commit (the tests read it). */
export interface NodeSqliteOptions {
  /** Called after each group commit with the number of writes it committed. */
  readonly onCommit?: (writes: number) => void;
}

/** A write that has run in the open group, waiting for the group's commit before its caller is answered. */
interface GroupWrite {
  readonly result: QueryResult<unknown>;
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

/** What the callers of a group hear when the group as a whole did not commit (their own statements had succeeded). */
function groupFailed(error: unknown): Error {
  return new Error(`SQLite: the write was not kept: its group commit failed (${(error as Error)?.message ?? error})`, {
    cause: error,
  });
}

/**
 * The driver behind `nodeSqliteDialect`: one SQLite connection, shared by every caller, with group commit.
 *
 * Every statement runs at once, in the order callers issue them, as with a plain connection: a read sees every write
 * issued before it, so oidc-provider's "find the code, see it is unused, consume it" cannot interleave with another
 * request's. What is deferred is the commit. The first write outside a transaction in a turn of the event loop opens
 * a group (`begin immediate`); the writes after it, from any request, run inside it; when the turn's I/O is done
 * (`setImmediate`) the group commits, and only then are its writers answered, so what a caller has awaited is as
 * durable as before. In WAL mode a commit appends every page it changed to the log and updates the shared index under
 * locks, so sixteen token writes committed together cost far less than sixteen commits (docs/benchmarks.md).
 *
 * - A write that fails (a unique violation, say) is undone on its own, as SQLite undoes a failed statement inside any
 *   transaction, and its caller is told at once; the rest of the group goes on. An error that ends the transaction
 *   itself (the disk is full, the commit fails) reaches every writer of the group: none of it was kept.
 * - A read while a group is open runs inside it and sees the group's writes, which only a failed commit could still
 *   take back (the writers then hear of the failure; the reader has seen rows that are gone).
 * - A transaction (`db.transaction()`) has the connection to itself from `begin immediate` to its end: the open group
 *   commits first, and everyone else's statements wait for the transaction to finish.
 * - `db.connection()` is not exclusive here (Kysely's adapter is told the driver coordinates callers); Portcullis
 *   uses transactions for work that must not interleave.
 */
class NodeSqliteDriver implements Driver {
  readonly #raw: DatabaseSync;
  readonly #database: SqliteDatabase;
  readonly #onCommit: ((writes: number) => void) | undefined;
  /** The connection whose transaction is open, and how the statements waiting for its end learn of it. */
  #holder: NodeSqliteConnection | undefined;
  #ended: Promise<void> = Promise.resolve();
  #end: () => void = () => {};
  /** The open group's writes (undefined: no group is open). */
  #group: GroupWrite[] | undefined;

  constructor(raw: DatabaseSync, options: NodeSqliteOptions) {
    this.#raw = raw;
    this.#database = adaptDatabaseSync(raw);
    this.#onCommit = options.onCommit;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new NodeSqliteConnection(this);
  }

  /** Runs `query` for `connection`: in its transaction, or at once (a write: in the open group, answered at commit). */
  async execute(connection: NodeSqliteConnection, query: CompiledQuery): Promise<QueryResult<unknown>> {
    if (this.#holder === connection) return execute(this.#database, query);
    while (this.#holder) await this.#ended;
    if (!changesRows(query)) return execute(this.#database, query);
    if (this.#group === undefined) {
      this.#run('begin immediate');
      this.#group = [];
      setImmediate(() => this.#commitGroup());
    }
    const group = this.#group;
    let result: QueryResult<unknown>;
    try {
      result = execute(this.#database, query);
    } catch (error) {
      // SQLite undid this statement alone, unless the error ended the transaction: then the group is gone.
      if (!this.#raw.isTransaction) this.#abandonGroup(error);
      throw error;
    }
    return new Promise((resolve, reject) => group.push({ result, resolve, reject }));
  }

  /** A select, read whole before its rows are handed out, so no other statement runs in the middle of it. */
  async *stream(connection: NodeSqliteConnection, query: CompiledQuery): AsyncIterableIterator<QueryResult<unknown>> {
    if (!SelectQueryNode.is(query.query)) throw new Error('node:sqlite: only a select can be streamed');
    const { rows } = await this.execute(connection, query);
    for (const row of rows) yield { rows: [row] };
  }

  /**
   * `begin immediate`, not SQLite's default DEFERRED `begin`: a transaction that reads and then writes could fail
   * with SQLITE_BUSY when another process (the CLI beside the server) wrote in between, without the busy timeout
   * helping; taking the write lock up front waits for it instead.
   */
  async beginTransaction(connection: NodeSqliteConnection): Promise<void> {
    while (this.#holder) await this.#ended;
    this.#commitGroup();
    this.#run('begin immediate');
    this.#holder = connection;
    this.#ended = new Promise((resolve) => {
      this.#end = resolve;
    });
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
    this.#run(`savepoint ${quoted(name)}`);
  }

  async rollbackToSavepoint(connection: NodeSqliteConnection, name: string): Promise<void> {
    this.#holding(connection);
    this.#run(`rollback to ${quoted(name)}`);
  }

  async releaseSavepoint(connection: NodeSqliteConnection, name: string): Promise<void> {
    this.#holding(connection);
    this.#run(`release ${quoted(name)}`);
  }

  async releaseConnection(): Promise<void> {}

  /** Closes the database once the writes issued before it (still on their way through Kysely) have committed. */
  async destroy(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.#commitGroup();
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

  /** Commits the open group, if any, and answers its writers. */
  #commitGroup(): void {
    const group = this.#group;
    if (group === undefined) return;
    this.#group = undefined;
    try {
      this.#run('commit');
    } catch (error) {
      if (this.#raw.isTransaction) {
        try {
          this.#run('rollback');
        } catch {
          // The writers hear of the commit's failure; a failed rollback adds nothing they could act on.
        }
      }
      for (const write of group) write.reject(groupFailed(error));
      return;
    }
    for (const write of group) write.resolve(write.result);
    if (group.length > 0 && this.#onCommit) {
      try {
        this.#onCommit(group.length);
      } catch {
        // An observer's failure is not the writers' concern, nor a reason to stop committing.
      }
    }
  }

  /** The open group's transaction ended without a commit (SQLite rolled it back): its writers are told. */
  #abandonGroup(error: unknown): void {
    const group = this.#group ?? [];
    this.#group = undefined;
    for (const write of group) write.reject(groupFailed(error));
  }
}

/** An SQL identifier in double quotes (Kysely's savepoint names come from the caller). */
function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
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
 * the connection from its `begin immediate` to its end, and other statements wait for it.
 */
export function nodeSqliteDialect(db: DatabaseSync, options: NodeSqliteOptions = {}): Dialect {
  return {
    createAdapter: (): DialectAdapter => new NodeSqliteAdapter(),
    createDriver: (): Driver => new NodeSqliteDriver(db, options),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (kysely: Kysely<unknown>) => new SqliteIntrospector(kysely),
  };
}
