// Graph's users API over the directory (directory/users.ts): routes only translate HTTP into Users, the password
// store and the audit log. A password comes in as `passwordProfile.password`, is checked against the password policy,
// hashed with argon2id and never echoed; a deleted, disabled or re-passworded user's sessions end.
//
//   GET    /users                          a Graph page: $top, $select, $filter, @odata.nextLink
//   GET    /users/{id | userPrincipalName}  $select
//   POST   /users                          201 with the created user
//   PATCH  /users/{id | userPrincipalName}  204
//   DELETE /users/{id | userPrincipalName}  204
//   GET    /users/{id | userPrincipalName}/memberOf   the groups and directory roles the user is directly in
import type { FastifyInstance } from 'fastify';
import type { AuditEvent, AuditModifiedProperty } from '../audit/directory-audit-port.ts';
import { hashPassword } from '../auth/password-hash.ts';
import { checkPasswordPolicy } from '../auth/password-policy.ts';
import { PasswordCredentialRepository } from '../auth/store/password-credentials.ts';
import { directoryFor } from '../directory/directory.ts';
import { builtInRole, GLOBAL_ADMINISTRATOR, REPORTS_READER, USER_ADMINISTRATOR } from '../directory/roles.ts';
import type { User, UserChanges } from '../directory/users.ts';
import { HttpError } from '../http/graph-error.ts';
import { quote } from '../net/quote.ts';
import { SETTING_KEYS, TenantSettings } from '../store/repositories/tenant-settings.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { auditContextOf, recordChange } from './audit-actor.ts';
import { type Principal, requireRole } from './auth.ts';
import {
  badRequest,
  changes,
  DIRECTORY_OBJECT,
  type DirectoryRoutesOptions,
  directoryWrite,
  graphDirectoryRole,
  graphGroup,
  isPlainObject,
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

export const USER: EntityType = {
  name: 'microsoft.graph.user',
  properties: ['id', 'userPrincipalName', 'displayName', 'mail', 'userType', 'accountEnabled', 'createdDateTime'],
  filterable: {
    id: 'string',
    userPrincipalName: 'string',
    displayName: 'string',
    mail: 'string',
    userType: 'string',
    accountEnabled: 'boolean',
    createdDateTime: 'date',
  },
};

/**
 * The properties a POST or PATCH may carry. `mailNickname` is required by Graph's create and accepted here, but
 * Portcullis keeps no mail alias, so it is not stored.
 */
const WRITABLE = [
  'accountEnabled',
  'displayName',
  'mail',
  'userPrincipalName',
  'userType',
  'passwordProfile',
  'mailNickname',
];
/** What the audit log shows of a user (never the password). */
const AUDITED = ['userPrincipalName', 'displayName', 'mail', 'userType', 'accountEnabled'];
/**
 * The roles whose holders a User Administrator may change (Entra's "who can reset passwords" table, restricted to the
 * built-in roles Portcullis has): anyone else holding a role needs a Global Administrator, so a User Administrator
 * cannot take over a more privileged account by resetting its password.
 */
const USER_ADMINISTRATOR_MAY_CHANGE = new Set([USER_ADMINISTRATOR, REPORTS_READER]);

interface PasswordProfile {
  readonly password?: string;
  readonly forceChangePasswordNextSignIn?: boolean;
}

export function registerUsers(app: FastifyInstance, options: DirectoryRoutesOptions): void {
  const path = `${options.prefix}/users`;
  const urls = (tenantId: string) => ({
    self: `${options.graphBase(tenantId)}/users`,
    context: `${options.graphBase(tenantId)}/$metadata#users`,
  });

  registerCollectionReads(app, options, {
    segment: 'users',
    entity: USER,
    roles: READ_USERS,
    noun: 'users',
    list: (scope) => (r) => directoryFor(scope).users.list(r),
    find: (scope, id) => directoryFor(scope).users.find(id),
    shape: (u) => ({ ...u }),
  });

  app.get<{ Params: ItemParams }>(`${path}/:id/memberOf`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, READ_USERS, "read a user's memberships");
    const query = parseListQuery(request.query, DIRECTORY_OBJECT);
    const directory = directoryFor(scope);
    const user = await directory.users.find(request.params.id);
    if (!user) throw notFound(request.params.id);
    const groups = [];
    for (const id of await directory.groups.memberOf({ type: 'user', id: user.id })) {
      const group = await directory.groups.get(id);
      if (group) groups.push(graphGroup(group));
    }
    const roles = (await directory.roles.rolesOf(user.id)).flatMap((id) => {
      const role = builtInRole(id);
      return role ? [graphDirectoryRole(role)] : [];
    });
    const base = options.graphBase(scope.tenantId);
    return sendPage(reply, memoryPage([...groups, ...roles], query), query, {
      self: `${base}/users/${encodeURIComponent(user.id)}/memberOf`,
      context: `${base}/$metadata#directoryObjects`,
    });
  });

  app.post<{ Params: Params }>(path, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_USERS, 'create users');
    const body = knownProperties(objectBody(request.body, 'a user'), USER.name, WRITABLE);
    const profile = passwordProfile(body.passwordProfile);
    const upn = typeof body.userPrincipalName === 'string' ? body.userPrincipalName : undefined;
    // Hashed before the transaction: argon2id takes a while, and the store should not wait for it.
    const phc = profile?.password === undefined ? undefined : await checkedHash(profile.password, upn);
    const context = await auditContextOf(request, scope, principal);
    const user = await directoryWrite(() =>
      scope.transaction(async (tx) => {
        const created = await directoryFor(tx).users.create({
          userPrincipalName: body.userPrincipalName as string,
          displayName: body.displayName as string,
          mail: body.mail as string | null | undefined,
          userType: body.userType as string | undefined,
          accountEnabled: body.accountEnabled as boolean | undefined,
        });
        if (phc) await new PasswordCredentialRepository(tx).put({ userId: created.id, phc, updatedAt: tx.now() });
        await recordChange(options.audit, tx, context, {
          ...userEvent('Add user', 'Add', created, changes(undefined, created, AUDITED)),
        });
        return created;
      }),
    );
    const location = `${urls(scope.tenantId).self}/${user.id}`;
    const warnings = profile?.forceChangePasswordNextSignIn
      ? [
          'passwordProfile.forceChangePasswordNextSignIn: Portcullis does not ask for a new password at sign-in; ' +
            'the password given stays valid until it is changed',
        ]
      : [];
    return noStore(reply)
      .code(201)
      .header('location', location)
      .send({
        '@odata.context': `${urls(scope.tenantId).context}/$entity`,
        ...user,
        ...(warnings.length > 0 ? { '@portcullis.warnings': warnings } : {}),
      });
  });

  app.patch<{ Params: ItemParams }>(`${path}/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_USERS, 'change users');
    const body = knownProperties(objectBody(request.body, 'the properties to change'), USER.name, WRITABLE);
    const directory = directoryFor(scope);
    const current = await directory.users.find(request.params.id);
    if (!current) throw notFound(request.params.id);
    await requireAuthorityOver(scope, principal, current, 'change');
    const profile = passwordProfile(body.passwordProfile);
    if (body.passwordProfile !== undefined && profile?.password === undefined) {
      throw badRequest('passwordProfile.password: give the new password (a string).');
    }
    const upn = typeof body.userPrincipalName === 'string' ? body.userPrincipalName : current.userPrincipalName;
    const phc = profile?.password === undefined ? undefined : await checkedHash(profile.password, upn);
    const wanted: UserChanges = {};
    for (const name of ['userPrincipalName', 'displayName', 'mail', 'userType', 'accountEnabled'] as const) {
      if (body[name] !== undefined) (wanted as Record<string, unknown>)[name] = body[name];
    }
    const context = await auditContextOf(request, scope, principal);
    await directoryWrite(() =>
      scope.transaction(async (tx) => {
        if (body.accountEnabled === false) await refuseLastGlobalAdministrator(tx, current, 'disable');
        const after =
          Object.keys(wanted).length > 0 ? await directoryFor(tx).users.update(current.id, wanted) : current;
        if (!after) throw notFound(request.params.id);
        // A new password or a disabled account ends the user's sessions everywhere (Entra revokes them on a reset).
        if (phc || (current.accountEnabled && !after.accountEnabled)) {
          await options.sessions(tx.tenantId).revokeAllForUser(current.id, tx);
        }
        const modified = changes(current, after, AUDITED);
        if (modified.length > 0) {
          await recordChange(options.audit, tx, context, userEvent('Update user', 'Update', after, modified));
        }
        if (phc) {
          await new PasswordCredentialRepository(tx).put({ userId: current.id, phc, updatedAt: tx.now() });
          await recordChange(options.audit, tx, context, userEvent('Reset user password', 'Update', after, []));
        }
      }),
    );
    return noStore(reply).code(204).send();
  });

  app.delete<{ Params: ItemParams }>(`${path}/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, MANAGE_USERS, 'delete users');
    const current = await directoryFor(scope).users.find(request.params.id);
    if (!current) throw notFound(request.params.id);
    await requireAuthorityOver(scope, principal, current, 'delete');
    const context = await auditContextOf(request, scope, principal);
    await directoryWrite(() =>
      scope.transaction(async (tx) => {
        await refuseLastGlobalAdministrator(tx, current, 'delete');
        // Before the delete: the sessions go with the user's row, and the caches must hear that they ended.
        await options.sessions(tx.tenantId).revokeAllForUser(current.id, tx);
        if (!(await directoryFor(tx).users.delete(current.id))) throw notFound(request.params.id);
        await recordChange(
          options.audit,
          tx,
          context,
          userEvent('Delete user', 'Delete', current, changes(current, undefined, AUDITED)),
        );
      }),
    );
    return noStore(reply).code(204).send();
  });
}

