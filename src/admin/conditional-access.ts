// Graph's Conditional Access admin API under each tenant's Graph base URL: named locations and policies (list, get,
// create, update, delete, with the OData subset of odata.ts) and What If (`POST /identity/conditionalAccess/evaluate`,
// the contract of `portcullis whatif`). Routes only translate HTTP into PolicyRepository and the What If engine.
//
//   GET    /identity/conditionalAccess/namedLocations        a Graph page: $top, $select, $filter, @odata.nextLink
//   POST   /identity/conditionalAccess/namedLocations        201 with the created location
//   GET    /identity/conditionalAccess/namedLocations/{id}   $select
//   PATCH  /identity/conditionalAccess/namedLocations/{id}   204; only the given properties change
//   DELETE /identity/conditionalAccess/namedLocations/{id}   204; 409 while trusted or used by a policy
//   … the same five for /identity/conditionalAccess/policies
//   POST   /identity/conditionalAccess/evaluate              What If: {"value": [whatIfAnalysisResult], "decision"}
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditOperation, AuditTargetType, DirectoryAuditWriter } from '../audit/directory-audit-port.ts';
import type { Clock } from '../clock.ts';
import { directoryFor } from '../directory/directory.ts';
import {
  CONDITIONAL_ACCESS_ADMINISTRATOR,
  GLOBAL_ADMINISTRATOR,
  REPORTS_READER,
  SECURITY_ADMINISTRATOR,
  SECURITY_READER,
} from '../directory/roles.ts';
import { HttpError } from '../http/graph-error.ts';
import { quote } from '../net/quote.ts';
import { type CompiledPolicySet, compilePolicySet } from '../policy/compile.ts';
import type { PolicyLimits } from '../policy/import/limits.ts';
import { type Problem, show } from '../policy/import/problems.ts';
import type { ConditionalAccessPolicy, NamedLocation } from '../policy/types.ts';
import { parseWhatIfRequest, WhatIfInputError, whatIf } from '../policy/whatif.ts';
import { InvalidPolicyError, PolicyRepository, type Saved } from '../store/repositories/policy-repository.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { type AuditContext, auditContextOf, recordChange } from './audit-actor.ts';
import { type Principal, requireRole } from './auth.ts';
import {
  type EntityType,
  mergePatch,
  nextLinkQuery,
  pageOf,
  parseItemQuery,
  parseListQuery,
  project,
} from './odata.ts';

/** Change named locations and policies, and run What If (issue 6: "locations, policies, What If"). */
export const MANAGE_CONDITIONAL_ACCESS = [
  GLOBAL_ADMINISTRATOR,
  CONDITIONAL_ACCESS_ADMINISTRATOR,
  SECURITY_ADMINISTRATOR,
] as const;
/** Read them: the managers, and the read-only roles. (Entra's Global Reader is not a built-in role here yet.) */
export const READ_CONDITIONAL_ACCESS = [...MANAGE_CONDITIONAL_ACCESS, SECURITY_READER, REPORTS_READER] as const;
/** What If changes nothing, but it shows how policies treat any user: the managers' tool, as the issue lists it. */
export const RUN_WHAT_IF = MANAGE_CONDITIONAL_ACCESS;

type Params = { tenant: string };
type ItemParams = Params & { id: string };

export interface ConditionalAccessRoutesOptions {
  /** The route prefix of the Graph base URL: `/t/:tenant/graph/v1.0`. */
  readonly prefix: string;
  /** The absolute Graph base URL of a tenant: `{publicUrl}/t/{tenantId}/graph/v1.0`. */
  readonly graphBase: (tenantId: string) => string;
  /** The tenant and the authenticated caller of a request, or an HttpError (404 tenant, 401 token). */
  readonly caller: (
    request: FastifyRequest<{ Params: Params }>,
  ) => Promise<{ scope: TenantScope; principal: Principal }>;
  /** The node's compiled set, only for its country resolver (What If compiles the stored policies itself). */
  readonly compiledPolicies: (tenantId: string) => Promise<CompiledPolicySet>;
  readonly clock: Clock;
  readonly limits?: PolicyLimits;
  /** The node's compiled policy cache: told after every change, so sign-ins here see it at once. */
  readonly policyCache?: { invalidate(tenantId: string): void };
  /** Where every change is recorded, in the change's transaction (docs/audit.md). */
  readonly audit: DirectoryAuditWriter;
}

