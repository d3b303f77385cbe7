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
// Principals are users, and applications (by object id: their roles for client credentials). Only a Global
// Administrator assigns and removes roles (Entra's Privileged Role Administrator is not built in); the directory's
// readers may read them. A change takes effect at the principal's next request: roles are read per request.
import type { FastifyInstance } from 'fastify';
import { directoryFor } from '../directory/directory.ts';
import type { RoleAssignment } from '../directory/role-assignments.ts';
import { BUILT_IN_ROLES, type BuiltInRole, builtInRole, GLOBAL_ADMINISTRATOR } from '../directory/roles.ts';
import type { User } from '../directory/users.ts';
import { PortcullisError } from '../errors.ts';
import { quote } from '../net/quote.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { auditContextOf, recordChange } from './audit-actor.ts';
import {
  allApplicationRoles,
  applicationRoles,
  assignApplicationRole,
  removeApplicationRole,
  requireRole,
} from './auth.ts';
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
    const page = memoryPage(await allAssignments(scope), query);
    return sendPage(reply, page, query, {
      self: url(scope.tenantId, 'roleAssignments'),
      context: context(scope.tenantId, 'roleAssignments'),
    });
  });

  app.get<{ Params: ItemParams }>(`${base}/roleAssignments/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, READ_ROLES, 'read role assignments');
    const { select } = parseItemQuery(request.query, ROLE_ASSIGNMENT);
    const found = await findAssignment(scope, request.params.id);
    if (!found) throw notFound(request.params.id);
    return noStore(reply).send({
      '@odata.context': `${context(scope.tenantId, 'roleAssignments')}/$entity`,
      ...project(found.assignment, select),
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
    const role = builtInRole(body.roleDefinitionId);
    if (!role) {
      problems.push(
        typeof body.roleDefinitionId === 'string' && body.roleDefinitionId !== ''
          ? `roleDefinitionId: ${quote(body.roleDefinitionId)} is not a built-in role ` +
              '(GET /roleManagement/directory/roleDefinitions lists them)'
          : 'roleDefinitionId: is required: the id of a built-in role',
      );
    }
    const target =
      typeof body.principalId === 'string' && body.principalId !== ''
        ? await principalOf(scope, body.principalId)
        : undefined;
    if (!target) {
      problems.push(
        typeof body.principalId === 'string' && body.principalId !== ''
          ? `principalId: there is no user or application ${quote(body.principalId)} in this tenant`
          : 'principalId: is required: the id of a user or an application (its object id) of this tenant',
      );
    }
    if (!role || !target) {
      const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
      throw badRequest(`Invalid role assignment (${count}): ${problems.join('; ')}.`);
    }
    if ((await allAssignments(scope)).some((a) => a.principalId === target.id && a.roleDefinitionId === role.id)) {
      throw badRequest(
        'A conflicting object with one or more of the specified property values is present in the directory: ' +
          `${quote(target.name)} already holds ${role.displayName}.`,
      );
    }
    const audit = await auditContextOf(request, scope, principal);
    const created = await scope.transaction(async (tx) => {
      let made: AssignmentShape;
      if (target.kind === 'user') {
        try {
          made = assignment(await directoryFor(tx).roles.assign(target.id, role.id));
        } catch (error) {
          if (error instanceof PortcullisError) throw badRequest(error.message);
          throw error;
        }
      } else {
        await assignApplicationRole(tx, target.appId, role.id);
        made = applicationAssignment(target.id, role.id);
      }
      await recordChange(options.audit, tx, audit, roleEvent('Add member to role', 'Assign', target, role.id, true));
      return made;
    });
    return noStore(reply)
      .code(201)
      .header('location', `${url(scope.tenantId, 'roleAssignments')}/${created.id}`)
      .send({ '@odata.context': `${context(scope.tenantId, 'roleAssignments')}/$entity`, ...created });
  });

  app.delete<{ Params: ItemParams }>(`${base}/roleAssignments/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_ROLES, 'remove admin roles');
    const found = await findAssignment(scope, request.params.id);
    if (!found) throw notFound(request.params.id);
    const { target } = found;
    const roleId = found.assignment.roleDefinitionId;
    const audit = await auditContextOf(request, scope, principal);
    await scope.transaction(async (tx) => {
      if (target.kind === 'user') {
        if (roleId === GLOBAL_ADMINISTRATOR && target.user.accountEnabled) {
          await refuseLastGlobalAdministrator(tx, target.user, 'remove Global Administrator from');
        }
        if (!(await directoryFor(tx).roles.remove(found.assignment.id))) throw notFound(found.assignment.id);
      } else if (!(await removeApplicationRole(tx, target.appId, roleId))) {
        throw notFound(found.assignment.id);
      }
      await recordChange(
        options.audit,
        tx,
        audit,
        roleEvent('Remove member from role', 'Unassign', target, roleId, false),
      );
    });
    return reply.code(204).send();
  });
}