function userEvent(
  activityDisplayName: string,
  operationType: AuditEvent['operationType'],
  user: User,
  modifiedProperties: AuditModifiedProperty[],
): AuditEvent {
  return {
    category: 'UserManagement',
    activityDisplayName,
    operationType,
    targets: [
      {
        id: user.id,
        type: 'User',
        displayName: user.displayName,
        userPrincipalName: user.userPrincipalName,
        modifiedProperties,
      },
    ],
    loggedByService: LOGGED_BY,
  };
}

function passwordProfile(value: unknown): PasswordProfile | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw badRequest('passwordProfile: must be an object such as {"password": "…"}.');
  const known = ['password', 'forceChangePasswordNextSignIn', 'forceChangePasswordNextSignInWithMfa'];
  for (const key of Object.keys(value)) {
    if (!key.startsWith('@') && !known.includes(key)) {
      throw badRequest(`passwordProfile.${key}: not a property Portcullis supports; supported: ${known.join(', ')}.`);
    }
  }
  const { password, forceChangePasswordNextSignIn: force, forceChangePasswordNextSignInWithMfa: forceMfa } = value;
  if (password !== undefined && typeof password !== 'string') {
    throw badRequest('passwordProfile.password: must be a string.');
  }
  for (const [name, flag] of [
    ['forceChangePasswordNextSignIn', force],
    ['forceChangePasswordNextSignInWithMfa', forceMfa],
  ] as const) {
    if (flag !== undefined && typeof flag !== 'boolean') {
      throw badRequest(`passwordProfile.${name}: must be true or false.`);
    }
  }
  return { password, forceChangePasswordNextSignIn: force === true || forceMfa === true };
}

