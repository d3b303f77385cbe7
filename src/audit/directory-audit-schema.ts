// Kysely's view of the tables migration 0005 adds (the directory audit log and its per-tenant chain head), merged into
// the `Database` interface of store/database.ts (declaration merging, as gateway/schema.ts does for 0004).
import type { EpochMs } from '../store/database.ts';

declare module '../store/database.ts' {
  interface Database {
    directory_audits: DirectoryAuditsTable;
    directory_audit_heads: DirectoryAuditHeadsTable;
  }
}

export interface DirectoryAuditsTable {
  tenant_id: string;
  /** 1, 2, 3, … per tenant, without gaps. */
  sequence: number;
  id: string;
  activity_at: EpochMs;
  category: string;
  activity_display_name: string;
  operation_type: string;
  correlation_id: string | null;
  /** The initiating user's id or application's appId; null for Portcullis itself. */
  initiated_by: string | null;
  /** Hex SHA-256 of the previous record (GENESIS_HASH for the first). */
  previous_hash: string;
  /** Hex SHA-256 over the tenant, sequence, previous hash and body (directory-audit-chain.ts). */
  hash: string;
  /** The Graph directoryAudit as canonical JSON. */
  body: string;
}

export interface DirectoryAuditHeadsTable {
  tenant_id: string;
  /** The last record's sequence number. */
  sequence: number;
  /** The last record's hash. */
  hash: string;
  modified_at: EpochMs;
}
