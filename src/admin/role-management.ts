// Graph's role management for the built-in admin roles (directory scope `/` only), so admins give and take roles
// through the API and the console instead of the database:
//
//   GET    /roleManagement/directory/roleDefinitions         the built-in roles (unifiedRoleDefinition)
//   GET    /roleManagement/directory/roleDefinitions/{id}    one, by its template id
//   GET    /roleManagement/directory/roleAssignments         a Graph page; $filter on principalId, roleDefinitionId
//   POST   /roleManagement/directory/roleAssignments         201 with the assignment; {principalId, roleDefinitionId}
//   GET    /roleManagement/directory/roleAssignments/{id}
//   DELETE /roleManagement/directory/roleAssignments/{id}    204
//
// Principals are users (applications' roles are set by `init` and are not managed here yet). Only a Global
// Administrator assigns and removes roles (Entra's Privileged Role Administrator is not built in); the directory's
// readers may read them. A change takes effect at the principal's next request: roles are read per request.
import type { FastifyInstance } from 'fastify';
import { directoryFor } from '../directory/directory.ts';
import type { RoleAssignment } from '../directory/role-assignments.ts';
import { BUILT_IN_ROLES, type BuiltInRole, builtInRole, GLOBAL_ADMINISTRATOR } from '../directory/roles.ts';
import { PortcullisError } from '../errors.ts';
import { quote } from '../net/quote.ts';
import { auditContextOf, recordChange } from './audit-actor.ts';
import { requireRole } from './auth.ts';
import {
  badRequest,
  type DirectoryRoutesOptions,
  LOGGED_BY,
  memoryPage,
  noStore,
  notFound,
  objectBody,
  READ_USERS,
  sendPage,
} from './directory-objects.ts';
import { type EntityType, nextLinkQuery, pageOf, parseItemQuery, parseListQuery, project } from './odata.ts';
import { refuseLastGlobalAdministrator } from './users.ts';

type Params = { tenant: string };
type ItemParams = Params & { id: string };

/** Giving and taking admin roles: a Global Administrator only. */
export const MANAGE_ROLES = [GLOBAL_ADMINISTRATOR] as const;
export const READ_ROLES = READ_USERS;

const ROLE_DEFINITION: EntityType = {
  name: 'microsoft.graph.unifiedRoleDefinition',
  properties: [
    'id',
    'displayName',
    'description',
    'isBuiltIn',
    'isEnabled',
    'resourceScopes',
    'templateId',
    'version',
    'rolePermissions',
  ],
  filterable: { id: 'string', displayName: 'string', templateId: 'string' },
};

const ROLE_ASSIGNMENT: EntityType = {
  name: 'microsoft.graph.unifiedRoleAssignment',
  properties: ['id', 'principalId', 'roleDefinitionId', 'directoryScopeId', 'appScopeId'],
  filterable: { id: 'string', principalId: 'string', roleDefinitionId: 'string', directoryScopeId: 'string' },
};

const ASSIGNMENT_PROPERTIES = new Set(['principalId', 'roleDefinitionId', 'directoryScopeId']);

function definition(role: BuiltInRole) {
  return {
    id: role.id,
    displayName: role.displayName,
    description: role.description,
    isBuiltIn: true,
    isEnabled: true,
    resourceScopes: ['/'],
    templateId: role.id,
    version: '1',
    rolePermissions: [],
  };
}

function assignment(a: RoleAssignment) {
  return {
    id: a.id,
    principalId: a.principalId,
    roleDefinitionId: a.roleDefinitionId,
    directoryScopeId: a.directoryScopeId,
    appScopeId: null,
  };
}