/** The password's argon2id PHC string, or a 400 naming every rule of the password policy it breaks. */
async function checkedHash(password: string, userPrincipalName: string | undefined): Promise<string> {
  const violations = checkPasswordPolicy(password, { userPrincipalName });
  if (violations.length > 0) {
    throw badRequest(`passwordProfile.password: ${violations.map((v) => v.message).join('; ')}.`);
  }
  return hashPassword(password);
}

/**
 * A User Administrator may change users without admin roles, or with the roles it may manage; anyone holding
 * another role (a Global Administrator, a Security Administrator, …) can be changed only by a Global Administrator.
 */
export async function requireAuthorityOver(
  scope: TenantScope,
  principal: Principal,
  target: User,
  verb: string,
): Promise<void> {
  if (principal.roles.has(GLOBAL_ADMINISTRATOR)) return;
  const held = await directoryFor(scope).roles.rolesOf(target.id);
  const beyond = held.filter((role) => !USER_ADMINISTRATOR_MAY_CHANGE.has(role));
  if (beyond.length === 0) return;
  const names = beyond.map((r) => builtInRole(r)?.displayName ?? r).join(', ');
  throw new HttpError(
    403,
    `Insufficient privileges to ${verb} ${quote(target.userPrincipalName)}: the user holds ${names}, ` +
      'and only a Global Administrator can change such a user.',
    'Authorization_RequestDenied',
  );
}

/** The tenant keeps at least one enabled user who is a Global Administrator, or nobody could manage it any more. */
export async function refuseLastGlobalAdministrator(scope: TenantScope, target: User, verb: string): Promise<void> {
  // Call inside the change's transaction: the lock makes two admins disabling each other run one after the other.
  await new TenantSettings(scope).lock(SETTING_KEYS.globalAdministratorsLock);
  const directory = directoryFor(scope);
  const holders = await directory.roles.list({ roleDefinitionId: GLOBAL_ADMINISTRATOR });
  if (!holders.some((h) => h.principalId === target.id)) return;
  for (const holder of holders) {
    if (holder.principalId === target.id) continue;
    if ((await directory.users.get(holder.principalId))?.accountEnabled) return;
  }
  throw badRequest(
    `Cannot ${verb} ${quote(target.userPrincipalName)}: the user is the tenant's only enabled Global Administrator; ` +
      'give another user that role first.',
  );
}
