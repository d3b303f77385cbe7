// What an admin change tells the directory audit log (Graph's `directoryAudit`): who did what to which object, with
// the old and new values. Routes call `record` inside the transaction that makes the change, so a change and its
// audit record are written together or not at all. The log itself (append-only, hash-chained) is directory-audit.ts.
import type { TenantScope } from '../store/tenant-scope.ts';

/** The caller as the audit log names it (admin/auth.ts's Principal, plus a display name where known). */
export type AuditActor =
  | { readonly kind: 'user'; readonly id: string; readonly userPrincipalName?: string | null }
  | { readonly kind: 'application'; readonly id: string; readonly displayName?: string | null }
  /** Portcullis itself: `init`, `import` from the CLI, housekeeping. */
  | { readonly kind: 'system'; readonly displayName: string };

/** Graph's directoryAudit categories that Portcullis writes. */
export type AuditCategory =
  | 'Policy'
  | 'UserManagement'
  | 'GroupManagement'
  | 'ApplicationManagement'
  | 'RoleManagement'
  | 'DirectoryManagement';

/** Graph's `operationType` values. */
export type AuditOperation = 'Add' | 'Update' | 'Delete' | 'Assign' | 'Unassign';

/** Graph's `modifiedProperty`; values are JSON (Graph carries them as JSON text). */
export interface AuditModifiedProperty {
  readonly displayName: string;
  readonly oldValue: unknown;
  readonly newValue: unknown;
}

/** Graph's `targetResource.type` values Portcullis uses. */
export type AuditTargetType =
  | 'User'
  | 'Group'
  | 'Application'
  | 'Role'
  | 'Policy'
  | 'NamedLocation'
  | 'Directory'
  | 'Other';

export interface AuditTarget {
  readonly id: string;
  readonly displayName?: string | null;
  readonly userPrincipalName?: string | null;
  readonly type: AuditTargetType;
  readonly modifiedProperties?: readonly AuditModifiedProperty[];
}

export interface AuditEvent {
  readonly category: AuditCategory;
  /** Entra's wording where it has one: 'Add user', 'Update conditional access policy', 'Add member to group'. */
  readonly activityDisplayName: string;
  readonly operationType: AuditOperation;
  readonly targets: readonly AuditTarget[];
  /** The request's correlation id (request.id), so an audit record and the request's log lines meet. */
  readonly correlationId?: string;
  /** Entra's service names, so filters written for Entra work: 'Core Directory' (the default), 'Conditional Access'. */
  readonly loggedByService?: string;
  /** The caller's address (resolved through trusted proxies): Graph's `initiatedBy.user.ipAddress`. */
  readonly ipAddress?: string | null;
  /** Graph's `additionalDetails` key-value pairs (`User-Agent`, …). */
  readonly additionalDetails?: readonly { readonly key: string; readonly value: string | null }[];
}

export interface DirectoryAuditWriter {
  /** Append one record for `actor`'s change. Call with the transaction's scope (`scope.transaction(tx => …)`). */
  record(tx: TenantScope, actor: AuditActor, event: AuditEvent): Promise<void>;
}