type AssignmentShape = ReturnType<typeof assignment>;

/** Who holds a role: a user (role_assignments) or an application (its roles for client credentials, by appId). */
type RolePrincipal =
  | { readonly kind: 'user'; readonly id: string; readonly name: string; readonly user: User }
  | { readonly kind: 'application'; readonly id: string; readonly name: string; readonly appId: string };

async function principalOf(scope: TenantScope, id: string): Promise<RolePrincipal | undefined> {
  const directory = directoryFor(scope);
  const user = await directory.users.get(id);
  if (user) return { kind: 'user', id: user.id, name: user.userPrincipalName, user };
  const application = await directory.applications.get(id);
  if (application) {
    return { kind: 'application', id: application.id, name: application.displayName, appId: application.appId };
  }
  return undefined;
}

/** An application's assignment has no row of its own: its id names the application (object id) and the role. */
const APPLICATION_ASSIGNMENT = /^app\.([0-9a-f-]{36})\.([0-9a-f-]{36})$/;

function applicationAssignment(applicationId: string, roleId: string): AssignmentShape {
  return {
    id: `app.${applicationId}.${roleId}`,
    principalId: applicationId,
    roleDefinitionId: roleId,
    directoryScopeId: '/',
    appScopeId: null,
  };
}

async function allAssignments(scope: TenantScope): Promise<AssignmentShape[]> {
  const directory = directoryFor(scope);
  const users = (await directory.roles.list()).map(assignment);
  const applications: AssignmentShape[] = [];
  for (const [appId, roles] of await allApplicationRoles(scope)) {
    const application = await directory.applications.getByAppId(appId);
    if (!application) continue;
    for (const roleId of roles) applications.push(applicationAssignment(application.id, roleId));
  }
  return [...users, ...applications];
}

async function findAssignment(
  scope: TenantScope,
  id: string,
): Promise<{ assignment: AssignmentShape; target: RolePrincipal } | undefined> {
  const directory = directoryFor(scope);
  const app = APPLICATION_ASSIGNMENT.exec(id);
  if (app) {
    const application = await directory.applications.get(app[1]);
    if (!application || !(await applicationRoles(scope, application.appId)).includes(app[2])) return undefined;
    return {
      assignment: applicationAssignment(application.id, app[2]),
      target: { kind: 'application', id: application.id, name: application.displayName, appId: application.appId },
    };
  }
  const found = await directory.roles.get(id);
  if (!found) return undefined;
  const user = await directory.users.get(found.principalId);
  if (!user) return undefined;
  return {
    assignment: assignment(found),
    target: { kind: 'user', id: user.id, name: user.userPrincipalName, user },
  };
}

/** Entra's record of a role given or taken: on the user or the application, with the role's name and template id. */
function roleEvent(
  activityDisplayName: 'Add member to role' | 'Remove member from role',
  operationType: 'Assign' | 'Unassign',
  target: RolePrincipal,
  roleId: string,
  added: boolean,
) {
  const role = builtInRole(roleId);
  return {
    category: 'RoleManagement' as const,
    activityDisplayName,
    operationType,
    loggedByService: LOGGED_BY,
    targets: [
      {
        id: target.id,
        displayName: target.kind === 'user' ? target.user.displayName : target.name,
        ...(target.kind === 'user' ? { userPrincipalName: target.user.userPrincipalName } : {}),
        type: target.kind === 'user' ? ('User' as const) : ('Application' as const),
        modifiedProperties: [
          {
            displayName: 'Role.DisplayName',
            oldValue: added ? null : (role?.displayName ?? null),
            newValue: added ? (role?.displayName ?? null) : null,
          },
          { displayName: 'Role.TemplateId', oldValue: added ? null : roleId, newValue: added ? roleId : null },
        ],
      },
    ],
  };
}
