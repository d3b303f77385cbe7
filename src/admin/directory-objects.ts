// What the directory routes (users.ts, groups.ts, applications.ts) share: who may read and change what, the caller as
// the audit log names it, Graph's directoryObject shapes (a user, a group, a directory role) with `@odata.type`,
// lists paged by id with the OData subset of odata.ts, and the Graph errors of Entra's directory
// (`Request_BadRequest`, `Request_ResourceNotFound`).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DirectoryAuditWriter } from '../audit/directory-audit-port.ts';
import type { Group } from '../directory/groups.ts';
import {
  APPLICATION_ADMINISTRATOR,
  type BuiltInRole,
  CONDITIONAL_ACCESS_ADMINISTRATOR,
  GLOBAL_ADMINISTRATOR,
  REPORTS_READER,
  SECURITY_ADMINISTRATOR,
  SECURITY_READER,
  USER_ADMINISTRATOR,
} from '../directory/roles.ts';
import type { User } from '../directory/users.ts';
import type { Page } from '../directory/validate.ts';
import { PortcullisError } from '../errors.ts';
import { HttpError } from '../http/graph-error.ts';
import { quote } from '../net/quote.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { type Principal, requireRole } from './auth.ts';
import {
  type EntityType,
  encodeSkipToken,
  type ListQuery,
  matches,
  nextLinkQuery,
  parseItemQuery,
  parseListQuery,
  project,
} from './odata.ts';

/** Roles that may read the directory without changing it (Entra lets them read users, groups and applications). */
const DIRECTORY_READERS = [SECURITY_ADMINISTRATOR, CONDITIONAL_ACCESS_ADMINISTRATOR, SECURITY_READER, REPORTS_READER];
/** Users and groups: create, change, delete, members (issue 6: "User Administrator — users and groups"). */
export const MANAGE_USERS = [GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR] as const;
export const READ_USERS = [...MANAGE_USERS, ...DIRECTORY_READERS] as const;
/** Applications (issue 6: "Application Administrator — applications"). */
export const MANAGE_APPLICATIONS = [GLOBAL_ADMINISTRATOR, APPLICATION_ADMINISTRATOR] as const;
export const READ_APPLICATIONS = [...MANAGE_APPLICATIONS, ...DIRECTORY_READERS] as const;

type Params = { tenant: string };

export interface DirectoryRoutesOptions {
  /** The route prefix of the Graph base URL: `/t/:tenant/graph/v1.0`. */
  readonly prefix: string;
  /** The absolute Graph base URL of a tenant: `{publicUrl}/t/{tenantId}/graph/v1.0`. */
  readonly graphBase: (tenantId: string) => string;
  /** The tenant and the authenticated caller of a request, or an HttpError (404 tenant, 401 token). */
  readonly caller: (
    request: FastifyRequest<{ Params: Params }>,
  ) => Promise<{ scope: TenantScope; principal: Principal }>;
  /** Every change is recorded here, in the change's own transaction. */
  readonly audit: DirectoryAuditWriter;
  /** The tenant's sessions: a deleted, disabled or re-passworded user's sessions end. */
  readonly sessions: (tenantId: string) => {
    /** `within`: the change's transaction, so the revocation lands with the change and its audit record. */
    revokeAllForUser(userId: string, within?: TenantScope): Promise<unknown>;
  };
}

export type Route = (app: FastifyInstance, options: DirectoryRoutesOptions) => void;

export const LOGGED_BY = 'Portcullis Admin API';

// --- Graph shapes ------------------------------------------------------------------------------------------------------

export function graphUser(user: User): Record<string, unknown> {
  return { '@odata.type': '#microsoft.graph.user', ...user };
}

export function graphGroup(group: Group): Record<string, unknown> {
  return { '@odata.type': '#microsoft.graph.group', ...group };
}

/** Graph's directoryRole; Portcullis has no role objects apart from the templates, so the id is the template id. */
export function graphDirectoryRole(role: BuiltInRole): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.directoryRole',
    id: role.id,
    deletedDateTime: null,
    displayName: role.displayName,
    description: role.description,
    roleTemplateId: role.id,
  };
}

/** A single entity as Graph answers it: without `@odata.type` (the context names the type). */
export function entity(item: Record<string, unknown>): Record<string, unknown> {
  const { '@odata.type': _type, ...rest } = item;
  return rest;
}

