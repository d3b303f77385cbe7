// Graph's groups API over the directory (directory/groups.ts): security groups, their members (users and nested
// groups) by Graph's `$ref`, every change recorded in the directory audit log. Routes only translate HTTP.
//
//   GET    /groups                                     a Graph page: $top, $select, $filter, @odata.nextLink
//   GET    /groups/{id}                                $select
//   POST   /groups                                     201 with the created group (`members@odata.bind` allowed)
//   PATCH  /groups/{id}                                204
//   DELETE /groups/{id}                                204
//   GET    /groups/{id}/members                        the direct members: users and groups, with @odata.type
//   POST   /groups/{id}/members/$ref                   {"@odata.id": "…/directoryObjects/{id}"}: 204
//   DELETE /groups/{id}/members/{memberId}/$ref        204
import type { FastifyInstance } from 'fastify';
import type { AuditEvent, AuditModifiedProperty, AuditTarget } from '../audit/directory-audit-port.ts';
import { type Directory, directoryFor } from '../directory/directory.ts';
import type { Group, MemberRef } from '../directory/groups.ts';
import { quote } from '../net/quote.ts';
import { auditContextOf, recordChange } from './audit-actor.ts';
import { requireRole } from './auth.ts';
import {
  badRequest,
  changes,
  DIRECTORY_OBJECT,
  type DirectoryRoutesOptions,
  directoryWrite,
  graphGroup,
  graphUser,
  knownProperties,
  LOGGED_BY,
  MANAGE_USERS,
  memoryPage,
  noStore,
  notFound,
  objectBody,
  READ_USERS,
  registerCollectionReads,
  sendPage,
} from './directory-objects.ts';
import { type EntityType, parseListQuery } from './odata.ts';

type Params = { tenant: string };
type ItemParams = Params & { id: string };

export const GROUP: EntityType = {
  name: 'microsoft.graph.group',
  properties: [
    'id',
    'displayName',
    'description',
    'mailNickname',
    'mailEnabled',
    'securityEnabled',
    'groupTypes',
    'createdDateTime',
  ],
  filterable: {
    id: 'string',
    displayName: 'string',
    description: 'string',
    mailNickname: 'string',
    mailEnabled: 'boolean',
    securityEnabled: 'boolean',
    createdDateTime: 'date',
  },
};

const WRITABLE = [
  'displayName',
  'description',
  'mailNickname',
  'mailEnabled',
  'securityEnabled',
  'groupTypes',
  'isAssignableToRole',
  'members@odata.bind',
];
const AUDITED = ['displayName', 'description', 'mailNickname'];
/** Entra's directory refuses more than 20 members in one `members@odata.bind`. */
const MAX_BIND = 20;

