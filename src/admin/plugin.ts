// The Graph-compatible admin API, under each tenant's Graph base URL `{publicUrl}/t/{tenantId}/graph/v1.0` (what
// `portcullis init --json` prints as graphBaseUrl). Bearer tokens from the tenant's token endpoint; admin roles decide.
//
//   GET   /policies/sessionSettings                 the tenant's session settings (docs/sessions.md)
//   PATCH /policies/sessionSettings                 change some of them: 204, or 400 naming every problem
//   POST  /users/{id | userPrincipalName}/revokeSignInSessions   Graph's: ends every session of the user
//   /identity/conditionalAccess/{namedLocations, policies, evaluate}  conditional-access.ts
//   /auditLogs/{directoryAudits, signIns}           audit-logs.ts
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DirectoryAuditLog } from '../audit/directory-audit.ts';
import type { DirectoryAuditWriter } from '../audit/directory-audit-port.ts';
import { directoryFor } from '../directory/directory.ts';
import {
  GLOBAL_ADMINISTRATOR,
  REPORTS_READER,
  SECURITY_ADMINISTRATOR,
  SECURITY_READER,
  USER_ADMINISTRATOR,
} from '../directory/roles.ts';
import type { GatewayRegistry } from '../gateway/registry.ts';
import { HttpError } from '../http/graph-error.ts';
import type { ServerPlugin } from '../server.ts';
import { readSessionSettings, updateSessionSettings } from '../session/settings-store.ts';
import type { SignInServices } from '../signin/ports.ts';
import { TenantRepository } from '../store/tenant-repository.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { auditContextOf, recordChange } from './audit-actor.ts';
import { registerAuditLogs } from './audit-logs.ts';
import { AdminAuthenticator, type Principal, requireRole } from './auth.ts';
import { registerConditionalAccess } from './conditional-access.ts';
import { registerDirectory } from './directory-routes.ts';
import { registerForwardAuth } from './forward-auth.ts';
import { registerImport } from './import.ts';
import { registerRoleManagement } from './role-management.ts';
import { requireAuthorityOver } from './users.ts';

export const GRAPH_PREFIX = '/t/:tenant/graph/v1.0';

const READ_SESSION_SETTINGS = [GLOBAL_ADMINISTRATOR, SECURITY_ADMINISTRATOR, SECURITY_READER, REPORTS_READER];
const WRITE_SESSION_SETTINGS = [GLOBAL_ADMINISTRATOR, SECURITY_ADMINISTRATOR];
const REVOKE_SESSIONS = [GLOBAL_ADMINISTRATOR, SECURITY_ADMINISTRATOR, USER_ADMINISTRATOR];

type Params = { tenant: string };

export interface AdminPluginOptions {
  /** Defaults to `config.publicUrl`; tests that listen on port 0 pass the address they got. */
  readonly publicUrl?: () => string;
  /** The node's compiled policy cache (start.ts's), told about every policy change made here. */
  readonly policyCache?: { invalidate(tenantId: string): void };
  /** Where admin changes are recorded (docs/audit.md); defaults to the store's directory audit log. */
  readonly audit?: DirectoryAuditWriter;
  /** The node's forward-auth registry (start.ts passes the gateway plugin's), for `/applications/{id}/forwardAuth`. */
  readonly gatewayRegistry?: () => GatewayRegistry | undefined;
}

