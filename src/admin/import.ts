// Portcullis's import route, an extension beside Graph's Conditional Access routes (Graph has no import):
//
//   POST /identity/conditionalAccess/import[?dryRun=true]
//     body: {"namedLocations": [...], "policies": [...]}, or an array of export documents, or one document — what
//     `portcullis import` accepts in files (Graph pages, arrays, PowerShell objects)
//     200 the report (admin/policy-import.ts's ImportReport: imported with old id → new id, skipped and why);
//     400 when the body is no import, or when the import as a whole is refused (a limit): nothing is written.
//
// The caller is authenticated and authorised before the body is read, since an import body may be large.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DirectoryAuditWriter } from '../audit/directory-audit-port.ts';
import { HttpError } from '../http/graph-error.ts';
import type { PolicyLimits } from '../policy/import/limits.ts';
import { loadDocuments } from '../policy/import/load.ts';
import { formatProblem, show } from '../policy/import/problems.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { auditContextOf } from './audit-actor.ts';
import type { Principal } from './auth.ts';
import { requireRole } from './auth.ts';
import { MANAGE_CONDITIONAL_ACCESS } from './conditional-access.ts';
import { importIntoTenant } from './policy-import.ts';

/**
 * Entra's limits at their largest (195 locations × 2000 ranges, about 80 bytes a range in Graph's JSON) come to some
 * 31 MB; the body is only read for callers already authorised to import.
 */
export const IMPORT_BODY_LIMIT = 64 * 1024 * 1024;

type Params = { tenant: string };

export interface ImportRouteOptions {
  /** The route prefix of the Graph base URL: `/t/:tenant/graph/v1.0`. */
  readonly prefix: string;
  /** The tenant and the authenticated caller of a request, or an HttpError (404 tenant, 401 token). */
  readonly caller: (
    request: FastifyRequest<{ Params: Params }>,
  ) => Promise<{ scope: TenantScope; principal: Principal }>;
  readonly limits?: PolicyLimits;
  /** Where each imported object is recorded, in the import's transaction. */
  readonly audit: DirectoryAuditWriter;
  /** The node's compiled policy cache: told after an import, so sign-ins here see it at once. */
  readonly policyCache?: { invalidate(tenantId: string): void };
}

export function registerImport(app: FastifyInstance, options: ImportRouteOptions): void {
  const callers = new WeakMap<FastifyRequest, { scope: TenantScope; principal: Principal }>();
  app.post<{ Params: Params; Querystring: Record<string, unknown> }>(
    `${options.prefix}/identity/conditionalAccess/import`,
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      // Before the body is parsed: no one unauthorised makes the server read up to IMPORT_BODY_LIMIT bytes.
      onRequest: async (request) => {
        const found = await options.caller(request as FastifyRequest<{ Params: Params }>);
        requireRole(
          found.principal,
          MANAGE_CONDITIONAL_ACCESS,
          'import named locations and Conditional Access policies',
        );
        callers.set(request, found);
      },
    },
    async (request, reply) => {
      const found = callers.get(request);
      if (!found) throw new Error('import: the caller was not established before the handler');
      const { scope, principal } = found;
      const dryRun = dryRunOf(request.query);
      const loaded = loadDocuments(documentsOf(request.body), 'auto');
      const context = await auditContextOf(request, scope, principal);
      const report = await importIntoTenant(scope, loaded, {
        limits: options.limits,
        dryRun,
        audit: options.audit,
        actor: context.actor,
        correlationId: context.correlationId,
        ipAddress: context.ipAddress,
      });
      if (report.outcome === 'refused') {
        throw new HttpError(400, `Nothing was imported: ${report.refused.map(formatProblem).join('; ')}.`);
      }
      if (report.policyVersion !== undefined) options.policyCache?.invalidate(scope.tenantId);
      return reply.header('cache-control', 'no-store').send(report);
    },
  );
}

function dryRunOf(query: Record<string, unknown> | undefined): boolean {
  const value = query?.dryRun;
  if (value === undefined || value === 'false') return false;
  if (value === 'true' || value === '') return true;
  throw new HttpError(400, `dryRun: ${show(value, 32)} is not a boolean: use dryRun=true or dryRun=false.`);
}

/**
 * The body as export documents: `{"namedLocations": [...], "policies": [...]}` as two, named so that problems say
 * where (`policies: policy 'CA001…'`); an array as one document per element (`body[2]`); anything else as one.
 */
function documentsOf(body: unknown): { source: string; value: unknown }[] {
  if (body === undefined || body === null) {
    throw new HttpError(
      400,
      'The request needs a JSON body, sent with Content-Type: application/json: {"namedLocations": [...], "policies": [...]} or an array of export documents.',
    );
  }
  if (Array.isArray(body)) return body.map((value, i) => ({ source: `body[${i}]`, value }));
  if (typeof body !== 'object') {
    throw new HttpError(400, `The request body must be a JSON object or array of exports, not ${show(body, 32)}.`);
  }
  const record = body as Record<string, unknown>;
  const parts = (['namedLocations', 'policies'] as const).filter((key) => key in record);
  if (parts.length === 0) return [{ source: 'body', value: body }];
  for (const key of parts) {
    if (!Array.isArray(record[key])) {
      throw new HttpError(400, `${key}: expected an array of exported objects but found ${show(record[key], 32)}.`);
    }
  }
  return parts.map((key) => ({ source: key, value: record[key] }));
}