export function registerGroups(app: FastifyInstance, options: DirectoryRoutesOptions): void {
  const path = `${options.prefix}/groups`;
  const urls = (tenantId: string) => ({
    self: `${options.graphBase(tenantId)}/groups`,
    context: `${options.graphBase(tenantId)}/$metadata#groups`,
  });

  registerCollectionReads(app, options, {
    segment: 'groups',
    entity: GROUP,
    roles: READ_USERS,
    noun: 'groups',
    list: (scope) => (r) => directoryFor(scope).groups.list(r),
    find: (scope, id) => directoryFor(scope).groups.get(id),
    shape: (g) => ({ ...g }),
  });

  app.post<{ Params: Params }>(path, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_USERS, 'create groups');
    const body = knownProperties(objectBody(request.body, 'a group'), GROUP.name, WRITABLE);
    securityGroupOnly(body);
    const bind = body['members@odata.bind'];
    if (bind !== undefined && (!Array.isArray(bind) || bind.length > MAX_BIND)) {
      throw badRequest(`members@odata.bind: must be a list of at most ${MAX_BIND} directory object URLs.`);
    }
    const context = await auditContextOf(request, scope, principal);
    const group = await directoryWrite(() =>
      scope.transaction(async (tx) => {
        const directory = directoryFor(tx);
        const created = await directory.groups.create({
          displayName: body.displayName as string,
          description: body.description as string | null | undefined,
          mailNickname: body.mailNickname as string | null | undefined,
        });
        await recordChange(options.audit, tx, context, {
          ...groupEvent('Add group', 'Add', created, changes(undefined, created, AUDITED)),
        });
        for (const [i, url] of ((bind as unknown[] | undefined) ?? []).entries()) {
          const member = await resolveReference(directory, url, `members@odata.bind[${i}]`);
          if (await directory.groups.addMember(created.id, member.ref)) {
            await recordChange(options.audit, tx, context, {
              ...membershipEvent('Add member to group', created, member),
            });
          }
        }
        return created;
      }),
    );
    return noStore(reply)
      .code(201)
      .header('location', `${urls(scope.tenantId).self}/${group.id}`)
      .send({ '@odata.context': `${urls(scope.tenantId).context}/$entity`, ...group });
  });

  app.patch<{ Params: ItemParams }>(`${path}/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_USERS, 'change groups');
    const body = knownProperties(objectBody(request.body, 'the properties to change'), GROUP.name, WRITABLE);
    securityGroupOnly(body);
    if (body['members@odata.bind'] !== undefined) {
      throw badRequest('members@odata.bind: add members with POST /groups/{id}/members/$ref.');
    }
    const current = await directoryFor(scope).groups.get(request.params.id);
    if (!current) throw notFound(request.params.id);
    const context = await auditContextOf(request, scope, principal);
    await directoryWrite(() =>
      scope.transaction(async (tx) => {
        const updated = await directoryFor(tx).groups.update(current.id, {
          displayName: body.displayName as string | undefined,
          description: body.description as string | null | undefined,
          mailNickname: body.mailNickname as string | null | undefined,
        });
        if (!updated) throw notFound(request.params.id);
        const modified = changes(current, updated, AUDITED);
        if (modified.length > 0) {
          await recordChange(options.audit, tx, context, {
            ...groupEvent('Update group', 'Update', updated, modified),
          });
        }
      }),
    );
    return noStore(reply).code(204).send();
  });

  app.delete<{ Params: ItemParams }>(`${path}/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_USERS, 'delete groups');
    const current = await directoryFor(scope).groups.get(request.params.id);
    if (!current) throw notFound(request.params.id);
    const context = await auditContextOf(request, scope, principal);
    await scope.transaction(async (tx) => {
      if (!(await directoryFor(tx).groups.delete(current.id))) throw notFound(request.params.id);
      await recordChange(options.audit, tx, context, {
        ...groupEvent('Delete group', 'Delete', current, changes(current, undefined, AUDITED)),
      });
    });
    return noStore(reply).code(204).send();
  });

  app.get<{ Params: ItemParams }>(`${path}/:id/members`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, READ_USERS, "read a group's members");
    const query = parseListQuery(request.query, DIRECTORY_OBJECT);
    const directory = directoryFor(scope);
    const group = await directory.groups.get(request.params.id);
    if (!group) throw notFound(request.params.id);
    const members: Record<string, unknown>[] = [];
    for (const ref of await directory.groups.members(group.id)) {
      const object = await directoryObject(directory, ref);
      if (object) members.push(object.graph);
    }
    const base = options.graphBase(scope.tenantId);
    return sendPage(reply, memoryPage(members, query), query, {
      self: `${base}/groups/${encodeURIComponent(group.id)}/members`,
      context: `${base}/$metadata#directoryObjects`,
    });
  });

  app.post<{ Params: ItemParams }>(`${path}/:id/members/$ref`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_USERS, 'add members to groups');
    const body = objectBody(request.body, 'a reference {"@odata.id": "…/directoryObjects/{id}"}');
    const context = await auditContextOf(request, scope, principal);
    await directoryWrite(() =>
      scope.transaction(async (tx) => {
        const directory = directoryFor(tx);
        const group = await directory.groups.get(request.params.id);
        if (!group) throw notFound(request.params.id);
        const member = await resolveReference(directory, body['@odata.id'], '@odata.id');
        if (member.ref.type === 'group' && (await reaches(directory, member.ref.id, group.id))) {
          throw badRequest(
            `@odata.id: adding the group ${quote(member.name)} to ${quote(group.displayName)} would make a cycle ` +
              `of nested groups (${quote(group.displayName)} is already in ${quote(member.name)}, directly or not).`,
          );
        }
        if (!(await directory.groups.addMember(group.id, member.ref))) {
          // Graph's answer when the reference exists already.
          throw badRequest(
            "One or more added object references already exist for the following modified properties: 'members'.",
          );
        }
        await recordChange(options.audit, tx, context, {
          ...membershipEvent('Add member to group', group, member),
        });
      }),
    );
    return noStore(reply).code(204).send();
  });

  app.delete<{ Params: ItemParams & { memberId: string } }>(
    `${path}/:id/members/:memberId/$ref`,
    async (request, reply) => {
      const { scope, principal } = await options.caller(request);
      requireRole(principal, MANAGE_USERS, 'remove members from groups');
      const context = await auditContextOf(request, scope, principal);
      await scope.transaction(async (tx) => {
        const directory = directoryFor(tx);
        const group = await directory.groups.get(request.params.id);
        if (!group) throw notFound(request.params.id);
        const ref = (await directory.groups.members(group.id)).find((m) => m.id === request.params.memberId);
        if (!ref) throw notFound(request.params.memberId);
        const member = (await directoryObject(directory, ref)) ?? { ref, name: ref.id, graph: { id: ref.id } };
        await directory.groups.removeMember(group.id, ref);
        await recordChange(options.audit, tx, context, {
          ...membershipEvent('Remove member from group', group, member),
        });
      });
      return noStore(reply).code(204).send();
    },
  );
}

