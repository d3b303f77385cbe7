// The node:sqlite adapter behaves as Kysely's SqliteDriver expects better-sqlite3 to: row-returning statements are
// readers (RETURNING included), parameters bind positionally, rows are plain objects, transactions take the lock.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { type Generated, Kysely, sql } from 'kysely';
import { adaptDatabaseSync, nodeSqliteDialect } from './node-sqlite-dialect.ts';

interface Db {
  people: { id: Generated<number>; name: string; active: number };
}

function fresh() {
  const raw = new DatabaseSync(':memory:');
  raw.exec('create table people (id integer primary key, name text not null, active integer not null)');
  return raw;
}

const readerCases = [
  { name: 'a select returns rows', sql: 'select * from people', reader: true },
  {
    name: 'an insert … returning returns rows',
    sql: "insert into people (name, active) values ('x', 1) returning id",
    reader: true,
  },
  { name: 'a plain insert does not', sql: "insert into people (name, active) values ('x', 1)", reader: false },
  { name: 'an update does not', sql: 'update people set active = 0', reader: false },
];

for (const c of readerCases) {
  test(`reader: ${c.name}`, () => {
    assert.equal(adaptDatabaseSync(fresh()).prepare(c.sql).reader, c.reader);
  });
}

test('alice is inserted with a boolean and read back as a plain object', async () => {
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(fresh()) });
  const inserted = await db
    .insertInto('people')
    .values({ name: 'alice', active: true as unknown as number })
    .returning(['id', 'name', 'active'])
    .executeTakeFirstOrThrow();
  assert.deepEqual(inserted, { id: 1, name: 'alice', active: 1 });
  const rows = await db.selectFrom('people').selectAll().where('name', '=', 'alice').execute();
  assert.equal(Object.getPrototypeOf(rows[0]), Object.prototype);
  assert.deepEqual(rows, [{ id: 1, name: 'alice', active: 1 }]);
  await db.destroy();
});

test('an update reports how many rows it changed', async () => {
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(fresh()) });
  await db
    .insertInto('people')
    .values([
      { name: 'bob', active: 1 },
      { name: 'carol', active: 1 },
    ])
    .execute();
  const result = await db.updateTable('people').set({ active: 0 }).executeTakeFirst();
  assert.equal(result.numUpdatedRows, 2n);
  await db.destroy();
});

test('streaming a select yields every row', async () => {
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(fresh()) });
  await db
    .insertInto('people')
    .values([
      { name: 'bob', active: 1 },
      { name: 'carol', active: 0 },
    ])
    .execute();
  const names: string[] = [];
  for await (const row of db.selectFrom('people').select('name').orderBy('id').stream()) names.push(row.name);
  assert.deepEqual(names, ['bob', 'carol']);
  await db.destroy();
});

test('an undefined parameter is refused with a message naming it', () => {
  const stmt = adaptDatabaseSync(fresh()).prepare('select ? as a, ? as b');
  assert.throws(() => stmt.all([1, undefined]), /SQL parameter 2 is undefined/);
});

test('a Date parameter is refused rather than stored as something else', () => {
  const stmt = adaptDatabaseSync(fresh()).prepare('select ? as a');
  assert.throws(() => stmt.all([new Date()]), /SQL parameter 1 has type Date/);
});

test('a transaction takes the write lock at begin (begin immediate), so another process waits instead of failing late', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-adapter-'));
  const path = join(dir, 'lock.db');
  const raw = new DatabaseSync(path);
  raw.exec('pragma journal_mode = wal; create table people (id integer primary key, name text, active integer)');
  const other = new DatabaseSync(path, { timeout: 0 });
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(raw) });
  try {
    await db.transaction().execute(async (trx) => {
      await trx.selectFrom('people').selectAll().execute(); // only a read so far, yet the lock is already held
      assert.throws(() => other.exec("insert into people (name, active) values ('eve', 1)"), /locked|busy/i);
    });
    other.exec("insert into people (name, active) values ('eve', 1)");
  } finally {
    other.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a transaction rolls back when its callback throws', async () => {
  const raw = fresh();
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(raw) });
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      assert.equal(raw.isTransaction, true);
      await trx.insertInto('people').values({ name: 'dave', active: 1 }).execute();
      throw new Error('changed my mind');
    }),
    /changed my mind/,
  );
  const { rows } = await sql<{ n: number }>`select count(*) as n from people`.execute(db);
  assert.equal(rows[0].n, 0);
  await db.destroy();
});

test('concurrent read-modify-write transactions are serialised: no update is lost', async () => {
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(fresh()) });
  await db.insertInto('people').values({ name: 'counter', active: 0 }).execute();
  await Promise.all(
    Array.from({ length: 25 }, () =>
      db.transaction().execute(async (trx) => {
        const { active } = await trx
          .selectFrom('people')
          .select('active')
          .where('id', '=', 1)
          .executeTakeFirstOrThrow();
        await new Promise((resolve) => setImmediate(resolve)); // let every other caller run in between
        await trx
          .updateTable('people')
          .set({ active: active + 1 })
          .where('id', '=', 1)
          .execute();
      }),
    ),
  );
  const row = await db.selectFrom('people').select('active').where('id', '=', 1).executeTakeFirstOrThrow();
  assert.equal(row.active, 25);
  await db.destroy();
});
