// The first schema: tenants and everything the identity provider keeps per tenant. Portable SQL through Kysely's
// schema builder, identical on SQLite and PostgreSQL. Conventions, used in every later migration too:
// - ids are text (UUIDs, or ids an import brings), times are `bigint` epoch milliseconds, JSON is text,
//   booleans are integers 0/1 with a check constraint;
// - every row carries `tenant_id` (a foreign key to tenants, cascading on delete) and every primary key and unique
//   index begins with it; references between tables are composite (tenant_id, id), so a row can never point into
//   another tenant.
import { type Kysely, sql } from 'kysely';

// Migrations are frozen in time, so they do not use the current `Database` types (Kysely's advice).
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyDb = Kysely<any>;

function tenantTable(db: AnyDb, name: string) {
  return db.schema
    .createTable(name)
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addForeignKeyConstraint(`${name}_tenant_fk`, ['tenant_id'], 'tenants', ['id'], (c) => c.onDelete('cascade'));
}

/** A credential table: its rows go with their user. */
function credentialTable(db: AnyDb, name: string) {
  return tenantTable(db, name)
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addForeignKeyConstraint(`${name}_user_fk`, ['tenant_id', 'user_id'], 'users', ['tenant_id', 'id'], (c) =>
      c.onDelete('cascade'),
    );
}

function flag(column: string) {
  return sql`${sql.ref(column)} in (0, 1)`;
}