/** What differs between the two collections. */
interface Collection<T extends { id: string }> {
  readonly segment: 'namedLocations' | 'policies';
  /** For messages: `named location`, `policy`. */
  readonly noun: string;
  /** The directory audit's names: Entra's activity noun ('named location'), target type, modified property. */
  readonly audit: { readonly activity: string; readonly type: AuditTargetType; readonly property: string };
  readonly entity: EntityType;
  list(repo: PolicyRepository): Promise<T[]>;
  get(repo: PolicyRepository, id: string): Promise<T | undefined>;
  create(repo: PolicyRepository, body: object): Promise<Saved<T>>;
  replace(repo: PolicyRepository, id: string, body: object): Promise<Saved<T> | undefined>;
  delete(repo: PolicyRepository, id: string): Promise<boolean>;
}

const NAMED_LOCATIONS: Collection<NamedLocation> = {
  segment: 'namedLocations',
  noun: 'named location',
  audit: { activity: 'named location', type: 'NamedLocation', property: 'NamedLocation' },
  entity: {
    name: 'microsoft.graph.namedLocation',
    properties: [
      'id',
      'displayName',
      'createdDateTime',
      'modifiedDateTime',
      'isTrusted',
      'ipRanges',
      'countriesAndRegions',
      'includeUnknownCountriesAndRegions',
      'countryLookupMethod',
    ],
    filterable: {
      id: 'string',
      displayName: 'string',
      createdDateTime: 'date',
      modifiedDateTime: 'date',
      isTrusted: 'boolean',
      includeUnknownCountriesAndRegions: 'boolean',
      countryLookupMethod: 'string',
    },
    derivedTypes: ['microsoft.graph.ipNamedLocation', 'microsoft.graph.countryNamedLocation'],
  },
  list: (repo) => repo.listLocations(),
  get: (repo, id) => repo.getLocation(id),
  create: (repo, body) => repo.createLocation(body),
  replace: (repo, id, body) => repo.replaceLocation(id, body),
  delete: (repo, id) => repo.deleteLocation(id),
};

const POLICIES: Collection<ConditionalAccessPolicy> = {
  segment: 'policies',
  noun: 'policy',
  audit: { activity: 'conditional access policy', type: 'Policy', property: 'ConditionalAccessPolicy' },
  entity: {
    name: 'microsoft.graph.conditionalAccessPolicy',
    properties: [
      'id',
      'displayName',
      'state',
      'createdDateTime',
      'modifiedDateTime',
      'templateId',
      'conditions',
      'grantControls',
      'sessionControls',
    ],
    filterable: {
      id: 'string',
      displayName: 'string',
      state: 'string',
      templateId: 'string',
      createdDateTime: 'date',
      modifiedDateTime: 'date',
    },
  },
  list: (repo) => repo.listPolicies(),
  get: (repo, id) => repo.getPolicy(id),
  create: (repo, body) => repo.createPolicy(body),
  replace: (repo, id, body) => repo.replacePolicy(id, body),
  delete: (repo, id) => repo.deletePolicy(id),
};

