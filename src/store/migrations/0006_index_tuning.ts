// Indexes for the token endpoint's hot statements (issue 3; docs/benchmarks.md has the measurements).
// - Two lookups scanned every row of the tenant on SQLite: the groups a user or group is in (every sign-in, refresh and
//   forward-auth check) and the session covering an OIDC grant (every refresh). Both tables' primary keys hold every
//   column those queries read, and SQLite, without statistics, takes a covering index with one equality (`tenant_id`)
//   over a non-covering one with three. Their lookup indexes now hold the column read as well, so they cover the
//   query and win on their equalities: a search of one member's or one grant's rows, whatever the tenant's size.
// - Only oidc-provider's sessions have a `uid` and only device codes a `user_code`, so those two oidc_payloads indexes
//   become partial (`where … is not null`): the refresh and access tokens written at every refresh no longer add an
//   entry to either (six B-tree updates per token row become four), and a lookup by `uid = ?` or `user_code = ?`,
//   which implies not null, still uses them.
// Conventions as in 0001_initial.ts.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and do not use the current Database types
type AnyDb = Kysely<any>;

const PARTIAL = [
  { name: 'oidc_payloads_uid_ix', column: 'uid' },
  { name: 'oidc_payloads_user_code_ix', column: 'user_code' },
] as const;

const COVERING = [
  {
    name: 'group_members_member_ix',
    table: 'group_members',
    columns: ['tenant_id', 'member_type', 'member_id'],
    read: 'group_id',
  },
  {
    name: 'session_links_oidc_ix',
    table: 'session_links',
    columns: ['tenant_id', 'kind', 'oidc_id'],
    read: 'session_hash',
  },
] as const;

export async function up(db: AnyDb): Promise<void> {
  for (const { name, column } of PARTIAL) {
    await db.schema.dropIndex(name).execute();
    await db.schema
      .createIndex(name)
      .on('oidc_payloads')
      .columns(['tenant_id', 'model', column])
      .where(column, 'is not', null)
      .execute();
  }
  for (const { name, table, columns, read } of COVERING) {
    await db.schema.dropIndex(name).execute();
    await db.schema
      .createIndex(name)
      .on(table)
      .columns([...columns, read])
      .execute();
  }
}

export async function down(db: AnyDb): Promise<void> {
  for (const { name, column } of PARTIAL) {
    await db.schema.dropIndex(name).execute();
    await db.schema.createIndex(name).on('oidc_payloads').columns(['tenant_id', 'model', column]).execute();
  }
  for (const { name, table, columns } of COVERING) {
    await db.schema.dropIndex(name).execute();
    await db.schema
      .createIndex(name)
      .on(table)
      .columns([...columns])
      .execute();
  }
}
