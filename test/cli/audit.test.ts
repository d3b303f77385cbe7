// `portcullis audit verify` and `audit export`, run as a user runs them (bin/portcullis.js in a child process) on a
// data directory `portcullis init` wrote — on SQLite and on PostgreSQL — and then on copies whose directory audit
// log was tampered with directly in the database: a changed record, a removed one, two swapped, one added behind
// the chain head's back. Each is found and named.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import pg from 'pg';
import { storesUnderTest } from '../support/stores.ts';

const root = new URL('../../', import.meta.url).pathname;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-cli-'));
  dirs.push(dir);
  return dir;
}

function portcullis(args: string[], env: Record<string, string> = {}, input = '') {
  const result = spawnSync(process.execPath, [join(root, 'bin/portcullis.js'), ...args], {
    encoding: 'utf8',
    cwd: root,
    input,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const INIT_ACTIVITIES = [
  'Add user',
  'Reset user password',
  'Add member to role',
  'Add application',
  'Add member to role',
];

function initialise(dataDir: string, env: Record<string, string> = {}): void {
  const init = portcullis(['init', '--data-dir', dataDir, '--json'], env, 'correct horse battery staple 42\n');
  assert.equal(init.code, 0, init.stderr);
}

/** A copy of an initialised SQLite data directory's database, to tamper with. */
function copyOf(dataDir: string): { dir: string; db: DatabaseSync } {
  const dir = scratch();
  copyFileSync(join(dataDir, 'portcullis.db'), join(dir, 'portcullis.db'));
  assert.ok(!existsSync(join(dataDir, 'portcullis.db-wal')) || statSync(join(dataDir, 'portcullis.db-wal')).size === 0);
  return { dir, db: new DatabaseSync(join(dir, 'portcullis.db')) };
}

let sqliteDir: string | undefined;
function initialisedSqlite(): string {
  if (!sqliteDir) {
    sqliteDir = scratch();
    initialise(sqliteDir);
  }
  return sqliteDir;
}

test('sqlite: init is audited; verify says intact with the count and head; export writes JSON lines', () => {
  const dataDir = initialisedSqlite();
  const verify = portcullis(['audit', 'verify', '--data-dir', dataDir]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /^tenant 'default' \([0-9a-f-]{36}\): intact, 5 records, head #5 sha256:[0-9a-f]{64}\n$/);

  const json = portcullis(['audit', 'verify', '--data-dir', dataDir, '--tenant', 'default', '--json']);
  assert.equal(json.code, 0);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.ok, true);
  assert.equal(parsed.tenants[0].count, 5);

  const exported = portcullis(['audit', 'export', '--data-dir', dataDir]);
  assert.equal(exported.code, 0, exported.stderr);
  const lines = exported.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((a) => a.activityDisplayName),
    INIT_ACTIVITIES,
  );
  for (const audit of lines) {
    assert.deepEqual(audit.initiatedBy.app.displayName, 'portcullis init');
    assert.equal(audit.result, 'success');
    assert.ok(!JSON.stringify(audit).includes('argon2'), 'no password hash in the log');
  }
  assert.equal(lines[2].targetResources[1].type, 'Role');
  assert.match(exported.stderr, /exported 5 records of tenant 'default'/);

  const out = join(scratch(), 'audit.jsonl');
  const toFile = portcullis(['audit', 'export', '--data-dir', dataDir, '--out', out]);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(readFileSync(out, 'utf8'), exported.stdout);
  assert.equal(statSync(out).mode & 0o777, 0o600);

  const future = portcullis(['audit', 'export', '--data-dir', dataDir, '--since', '2999-01-01T00:00:00Z']);
  assert.equal(future.code, 0);
  assert.equal(future.stdout, '');
  const since = portcullis(['audit', 'export', '--data-dir', dataDir, '--since', lines[0].activityDateTime]);
  assert.equal(since.stdout.trimEnd().split('\n').length, 5);
});

interface Tampering {
  readonly name: string;
  readonly sql: string;
  readonly message: RegExp;
}

const TAMPERINGS: Tampering[] = [
  {
    name: "record 3's JSON changed",
    sql: `update directory_audits set body = replace(body, 'Global Administrator', 'Reports Reader') where sequence = 3`,
    message: /record #3 \(id [0-9a-f-]{36}\) was changed/,
  },
  {
    name: "record 2's activity column changed",
    sql: `update directory_audits set activity_display_name = 'Nothing to see' where sequence = 2`,
    message: /record #2 \(id [0-9a-f-]{36}\) was changed: its activityDisplayName column/,
  },
  {
    name: 'record 2 deleted',
    sql: 'delete from directory_audits where sequence = 2',
    message: /record #2 was removed \(the chain goes on at record #3/,
  },
  {
    name: 'the last record deleted',
    sql: 'delete from directory_audits where sequence = 5',
    message: /record #5, the last one, was removed/,
  },
  {
    name: 'records 2 and 3 swapped',
    sql:
      'update directory_audits set sequence = -2 where sequence = 2; ' +
      'update directory_audits set sequence = 2 where sequence = 3; ' +
      'update directory_audits set sequence = 3 where sequence = -2',
    message: /record #2 \(id [0-9a-f-]{36}\) was changed \(or renumbered\)/,
  },
  {
    name: 'a record added after the head',
    sql:
      "insert into directory_audits select tenant_id, 6, 'forged-0000', activity_at, category, activity_display_name, " +
      'operation_type, correlation_id, initiated_by, hash, hash, body from directory_audits where sequence = 5',
    message: /record #6 \(id forged-0000\) was added after the last record the chain head knows \(#5\)/,
  },
];

for (const tampering of TAMPERINGS) {
  test(`sqlite: verify finds it: ${tampering.name}`, () => {
    const { dir, db } = copyOf(initialisedSqlite());
    db.exec(tampering.sql);
    db.close();
    const verify = portcullis(['audit', 'verify', '--data-dir', dir]);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(verify.stderr, /tenant 'default' \([0-9a-f-]{36}\): BROKEN: /);
    assert.match(verify.stderr, tampering.message);
    assert.match(verify.stderr, /1 of 1 audit chains are broken/);
  });
}

test('usage and missing data: exit 2 naming the flag, exit 1 naming the problem, nothing created', () => {
  const cases: [string[], number, RegExp][] = [
    [['audit'], 2, /Usage: portcullis audit/],
    [['audit', 'check'], 2, /unknown subcommand 'check'/],
    [['audit', 'verify', '--since', '2026-01-01'], 2, /Unknown option '--since'/],
    [['audit', 'export', '--since', 'yesterday', '--data-dir', initialisedSqlite()], 2, /--since must be an ISO 8601/],
    [
      ['audit', 'export', '--tenant', 'fabrikam', '--data-dir', initialisedSqlite()],
      1,
      /no tenant 'fabrikam' \(tenants: default\)/,
    ],
  ];
  for (const [args, code, message] of cases) {
    const result = portcullis(args);
    assert.equal(result.code, code, args.join(' '));
    assert.match(`${result.stdout}${result.stderr}`, message, args.join(' '));
  }
  const empty = join(scratch(), 'nothing-here');
  const missing = portcullis(['audit', 'verify', '--data-dir', empty]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /there is no Portcullis database at .*nothing-here/);
  assert.equal(existsSync(empty), false, 'verify created nothing');
});

test('postgres: init is audited, verify passes, and a changed or deleted record is named', async () => {
  const postgres = storesUnderTest().find((s) => s.name === 'postgres');
  assert.ok(postgres);
  const env = await postgres.emptyDatabaseEnv();
  const dataDir = scratch();
  initialise(dataDir, env);
  const ok = portcullis(['audit', 'verify', '--data-dir', dataDir], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /intact, 5 records, head #5/);

  const client = new pg.Client({ connectionString: env.PORTCULLIS_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(
      `update directory_audits set body = replace(body, '"Add user"', '"Add guest"') where sequence = 1`,
    );
    const changed = portcullis(['audit', 'verify', '--data-dir', dataDir], env);
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /record #1 \(id [0-9a-f-]{36}\) was changed/);
    await client.query(
      `update directory_audits set body = replace(body, '"Add guest"', '"Add user"') where sequence = 1`,
    );
    assert.equal(portcullis(['audit', 'verify', '--data-dir', dataDir], env).code, 0, 'restored');

    await client.query('delete from directory_audits where sequence = 4');
    const removed = portcullis(['audit', 'verify', '--data-dir', dataDir], env);
    assert.equal(removed.code, 1);
    assert.match(removed.stderr, /record #4 was removed/);
    const exported = portcullis(['audit', 'export', '--data-dir', dataDir], env);
    assert.equal(exported.code, 0);
    assert.equal(exported.stdout.trimEnd().split('\n').length, 4);
  } finally {
    await client.end();
  }
});
