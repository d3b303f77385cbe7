// Kysely's view of the table migration 0004 adds (forward-auth applications), merged into the `Database` interface of
// store/database.ts (declaration merging, as session/schema.ts does for 0003).
import type { EpochMs } from '../store/database.ts';

declare module '../store/database.ts' {
  interface Database {
    gateway_applications: GatewayApplicationsTable;
  }
}

export interface GatewayApplicationsTable {
  tenant_id: string;
  /** The directory application's appId (client_id). */
  app_id: string;
  /** JSON array of host patterns as written (`wiki.example.com`, `*.example.com`), normalised. */
  hosts: string;
  /** JSON array of normalised path prefixes (`/`, `/admin`). */
  paths: string;
  created_at: EpochMs;
  modified_at: EpochMs;
}
