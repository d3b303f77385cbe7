// The ordered list of migrations, given to Kysely's Migrator directly (no filesystem globbing, so bundling or a
// missing file cannot silently skip one). Add a migration: create NNNN_name.ts and list it here.
import type { Migration, MigrationProvider } from 'kysely/migration';
import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_sign_in_state.ts';
import * as m0003 from './0003_sessions.ts';
import * as m0004 from './0004_gateway.ts';
import * as m0005 from './0005_directory_audit.ts';
import * as m0006 from './0006_index_tuning.ts';
import * as m0007 from './0007_id_token_alg.ts';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': m0001,
  '0002_sign_in_state': m0002,
  '0003_sessions': m0003,
  '0004_gateway': m0004,
  '0005_directory_audit': m0005,
  '0006_index_tuning': m0006,
  '0007_id_token_alg': m0007,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
