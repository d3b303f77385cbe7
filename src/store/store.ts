// Opens the database — embedded SQLite through node:sqlite (the default, one file in the data directory) or
// PostgreSQL (shared by several nodes) — behind one Kysely code path, and applies the numbered migrations.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { type Clock, systemClock } from '../clock.ts';
import type { Database } from './database.ts';
import { migrationProvider } from './migrations/index.ts';
import { nodeSqliteDialect } from './node-sqlite-dialect.ts';
import { preparingClient, StatementNames } from './postgres-statements.ts';
import { type CompiledQueries, TenantScope } from './tenant-scope.ts';

export type StoreOptions = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** What a transaction over several tenants sees: the same handles as the store, bound to the transaction. */
export interface StoreHandle {
  readonly kind: 'sqlite' | 'postgres';
  readonly clock: Clock;
  /**
   * The raw database, not restricted to a tenant. The escape hatch for what is above tenants — creating and listing
   * tenants (TenantRepository), migrations, health checks — and nothing else: `grep -rn unscoped src/` lists every
   * use.
   */
  readonly unscoped: Kysely<Database>;
  /** The view of one tenant through which every repository is built. */
  forTenant(tenantId: string): TenantScope;
}

export interface Store extends StoreHandle {
  /** Applies pending migrations; returns the names applied (empty when the schema was current). */
  migrate(): Promise<string[]>;
  /** Resolves when the database answers a query (for /readyz); rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Runs `fn` in one transaction spanning tenants (master-key rotation re-wraps every tenant's keys at once). Inside,
   * use only `tx`. For work within one tenant, `forTenant(id).transaction(fn)` is the usual way.
   */
  transaction<R>(fn: (tx: StoreHandle) => Promise<R>): Promise<R>;
  /**
   * Like `transaction`, for reads that must see one moment across statements (`portcullis audit verify` walks a
   * chain and its head): REPEATABLE READ on PostgreSQL; on SQLite a transaction, which also holds writers back.
   */
  snapshot<R>(fn: (tx: StoreHandle) => Promise<R>): Promise<R>;
  /** The migrations this database has not had yet (commands that only read refuse to run on an old schema). */
  pendingMigrations(): Promise<string[]>;
  close(): Promise<void>;
}

/** Opening the store failed; the message names the database and the reason, never a password. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/** SQLite's name for a private in-memory database (for tests and tools; nothing persists). */
const MEMORY = ':memory:';

/** How long a SQLite writer waits for another process's write lock before giving up (ms). */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

export async function openStore(options: StoreOptions, clock: Clock = systemClock): Promise<Store> {
  const kind = options?.kind;
  if (kind === 'sqlite') return storeOn(new Kysely<Database>({ dialect: openSqlite(options.path) }), 'sqlite', clock);
  if (kind === 'postgres') return openPostgres(options.url, clock);
  throw new StoreError(`store: kind must be 'sqlite' or 'postgres', got ${JSON.stringify(kind)}`);
}

function openSqlite(path: string) {
  if (typeof path !== 'string' || path.trim() === '') {
    throw new StoreError('store: the SQLite database path is empty');
  }
  let db: DatabaseSync;
  try {
    if (path !== MEMORY) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Create the file owner-only before SQLite does (SQLite gives its -wal and -shm files the same mode).
      closeSync(openSync(path, 'a', 0o600));
    }
    db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: SQLITE_BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new StoreError(`store: cannot open the SQLite database '${path}': ${(error as Error).message}`);
  }
  // WAL lets readers proceed while one writer writes, and survives a crash without a slow recovery;
  // synchronous=NORMAL is durable in WAL mode except for the last transactions before a power loss.
  db.exec('pragma journal_mode = wal; pragma synchronous = normal; pragma foreign_keys = on;');
  return nodeSqliteDialect(db);
}

/** pg returns int8 (`bigint`, our epoch-ms columns, `count(*)`) as strings; the schema keeps them in safe range. */
function int8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`PostgreSQL bigint ${value} is outside the safe integer range`);
  return n;
}

const PG_INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8_OID && format !== 'binary'
      ? int8
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

async function openPostgres(url: string, clock: Clock): Promise<Store> {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
    throw new StoreError("store: the PostgreSQL URL must start with 'postgres://' or 'postgresql://'");
  }
  // Kysely's parameterised queries run as named statements: parsed and planned once per connection.
  const Client = preparingClient(new StatementNames());
  const pool = new pg.Pool({ connectionString: url, types: pgTypes, max: 10, Client });
  // An idle client losing its connection (a restarted server) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const store = storeOn(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres', clock);
  try {
    await store.ping();
  } catch (error) {
    await store.close();
    throw new StoreError(`store: cannot connect to PostgreSQL at ${describeUrl(url)}: ${(error as Error).message}`);
  }
  return store;
}

function storeOn(db: Kysely<Database>, kind: Store['kind'], clock: Clock): Store {
  let closed: Promise<void> | undefined;
  // Queries defined once (defineQuery), compiled at their first run on this store and kept for every tenant.
  const compiled: CompiledQueries = new Map();
  return {
    kind,
    clock,
    unscoped: db,
    async migrate() {
      const migrator = new Migrator({ db, provider: migrationProvider });
      const { error, results = [] } = await migrator.migrateToLatest();
      if (error) {
        const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
        throw new StoreError(`store: migration '${failed}' failed: ${(error as Error).message ?? String(error)}`);
      }
      return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    async ping() {
      await sql`select 1 as ok`.execute(db);
    },
    forTenant(tenantId: string) {
      return new TenantScope(db, tenantId, clock, compiled);
    },
    transaction(fn) {
      return db.transaction().execute((trx) =>
        fn({
          kind,
          clock,
          unscoped: trx,
          forTenant: (tenantId: string) => new TenantScope(trx, tenantId, clock, compiled),
        }),
      );
    },
    snapshot(fn) {
      const transaction =
        kind === 'postgres' ? db.transaction().setIsolationLevel('repeatable read') : db.transaction();
      return transaction.execute((trx) =>
        fn({
          kind,
          clock,
          unscoped: trx,
          forTenant: (tenantId: string) => new TenantScope(trx, tenantId, clock, compiled),
        }),
      );
    },
    async pendingMigrations() {
      const migrations = await new Migrator({ db, provider: migrationProvider }).getMigrations();
      return migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
    },
    close() {
      closed ??= db.destroy();
      return closed;
    },
  };
}
