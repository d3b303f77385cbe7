// Runs store-backed tests on both databases: `storesUnderTest()` gives one entry per kind, and each `open()` is a
// fresh, migrated database (a new SQLite file; a new PostgreSQL database on the process's throwaway cluster).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import type { Clock } from '../../src/clock.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { type PostgresServer, testPostgres } from './postgres.ts';

export interface OpenOptions {
  /** Apply the migrations before returning (default true). */
  migrate?: boolean;
  clock?: Clock;
}

export interface StoreUnderTest {
  readonly name: 'sqlite' | 'postgres';
  open(options?: OpenOptions): Promise<Store>;
  /** The SQLite file of the last store opened (sqlite only), for tests that read the raw bytes. */
  readonly lastSqlitePath?: string;
  /**
   * Environment for a Portcullis process (`serve`, `init`) on an empty database of this kind: nothing for SQLite
   * (it lives in the data directory), PORTCULLIS_POSTGRES_URL of a new, unmigrated database for PostgreSQL.
   */
  emptyDatabaseEnv(): Promise<Record<string, string>>;
}

const opened: Store[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
/** Work started ahead of need (spare databases); settled before the cleanups run. */
const pending: Promise<unknown>[] = [];
let registered = false;
/** Stops the process's PostgreSQL cluster: once, after every cleanup (each file may make several StoreUnderTests). */
let stopPostgres: (() => void) | undefined;

function registerCleanup(): void {
  if (registered) return;
  registered = true;
  after(async () => {
    await Promise.allSettled(pending);
    await Promise.allSettled(opened.map((s) => s.close()));
    for (const cleanup of cleanups.reverse()) await cleanup();
    stopPostgres?.();
  });
}

async function track(store: Store, migrate: boolean): Promise<Store> {
  opened.push(store);
  if (migrate) await store.migrate();
  return store;
}

class SqliteUnderTest implements StoreUnderTest {
  readonly name = 'sqlite' as const;
  lastSqlitePath?: string;
  #dir?: string;
  async emptyDatabaseEnv(): Promise<Record<string, string>> {
    return {};
  }
  async open(options: OpenOptions = {}): Promise<Store> {
    if (!this.#dir) {
      const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'));
      this.#dir = dir;
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    }
    this.lastSqlitePath = join(this.#dir, `${randomUUID()}.db`);
    return track(
      await openStore({ kind: 'sqlite', path: this.lastSqlitePath }, options.clock),
      options.migrate ?? true,
    );
  }
}

class PostgresUnderTest implements StoreUnderTest {
  readonly name = 'postgres' as const;
  #admin?: pg.Client;
  #template?: Promise<string>;
  /** The next migrated database, created while the current test runs (CREATE DATABASE is the slow part). */
  #spare?: Promise<string>;

  async emptyDatabaseEnv(): Promise<Record<string, string>> {
    registerCleanup();
    const server = await testPostgres();
    const name = await this.#createDatabase(await this.#adminClient(server), undefined);
    return { PORTCULLIS_POSTGRES_URL: server.urlFor(name) };
  }

  async open(options: OpenOptions = {}): Promise<Store> {
    const server = await testPostgres();
    const admin = await this.#adminClient(server);
    let name: string;
    if (options.migrate ?? true) {
      // Copies of a migrated template: faster than migrating each database, and the schema is the same.
      const template = await this.#migratedTemplate(server, admin);
      name = await (this.#spare ?? this.#createDatabase(admin, template));
      const spare = this.#createDatabase(admin, template);
      spare.catch(() => {}); // a failure shows when the next test awaits it
      pending.push(spare);
      this.#spare = spare;
    } else {
      name = await this.#createDatabase(admin, undefined);
    }
    return track(await openStore({ kind: 'postgres', url: server.urlFor(name) }, options.clock), false);
  }

  async #adminClient(server: PostgresServer): Promise<pg.Client> {
    if (this.#admin) return this.#admin;
    const admin = new pg.Client({ connectionString: server.adminUrl });
    this.#admin = admin;
    await admin.connect();
    // Several StoreUnderTests share the cluster: each ends its own client, and the cluster stops after all of them.
    cleanups.push(() => admin.end());
    stopPostgres = () => server.stop();
    return admin;
  }

  #migratedTemplate(server: PostgresServer, admin: pg.Client): Promise<string> {
    this.#template ??= (async () => {
      const name = await this.#createDatabase(admin, undefined);
      const store = await openStore({ kind: 'postgres', url: server.urlFor(name) });
      await store.migrate();
      await store.close(); // a template must have no open connections
      return name;
    })();
    return this.#template;
  }

  async #createDatabase(admin: pg.Client, template: string | undefined): Promise<string> {
    const name = `portcullis_test_${randomUUID().replaceAll('-', '')}`;
    await admin.query(`create database ${name}${template ? ` template ${template}` : ''}`);
    if (process.env.PORTCULLIS_TEST_PG_URL) {
      // Runs before the admin client ends (cleanups run last-in first-out) and after every store has closed.
      cleanups.push(() => admin.query(`drop database if exists ${name}`).then(() => undefined));
    }
    return name;
  }
}

/**
 * One entry per database kind. Call at the top level of a test file (it registers the cleanup hook there), then
 * run each table of cases once per entry:
 *
 *     for (const db of storesUnderTest()) test(`${db.name}: alice ...`, async () => { const store = await db.open(); … });
 */
export function storesUnderTest(): StoreUnderTest[] {
  registerCleanup();
  return [new SqliteUnderTest(), new PostgresUnderTest()];
}
