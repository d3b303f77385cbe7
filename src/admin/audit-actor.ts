// Who an admin request is, as the directory audit log names them (docs/audit.md): the principal with its user
// principal name or application name looked up, the request's correlation id and the client's address. Read before
// the change's transaction opens (on SQLite a read through the outer scope inside it would wait for it to end).
import type { FastifyRequest } from 'fastify';
import type { AuditActor, AuditEvent, DirectoryAuditWriter } from '../audit/directory-audit-port.ts';
import { directoryFor } from '../directory/directory.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import type { Principal } from './auth.ts';

export interface AuditContext {
  readonly actor: AuditActor;
  readonly correlationId: string;
  readonly ipAddress: string | null;
}

export async function auditContextOf(
  request: FastifyRequest,
  scope: TenantScope,
  principal: Principal,
): Promise<AuditContext> {
  const directory = directoryFor(scope);
  const actor: AuditActor =
    principal.kind === 'user'
      ? {
          kind: 'user',
          id: principal.id,
          userPrincipalName: (await directory.users.get(principal.id))?.userPrincipalName ?? null,
        }
      : {
          kind: 'application',
          id: principal.id,
          displayName: (await directory.applications.getByAppId(principal.id))?.displayName ?? null,
        };
  return { actor, correlationId: request.id, ipAddress: request.clientIp?.text ?? null };
}

/** Records `event` for the request in `context`, in the change's transaction `tx`. */
export function recordChange(
  audit: DirectoryAuditWriter,
  tx: TenantScope,
  context: AuditContext,
  event: Omit<AuditEvent, 'correlationId' | 'ipAddress'>,
): Promise<void> {
  return audit.record(tx, context.actor, {
    ...event,
    correlationId: context.correlationId,
    ipAddress: context.ipAddress,
  });
}