interface Member {
  readonly ref: MemberRef;
  readonly name: string;
  readonly graph: Record<string, unknown>;
  readonly userPrincipalName?: string;
}

/** A member as a directoryObject of Graph, or undefined when it has gone. */
async function directoryObject(directory: Directory, ref: MemberRef): Promise<Member | undefined> {
  if (ref.type === 'user') {
    const user = await directory.users.get(ref.id);
    return user && { ref, name: user.displayName, graph: graphUser(user), userPrincipalName: user.userPrincipalName };
  }
  const group = await directory.groups.get(ref.id);
  return group && { ref, name: group.displayName, graph: graphGroup(group) };
}

const REFERENCE = /\/(directoryObjects|users|groups)\/([^/?#]+)\/?$/i;

/**
 * The user or group an OData entity reference names: `https://graph.microsoft.com/v1.0/directoryObjects/{id}` (any
 * host: scripts written for Graph name Microsoft's), or `…/users/{id}`, `…/groups/{id}`. A 400 naming the field
 * when it is not a user or group of this tenant.
 */
async function resolveReference(directory: Directory, value: unknown, field: string): Promise<Member> {
  if (typeof value !== 'string' || value.trim() === '') {
    throw badRequest(
      `${field}: must be the URL of a directory object, such as https://graph.microsoft.com/v1.0/directoryObjects/{id}.`,
    );
  }
  let pathname: string;
  try {
    pathname = new URL(value).pathname;
  } catch {
    throw badRequest(`${field}: ${quote(value)} is not an absolute URL of a directory object.`);
  }
  const match = REFERENCE.exec(pathname);
  if (!match) {
    throw badRequest(`${field}: ${quote(value)} does not name a directory object (…/directoryObjects/{id}).`);
  }
  const kind = match[1].toLowerCase();
  let id: string;
  try {
    id = decodeURIComponent(match[2]);
  } catch {
    throw badRequest(`${field}: ${quote(value)} has a malformed percent-encoding in its id.`);
  }
  if (kind !== 'groups') {
    const user = await directory.users.find(id);
    if (user) return (await directoryObject(directory, { type: 'user', id: user.id })) as Member;
  }
  if (kind !== 'users') {
    const group = await directory.groups.get(id);
    if (group) return (await directoryObject(directory, { type: 'group', id: group.id })) as Member;
  }
  const what = kind === 'users' ? 'a user' : kind === 'groups' ? 'a group' : 'a user or group';
  throw badRequest(`${field}: ${quote(id)} is not ${what} of this tenant.`);
}

/** Whether `target` is `from` or inside it, through any depth of nested groups (a walk that stops at cycles). */
async function reaches(directory: Directory, from: string, target: string): Promise<boolean> {
  const seen = new Set<string>([from]);
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (id === target) return true;
    for (const m of await directory.groups.members(id)) {
      if (m.type === 'group' && !seen.has(m.id)) {
        seen.add(m.id);
        queue.push(m.id);
      }
    }
  }
  return false;
}

/** Portcullis groups are security groups: Microsoft 365, mail-enabled, dynamic and role-assignable ones are a 400. */
function securityGroupOnly(body: Record<string, unknown>): void {
  if (body.mailEnabled !== undefined && body.mailEnabled !== false) {
    throw badRequest('mailEnabled: Portcullis groups are security groups; must be false.');
  }
  if (body.securityEnabled !== undefined && body.securityEnabled !== true) {
    throw badRequest('securityEnabled: Portcullis groups are security groups; must be true.');
  }
  if (body.groupTypes !== undefined && !(Array.isArray(body.groupTypes) && body.groupTypes.length === 0)) {
    throw badRequest(
      "groupTypes: Portcullis groups are security groups with assigned members; must be [] (no 'Unified', no 'DynamicMembership').",
    );
  }
  if (body.isAssignableToRole !== undefined && body.isAssignableToRole !== false && body.isAssignableToRole !== null) {
    throw badRequest(
      'isAssignableToRole: admin roles are assigned to users in Portcullis, not to groups; must be false.',
    );
  }
  for (const name of ['displayName', 'description', 'mailNickname']) {
    const value = body[name];
    if (value !== undefined && value !== null && typeof value !== 'string')
      throw badRequest(`${name}: must be a string.`);
  }
}

function groupEvent(
  activityDisplayName: string,
  operationType: AuditEvent['operationType'],
  group: Group,
  modifiedProperties: AuditModifiedProperty[],
): AuditEvent {
  return {
    category: 'GroupManagement',
    activityDisplayName,
    operationType,
    targets: [{ id: group.id, type: 'Group', displayName: group.displayName, modifiedProperties }],
    loggedByService: LOGGED_BY,
  };
}

/** Entra's shape: the member first, carrying Group.ObjectID and Group.DisplayName, then the group. */
function membershipEvent(activityDisplayName: string, group: Group, member: Member): AuditEvent {
  const adding = activityDisplayName.startsWith('Add');
  const groupProperties: AuditModifiedProperty[] = [
    { displayName: 'Group.ObjectID', oldValue: adding ? null : group.id, newValue: adding ? group.id : null },
    {
      displayName: 'Group.DisplayName',
      oldValue: adding ? null : group.displayName,
      newValue: adding ? group.displayName : null,
    },
  ];
  const memberTarget: AuditTarget = {
    id: member.ref.id,
    type: member.ref.type === 'user' ? 'User' : 'Group',
    displayName: member.name,
    ...(member.userPrincipalName ? { userPrincipalName: member.userPrincipalName } : {}),
    modifiedProperties: groupProperties,
  };
  return {
    category: 'GroupManagement',
    activityDisplayName,
    operationType: adding ? 'Assign' : 'Unassign',
    targets: [memberTarget, { id: group.id, type: 'Group', displayName: group.displayName }],
    loggedByService: LOGGED_BY,
  };
}
