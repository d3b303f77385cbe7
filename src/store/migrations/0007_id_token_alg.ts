// Each application's ID-token signature algorithm, OpenID Connect's `id_token_signed_response_alg` client metadata
// (src/directory/applications.ts, docs/oidc.md). Null is RS256, the default that OpenID Connect gives clients which
// register none, so every application that exists keeps the tokens it had. Any other value is refused by the database
// too (a column constraint: ALTER TABLE cannot add a named table constraint on SQLite).
// Conventions as in 0001_initial.ts.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and do not use the current Database types
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable('applications')
    .addColumn('id_token_signed_response_alg', 'text', (c) =>
      c.check(sql`id_token_signed_response_alg in ('RS256', 'ES256')`),
    )
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('applications').dropColumn('id_token_signed_response_alg').execute();
}