async function index(db: AnyDb, name: string, table: string, columns: string[], unique = false): Promise<void> {
  const builder = db.schema.createIndex(name).on(table).columns(columns);
  await (unique ? builder.unique() : builder).execute();
}

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('modified_at', 'bigint', (c) => c.notNull())
    .execute();
  await index(db, 'tenants_name_uq', 'tenants', ['name'], true);

  await tenantTable(db, 'data_keys')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('data_keys_pk', ['tenant_id', 'version'])
    .addCheckConstraint('data_keys_version_ck', sql`version >= 1`)
    .execute();

  await tenantTable(db, 'users')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('user_principal_name', 'text', (c) => c.notNull())
    .addColumn('upn_key', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('mail', 'text')
    .addColumn('user_type', 'text', (c) => c.notNull())
    .addColumn('account_enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('modified_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('users_pk', ['tenant_id', 'id'])
    .addCheckConstraint('users_user_type_ck', sql`user_type in ('member', 'guest')`)
    .addCheckConstraint('users_account_enabled_ck', flag('account_enabled'))
    .execute();
  await index(db, 'users_upn_uq', 'users', ['tenant_id', 'upn_key'], true);

  await tenantTable(db, 'groups')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('mail_nickname', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('modified_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('groups_pk', ['tenant_id', 'id'])
    .execute();

  // A member is a user or a group (nested groups). One column cannot reference two tables, so the member side has
  // no foreign key: the directory removes a user's or group's memberships in the same transaction that deletes it.
  await tenantTable(db, 'group_members')
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('member_type', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['tenant_id', 'group_id', 'member_type', 'member_id'])
    .addForeignKeyConstraint('group_members_group_fk', ['tenant_id', 'group_id'], 'groups', ['tenant_id', 'id'], (c) =>
      c.onDelete('cascade'),
    )
    .addCheckConstraint('group_members_member_type_ck', sql`member_type in ('user', 'group')`)
    .execute();
  await index(db, 'group_members_member_ix', 'group_members', ['tenant_id', 'member_type', 'member_id']);

  await tenantTable(db, 'role_assignments')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('role_definition_id', 'text', (c) => c.notNull())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('role_assignments_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint(
      'role_assignments_principal_fk',
      ['tenant_id', 'principal_id'],
      'users',
      ['tenant_id', 'id'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
  await index(db, 'role_assignments_uq', 'role_assignments', ['tenant_id', 'principal_id', 'role_definition_id'], true);
  await index(db, 'role_assignments_role_ix', 'role_assignments', ['tenant_id', 'role_definition_id']);

  await tenantTable(db, 'applications')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('client_type', 'text', (c) => c.notNull())
    .addColumn('redirect_uris', 'text', (c) => c.notNull())
    .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull())
    .addColumn('grant_types', 'text', (c) => c.notNull())
    .addColumn('client_secrets', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('modified_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('applications_pk', ['tenant_id', 'id'])
    .addCheckConstraint('applications_client_type_ck', sql`client_type in ('public', 'confidential')`)
    .execute();
  await index(db, 'applications_app_id_uq', 'applications', ['tenant_id', 'app_id'], true);

  await credentialTable(db, 'password_credentials')
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('modified_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('password_credentials_pk', ['tenant_id', 'user_id'])
    .execute();

  await credentialTable(db, 'totp_credentials')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('secret_ciphertext', 'text', (c) => c.notNull())
    .addColumn('confirmed', 'integer', (c) => c.notNull())
    .addColumn('last_used_step', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('confirmed_at', 'bigint')
    .addPrimaryKeyConstraint('totp_credentials_pk', ['tenant_id', 'id'])
    .addCheckConstraint('totp_credentials_confirmed_ck', flag('confirmed'))
    .execute();
  await index(db, 'totp_credentials_user_ix', 'totp_credentials', ['tenant_id', 'user_id']);

  await credentialTable(db, 'recovery_codes')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('recovery_codes_pk', ['tenant_id', 'id'])
    .execute();
  await index(db, 'recovery_codes_user_ix', 'recovery_codes', ['tenant_id', 'user_id']);

  await credentialTable(db, 'webauthn_credentials')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .addColumn('transports', 'text', (c) => c.notNull())
    .addColumn('device_type', 'text')
    .addColumn('backed_up', 'integer', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addPrimaryKeyConstraint('webauthn_credentials_pk', ['tenant_id', 'id'])
    .addCheckConstraint('webauthn_credentials_backed_up_ck', flag('backed_up'))
    .execute();
  await index(db, 'webauthn_credentials_user_ix', 'webauthn_credentials', ['tenant_id', 'user_id']);

  await tenantTable(db, 'lockouts')
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .addColumn('last_failure_at', 'bigint')
    .addPrimaryKeyConstraint('lockouts_pk', ['tenant_id', 'subject_type', 'subject'])
    .addCheckConstraint('lockouts_subject_type_ck', sql`subject_type in ('user', 'ip')`)
    .execute();

  await tenantTable(db, 'oidc_payloads')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('uid', 'text')
    .addColumn('user_code', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('consumed_at', 'bigint')
    .addPrimaryKeyConstraint('oidc_payloads_pk', ['tenant_id', 'model', 'id'])
    .execute();
  await index(db, 'oidc_payloads_grant_ix', 'oidc_payloads', ['tenant_id', 'grant_id']);
  await index(db, 'oidc_payloads_uid_ix', 'oidc_payloads', ['tenant_id', 'model', 'uid']);
  await index(db, 'oidc_payloads_user_code_ix', 'oidc_payloads', ['tenant_id', 'model', 'user_code']);
  await index(db, 'oidc_payloads_expires_ix', 'oidc_payloads', ['tenant_id', 'expires_at']);

  await tenantTable(db, 'signing_keys')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('jwk_ciphertext', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addPrimaryKeyConstraint('signing_keys_pk', ['tenant_id', 'id'])
    .execute();

  for (const table of ['named_locations', 'ca_policies']) {
    await tenantTable(db, table)
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('modified_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['tenant_id', 'id'])
      .execute();
  }

  await tenantTable(db, 'sign_in_logs')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('app_id', 'text')
    .addColumn('status_error_code', 'integer', (c) => c.notNull())
    .addColumn('correlation_id', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sign_in_logs_pk', ['tenant_id', 'id'])
    .execute();
  await index(db, 'sign_in_logs_created_ix', 'sign_in_logs', ['tenant_id', 'created_at']);
  await index(db, 'sign_in_logs_user_ix', 'sign_in_logs', ['tenant_id', 'user_id', 'created_at']);
  await index(db, 'sign_in_logs_app_ix', 'sign_in_logs', ['tenant_id', 'app_id', 'created_at']);
  await index(db, 'sign_in_logs_status_ix', 'sign_in_logs', ['tenant_id', 'status_error_code', 'created_at']);
  await index(db, 'sign_in_logs_correlation_ix', 'sign_in_logs', ['tenant_id', 'correlation_id']);
}

export async function down(db: AnyDb): Promise<void> {
  const tables = [
    'sign_in_logs',
    'ca_policies',
    'named_locations',
    'signing_keys',
    'oidc_payloads',
    'lockouts',
    'webauthn_credentials',
    'recovery_codes',
    'totp_credentials',
    'password_credentials',
    'applications',
    'role_assignments',
    'group_members',
    'groups',
    'users',
    'data_keys',
    'tenants',
  ];
  for (const table of tables) await db.schema.dropTable(table).execute();
}