/** What `$select` and `$filter` may name on a collection of directoryObjects (members, memberOf). */
export const DIRECTORY_OBJECT: EntityType = {
  name: 'microsoft.graph.directoryObject',
  properties: [
    'id',
    'displayName',
    'userPrincipalName',
    'mail',
    'userType',
    'accountEnabled',
    'description',
    'mailNickname',
    'mailEnabled',
    'securityEnabled',
    'groupTypes',
    'roleTemplateId',
    'createdDateTime',
  ],
  filterable: { id: 'string', displayName: 'string', createdDateTime: 'date' },
  derivedTypes: ['microsoft.graph.user', 'microsoft.graph.group', 'microsoft.graph.directoryRole'],
};

// --- lists ---------------------------------------------------------------------------------------------------------

const STORE_PAGE = 999;

/**
 * One Graph page of a directory collection read from the store in id order: the items after the skip token that
 * match the filter (judged on the Graph shape), at most `top`, and whether there are more. The skip token is the last
 * item's id, so a page goes on correctly when that item has been deleted since.
 */
export async function storePage<T extends { id: string }>(
  list: (request: { top: number; after?: string }) => Promise<Page<T>>,
  shape: (item: T) => Record<string, unknown>,
  query: ListQuery,
): Promise<{ items: Record<string, unknown>[]; next?: string }> {
  const found: Record<string, unknown>[] = [];
  let after = query.skipToken?.id;
  for (;;) {
    // Without a filter every row is a match: read one more than a page, to know whether there is a next one.
    const page = await list({ top: query.filter ? STORE_PAGE : Math.min(query.top + 1, STORE_PAGE), after });
    for (const item of page.items) {
      const shaped = shape(item);
      if (query.filter && !matches(query.filter, shaped)) continue;
      found.push(shaped);
      if (found.length > query.top) return { items: found.slice(0, query.top), next: lastId(found, query.top) };
    }
    if (page.next === undefined) return { items: found };
    after = page.next;
  }
}

/** The same over items already in memory (a group's members, a user's memberOf): sorted by id, paged by id. */
export function memoryPage(
  items: readonly Record<string, unknown>[],
  query: ListQuery,
): { items: Record<string, unknown>[]; next?: string } {
  const after = query.skipToken?.id;
  const sorted = [...items]
    .filter((item) => (query.filter ? matches(query.filter, item) : true))
    .sort((a, b) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0))
    .filter((item) => after === undefined || String(item.id) > after);
  return sorted.length > query.top
    ? { items: sorted.slice(0, query.top), next: lastId(sorted, query.top) }
    : { items: sorted };
}

function lastId(items: readonly Record<string, unknown>[], top: number): string {
  return encodeSkipToken({ id: String(items[top - 1].id), created: null });
}

/** Answers a Graph collection page: `@odata.context`, `value`, and `@odata.nextLink` when there is more. */
export function sendPage(
  reply: FastifyReply,
  page: { items: Record<string, unknown>[]; next?: string },
  query: ListQuery,
  urls: { context: string; self: string },
): FastifyReply {
  const selected = query.select ? `(${query.select.join(',')})` : '';
  return noStore(reply).send({
    '@odata.context': `${urls.context}${selected}`,
    value: page.items.map((item) => project(item, query.select)),
    ...(page.next ? { '@odata.nextLink': `${urls.self}?${nextLinkQuery(query, page.next)}` } : {}),
  });
}

/** What differs between the directory collections' list and get routes. */
export interface CollectionReads<T extends { id: string }> {
  /** `users`, `groups`, `applications`: the path segment and the `@odata.context` name. */
  readonly segment: string;
  readonly entity: EntityType;
  readonly roles: readonly string[];
  /** For the 403 message: `users`. */
  readonly noun: string;
  list(scope: TenantScope): (request: { top: number; after?: string }) => Promise<Page<T>>;
  find(scope: TenantScope, id: string): Promise<T | undefined>;
  /** The Graph shape of one item. */
  shape(item: T): Record<string, unknown>;
}