export function adminPlugin(services: SignInServices, options: AdminPluginOptions = {}): ServerPlugin {
  return {
    name: 'admin',
    async plugin(app: FastifyInstance) {
      const publicUrl = options.publicUrl ?? (() => app.config.publicUrl);
      const auth = new AdminAuthenticator({
        keyring: services.keyring,
        clock: services.clock,
        issuerOf: (tenantId) => `${publicUrl()}/t/${tenantId}`,
      });
      const tenants = new TenantRepository(services.store);
      // Every change below records who made it, in the change's own transaction (docs/audit.md).
      const audit = options.audit ?? new DirectoryAuditLog();

      /** The tenant (by id, as the Graph base URL names it) and the caller, or an HttpError. */
      async function caller(
        request: FastifyRequest<{ Params: Params }>,
      ): Promise<{ scope: TenantScope; principal: Principal }> {
        const tenant = await tenants.get(request.params.tenant).catch(() => undefined);
        if (!tenant) throw new HttpError(404, `There is no tenant '${request.params.tenant.slice(0, 64)}'.`);
        const scope = services.store.forTenant(tenant.id);
        return { scope, principal: await auth.authenticate(scope, request.headers.authorization, request.headers) };
      }

      registerConditionalAccess(app, {
        prefix: GRAPH_PREFIX,
        graphBase: (tenantId) => `${publicUrl()}/t/${tenantId}/graph/v1.0`,
        caller,
        compiledPolicies: services.policies,
        clock: services.clock,
        limits: app.config.policyLimits,
        policyCache: options.policyCache,
        audit,
      });

      const limits = app.config.policyLimits;
      registerImport(app, { prefix: GRAPH_PREFIX, caller, limits, audit, policyCache: options.policyCache });

      registerDirectory(app, {
        prefix: GRAPH_PREFIX,
        graphBase: (tenantId) => `${publicUrl()}/t/${tenantId}/graph/v1.0`,
        caller,
        audit,
        sessions: services.sessions,
      });
      registerRoleManagement(app, {
        prefix: GRAPH_PREFIX,
        graphBase: (tenantId) => `${publicUrl()}/t/${tenantId}/graph/v1.0`,
        caller,
        audit,
        sessions: services.sessions,
      });
      registerForwardAuth(app, {
        prefix: GRAPH_PREFIX,
        graphBase: (tenantId) => `${publicUrl()}/t/${tenantId}/graph/v1.0`,
        caller,
        audit,
        sessions: services.sessions,
        registry: options.gatewayRegistry ?? (() => undefined),
      });

      registerAuditLogs(app, {
        prefix: GRAPH_PREFIX,
        graphBase: (tenantId) => `${publicUrl()}/t/${tenantId}/graph/v1.0`,
        caller,
      });

      app.get<{ Params: Params }>(`${GRAPH_PREFIX}/policies/sessionSettings`, async (request, reply) => {
        const { scope, principal } = await caller(request);
        requireRole(principal, READ_SESSION_SETTINGS, 'read the session settings');
        const settings = await readSessionSettings(scope);
        return reply.header('cache-control', 'no-store').send({
          '@odata.context': `${publicUrl()}/t/${scope.tenantId}/graph/v1.0/$metadata#policies/sessionSettings/$entity`,
          ...settings,
        });
      });

      app.patch<{ Params: Params }>(`${GRAPH_PREFIX}/policies/sessionSettings`, async (request, reply) => {
        const { scope, principal } = await caller(request);
        requireRole(principal, WRITE_SESSION_SETTINGS, 'change the session settings');
        const context = await auditContextOf(request, scope, principal);
        await scope.transaction(async (tx) => {
          const result = await updateSessionSettings(tx, request.body ?? null);
          if (!result.ok) throw new HttpError(400, `Invalid session settings: ${result.problems.join('; ')}.`);
          const before = result.previous as unknown as Record<string, unknown>;
          const after = result.settings as unknown as Record<string, unknown>;
          const modified = Object.keys({ ...before, ...after })
            .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
            .map((key) => ({ displayName: key, oldValue: before[key], newValue: after[key] }));
          await recordChange(audit, tx, context, {
            category: 'Policy',
            activityDisplayName: 'Update session settings',
            operationType: 'Update',
            targets: [
              { id: 'sessionSettings', displayName: 'Session settings', type: 'Policy', modifiedProperties: modified },
            ],
          });
        });
        return reply.code(204).send();
      });

      app.post<{ Params: Params & { id: string } }>(
        `${GRAPH_PREFIX}/users/:id/revokeSignInSessions`,
        async (request, reply) => {
          const { scope, principal } = await caller(request);
          requireRole(principal, REVOKE_SESSIONS, "revoke a user's sign-in sessions");
          const user = await directoryFor(scope).users.find(request.params.id);
          if (!user)
            throw new HttpError(
              404,
              `Resource '${request.params.id.slice(0, 128)}' does not exist.`,
              'Request_ResourceNotFound',
            );
          // As for changing a user: signing a more privileged admin out everywhere, again and again, is not for a
          // narrower role (Entra counts invalidating refresh tokens among the actions on privileged users).
          await requireAuthorityOver(scope, principal, user, 'revoke the sign-in sessions of');
          const context = await auditContextOf(request, scope, principal);
          await scope.transaction(async (tx) => {
            await services.sessions(scope.tenantId).revokeAllForUser(user.id, tx);
            // Entra's name for this activity (Graph's revokeSignInSessions invalidates the refresh tokens).
            await recordChange(audit, tx, context, {
              category: 'UserManagement',
              activityDisplayName: 'Invalidate all refresh tokens for user',
              operationType: 'Update',
              targets: [
                { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, type: 'User' },
              ],
            });
          });
          return reply.header('cache-control', 'no-store').send({
            '@odata.context': `${publicUrl()}/t/${scope.tenantId}/graph/v1.0/$metadata#Edm.Boolean`,
            value: true,
          });
        },
      );
    },
  };
}
