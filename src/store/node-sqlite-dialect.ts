// Lets Kysely's own SqliteDialect run on Node's built-in `node:sqlite` (DatabaseSync) instead of better-sqlite3:
// a thin adapter giving DatabaseSync the few methods Kysely's SqliteDriver calls (prepare → reader/all/run/iterate).
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

class NodeSqliteStatement implements SqliteStatement {
  readonly #stmt: StatementSync;
  /** better-sqlite3's `reader`: the statement returns rows (a SELECT, or anything with RETURNING). */
  readonly reader: boolean;
  constructor(stmt: StatementSync) {
    this.#stmt = stmt;
    this.reader = stmt.columns().length > 0;
  }
  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#stmt.all(...params(parameters)).map(plain);
  }
  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.#stmt.run(...params(parameters));
  }
  *iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    for (const row of this.#stmt.iterate(...params(parameters))) yield plain(row);
  }
}

/** Wraps an open DatabaseSync in the better-sqlite3-shaped interface that Kysely's SqliteDialect expects. */
export function adaptDatabaseSync(db: DatabaseSync): SqliteDatabase {
  return {
    prepare(sql: string): SqliteStatement {
      return new NodeSqliteStatement(db.prepare(BEGIN.test(sql) ? 'begin immediate' : sql));
    },
    close(): void {
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