export function registerConditionalAccess(app: FastifyInstance, options: ConditionalAccessRoutesOptions): void {
  const base = `${options.prefix}/identity/conditionalAccess`;
  const repository = (scope: TenantScope) => new PolicyRepository(scope, { limits: options.limits });
  const changed = (tenantId: string) => options.policyCache?.invalidate(tenantId);

  for (const collection of [NAMED_LOCATIONS, POLICIES] as Collection<{ id: string }>[]) {
    const path = `${base}/${collection.segment}`;
    const url = (tenantId: string) => `${options.graphBase(tenantId)}/identity/conditionalAccess/${collection.segment}`;
    const context = (tenantId: string) =>
      `${options.graphBase(tenantId)}/$metadata#identity/conditionalAccess/${collection.segment}`;

    app.get<{ Params: Params }>(path, async (request, reply) => {
      const { scope, principal } = await options.caller(request);
      requireRole(principal, READ_CONDITIONAL_ACCESS, `read ${plural(collection)}`);
      const query = parseListQuery(request.query, collection.entity);
      const page = pageOf(await collection.list(repository(scope)), query);
      const selected = query.select ? `(${query.select.join(',')})` : '';
      return noStore(reply).send({
        '@odata.context': `${context(scope.tenantId)}${selected}`,
        value: page.items.map((item) => project(item, query.select)),
        ...(page.next ? { '@odata.nextLink': `${url(scope.tenantId)}?${nextLinkQuery(query, page.next)}` } : {}),
      });
    });

    app.get<{ Params: ItemParams }>(`${path}/:id`, async (request, reply) => {
      const { scope, principal } = await options.caller(request);
      requireRole(principal, READ_CONDITIONAL_ACCESS, `read ${plural(collection)}`);
      const { select } = parseItemQuery(request.query, collection.entity);
      const item = await collection.get(repository(scope), request.params.id);
      if (!item) throw notFound(collection, request.params.id);
      const selected = select ? `(${select.join(',')})` : '';
      return noStore(reply).send({
        '@odata.context': `${context(scope.tenantId)}${selected}/$entity`,
        ...project(item, select),
      });
    });

    app.post<{ Params: Params }>(path, async (request, reply) => {
      const { scope, principal } = await options.caller(request);
      requireRole(principal, MANAGE_CONDITIONAL_ACCESS, `create ${plural(collection)}`);
      const body = objectBody(request.body, collection);
      const who = await auditContextOf(request, scope, principal);
      const saved = await invalidOr400(collection, () =>
        scope.transaction(async (tx) => {
          const created = await collection.create(repository(tx), body);
          await recordItem(options.audit, tx, who, collection, 'Add', created.value.id, undefined, created.value);
          return created;
        }),
      );
      changed(scope.tenantId);
      const location = `${url(scope.tenantId)}/${saved.value.id}`;
      return noStore(reply)
        .code(201)
        .header('location', location)
        .send({
          '@odata.context': `${context(scope.tenantId)}/$entity`,
          ...saved.value,
          // Parts kept but not evaluated (a device filter, terms of use, …): an instance annotation, which Graph
          // clients ignore and people can read.
          ...(saved.warnings.length > 0
            ? { '@portcullis.warnings': saved.warnings.map((w) => problemsText([w])) }
            : {}),
        });
    });

    app.patch<{ Params: ItemParams }>(`${path}/:id`, async (request, reply) => {
      const { scope, principal } = await options.caller(request);
      requireRole(principal, MANAGE_CONDITIONAL_ACCESS, `change ${plural(collection)}`);
      const body = objectBody(request.body, collection);
      const who = await auditContextOf(request, scope, principal);
      await invalidOr400(collection, () =>
        scope.transaction(async (tx) => {
          await lockPolicies(tx);
          const repo = repository(tx);
          const current = await collection.get(repo, request.params.id);
          if (!current) throw notFound(collection, request.params.id);
          const saved = await collection.replace(repo, request.params.id, mergePatch(current, body));
          if (!saved) throw notFound(collection, request.params.id);
          await recordItem(options.audit, tx, who, collection, 'Update', current.id, current, saved.value);
        }),
      );
      changed(scope.tenantId);
      return noStore(reply).code(204).send();
    });

    app.delete<{ Params: ItemParams }>(`${path}/:id`, async (request, reply) => {
      const { scope, principal } = await options.caller(request);
      requireRole(principal, MANAGE_CONDITIONAL_ACCESS, `delete ${plural(collection)}`);
      const who = await auditContextOf(request, scope, principal);
      try {
        await scope.transaction(async (tx) => {
          await lockPolicies(tx);
          const repo = repository(tx);
          const current = await collection.get(repo, request.params.id);
          if (!current || !(await collection.delete(repo, request.params.id))) {
            throw notFound(collection, request.params.id);
          }
          await recordItem(options.audit, tx, who, collection, 'Delete', current.id, current, undefined);
        });
      } catch (error) {
        // Refused by the state of things (trusted, or used by a policy), not by the request: a conflict.
        if (error instanceof InvalidPolicyError) {
          const reasons = problemsText(error.problems);
          throw new HttpError(409, `The ${collection.noun} cannot be deleted: ${reasons}.`, 'notAllowed');
        }
        throw error;
      }
      changed(scope.tenantId);
      return noStore(reply).code(204).send();
    });
  }

  app.post<{ Params: Params }>(`${base}/evaluate`, async (request, reply) => {
    const { scope, principal } = await options.caller(request);
    requireRole(principal, RUN_WHAT_IF, 'run What If');
    const body = request.body;
    let query: ReturnType<typeof parseWhatIfRequest>;
    try {
      query = parseWhatIfRequest(body);
    } catch (error) {
      throw whatIfError(error);
    }
    const directory = directoryFor(scope);
    const user = await directory.users.find(query.userId);
    const subject = user ? await directory.subjectFor(user.id) : undefined;
    if (!subject) {
      throw new HttpError(400, `signInIdentity.userId: ${quote(query.userId)} is not a user of this tenant.`);
    }
    const set = await storedPolicySet(scope, repository(scope), options);
    let result: ReturnType<typeof whatIf>;
    try {
      result = whatIf(set, (key) => (key === query.userId ? subject : undefined), body, options.clock.now());
    } catch (error) {
      throw whatIfError(error);
    }
    return noStore(reply).send({
      '@odata.context': `${options.graphBase(scope.tenantId)}/$metadata#Collection(microsoft.graph.whatIfAnalysisResult)`,
      value: result.value,
      decision: result.decision,
    });
  });
}

