// What the store-backed auth ports, the sign-in log and the policy repository need beyond 0001: passkey fields the
// port carries, server-side WebAuthn challenges, lockout state as JSON under a key, tenant settings, policy versions.
// Conventions as in 0001_initial.ts (text ids, bigint epoch ms, JSON as text, tenant_id first in every key).
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
  // The passkey fields of WebAuthnCredentialRecord that 0001 lacks. No rows exist before this migration, so the
  // defaults only satisfy ALTER TABLE … NOT NULL on SQLite; the repository always writes real values.
  await db.schema
    .alterTable('webauthn_credentials')
    .addColumn('user_handle', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .alterTable('webauthn_credentials')
    .addColumn('aaguid', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.alterTable('webauthn_credentials').addColumn('disabled_at', 'bigint').execute();

  // TotpCredentialPort keeps one secret per user: the schema says so too.
  await db.schema
    .createIndex('totp_credentials_user_uq')
    .on('totp_credentials')
    .columns(['tenant_id', 'user_id'])
    .unique()
    .execute();

  // auth/recovery-codes.ts numbers each user's codes 1..10, so a code is known by (user, id), not by id alone as 0001
  // keyed it: rebuild the table with the key (tenant_id, user_id, id), keeping any rows.
  await tenantTable(db, 'recovery_codes_by_user')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('recovery_codes_by_user_pk', ['tenant_id', 'user_id', 'id'])
    .addForeignKeyConstraint(
      'recovery_codes_by_user_user_fk',
      ['tenant_id', 'user_id'],
      'users',
      ['tenant_id', 'id'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
  await sql`insert into recovery_codes_by_user (tenant_id, user_id, id, code_hash, created_at, used_at)
    select tenant_id, user_id, id, code_hash, created_at, used_at from recovery_codes`.execute(db);
  await db.schema.dropTable('recovery_codes').execute();
  await db.schema.alterTable('recovery_codes_by_user').renameTo('recovery_codes').execute();

  // WebAuthnChallengePort: a challenge between the options and the browser's answer, taken (deleted) once.
  await tenantTable(db, 'webauthn_challenges')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('challenge', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('webauthn_challenges_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint(
      'webauthn_challenges_user_fk',
      ['tenant_id', 'user_id'],
      'users',
      ['tenant_id', 'id'],
      (c) => c.onDelete('cascade'),
    )
    .addCheckConstraint('webauthn_challenges_purpose_ck', sql`purpose in ('registration', 'authentication')`)
    .execute();
  await db.schema
    .createIndex('webauthn_challenges_expires_ix')
    .on('webauthn_challenges')
    .columns(['tenant_id', 'expires_at'])
    .execute();

  // LockoutStatePort: lockout.ts's state as JSON under its key (`account:…`, `ip:…`, `mfa:…`). A null value is the
  // placeholder a first update inserts so that there is a row to lock (see auth/store/lockout-state.ts).
  await tenantTable(db, 'lockout_states')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('lockout_states_pk', ['tenant_id', 'key'])
    .execute();
  await db.schema
    .createIndex('lockout_states_expires_ix')
    .on('lockout_states')
    .columns(['tenant_id', 'expires_at'])
    .execute();

  // Per-tenant settings as JSON under a key (MFA trusted IPs, the lockout tag key, …).
  await tenantTable(db, 'tenant_settings')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('modified_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('tenant_settings_pk', ['tenant_id', 'key'])
    .execute();

  // One counter per tenant, bumped in the same transaction as every change to its named locations, policies or MFA
  // trusted IPs, so compiled-policy caches can tell they are stale with one primary-key read.
  await tenantTable(db, 'policy_versions')
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('modified_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_versions_pk', ['tenant_id'])
    .addCheckConstraint('policy_versions_version_ck', sql`version >= 1`)
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const table of ['policy_versions', 'tenant_settings', 'lockout_states', 'webauthn_challenges']) {
    await db.schema.dropTable(table).execute();
  }
  await db.schema.dropIndex('totp_credentials_user_uq').execute();
  // Back to 0001's key; codes of users whose ids collide under it cannot all be kept, so the table starts empty.
  await db.schema.dropTable('recovery_codes').execute();
  await tenantTable(db, 'recovery_codes')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addForeignKeyConstraint('recovery_codes_user_fk', ['tenant_id', 'user_id'], 'users', ['tenant_id', 'id'], (c) =>
      c.onDelete('cascade'),
    )
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('recovery_codes_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('recovery_codes_user_ix')
    .on('recovery_codes')
    .columns(['tenant_id', 'user_id'])
    .execute();
  for (const column of ['disabled_at', 'aaguid', 'user_handle']) {
    await db.schema.alterTable('webauthn_credentials').dropColumn(column).execute();
  }
}
