// The directory audit log: every admin change as Graph's `directoryAudit` (who, when, what, old and new values),
// append-only and hash-chained per tenant (directory-audit-chain.ts). `DirectoryAuditLog.record` appends in the
// caller's transaction, so a change and its record are written together or not at all; `DirectoryAuditRepository`
// reads them back (the admin API, `portcullis audit verify` and `export`). There is no update or delete.
import { sql } from 'kysely';
import type { TenantScope } from '../store/tenant-scope.ts';
import {
  type ChainHead,
  type ChainRecord,
  canonicalJson,
  columnsOf,
  GENESIS_HASH,
  recordHash,
} from './directory-audit-chain.ts';
import type {
  AuditActor,
  AuditCategory,
  AuditEvent,
  AuditModifiedProperty,
  AuditOperation,
  AuditTargetType,
  DirectoryAuditWriter,
} from './directory-audit-port.ts';
import type { DirectoryAuditsTable } from './directory-audit-schema.ts';

/** Graph `directoryAudit` (v1.0). */
export interface DirectoryAudit {
  readonly id: string;
  readonly category: AuditCategory;
  readonly correlationId: string | null;
  readonly result: 'success';
  readonly resultReason: string;
  readonly activityDisplayName: string;
  readonly activityDateTime: string;
  readonly loggedByService: string;
  readonly operationType: AuditOperation;
  readonly initiatedBy: {
    readonly user: {
      readonly id: string;
      readonly displayName: string | null;
      readonly userPrincipalName: string | null;
      readonly ipAddress: string | null;
    } | null;
    readonly app: {
      readonly appId: string | null;
      readonly displayName: string | null;
      readonly servicePrincipalId: string | null;
      readonly servicePrincipalName: string | null;
    } | null;
  };
  readonly targetResources: readonly {
    readonly id: string;
    readonly displayName: string | null;
    readonly type: AuditTargetType;
    readonly userPrincipalName: string | null;
    /** Graph carries old and new values as JSON text: `"\"Block\""`, `"[\"10.0.0.0/8\"]"`; null when there is none. */
    readonly modifiedProperties: readonly {
      readonly displayName: string;
      readonly oldValue: string | null;
      readonly newValue: string | null;
    }[];
  }[];
  readonly additionalDetails: readonly { readonly key: string; readonly value: string | null }[];
}

const CATEGORIES: readonly AuditCategory[] = [
  'Policy',
  'UserManagement',
  'GroupManagement',
  'ApplicationManagement',
  'RoleManagement',
  'DirectoryManagement',
];
const OPERATIONS: readonly AuditOperation[] = ['Add', 'Update', 'Delete', 'Assign', 'Unassign'];
const TARGET_TYPES: readonly AuditTargetType[] = [
  'User',
  'Group',
  'Application',
  'Role',
  'Policy',
  'NamedLocation',
  'Directory',
  'Other',
];
/** Entra's `loggedByService` for directory changes. */
const DEFAULT_SERVICE = 'Core Directory';

/** A value as Graph's modifiedProperty carries it: JSON text, or null when absent. */
function jsonText(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`directory audit: ${what} must be a non-empty string`);
  return value;
}

/**
 * The Graph record of one change (pure). Throws a TypeError for an event no caller should build (an unknown
 * category, no target): a route's bug, which rolls its change back rather than leaving it unrecorded.
 */
