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

/** A database that records every SQL text it compiles (DatabaseSync#prepare). */
function counting(raw = fresh()): { raw: DatabaseSync; prepared: string[] } {
  const prepared: string[] = [];
  const prepare = raw.prepare.bind(raw);
  raw.prepare = (text: string) => {
    prepared.push(text);
    return prepare(text);
  };
  return { raw, prepared };
}

test('statement cache: the same query is compiled once, however often it runs', async () => {
  const { raw, prepared } = counting();
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(raw) });
  for (const name of ['alice', 'bob', 'carol']) await db.insertInto('people').values({ name, active: 1 }).execute();
  for (const name of ['alice', 'bob', 'carol']) {
    const row = await db.selectFrom('people').select('name').where('name', '=', name).executeTakeFirst();
    assert.equal(row?.name, name);
  }
  assert.deepEqual(
    prepared.map((text) => text.split(' ')[0]),
    ['begin', 'insert', 'commit', 'select'], // each write commits in a group (of one, here)
  );
  await db.destroy();
});

test('statement cache: bounded, the least recently used statement goes first', () => {
  const { raw, prepared } = counting();
  const adapter = adaptDatabaseSync(raw, 2);
  const run = (text: string) => adapter.prepare(text).all([]);
  run('select 1 as a');
  run('select 2 as b');
  run('select 1 as a'); // used again: now 'select 2' is the least recently used
  run('select 3 as c'); // evicts 'select 2'
  run('select 1 as a');
  run('select 2 as b');
  assert.deepEqual(prepared, ['select 1 as a', 'select 2 as b', 'select 3 as c', 'select 2 as b']);
});

test('statement cache: size 0 compiles every query; a bad size is refused by name', () => {
  const { raw, prepared } = counting();
  const adapter = adaptDatabaseSync(raw, 0);
  adapter.prepare('select 1 as a').all([]);
  adapter.prepare('select 1 as a').all([]);
  assert.equal(prepared.length, 2);
  assert.throws(() => adaptDatabaseSync(fresh(), -1), /statement cache size must be a whole number ≥ 0, got -1/);
});

test('statement cache: a statement that failed (unique violation) works for the next caller', async () => {
  const raw = fresh();
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(raw) });
  const insert = (id: number, name: string) => db.insertInto('people').values({ id, name, active: 1 }).execute();
  await insert(1, 'alice');
  await assert.rejects(insert(1, 'mallory'), /UNIQUE constraint failed/);
  await insert(2, 'bob');
  const rows = await db.selectFrom('people').select(['id', 'name']).orderBy('id').execute();
  assert.deepEqual(rows, [
    { id: 1, name: 'alice' },
    { id: 2, name: 'bob' },
  ]);
  await db.destroy();
});

