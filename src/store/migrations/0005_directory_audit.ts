// The directory audit log (issue 6): one row per admin change, as Graph's `directoryAudit` JSON plus the columns the
// admin API filters on, hash-chained per tenant (src/audit/directory-audit.ts, docs/audit.md). The chain head — the
// last sequence number and hash of each tenant — is its own row, upserted at the start of every append, so appends of
// one tenant are serialised by that row's lock on PostgreSQL (and by SQLite's single writer) and cannot fork.
// Conventions as in 0001_initial.ts (text ids, bigint epoch ms, JSON as text, tenant_id first in every key).
// Types: src/audit/directory-audit-schema.ts.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and do not use the current Database types
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('directory_audits')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    // 1, 2, 3, … per tenant, without gaps: a gap is a removed record.
    .addColumn('sequence', 'bigint', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('activity_at', 'bigint', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('activity_display_name', 'text', (c) => c.notNull())
    .addColumn('operation_type', 'text', (c) => c.notNull())
    .addColumn('correlation_id', 'text')
    // The initiating user's id or application's appId; null for Portcullis itself.
    .addColumn('initiated_by', 'text')
    // Lower-case hex SHA-256: the previous record's hash (64 zeros for the first), and this record's.
    .addColumn('previous_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    // The Graph directoryAudit as canonical JSON (sorted keys); the hash covers exactly this text.
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('directory_audits_pk', ['tenant_id', 'sequence'])
    .addForeignKeyConstraint('directory_audits_tenant_fk', ['tenant_id'], 'tenants', ['id'], (c) =>
      c.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('directory_audits_id_uq')
    .on('directory_audits')
    .columns(['tenant_id', 'id'])
    .unique()
    .execute();
  // The admin API lists newest first, keyset-paged on (activity_at, id).
  await db.schema
    .createIndex('directory_audits_activity_ix')
    .on('directory_audits')
    .columns(['tenant_id', 'activity_at', 'id'])
    .execute();

  await db.schema
    .createTable('directory_audit_heads')
    .addColumn('tenant_id', 'text', (c) => c.notNull().primaryKey())
    .addColumn('sequence', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('modified_at', 'bigint', (c) => c.notNull())
    .addForeignKeyConstraint('directory_audit_heads_tenant_fk', ['tenant_id'], 'tenants', ['id'], (c) =>
      c.onDelete('cascade'),
    )
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('directory_audit_heads').execute();
  await db.schema.dropTable('directory_audits').execute();
}