export function buildDirectoryAudit(actor: AuditActor, event: AuditEvent, at: number, id: string): DirectoryAudit {
  if (!CATEGORIES.includes(event?.category))
    throw new TypeError(`directory audit: unknown category ${JSON.stringify(event?.category)}`);
  if (!OPERATIONS.includes(event.operationType)) {
    throw new TypeError(`directory audit: unknown operationType ${JSON.stringify(event.operationType)}`);
  }
  if (!Array.isArray(event.targets) || event.targets.length === 0) throw new TypeError('directory audit: no target');
  if (!Number.isFinite(at)) throw new TypeError('directory audit: the time is not a time');
  let initiatedBy: DirectoryAudit['initiatedBy'];
  const ipAddress = event.ipAddress ?? null;
  switch (actor?.kind) {
    case 'user':
      initiatedBy = {
        user: {
          id: text(actor.id, 'actor.id'),
          displayName: null,
          userPrincipalName: actor.userPrincipalName ?? null,
          ipAddress,
        },
        app: null,
      };
      break;
    case 'application':
      initiatedBy = {
        user: null,
        app: {
          appId: text(actor.id, 'actor.id'),
          displayName: actor.displayName ?? null,
          servicePrincipalId: null,
          servicePrincipalName: null,
        },
      };
      break;
    case 'system':
      initiatedBy = {
        user: null,
        app: {
          appId: null,
          displayName: text(actor.displayName, 'actor.displayName'),
          servicePrincipalId: null,
          servicePrincipalName: null,
        },
      };
      break;
    default:
      throw new TypeError(`directory audit: unknown actor kind ${JSON.stringify((actor as { kind?: unknown })?.kind)}`);
  }
  return {
    id,
    category: event.category,
    correlationId: event.correlationId ?? null,
    result: 'success',
    resultReason: '',
    activityDisplayName: text(event.activityDisplayName, 'activityDisplayName'),
    activityDateTime: new Date(at).toISOString(),
    loggedByService: event.loggedByService ?? DEFAULT_SERVICE,
    operationType: event.operationType,
    initiatedBy,
    targetResources: event.targets.map((target, i) => {
      if (!TARGET_TYPES.includes(target?.type)) {
        throw new TypeError(`directory audit: targets[${i}].type ${JSON.stringify(target?.type)} is not a target type`);
      }
      return {
        id: text(target.id, `targets[${i}].id`),
        displayName: target.displayName ?? null,
        type: target.type,
        userPrincipalName: target.userPrincipalName ?? null,
        modifiedProperties: (target.modifiedProperties ?? []).map((p: AuditModifiedProperty) => ({
          displayName: text(p.displayName, `targets[${i}].modifiedProperties.displayName`),
          oldValue: jsonText(p.oldValue),
          newValue: jsonText(p.newValue),
        })),
      };
    }),
    additionalDetails: (event.additionalDetails ?? []).map((d) => ({
      key: text(d.key, 'additionalDetails.key'),
      value: d.value ?? null,
    })),
  };
}

export interface DirectoryAuditLogOptions {
  /** Record ids; defaults to random UUIDs. */
  readonly newId?: () => string;
}

/** The writer routes use: appends to the chain of the scope's tenant, in the scope's transaction. */
export class DirectoryAuditLog implements DirectoryAuditWriter {
  readonly #newId: () => string;

  constructor(options: DirectoryAuditLogOptions = {}) {
    this.#newId = options.newId ?? (() => crypto.randomUUID());
  }

  async record(tx: TenantScope, actor: AuditActor, event: AuditEvent): Promise<void> {
    const at = tx.now();
    const audit = buildDirectoryAudit(actor, event, at, this.#newId());
    // `transaction` joins the caller's transaction when there is one, and otherwise makes the three statements one.
    await tx.transaction((scope) => append(scope, audit, at));
  }
}

/**
 * Appends one record. The first statement takes the tenant's chain head — inserting it for the first record, else
 * adding one to its sequence — and with it the head row's lock (PostgreSQL) or the write lock (SQLite), held to the
 * end of the transaction: a concurrent append on another node waits here and then chains onto this record.
 */
async function append(scope: TenantScope, audit: DirectoryAudit, at: number): Promise<void> {
  const head = await scope
    .insertInto('directory_audit_heads', { sequence: 1, hash: GENESIS_HASH, modified_at: at })
    .onConflict((oc) =>
      oc.column('tenant_id').doUpdateSet({
        sequence: sql<number>`directory_audit_heads.sequence + 1`,
        modified_at: at,
      }),
    )
    .returning(['sequence', 'hash'])
    .executeTakeFirstOrThrow();
  // The returned hash is the row's before this append (the update leaves it): the previous record's.
  const sequence = Number(head.sequence);
  const previousHash = head.hash;
  const body = canonicalJson(audit);
  const hash = recordHash(scope.tenantId, sequence, previousHash, body);
  const columns = columnsOf(audit as unknown as Record<string, unknown>);
  await scope
    .insertInto('directory_audits', {
      sequence,
      id: audit.id,
      activity_at: columns.activityAt,
      category: columns.category,
      activity_display_name: columns.activityDisplayName,
      operation_type: columns.operationType,
      correlation_id: columns.correlationId,
      initiated_by: columns.initiatedBy,
      previous_hash: previousHash,
      hash,
      body,
    })
    .execute();
  await scope.updateTable('directory_audit_heads', { hash }).execute();
}

/** Graph: "The maximum and default page size is 1,000 objects" (as for signIns). */
export const MAX_AUDIT_PAGE = 1000;

export interface DirectoryAuditRange {
  /** activityDateTime at or after (epoch ms). */
  readonly from?: number;
  /** activityDateTime at or before (epoch ms). */
  readonly to?: number;
  readonly category?: string;
  readonly correlationId?: string;
  readonly initiatedBy?: string;
}

/** A position in the newest-first order: after the record with this activity time and id. */
export interface AuditPosition {
  readonly at: number;
  readonly id: string;
}

/** A stored record as `walk` reads it: every column but the tenant's. */
type Row = Omit<DirectoryAuditsTable, 'tenant_id'>;
const ROW_COLUMNS = [
  'sequence',
  'id',
  'activity_at',
  'category',
  'activity_display_name',
  'operation_type',
  'correlation_id',
  'initiated_by',
  'previous_hash',
  'hash',
  'body',
] as const satisfies readonly (keyof Row)[];

/** Reads one tenant's directory audit log. */
export class DirectoryAuditRepository {
  readonly #scope: TenantScope;

  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  /** Graph `GET /auditLogs/directoryAudits/{id}`. */
  async get(id: string): Promise<DirectoryAudit | undefined> {
    if (typeof id !== 'string') return undefined;
    const row = await this.#scope.selectFrom('directory_audits').select('body').where('id', '=', id).executeTakeFirst();
    return row && this.#parse(id, row.body);
  }