test('statement cache: statements cached outside a transaction roll back inside one, and begin stays immediate', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-adapter-'));
  const path = join(dir, 'cache.db');
  const raw = new DatabaseSync(path);
  raw.exec('pragma journal_mode = wal; create table people (id integer primary key, name text, active integer)');
  const other = new DatabaseSync(path, { timeout: 0 });
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(raw) });
  const count = async (q: Kysely<Db>) =>
    (
      await q
        .selectFrom('people')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n;
  try {
    await db.insertInto('people').values({ name: 'alice', active: 1 }).execute();
    for (const attempt of ['first', 'second']) {
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('people').values({ name: 'eve', active: 1 }).execute();
          assert.equal(await count(trx), 2, `${attempt}: the transaction sees its own insert`);
          assert.throws(() => other.exec('insert into people (name, active) values (1, 1)'), /locked|busy/i);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.equal(await count(db), 1, `${attempt}: rolled back`);
    }
  } finally {
    other.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('statement cache: an iteration left half-way does not disturb the same query run meanwhile', () => {
  const raw = fresh();
  raw.exec("insert into people (name, active) values ('alice', 1), ('bob', 1), ('carol', 1)");
  const adapter = adaptDatabaseSync(raw);
  const text = 'select name from people order by id';
  const rows = adapter.prepare(text).iterate([]);
  assert.deepEqual(rows.next().value, { name: 'alice' });
  assert.deepEqual(adapter.prepare(text).all([]), [{ name: 'alice' }, { name: 'bob' }, { name: 'carol' }]);
  assert.deepEqual([...rows], [{ name: 'bob' }, { name: 'carol' }]);
});

test('statement cache: closing the database drops the cache; a query after close fails plainly', () => {
  const raw = fresh();
  const adapter = adaptDatabaseSync(raw);
  adapter.prepare('select 1 as a').all([]);
  adapter.close();
  assert.equal(raw.isOpen, false);
  assert.throws(() => adapter.prepare('select 1 as a'), /database is not open/);
});

/** A WAL database in a file, a second connection to it (as another process would have), and a group-committing Kysely. */
function onDisk(options: { timeout?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-group-'));
  const path = join(dir, 'group.db');
  const raw = new DatabaseSync(path);
  raw.exec(
    'pragma journal_mode = wal; create table people (id integer primary key, name text not null, active integer)',
  );
  const other = new DatabaseSync(path, { timeout: options.timeout ?? 0 });
  const commits: number[] = [];
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(raw, { onCommit: (n) => commits.push(n) }) });
  const names = () =>
    (other.prepare('select name from people order by id').all() as { name: string }[]).map((r) => r.name);
  const close = async () => {
    other.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  return { raw, other, db, commits, names, close };
}

test('group commit: writes issued together commit in one transaction, and each caller gets its own result', async () => {
  const { db, commits, names, close } = onDisk();
  try {
    await db.insertInto('people').values({ id: 1, name: 'alice', active: 0 }).execute();
    const inserts = ['bob', 'carol', 'dave'].map((name) =>
      db.insertInto('people').values({ name, active: 1 }).execute(),
    );
    const update = db.updateTable('people').set({ active: 1 }).where('id', '=', 1).executeTakeFirstOrThrow();
    const returning = db.insertInto('people').values({ name: 'erin', active: 1 }).returning('id').executeTakeFirst();
    const results = await Promise.all(inserts);
    assert.deepEqual(
      results.map(([r]) => r.insertId),
      [2n, 3n, 4n],
    );
    assert.equal((await update).numUpdatedRows, 1n);
    assert.deepEqual(await returning, { id: 5 });
    assert.deepEqual(commits, [1, 5], 'the lone first insert, then the five writes issued together');
    assert.deepEqual(names(), ['alice', 'bob', 'carol', 'dave', 'erin'], 'committed: another connection sees them');
  } finally {
    await close();
  }
});

test('group commit: a write that fails is refused to its caller alone; the rest of its group commits', async () => {
  const { db, commits, names, close } = onDisk();
  try {
    await db.insertInto('people').values({ id: 1, name: 'alice', active: 1 }).execute();
    const outcomes = await Promise.allSettled([
      db.insertInto('people').values({ id: 2, name: 'bob', active: 1 }).execute(),
      db.insertInto('people').values({ id: 1, name: 'mallory', active: 1 }).execute(),
      db.insertInto('people').values({ id: 3, name: 'carol', active: 1 }).execute(),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /UNIQUE constraint failed: people\.id/);
    assert.deepEqual(commits, [1, 2]);
    assert.deepEqual(names(), ['alice', 'bob', 'carol']);
  } finally {
    await close();
  }
});

test('group commit: an error that ends the transaction fails the writes of its group; later writes start a new one', async () => {
  const { db, raw, commits, names, close } = onDisk();
  try {
    await db.insertInto('people').values({ id: 1, name: 'alice', active: 1 }).execute();
    const outcomes = await Promise.allSettled([
      db.insertInto('people').values({ id: 2, name: 'bob', active: 1 }).execute(),
      // OR ROLLBACK: SQLite ends the whole transaction on this conflict, taking bob's insert with it.
      db.insertInto('people').orRollback().values({ id: 1, name: 'mallory', active: 1 }).execute(),
      db.insertInto('people').values({ id: 3, name: 'carol', active: 1 }).execute(),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected', 'fulfilled'],
    );
    const [bob, mallory] = outcomes.map((o) => String((o as PromiseRejectedResult).reason));
    assert.match(bob, /the write was not kept: its group commit failed \(UNIQUE constraint failed: people\.id\)/);
    assert.match(mallory, /^Error: UNIQUE constraint failed: people\.id/);
    assert.equal(raw.isTransaction, false);
    assert.deepEqual(commits, [1, 1], 'alice, then carol in a group of her own; the failed group is not reported');
    assert.deepEqual(names(), ['alice', 'carol']);
    await db.insertInto('people').values({ id: 2, name: 'bob', active: 1 }).execute();
    assert.deepEqual(names(), ['alice', 'bob', 'carol'], 'the connection works after the failed group');
  } finally {
    await close();
  }
});

test('group commit: a transaction commits the writes already waiting first; writes issued during it wait for its end', async () => {
  const { db, names, close } = onDisk();
  try {
    const order: string[] = [];
    const waiting = db
      .insertInto('people')
      .values({ name: 'alice', active: 1 })
      .execute()
      .then(() => order.push('alice'));
    let during: Promise<unknown> | undefined;
    await db.transaction().execute(async (trx) => {
      assert.deepEqual(names(), ['alice'], 'the waiting write committed before the transaction began');
      await trx.insertInto('people').values({ name: 'bob', active: 1 }).execute();
      during = db
        .insertInto('people')
        .values({ name: 'carol', active: 1 })
        .execute()
        .then(() => order.push('carol'));
      await new Promise((resolve) => setImmediate(resolve)); // a turn of the event loop: carol must still wait
      const seen = await trx.selectFrom('people').select('name').orderBy('id').execute();
      assert.deepEqual(
        seen.map((r) => r.name),
        ['alice', 'bob'],
      );
      order.push('transaction');
    });
    await Promise.all([waiting, during]);
    assert.deepEqual(order, ['alice', 'transaction', 'carol']);
    assert.deepEqual(names(), ['alice', 'bob', 'carol']);
  } finally {
    await close();
  }
});

test('group commit: a rolled-back transaction does not take the writes of others with it', async () => {
  const { db, names, close } = onDisk();
  try {
    let outside: Promise<unknown> | undefined;
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('people').values({ name: 'eve', active: 1 }).execute();
        outside = db.insertInto('people').values({ name: 'alice', active: 1 }).execute();
        throw new Error('roll back');
      }),
      /roll back/,
    );
    await outside;
    assert.deepEqual(names(), ['alice']);
  } finally {
    await close();
  }
});

test('group commit: closing the store commits what is waiting first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-group-'));
  const path = join(dir, 'close.db');
  const raw = new DatabaseSync(path);
  raw.exec(
    'pragma journal_mode = wal; create table people (id integer primary key, name text not null, active integer)',
  );
  const db = new Kysely<Db>({ dialect: nodeSqliteDialect(raw) });
  try {
    await db.selectFrom('people').selectAll().execute(); // the driver is up
    const write = db.insertInto('people').values({ name: 'alice', active: 1 }).execute();
    await db.destroy();
    await write;
    const again = new DatabaseSync(path);
    assert.deepEqual(
      again
        .prepare('select name from people')
        .all()
        .map((row) => row.name),
      ['alice'],
    );
    again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('group commit: statements run in the order they are issued, so a read sees every write issued before it', async () => {
  // oidc-provider's one-time codes: find the row, see it unused, consume it — with no transaction. Two requests
  // doing this at once must not both see it unused (the second must see the first's consume, not yet committed).
  const { db, names, close } = onDisk();
  try {
    await db.insertInto('people').values({ id: 1, name: 'code', active: 1 }).execute();
    const redeem = async () => {
      const row = await db.selectFrom('people').select('active').where('id', '=', 1).executeTakeFirstOrThrow();
      if (row.active !== 1) return 'refused';
      await db.updateTable('people').set({ active: 0 }).where('id', '=', 1).execute();
      return 'redeemed';
    };
    // Each request starts in an I/O callback of its own, as two HTTP requests do.
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => new Promise<string>((resolve) => setImmediate(() => resolve(redeem())))),
    );
    assert.deepEqual(outcomes.sort(), ['redeemed', ...Array(7).fill('refused')]);
    assert.deepEqual(names(), ['code']);
  } finally {
    await close();
  }
});