/** `GET /{segment}` (a page, OData subset) and `GET /{segment}/{id}` (`$select`) of a directory collection. */
export function registerCollectionReads<T extends { id: string }>(
  app: FastifyInstance,
  options: DirectoryRoutesOptions,
  spec: CollectionReads<T>,
): void {
  const path = `${options.prefix}/${spec.segment}`;
  const urls = (tenantId: string) => ({
    self: `${options.graphBase(tenantId)}/${spec.segment}`,
    context: `${options.graphBase(tenantId)}/$metadata#${spec.segment}`,
  });

  app.get<{ Params: Params }>(path, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, spec.roles, `read ${spec.noun}`);
    const query = parseListQuery(request.query, spec.entity);
    const page = await storePage(spec.list(scope), spec.shape, query);
    return sendPage(reply, page, query, urls(scope.tenantId));
  });

  app.get<{ Params: Params & { id: string } }>(`${path}/:id`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, spec.roles, `read ${spec.noun}`);
    const { select } = parseItemQuery(request.query, spec.entity);
    const item = await spec.find(scope, request.params.id);
    if (!item) throw notFound(request.params.id);
    const selected = select ? `(${select.join(',')})` : '';
    return noStore(reply).send({
      '@odata.context': `${urls(scope.tenantId).context}${selected}/$entity`,
      ...project(spec.shape(item), select),
    });
  });
}

// --- requests and errors -------------------------------------------------------------------------------------------

export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as a JSON object, or a 400 saying what was expected. */
export function objectBody(body: unknown, noun: string): Record<string, unknown> {
  if (isPlainObject(body)) return body;
  throw badRequest(
    body === undefined
      ? `The request needs ${noun} as a JSON object, sent with Content-Type: application/json.`
      : `The request body must be ${noun} as a JSON object.`,
  );
}

/**
 * The body's properties by their Graph name (matched without regard to case, as Graph does), refusing any the route
 * does not know: a property Portcullis would silently drop is a 400 naming it, not a success that did less than asked.
 * Instance annotations and `@odata.*` control information are ignored; so are the read-only properties.
 */
export function knownProperties(
  body: Record<string, unknown>,
  type: string,
  known: readonly string[],
  readOnly: readonly string[] = ['id', 'createdDateTime'],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@') || (key.includes('@') && !key.endsWith('@odata.bind'))) continue;
    const name = known.find((k) => k.toLowerCase() === key.toLowerCase());
    if (name !== undefined) {
      out[name] = value;
      continue;
    }
    if (readOnly.some((r) => r.toLowerCase() === key.toLowerCase())) continue;
    throw badRequest(
      `Property ${quote(key)} is not supported on type '${type}' by Portcullis; supported: ${known.join(', ')}.`,
    );
  }
  return out;
}

/** Graph's 400 for the directory (`Request_BadRequest`). */
export function badRequest(message: string): HttpError {
  return new HttpError(400, message, 'Request_BadRequest');
}

/** Graph's 404 for a directory object that is not there (`Request_ResourceNotFound`), in Graph's words. */
export function notFound(id: string): HttpError {
  return new HttpError(
    404,
    `Resource ${quote(id)} does not exist or one of its queried reference-property objects are not present.`,
    'Request_ResourceNotFound',
  );
}

const INVALID_PREFIX = 'The request is invalid: a field is missing or has a value that is not allowed. ';

/**
 * Runs a directory write, turning its validation error (PortcullisError 90001, naming the field) into Graph's 400.
 * `rename` maps the directory's field names to the request's where they differ (`redirectUris` → `web.redirectUris`).
 */
export async function directoryWrite<T>(write: () => Promise<T>, rename: Record<string, string> = {}): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof PortcullisError && error.code === 90001) {
      let detail = error.message.startsWith(INVALID_PREFIX)
        ? error.message.slice(INVALID_PREFIX.length)
        : error.message;
      const field = /^[A-Za-z]+/.exec(detail)?.[0];
      if (field !== undefined && rename[field] !== undefined) detail = rename[field] + detail.slice(field.length);
      throw badRequest(detail.endsWith('.') ? detail : `${detail}.`);
    }
    throw error;
  }
}

/** The audit log's modifiedProperties for the properties whose value changed (compared as JSON). */
export function changes(
  before: object | undefined,
  after: object | undefined,
  properties: readonly string[],
): { displayName: string; oldValue: unknown; newValue: unknown }[] {
  const out: { displayName: string; oldValue: unknown; newValue: unknown }[] = [];
  for (const name of properties) {
    const oldValue = (before as Record<string, unknown> | undefined)?.[name] ?? null;
    const newValue = (after as Record<string, unknown> | undefined)?.[name] ?? null;
    if (JSON.stringify(oldValue) !== JSON.stringify(newValue)) out.push({ displayName: name, oldValue, newValue });
  }
  return out;
}