  /** Newest first (activityDateTime, then id, descending), at most `limit`, after `after`, narrowed by `range`. */
  async list(options: {
    limit: number;
    after?: AuditPosition;
    range?: DirectoryAuditRange;
  }): Promise<DirectoryAudit[]> {
    const range = options.range ?? {};
    let select = this.#scope.selectFrom('directory_audits').select(['id', 'body']);
    if (range.from !== undefined) select = select.where('activity_at', '>=', Math.ceil(range.from));
    if (range.to !== undefined) select = select.where('activity_at', '<=', Math.floor(range.to));
    if (range.category !== undefined) select = select.where('category', '=', range.category);
    if (range.correlationId !== undefined) select = select.where('correlation_id', '=', range.correlationId);
    if (range.initiatedBy !== undefined) select = select.where('initiated_by', '=', range.initiatedBy);
    const after = options.after;
    if (after !== undefined) {
      select = select.where((eb) =>
        eb.or([eb('activity_at', '<', after.at), eb.and([eb('activity_at', '=', after.at), eb('id', '<', after.id)])]),
      );
    }
    const rows = await select.orderBy('activity_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
    return rows.map((row) => this.#parse(row.id, row.body));
  }

  /** The tenant's chain head: the last record's sequence number and hash; undefined before the first record. */
  async head(): Promise<ChainHead | undefined> {
    const row = await this.#scope.selectFrom('directory_audit_heads').select(['sequence', 'hash']).executeTakeFirst();
    return row && { sequence: Number(row.sequence), hash: row.hash };
  }

  /** Every record in chain order, `batch` rows per query; `from` narrows to records at or after that time (export). */
  async *walk(
    options: { batch?: number; from?: number } = {},
  ): AsyncGenerator<ChainRecord & { audit: () => DirectoryAudit }> {
    const batch = options.batch ?? 500;
    let after = 0;
    for (;;) {
      let select = this.#scope.selectFrom('directory_audits').select(ROW_COLUMNS).where('sequence', '>', after);
      if (options.from !== undefined) select = select.where('activity_at', '>=', Math.ceil(options.from));
      const rows: Row[] = await select.orderBy('sequence', 'asc').limit(batch).execute();
      for (const row of rows) yield this.#record(row);
      if (rows.length < batch) return;
      after = Number(rows[rows.length - 1].sequence);
    }
  }

  #record(row: Row): ChainRecord & { audit: () => DirectoryAudit } {
    return {
      sequence: Number(row.sequence),
      id: row.id,
      previousHash: row.previous_hash,
      hash: row.hash,
      body: row.body,
      columns: {
        activityAt: Number(row.activity_at),
        category: row.category,
        activityDisplayName: row.activity_display_name,
        operationType: row.operation_type,
        correlationId: row.correlation_id,
        initiatedBy: row.initiated_by,
      },
      audit: () => this.#parse(row.id, row.body),
    };
  }

  #parse(id: string, body: string): DirectoryAudit {
    try {
      return JSON.parse(body) as DirectoryAudit;
    } catch (error) {
      throw new Error(
        `tenant ${this.#scope.tenantId}: directory audit record '${id}' is not valid JSON (${(error as Error).message})`,
      );
    }
  }
}
