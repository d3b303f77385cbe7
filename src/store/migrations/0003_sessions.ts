// Browser sessions (issue 4): one row per signed-in browser, keyed by the SHA-256 of its session id, and the OpenID
// Connect sessions and grants each covers. Conventions as in 0001_initial.ts (text ids, bigint epoch ms, JSON as text,
// 0/1 flags, tenant_id first in every key, composite references within the tenant). Types: src/session/schema.ts.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and do not use the current Database types
type AnyDb = Kysely<any>;

function tenantTable(db: AnyDb, name: string) {
  return db.schema
    .createTable(name)
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addForeignKeyConstraint(`${name}_tenant_fk`, ['tenant_id'], 'tenants', ['id'], (c) => c.onDelete('cascade'));
}

export async function up(db: AnyDb): Promise<void> {
  // A user's sessions go with the user.
  await tenantTable(db, 'sessions')
    .addColumn('id_hash', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('amr', 'text', (c) => c.notNull())
    .addColumn('mfa_at', 'bigint')
    .addColumn('last_activity_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('binding_hash', 'text', (c) => c.notNull())
    .addColumn('persistent', 'integer', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('end_reason', 'text')
    .addPrimaryKeyConstraint('sessions_pk', ['tenant_id', 'id_hash'])
    .addForeignKeyConstraint('sessions_user_fk', ['tenant_id', 'user_id'], 'users', ['tenant_id', 'id'], (c) =>
      c.onDelete('cascade'),
    )
    .addCheckConstraint('sessions_persistent_ck', sql`persistent in (0, 1)`)
    .addCheckConstraint('sessions_end_reason_ck', sql`end_reason is null or end_reason in ('revoked', 'inactivity')`)
    .addCheckConstraint('sessions_ended_ck', sql`(ended_at is null) = (end_reason is null)`)
    .execute();
  await db.schema.createIndex('sessions_user_ix').on('sessions').columns(['tenant_id', 'user_id']).execute();
  await db.schema.createIndex('sessions_expires_ix').on('sessions').columns(['tenant_id', 'expires_at']).execute();

  await tenantTable(db, 'session_links')
    .addColumn('session_hash', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('oidc_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('session_links_pk', ['tenant_id', 'session_hash', 'kind', 'oidc_id'])
    .addForeignKeyConstraint(
      'session_links_session_fk',
      ['tenant_id', 'session_hash'],
      'sessions',
      ['tenant_id', 'id_hash'],
      (c) => c.onDelete('cascade'),
    )
    .addCheckConstraint('session_links_kind_ck', sql`kind in ('oidcSession', 'grant')`)
    .execute();
  // Which session covers a grant (a refresh-token use asks whether its session still lives).
  await db.schema
    .createIndex('session_links_oidc_ix')
    .on('session_links')
    .columns(['tenant_id', 'kind', 'oidc_id'])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('session_links').execute();
  await db.schema.dropTable('sessions').execute();
}