export function registerRoleManagement(app: FastifyInstance, options: DirectoryRoutesOptions): void {
  const base = `${options.prefix}/roleManagement/directory`;
  const url = (tenantId: string, segment: string) =>
    `${options.graphBase(tenantId)}/roleManagement/directory/${segment}`;
  const context = (tenantId: string, segment: string) =>
    `${options.graphBase(tenantId)}/$metadata#roleManagement/directory/${segment}`;

  app.get<{ Params: Params }>(`${base}/roleDefinitions`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, READ_ROLES, 'read role definitions');
    const query = parseListQuery(request.query, ROLE_DEFINITION);
    const page = pageOf(BUILT_IN_ROLES.map(definition), query);
    return noStore(reply).send({
      '@odata.context': context(scope.tenantId, 'roleDefinitions'),
      value: page.items.map((item) => project(item, query.select)),
      ...(page.next
        ? { '@odata.nextLink': `${url(scope.tenantId, 'roleDefinitions')}?${nextLinkQuery(query, page.next)}` }
        : {}),
    });
  });

  app.get<{ Params: ItemParams }>(`${base}/roleDefinitions/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, READ_ROLES, 'read role definitions');
    const { select } = parseItemQuery(request.query, ROLE_DEFINITION);
    const role = builtInRole(request.params.id);
    if (!role) throw notFound(request.params.id);
    return noStore(reply).send({
      '@odata.context': `${context(scope.tenantId, 'roleDefinitions')}/$entity`,
      ...project(definition(role), select),
    });
  });

  app.get<{ Params: Params }>(`${base}/roleAssignments`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, READ_ROLES, 'read role assignments');
    const query = parseListQuery(request.query, ROLE_ASSIGNMENT);
    // In id order, paged by id: a page goes on correctly when the last assignment of the previous one is gone.
    const page = memoryPage((await directoryFor(scope).roles.list()).map(assignment), query);
    return sendPage(reply, page, query, {
      self: url(scope.tenantId, 'roleAssignments'),
      context: context(scope.tenantId, 'roleAssignments'),
    });
  });

  app.get<{ Params: ItemParams }>(`${base}/roleAssignments/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, READ_ROLES, 'read role assignments');
    const { select } = parseItemQuery(request.query, ROLE_ASSIGNMENT);
    const found = await directoryFor(scope).roles.get(request.params.id);
    if (!found) throw notFound(request.params.id);
    return noStore(reply).send({
      '@odata.context': `${context(scope.tenantId, 'roleAssignments')}/$entity`,
      ...project(assignment(found), select),
    });
  });

  app.post<{ Params: Params }>(`${base}/roleAssignments`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_ROLES, 'assign admin roles');
    const body = objectBody(request.body, 'a unifiedRoleAssignment {"principalId", "roleDefinitionId"}');
    const unknown = Object.keys(body).filter((key) => !key.startsWith('@') && !ASSIGNMENT_PROPERTIES.has(key));
    if (unknown.length > 0) {
      throw badRequest(
        `Property ${quote(unknown[0])} is not supported on type 'microsoft.graph.unifiedRoleAssignment' by ` +
          'Portcullis; supported: principalId, roleDefinitionId, directoryScopeId.',
      );
    }
    if (body.directoryScopeId !== undefined && body.directoryScopeId !== '/') {
      throw badRequest(
        `directoryScopeId: only '/' (the whole directory) is supported, not ${quote(JSON.stringify(body.directoryScopeId) ?? '')}.`,
      );
    }
    // Every problem at once, each named by its field (the console puts each next to its field).
    const problems: string[] = [];
    const directory = directoryFor(scope);
    const role = builtInRole(body.roleDefinitionId);
    if (!role) {
      problems.push(
        typeof body.roleDefinitionId === 'string' && body.roleDefinitionId !== ''
          ? `roleDefinitionId: ${quote(body.roleDefinitionId)} is not a built-in role ` +
              '(GET /roleManagement/directory/roleDefinitions lists them)'
          : 'roleDefinitionId: is required: the id of a built-in role',
      );
    }
    const user =
      typeof body.principalId === 'string' && body.principalId !== ''
        ? await directory.users.get(body.principalId)
        : undefined;
    if (!user) {
      problems.push(
        typeof body.principalId === 'string' && body.principalId !== ''
          ? `principalId: there is no user ${quote(body.principalId)} in this tenant`
          : 'principalId: is required: the id of a user of this tenant',
      );
    }
    if (!role || !user) {
      const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
      throw badRequest(`Invalid role assignment (${count}): ${problems.join('; ')}.`);
    }
    if ((await directory.roles.list({ principalId: user.id, roleDefinitionId: role.id })).length > 0) {
      throw badRequest(
        `A conflicting object with one or more of the specified property values is present in the directory: ` +
          `${quote(user.userPrincipalName)} already holds ${role.displayName}.`,
      );
    }
    const audit = await auditContextOf(request, scope, principal);
    const created = await scope.transaction(async (tx) => {
      let made: RoleAssignment;
      try {
        made = await directoryFor(tx).roles.assign(user.id, role.id);
      } catch (error) {
        if (error instanceof PortcullisError) throw badRequest(error.message);
        throw error;
      }
      await recordChange(options.audit, tx, audit, {
        category: 'RoleManagement',
        activityDisplayName: 'Add member to role',
        operationType: 'Assign',
        loggedByService: LOGGED_BY,
        targets: [
          {
            id: user.id,
            displayName: user.displayName,
            userPrincipalName: user.userPrincipalName,
            type: 'User',
            modifiedProperties: [
              { displayName: 'Role.DisplayName', oldValue: null, newValue: role.displayName },
              { displayName: 'Role.TemplateId', oldValue: null, newValue: role.id },
            ],
          },
        ],
      });
      return made;
    });
    return noStore(reply)
      .code(201)
      .header('location', `${url(scope.tenantId, 'roleAssignments')}/${created.id}`)
      .send({ '@odata.context': `${context(scope.tenantId, 'roleAssignments')}/$entity`, ...assignment(created) });
  });

  app.delete<{ Params: ItemParams }>(`${base}/roleAssignments/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_ROLES, 'remove admin roles');
    const directory = directoryFor(scope);
    const found = await directory.roles.get(request.params.id);
    if (!found) throw notFound(request.params.id);
    const role = builtInRole(found.roleDefinitionId);
    const user = await directory.users.get(found.principalId);
    const audit = await auditContextOf(request, scope, principal);
    await scope.transaction(async (tx) => {
      if (found.roleDefinitionId === GLOBAL_ADMINISTRATOR && user?.accountEnabled) {
        await refuseLastGlobalAdministrator(tx, user, 'remove Global Administrator from');
      }
      if (!(await directoryFor(tx).roles.remove(found.id))) throw notFound(found.id);
      await recordChange(options.audit, tx, audit, {
        category: 'RoleManagement',
        activityDisplayName: 'Remove member from role',
        operationType: 'Unassign',
        loggedByService: LOGGED_BY,
        targets: [
          {
            id: found.principalId,
            displayName: user?.displayName ?? null,
            userPrincipalName: user?.userPrincipalName ?? null,
            type: 'User',
            modifiedProperties: [
              { displayName: 'Role.DisplayName', oldValue: role?.displayName ?? null, newValue: null },
              { displayName: 'Role.TemplateId', oldValue: found.roleDefinitionId, newValue: null },
            ],
          },
        ],
      });
    });
    return reply.code(204).send();
  });
}
