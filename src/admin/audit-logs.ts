// Graph's audit log API under each tenant's Graph base URL: the directory audit log (audit/directory-audit.ts) and the
// sign-in log (audit/sign-in-log.ts), newest first, with the OData subset of odata.ts.
//
//   GET /auditLogs/directoryAudits        a Graph page: $top, $select, $filter, @odata.nextLink
//   GET /auditLogs/directoryAudits/{id}   $select
//   GET /auditLogs/signIns                the same
//   GET /auditLogs/signIns/{id}
//
// Who may read them: the roles Entra lets read its audit and sign-in logs (Entra's "Microsoft Entra monitoring and
// health" licensing table: Reports Reader, Security Reader, Security Administrator, Global Reader) and Global
// Administrator; Global Reader is not a built-in role here yet. Conditional Access Administrator is not among them,
// in Entra or here: the logs show every user's sign-ins and every admin's changes.
//
// Paging walks the log in its stored order (time, then id, descending) and applies the whole $filter to each entry;
// the parts of the filter an index can answer (time bounds, user and application ids) narrow the walk first. A page
// stops after MAX_SCAN entries even when it holds fewer than $top matches, with an @odata.nextLink to go on from there,
// so a filter that matches little cannot make one request read the whole log.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type DirectoryAudit, type DirectoryAuditRange, DirectoryAuditRepository } from '../audit/directory-audit.ts';
import { type SignInEntry, type SignInLogFilter, SignInLogRepository } from '../audit/sign-in-log.ts';
import { GLOBAL_ADMINISTRATOR, REPORTS_READER, SECURITY_ADMINISTRATOR, SECURITY_READER } from '../directory/roles.ts';
import { HttpError } from '../http/graph-error.ts';
import { quote } from '../net/quote.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { type Principal, requireRole } from './auth.ts';
import {
  type EntityType,
  encodeSkipToken,
  type Filter,
  type ListQuery,
  matches,
  nextLinkQuery,
  ODataError,
  parseItemQuery,
  parseListQuery,
  project,
} from './odata.ts';

/** Read the directory audit and sign-in logs (see the file's head for the source). */
export const READ_AUDIT_LOGS = [GLOBAL_ADMINISTRATOR, SECURITY_ADMINISTRATOR, SECURITY_READER, REPORTS_READER] as const;

/** Entries one request reads at most (see the file's head). */
export const MAX_SCAN = 5000;
/** Rows per query while scanning. */
const BATCH = 500;

type Params = { tenant: string };
type ItemParams = Params & { id: string };

export interface AuditLogRoutesOptions {
  /** The route prefix of the Graph base URL: `/t/:tenant/graph/v1.0`. */
  readonly prefix: string;
  /** The absolute Graph base URL of a tenant: `{publicUrl}/t/{tenantId}/graph/v1.0`. */
  readonly graphBase: (tenantId: string) => string;
  readonly caller: (
    request: FastifyRequest<{ Params: Params }>,
  ) => Promise<{ scope: TenantScope; principal: Principal }>;
}

/** A place in a log's newest-first order: after the entry with this time and id. */
interface Position {
  readonly at: number;
  readonly id: string;
}

/** What differs between the two logs. */
interface Log<T extends { id: string }> {
  readonly segment: 'directoryAudits' | 'signIns';
  readonly noun: string;
  readonly entity: EntityType;
  readonly timeProperty: 'activityDateTime' | 'createdDateTime';
  get(scope: TenantScope, id: string): Promise<T | undefined>;
  /** Up to `limit` entries after `after`, newest first, narrowed by what `narrow` took from the filter. */
  fetch(scope: TenantScope, narrow: Narrowing, after: Position | undefined, limit: number): Promise<T[]>;
}

/** The parts of a $filter an index answers: every entry the filter matches lies within them. */
interface Narrowing {
  from?: number;
  to?: number;
  /** Property path → the id it must equal (lower-case ids only; the filter compares without regard to case). */
  readonly ids: Map<string, string>;
  /** Sign-ins: status/errorCode eq 0 (success) or ne 0 (failure). */
  status?: 'success' | 'failure';
}

