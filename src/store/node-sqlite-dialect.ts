// Lets Kysely's own SqliteDialect run on Node's built-in `node:sqlite` (DatabaseSync) instead of better-sqlite3:
// a thin adapter giving DatabaseSync the few methods Kysely's SqliteDriver calls (prepare → reader/all/run/iterate),
// with the prepared statements kept in a bounded cache, since Kysely prepares every query it runs.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';

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

/**
 * A Kysely dialect on `node:sqlite`. Kysely's SqliteAdapter reports a single connection, so Kysely itself queues
 * every query and holds the connection for the whole of a transaction: concurrent async callers are serialised.
 */
export function nodeSqliteDialect(db: DatabaseSync): SqliteDialect {
  return new SqliteDialect({ database: adaptDatabaseSync(db) });
}
