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
import { testPostgres } from './postgres.ts';

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
}

const opened: Store[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
let registered = false;

function registerCleanup(): void {
  if (registered) return;
  registered = true;
  after(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    for (const cleanup of cleanups.reverse()) await cleanup();
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
  async open(options: OpenOptions = {}): Promise<Store> {
    const server = await testPostgres();
    if (!this.#admin) {
      const admin = new pg.Client({ connectionString: server.adminUrl });
      await admin.connect();
      this.#admin = admin;
      cleanups.push(async () => {
        await admin.end();
        server.stop();
      });
    }
    const name = `portcullis_test_${randomUUID().replaceAll('-', '')}`;
    await this.#admin.query(`create database ${name}`);
    if (process.env.PORTCULLIS_TEST_PG_URL) {
      const admin = this.#admin;
      // Runs before the admin client ends (cleanups run last-in first-out) and after every store has closed.
      cleanups.push(() => admin.query(`drop database if exists ${name}`).then(() => undefined));
    }
    return track(
      await openStore({ kind: 'postgres', url: server.urlFor(name) }, options.clock),
      options.migrate ?? true,
    );
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