/**
 * Takes the tenant's policy-version row lock before a change reads the object it replaces or deletes, so the old value
 * recorded is the one the change replaced (PolicyRepository takes the same lock again when it bumps the version; on
 * SQLite the transaction already holds the write lock). Without the row (no change yet) there is nothing to replace.
 */
async function lockPolicies(tx: TenantScope): Promise<void> {
  await tx.updateTable('policy_versions', { modified_at: tx.now() }).execute();
}

/** Entra's record of a named location or policy change: the whole object before and after, as its log writes it. */
function recordItem(
  audit: DirectoryAuditWriter,
  tx: TenantScope,
  context: AuditContext,
  collection: Collection<{ id: string }>,
  operation: 'Add' | 'Update' | 'Delete',
  id: string,
  before: object | undefined,
  after: object | undefined,
): Promise<void> {
  const displayName = ((after ?? before) as { displayName?: unknown }).displayName;
  return recordChange(audit, tx, context, {
    category: 'Policy',
    activityDisplayName: `${operation} ${collection.audit.activity}`,
    operationType: operation satisfies AuditOperation,
    loggedByService: 'Conditional Access',
    targets: [
      {
        id,
        displayName: typeof displayName === 'string' ? displayName : null,
        type: collection.audit.type,
        modifiedProperties: [{ displayName: collection.audit.property, oldValue: before, newValue: after }],
      },
    ],
  });
}

/**
 * The tenant's stored policies, compiled now: What If answers for what is stored, not for what a cache (which on
 * another node may be up to a poll behind) holds. Countries resolve as at sign-in, with the node's geo database.
 */
async function storedPolicySet(
  scope: TenantScope,
  repo: PolicyRepository,
  options: ConditionalAccessRoutesOptions,
): Promise<CompiledPolicySet> {
  const snapshot = await repo.snapshot();
  const countryOf = await options.compiledPolicies(scope.tenantId).then(
    (set) => set.countryOf,
    () => undefined,
  );
  return compilePolicySet(snapshot.locations, snapshot.policies, { mfaTrustedIps: snapshot.mfaTrustedIps, countryOf });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectBody(body: unknown, collection: Collection<{ id: string }>): Record<string, unknown> {
  if (isPlainObject(body)) return body;
  throw new HttpError(
    400,
    body === undefined
      ? `The request needs a ${collection.noun} as a JSON object, sent with Content-Type: application/json.`
      : `The request body must be a ${collection.noun} as a JSON object, not ${show(body, 32)}.`,
  );
}

/** A refused write becomes Graph's 400, naming every problem: the field and the value. */
async function invalidOr400<T>(collection: Collection<{ id: string }>, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof InvalidPolicyError) {
      const count = error.problems.length;
      throw new HttpError(
        400,
        `Invalid ${collection.noun} (${count} problem${count === 1 ? '' : 's'}): ${problemsText(error.problems)}.`,
      );
    }
    throw error;
  }
}

/**
 * The problems as `field: message`, joined by '; '. The object is left out: it is the one the request addresses
 * (on create, the store's new id would only confuse).
 */
function problemsText(problems: readonly Problem[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ');
}

function whatIfError(error: unknown): unknown {
  return error instanceof WhatIfInputError ? new HttpError(400, `Invalid What If request: ${error.message}.`) : error;
}

function notFound(collection: Collection<{ id: string }>, id: string): HttpError {
  return new HttpError(404, `There is no ${collection.noun} with id ${quote(id)} in this tenant.`);
}

function plural(collection: Collection<{ id: string }>): string {
  return collection.segment === 'policies' ? 'Conditional Access policies' : 'named locations';
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}
