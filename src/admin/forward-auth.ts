// A Portcullis extension to Graph's application: its forward-auth registration, the hosts and path prefixes the
// application claims at the gateway (docs/forward-auth.md). Graph has no such property (Entra's nearest is Application
// Proxy's `onPremisesPublishing`, beta only), so it lives under its own segment of the application:
//
//   GET    /applications/{id}/forwardAuth   200 {appId, hosts, paths, source}; 404 when the application has none
//   PUT    /applications/{id}/forwardAuth   200 with the registration; body {"hosts": […], "paths"?: […]}
//   DELETE /applications/{id}/forwardAuth   204; 404 when there is none; 400 when it comes from the configuration file
//
// `{id}` is the application's object id, as in Graph's `/applications/{id}`. Changes go through the node's own
// registry (gateway/registry.ts), so this node routes by them at once; other nodes within their reload interval.
import type { FastifyInstance } from 'fastify';
import { directoryFor } from '../directory/directory.ts';
import type { GatewayApplication, GatewayRegistry } from '../gateway/registry.ts';
import { HttpError } from '../http/graph-error.ts';
import { auditContextOf, recordChange } from './audit-actor.ts';
import { requireRole } from './auth.ts';
import {
  type DirectoryRoutesOptions,
  LOGGED_BY,
  MANAGE_APPLICATIONS,
  noStore,
  notFound,
  objectBody,
  READ_APPLICATIONS,
} from './directory-objects.ts';

type ItemParams = { tenant: string; id: string };

export interface ForwardAuthRoutesOptions extends DirectoryRoutesOptions {
  /** The node's gateway registry; undefined when the gateway is not part of this server. */
  readonly registry: () => GatewayRegistry | undefined;
}

const PROPERTIES = ['hosts', 'paths'];

export function registerForwardAuth(app: FastifyInstance, options: ForwardAuthRoutesOptions): void {
  const path = `${options.prefix}/applications/:id/forwardAuth`;

  function registryOrFail(): GatewayRegistry {
    const registry = options.registry();
    if (!registry) throw new HttpError(501, 'Forward auth is not part of this server.', 'NotImplemented');
    return registry;
  }

  async function target(request: { params: ItemParams }, scope: Parameters<typeof directoryFor>[0]) {
    const application = await directoryFor(scope).applications.get(request.params.id);
    if (!application) throw notFound(request.params.id);
    return application;
  }

  function shown(registration: GatewayApplication, tenantId: string, id: string) {
    return {
      '@odata.context': `${options.graphBase(tenantId)}/$metadata#applications('${id}')/forwardAuth/$entity`,
      ...registration,
    };
  }

  app.get<{ Params: ItemParams }>(path, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, READ_APPLICATIONS, 'read forward-auth registrations');
    const application = await target(request, scope);
    const registration = (await registryOrFail().list(scope.tenantId)).find((r) => r.appId === application.appId);
    if (!registration) {
      throw new HttpError(
        404,
        `Application ${application.id} has no forward-auth registration.`,
        'Request_ResourceNotFound',
      );
    }
    return noStore(reply).send(shown(registration, scope.tenantId, application.id));
  });

  app.put<{ Params: ItemParams }>(path, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_APPLICATIONS, 'register applications for forward auth');
    const body = objectBody(request.body, 'a forward-auth registration {"hosts": […], "paths": […]}');
    const unknown = Object.keys(body).filter((key) => !PROPERTIES.includes(key));
    if (unknown.length > 0) {
      throw new HttpError(
        400,
        `Property '${unknown[0].slice(0, 64)}' is not part of a forward-auth registration; it has: hosts, paths.`,
        'Request_BadRequest',
      );
    }
    const application = await target(request, scope);
    const registry = registryOrFail();
    const before = (await registry.list(scope.tenantId)).find((r) => r.appId === application.appId);
    const context = await auditContextOf(request, scope, principal);
    const registered = await registry.register(
      scope.tenantId,
      { appId: application.appId, hosts: body.hosts, paths: body.paths },
      (tx, after) =>
        recordChange(
          options.audit,
          tx,
          context,
          forwardAuthEvent(application, before, { hosts: after.hosts, paths: after.paths }),
        ),
    );
    return noStore(reply).send(shown(registered, scope.tenantId, application.id));
  });

  app.delete<{ Params: ItemParams }>(path, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_APPLICATIONS, 'remove forward-auth registrations');
    const application = await target(request, scope);
    const registry = registryOrFail();
    const before = (await registry.list(scope.tenantId)).find((r) => r.appId === application.appId);
    if (before?.source === 'config') {
      throw new HttpError(
        400,
        `Application ${application.id} is registered for forward auth in the configuration file ` +
          '(gateway.applications); remove it there.',
        'Request_BadRequest',
      );
    }
    const context = await auditContextOf(request, scope, principal);
    const removed = await registry.unregister(scope.tenantId, application.appId, (tx) =>
      recordChange(options.audit, tx, context, forwardAuthEvent(application, before, null)),
    );
    if (!removed) {
      throw new HttpError(
        404,
        `Application ${application.id} has no forward-auth registration.`,
        'Request_ResourceNotFound',
      );
    }
    return reply.code(204).send();
  });
}

/** Entra's "Update application" record of a forward-auth change, with the registration before and after. */
function forwardAuthEvent(
  application: { id: string; displayName: string },
  before: GatewayApplication | undefined,
  after: { hosts: readonly string[]; paths: readonly string[] } | null,
) {
  return {
    category: 'ApplicationManagement' as const,
    activityDisplayName: 'Update application',
    operationType: 'Update' as const,
    loggedByService: LOGGED_BY,
    targets: [
      {
        id: application.id,
        displayName: application.displayName,
        type: 'Application' as const,
        modifiedProperties: [
          {
            displayName: 'forwardAuth',
            oldValue: before ? { hosts: before.hosts, paths: before.paths } : null,
            newValue: after,
          },
        ],
      },
    ],
  };
}