const DIRECTORY_AUDITS: Log<DirectoryAudit> = {
  segment: 'directoryAudits',
  noun: 'directory audit record',
  timeProperty: 'activityDateTime',
  entity: {
    name: 'microsoft.graph.directoryAudit',
    properties: [
      'id',
      'category',
      'correlationId',
      'result',
      'resultReason',
      'activityDisplayName',
      'activityDateTime',
      'loggedByService',
      'operationType',
      'initiatedBy',
      'targetResources',
      'additionalDetails',
    ],
    filterable: {
      id: 'string',
      category: 'string',
      correlationId: 'string',
      result: 'string',
      activityDisplayName: 'string',
      activityDateTime: 'date',
      loggedByService: 'string',
      operationType: 'string',
      'initiatedBy/user/id': 'string',
      'initiatedBy/user/displayName': 'string',
      'initiatedBy/user/userPrincipalName': 'string',
      'initiatedBy/app/appId': 'string',
      'initiatedBy/app/displayName': 'string',
    },
  },
  get: (scope, id) => new DirectoryAuditRepository(scope).get(id),
  fetch(scope, narrow, after, limit) {
    const initiatedBy = narrow.ids.get('initiatedBy/user/id') ?? narrow.ids.get('initiatedBy/app/appId');
    const range: DirectoryAuditRange = { from: narrow.from, to: narrow.to, initiatedBy };
    return new DirectoryAuditRepository(scope).list({ limit, range, after });
  },
};

const SIGN_INS: Log<SignInEntry> = {
  segment: 'signIns',
  noun: 'sign-in',
  timeProperty: 'createdDateTime',
  entity: {
    name: 'microsoft.graph.signIn',
    properties: [
      'id',
      'createdDateTime',
      'userDisplayName',
      'userPrincipalName',
      'userId',
      'appId',
      'appDisplayName',
      'resourceId',
      'resourceDisplayName',
      'ipAddress',
      'clientAppUsed',
      'userAgent',
      'correlationId',
      'conditionalAccessStatus',
      'isInteractive',
      'authenticationRequirement',
      'riskDetail',
      'riskLevelAggregated',
      'riskLevelDuringSignIn',
      'riskState',
      'riskEventTypes',
      'riskEventTypes_v2',
      'status',
      'deviceDetail',
      'location',
      'appliedConditionalAccessPolicies',
    ],
    // Graph's List signIns: "$filter (eq, startsWith) on id, userId, appId, createdDateTime (ge, le also),
    // userDisplayName, userPrincipalName, appDisplayName, ipAddress, status/errorCode, location/city, location/state,
    // location/countryOrRegion, clientAppUsed, conditionalAccessStatus, correlationId, isInteractive, …".
    filterable: {
      id: 'string',
      createdDateTime: 'date',
      userId: 'string',
      userDisplayName: 'string',
      userPrincipalName: 'string',
      appId: 'string',
      appDisplayName: 'string',
      resourceId: 'string',
      resourceDisplayName: 'string',
      ipAddress: 'string',
      clientAppUsed: 'string',
      correlationId: 'string',
      conditionalAccessStatus: 'string',
      isInteractive: 'boolean',
      'status/errorCode': 'number',
      'location/city': 'string',
      'location/state': 'string',
      'location/countryOrRegion': 'string',
    },
  },
  get: (scope, id) => new SignInLogRepository(scope).get(id),
  async fetch(scope, narrow, after, limit) {
    const filter: SignInLogFilter = {
      from: narrow.from,
      to: narrow.to,
      userId: narrow.ids.get('userId'),
      appId: narrow.ids.get('appId'),
      status: narrow.status,
    };
    const page = await new SignInLogRepository(scope).list({
      top: limit,
      filter,
      ...(after ? { after: { createdAt: after.at, id: after.id } } : {}),
    });
    return page.items;
  },
};

export function registerAuditLogs(app: FastifyInstance, options: AuditLogRoutesOptions): void {
  for (const log of [DIRECTORY_AUDITS, SIGN_INS] as Log<{ id: string }>[]) {
    const path = `${options.prefix}/auditLogs/${log.segment}`;
    const url = (tenantId: string) => `${options.graphBase(tenantId)}/auditLogs/${log.segment}`;
    const context = (tenantId: string) => `${options.graphBase(tenantId)}/$metadata#auditLogs/${log.segment}`;
    const what = log.segment === 'signIns' ? 'read the sign-in log' : 'read the directory audit log';

    app.get<{ Params: Params }>(path, async (request, reply) => {
      const { scope, principal } = await options.caller(request);
      requireRole(principal, READ_AUDIT_LOGS, what);
      const query = parseListQuery(request.query, log.entity);
      const start = query.skipToken && positionOf(query.skipToken);
      const page = await scanPage(log, scope, query, start);
      const selected = query.select ? `(${query.select.join(',')})` : '';
      const next = page.next && encodeSkipToken({ id: page.next.id, created: page.next.at });
      return noStore(reply).send({
        '@odata.context': `${context(scope.tenantId)}${selected}`,
        value: page.items.map((item) => project(item, query.select)),
        ...(next ? { '@odata.nextLink': `${url(scope.tenantId)}?${nextLinkQuery(query, next)}` } : {}),
      });
    });

    app.get<{ Params: ItemParams }>(`${path}/:id`, async (request, reply) => {
      const { scope, principal } = await options.caller(request);
      requireRole(principal, READ_AUDIT_LOGS, what);
      const { select } = parseItemQuery(request.query, log.entity);
      const item = await log.get(scope, request.params.id);
      if (!item) {
        throw new HttpError(
          404,
          `There is no ${log.noun} with id ${quote(request.params.id.slice(0, 128))} in this tenant.`,
          'Request_ResourceNotFound',
        );
      }
      const selected = select ? `(${select.join(',')})` : '';
      return noStore(reply).send({
        '@odata.context': `${context(scope.tenantId)}${selected}/$entity`,
        ...project(item, select),
      });
    });
  }
}

