// Forward-auth applications (issue 5): the hosts and path prefixes a directory application claims at the gateway.
// One row per application; its appId must name an application of the same tenant, and the row goes with it.
// Conventions as in 0001_initial.ts (text ids, bigint epoch ms, JSON as text, tenant_id first in every key).
// Types: src/gateway/schema.ts.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and do not use the current Database types
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('gateway_applications')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('hosts', 'text', (c) => c.notNull())
    .addColumn('paths', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('modified_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('gateway_applications_pk', ['tenant_id', 'app_id'])
    .addForeignKeyConstraint('gateway_applications_tenant_fk', ['tenant_id'], 'tenants', ['id'], (c) =>
      c.onDelete('cascade'),
    )
    // applications_app_id_uq (0001) is a unique index on (tenant_id, app_id): deleting the application deletes this.
    .addForeignKeyConstraint(
      'gateway_applications_app_fk',
      ['tenant_id', 'app_id'],
      'applications',
      ['tenant_id', 'app_id'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('gateway_applications').execute();
}
