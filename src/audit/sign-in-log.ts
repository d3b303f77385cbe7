// The sign-in log: every attempt, success or failure, as Graph's `signIn` (sign-in-entry.ts), stored per tenant with
// the full JSON plus the columns the admin API filters on, and read back newest first with keyset paging.
//
// Append-only by construction: the repository has no update or delete. It is not hash-chained, unlike the directory
// audit log: a chain needs each append to read the previous entry's hash under a per-tenant lock, which would put
// every sign-in and refresh of a tenant in one queue on PostgreSQL; tamper evidence for admin changes comes from the
// directory audit log, and retention (deleting old entries) will be a separate, audited housekeeping job.
import { PortcullisError } from '../errors.ts';
import { defineQuery, type TenantScope } from '../store/tenant-scope.ts';
import { buildSignInEntry, type SignInEntry, type SignInLogInput } from './sign-in-entry.ts';

export {
  type AppliedConditionalAccessPolicy,
  buildSignInEntry,
  conditionalAccessStatusOf,
  type SignInEntry,
  type SignInLogInput,
} from './sign-in-entry.ts';

/** Graph: "The maximum and default page size is 1,000 objects" (List signIns). */
export const MAX_SIGN_IN_PAGE = 1000;

export interface SignInLogFilter {
  readonly userId?: string;
  readonly appId?: string;
  /** success: status.errorCode 0; failure: any other. */
  readonly status?: 'success' | 'failure';
  /** createdDateTime at or after (epoch ms). */
  readonly from?: number;
  /** createdDateTime at or before (epoch ms). */
  readonly to?: number;
  readonly correlationId?: string;
}

export interface SignInLogQuery {
  /** 1–1000, default 1000 (Graph's `$top`). */
  readonly top?: number;
  /** The `skipToken` of the previous page (carried in `@odata.nextLink`). */
  readonly skipToken?: string;
  /** Instead of `skipToken`: go on after the entry with this createdDateTime (epoch ms) and id. */
  readonly after?: { readonly createdAt: number; readonly id: string };
  readonly filter?: SignInLogFilter;
}

export interface SignInLogPage {
  /** Newest first. */
  readonly items: SignInEntry[];
  /** Present when there may be more: pass it back as `skipToken` with the same filter. */
  readonly skipToken?: string;
}

function invalid(detail: string): PortcullisError {
  return new PortcullisError(90001, detail);
}

/** The position after an entry: (createdDateTime in ms, id), opaque to callers. */
function encodeToken(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id]), 'utf8').toString('base64url');
}

function decodeToken(token: unknown): { createdAt: number; id: string } {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{1,400}$/.test(token)) {
    throw invalid('$skipToken: not a token from a previous page of this list');
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('$skipToken: not a token from a previous page of this list');
  }
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !Number.isSafeInteger(value[0]) ||
    typeof value[1] !== 'string' ||
    value[1].length === 0
  ) {
    throw invalid('$skipToken: not a token from a previous page of this list');
  }
  return { createdAt: value[0], id: value[1] };
}

function pageSize(top: unknown): number {
  if (top === undefined) return MAX_SIGN_IN_PAGE;
  if (typeof top !== 'number' || !Number.isInteger(top) || top < 1 || top > MAX_SIGN_IN_PAGE) {
    throw invalid(`$top: must be a whole number from 1 to ${MAX_SIGN_IN_PAGE} but it is ${JSON.stringify(top)}`);
  }
  return top;
}

function checkFilter(filter: SignInLogFilter): void {
  for (const field of ['userId', 'appId', 'correlationId'] as const) {
    const value = filter[field];
    if (value !== undefined && typeof value !== 'string') {
      throw invalid(`$filter: ${field} must be a string but it is ${JSON.stringify(value)}`);
    }
  }
  if (filter.status !== undefined && filter.status !== 'success' && filter.status !== 'failure') {
    throw invalid(`$filter: status must be 'success' or 'failure' but it is ${JSON.stringify(filter.status)}`);
  }
  for (const field of ['from', 'to'] as const) {
    const value = filter[field];
    if (value !== undefined && !Number.isFinite(value)) {
      throw invalid(`$filter: ${field} must be a time in milliseconds but it is ${JSON.stringify(value)}`);
    }
  }
}