function positionOf(token: NonNullable<ListQuery['skipToken']>): Position {
  if (token.created === null) {
    throw new ODataError('$skiptoken is not valid: use the @odata.nextLink of the previous page as it is.');
  }
  return { at: token.created, id: token.id };
}

/**
 * One page: entries matching the filter, after `start`, at most `query.top`, and where the next page starts when
 * there may be more (after the last entry returned, or after the last one read when the scan limit was reached).
 */
async function scanPage<T extends { id: string }>(
  log: Log<T>,
  scope: TenantScope,
  query: Pick<ListQuery, 'top' | 'filter'>,
  start: Position | undefined,
): Promise<{ items: T[]; next?: Position }> {
  const narrow = narrowing(query.filter, log.timeProperty);
  const at = (item: T): Position => ({
    at: Date.parse(String((item as Record<string, unknown>)[log.timeProperty])),
    id: item.id,
  });
  const items: T[] = [];
  let after = start;
  let scanned = 0;
  for (;;) {
    const limit = Math.min(BATCH, MAX_SCAN - scanned);
    const batch = await log.fetch(scope, narrow, after, limit);
    for (const item of batch) {
      scanned++;
      if (query.filter === undefined || matches(query.filter, view(item, log.entity))) {
        // One more match than the page holds: there is a next page, starting after the page's last entry.
        if (items.length === query.top) return { items, next: at(items[items.length - 1]) };
        items.push(item);
      }
      after = at(item);
    }
    if (batch.length < limit) return { items };
    if (scanned >= MAX_SCAN) {
      return { items, next: items.length === query.top ? at(items[items.length - 1]) : after };
    }
  }
}

/** The entry with its filterable nested properties (`status/errorCode`) also under their path, for `matches`. */
function view(item: object, entity: EntityType): object {
  const out: Record<string, unknown> = { ...(item as Record<string, unknown>) };
  for (const path of Object.keys(entity.filterable)) {
    if (!path.includes('/')) continue;
    let value: unknown = item;
    for (const part of path.split('/')) {
      value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
    }
    out[path] = value;
  }
  return out;
}

/** Ids an index can match exactly: the filter compares them without regard to case, and stored ids are lower case. */
const INDEXED_IDS = ['userId', 'appId', 'initiatedBy/user/id', 'initiatedBy/app/appId'];

/** What the filter's top-level `and`s say about time, ids and status (see Narrowing). */
function narrowing(filter: Filter | undefined, timeProperty: string): Narrowing {
  const narrow: Narrowing = { ids: new Map() };
  const visit = (f: Filter): void => {
    if (f.kind === 'and') {
      visit(f.left);
      visit(f.right);
      return;
    }
    if (f.kind !== 'compare') return;
    const { op, property, value } = f;
    if (property === timeProperty && value.type === 'date') {
      const v = value.value;
      if (op === 'ge' || op === 'gt' || op === 'eq')
        narrow.from = Math.max(narrow.from ?? -Infinity, op === 'gt' ? v + 1 : v);
      if (op === 'le' || op === 'lt' || op === 'eq')
        narrow.to = Math.min(narrow.to ?? Infinity, op === 'lt' ? v - 1 : v);
    } else if (op === 'eq' && INDEXED_IDS.includes(property) && value.type === 'string') {
      if (value.value === value.value.toLowerCase() && !narrow.ids.has(property)) narrow.ids.set(property, value.value);
    } else if (property === 'status/errorCode' && value.type === 'number' && value.value === 0) {
      if (op === 'eq') narrow.status = 'success';
      if (op === 'ne') narrow.status = 'failure';
    }
  };
  if (filter) visit(filter);
  return narrow;
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}