/** Every sign-in and refresh appends one entry: compiled once (TenantScope.run). */
const INSERT = defineQuery(
  (
    scope,
    v: {
      id: string;
      createdAt: number;
      userId: string | null;
      appId: string | null;
      errorCode: number;
      correlationId: string | null;
      body: string;
    },
  ) =>
    scope.insertInto('sign_in_logs', {
      id: v.id,
      created_at: v.createdAt,
      user_id: v.userId,
      app_id: v.appId,
      status_error_code: v.errorCode,
      correlation_id: v.correlationId,
      body: v.body,
    }),
);

export class SignInLogRepository {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  /** Stores one entry. Its id must be new: an entry is never replaced. */
  async append(entry: SignInEntry): Promise<void> {
    const createdAt = Date.parse(entry?.createdDateTime);
    if (!Number.isFinite(createdAt)) {
      throw new TypeError(`sign-in log: createdDateTime ${JSON.stringify(entry?.createdDateTime)} is not a time`);
    }
    if (typeof entry.id !== 'string' || entry.id.length === 0) throw new TypeError('sign-in log: the entry has no id');
    await this.#scope.run(INSERT, {
      id: entry.id,
      createdAt,
      userId: entry.userId ?? null,
      appId: entry.appId ?? null,
      errorCode: entry.status.errorCode,
      correlationId: entry.correlationId ?? null,
      body: JSON.stringify(entry),
    });
  }

  /** Graph `GET /auditLogs/signIns/{id}`. */
  async get(id: string): Promise<SignInEntry | undefined> {
    if (typeof id !== 'string') return undefined;
    const row = await this.#scope.selectFrom('sign_in_logs').select('body').where('id', '=', id).executeTakeFirst();
    return row && this.#parse(id, row.body);
  }

  /** Graph `GET /auditLogs/signIns`: newest first, `top` at a time, resuming after `skipToken`. */
  async list(query: SignInLogQuery = {}): Promise<SignInLogPage> {
    const top = pageSize(query.top);
    const filter = query.filter ?? {};
    checkFilter(filter);
    let select = this.#scope.selectFrom('sign_in_logs').select(['id', 'created_at', 'body']);
    if (filter.userId !== undefined) select = select.where('user_id', '=', filter.userId);
    if (filter.appId !== undefined) select = select.where('app_id', '=', filter.appId);
    if (filter.correlationId !== undefined) select = select.where('correlation_id', '=', filter.correlationId);
    if (filter.status === 'success') select = select.where('status_error_code', '=', 0);
    if (filter.status === 'failure') select = select.where('status_error_code', '<>', 0);
    if (filter.from !== undefined) select = select.where('created_at', '>=', Math.ceil(filter.from));
    if (filter.to !== undefined) select = select.where('created_at', '<=', Math.floor(filter.to));
    if (query.skipToken !== undefined || query.after !== undefined) {
      const after = query.after ?? decodeToken(query.skipToken);
      select = select.where((eb) =>
        eb.or([
          eb('created_at', '<', after.createdAt),
          eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)]),
        ]),
      );
    }
    // One more than asked, to know whether there is a next page.
    const rows = await select
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(top + 1)
      .execute();
    const more = rows.length > top;
    const kept = more ? rows.slice(0, top) : rows;
    const items = kept.map((row) => this.#parse(row.id, row.body));
    if (!more) return { items };
    const last = kept[kept.length - 1];
    return { items, skipToken: encodeToken(Number(last.created_at), last.id) };
  }

  #parse(id: string, body: string): SignInEntry {
    try {
      return JSON.parse(body) as SignInEntry;
    } catch (error) {
      throw new Error(
        `tenant ${this.#scope.tenantId}: sign-in log entry '${id}' is not valid JSON (${(error as Error).message})`,
      );
    }
  }
}

/**
 * The sign-in pipeline's SignInLogSink (signin/ports.ts) on the store: builds the Graph entry and appends it to the
 * attempt's tenant.
 */
export class StoreSignInLog {
  readonly #store: { forTenant(tenantId: string): TenantScope };
  constructor(store: { forTenant(tenantId: string): TenantScope }) {
    this.#store = store;
  }

  async append(attempt: SignInLogInput): Promise<void> {
    const entry = buildSignInEntry(attempt);
    await new SignInLogRepository(this.#store.forTenant(attempt.tenantId)).append(entry);
  }
}
