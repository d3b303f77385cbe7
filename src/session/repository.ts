// Sessions on the store, for one tenant: the rows of `sessions` (keyed by the SHA-256 of the session id) and the
// OpenID Connect sessions and grants each covers (`session_links`). Storage only: sessions.ts decides what is live.
import { sql } from 'kysely';
import { isForeignKeyViolation } from '../store/errors.ts';
import { defineQuery, type TenantScope } from '../store/tenant-scope.ts';
import type { SessionsTable, StoredEndReason } from './schema.ts';
import type { SessionSettings } from './settings.ts';

export type { StoredEndReason } from './schema.ts';

/** A session as stored, without its secrets. */
export interface SessionRecord {
  /**
   * base64url SHA-256 of the session id: names the session in logs, the admin API and the cache. It is not a
   * credential — a cookie holding it is refused — so it may be shown.
   */
  readonly handle: string;
  readonly userId: string;
  /** Sign-in time (epoch ms). */
  readonly createdAt: number;
  /** RFC 8176 authentication methods of the sign-in (`pwd`, `mfa`, …), and of later step-up MFA. */
  readonly amr: readonly string[];
  /** Last completed MFA in this session; null when it has none. */
  readonly mfaAt: number | null;
  /** Last recorded user activity (throttled: see ACTIVITY_WRITE_INTERVAL_MS). */
  readonly lastActivityAt: number;
  /** The latest this session may end: sign-in + the shortest maximum session length in force since sign-in. */
  readonly latestEndAt: number;
  readonly persistent: boolean;
  /** Set once revoked (or found idle under an earlier, stricter setting); the session stays ended. */
  readonly endedAt: number | null;
  readonly endReason: StoredEndReason | null;
}

/** A session with the hash its binding cookie must match (kept out of SessionRecord so it is not passed around). */
export interface StoredSession extends SessionRecord {
  readonly bindingHash: Buffer;
}

/** What ending a session gives back: enough to end what it covers (oidc-provider sessions, grants and their tokens). */
export interface EndedSession {
  readonly handle: string;
  readonly userId: string;
  readonly oidcSessionIds: readonly string[];
  readonly grantIds: readonly string[];
  /** It was revoked before this call (signing out twice is not an error; the covered ids are returned again). */
  readonly alreadyRevoked: boolean;
}

export type LinkKind = 'oidcSession' | 'grant';

/** The user of a new session does not exist in this tenant. */
export class SessionUserError extends Error {
  override name = 'SessionUserError';
}

/** A stored row that cannot be read (corrupt JSON): fail closed and say which. */
export class StoredSessionError extends Error {
  override name = 'StoredSessionError';
}

const MINUTE_MS = 60_000;

function parseAmr(text: string, tenantId: string, handle: string): readonly string[] {
  let amr: unknown;
  try {
    amr = JSON.parse(text);
  } catch {
    amr = undefined;
  }
  if (!Array.isArray(amr) || !amr.every((m) => typeof m === 'string')) {
    throw new StoredSessionError(`tenant ${tenantId}: session ${handle} has an unreadable amr column`);
  }
  return Object.freeze(amr as string[]);
}

/**
 * Every column a StoredSession is read from, named (not `select *`): on PostgreSQL a named statement returning `*`
 * would fail once a migration adds a column, so only named columns are prepared (store/postgres-statements.ts).
 */
const SESSION_COLUMNS = [
  'id_hash',
  'user_id',
  'created_at',
  'amr',
  'mfa_at',
  'last_activity_at',
  'expires_at',
  'binding_hash',
  'persistent',
  'ended_at',
  'end_reason',
] as const satisfies readonly (keyof SessionsTable)[];

type SessionRow = Pick<SessionsTable, (typeof SESSION_COLUMNS)[number]>;

function toStored(row: SessionRow, tenantId: string): StoredSession {
  return {
    handle: row.id_hash,
    userId: row.user_id,
    createdAt: Number(row.created_at),
    amr: parseAmr(row.amr, tenantId, row.id_hash),
    mfaAt: row.mfa_at === null ? null : Number(row.mfa_at),
    lastActivityAt: Number(row.last_activity_at),
    latestEndAt: Number(row.expires_at),
    persistent: Number(row.persistent) === 1,
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    endReason: row.end_reason,
    bindingHash: Buffer.from(row.binding_hash, 'base64url'),
  };
}

/** The session covering an OIDC session or grant, with its link (`findByLink`): compiled once (TenantScope.run). */
const BY_LINK = defineQuery((scope, v: { kind: LinkKind; oidcId: string }) =>
  scope
    .selectFrom('session_links')
    .innerJoin('sessions', (join) =>
      join
        .onRef('sessions.tenant_id', '=', 'session_links.tenant_id')
        .onRef('sessions.id_hash', '=', 'session_links.session_hash'),
    )
    .select(SESSION_COLUMNS.map((column) => `sessions.${column}` as const))
    .where('session_links.kind', '=', v.kind)
    .where('session_links.oidc_id', '=', v.oidcId),
);

export class SessionRepository {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  async insert(session: StoredSession): Promise<void> {
    try {
      await this.#scope
        .insertInto('sessions', {
          id_hash: session.handle,
          user_id: session.userId,
          created_at: session.createdAt,
          amr: JSON.stringify(session.amr),
          mfa_at: session.mfaAt,
          last_activity_at: session.lastActivityAt,
          expires_at: session.latestEndAt,
          binding_hash: session.bindingHash.toString('base64url'),
          persistent: session.persistent ? 1 : 0,
          ended_at: null,
          end_reason: null,
        })
        .execute();
    } catch (error) {
      if (isForeignKeyViolation(error)) {
        throw new SessionUserError(`tenant ${this.#scope.tenantId}: there is no user '${session.userId}'`);
      }
      throw error;
    }
  }

  async get(handle: string): Promise<StoredSession | undefined> {
    const row = await this.#scope
      .selectFrom('sessions')
      .select(SESSION_COLUMNS)
      .where('id_hash', '=', handle)
      .executeTakeFirst();
    return row && toStored(row, this.#scope.tenantId);
  }

  /** The user's sessions, oldest first, ended ones included. */
  async listForUser(userId: string): Promise<StoredSession[]> {
    const rows = await this.#scope
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id_hash')
      .execute();
    return rows.map((row) => toStored(row, this.#scope.tenantId));
  }

  /**
   * Records activity at `at` unless the stored activity is less than `intervalMs` old, the session has ended or
   * reached its latest end, or it has been idle for `idleMs` or more (a late write must not revive an idle session).
   * The condition is in the statement, so concurrent writers — on any node — write at most once per interval.
   * Returns whether a row changed.
   */
  async recordActivity(handle: string, at: number, intervalMs: number, idleMs: number | null): Promise<boolean> {
    let query = this.#scope
      .updateTable('sessions', { last_activity_at: at })
      .where('id_hash', '=', handle)
      .where('ended_at', 'is', null)
      .where('expires_at', '>', at)
      .where('last_activity_at', '<=', at - intervalMs);
    if (idleMs !== null) query = query.where('last_activity_at', '>', at - idleMs);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Step-up MFA within the session: adds the methods used and sets the MFA time. Returns whether it was found live. */
  async recordMfa(handle: string, amr: readonly string[], at: number): Promise<boolean> {
    return this.#scope.transaction(async (tx) => {
      const row = await tx
        .selectFrom('sessions')
        .select(['amr', 'id_hash'])
        .where('id_hash', '=', handle)
        .where('ended_at', 'is', null)
        .executeTakeFirst();
      if (!row) return false;
      const merged = [...new Set([...parseAmr(row.amr, tx.tenantId, handle), ...amr])];
      await tx
        .updateTable('sessions', { amr: JSON.stringify(merged), mfa_at: at })
        .where('id_hash', '=', handle)
        .execute();
      return true;
    });
  }

  /** Adds an OpenID Connect session or grant to those the session covers (idempotent). */
  async link(handle: string, kind: LinkKind, oidcId: string): Promise<void> {
    try {
      await this.#scope
        .insertInto('session_links', { session_hash: handle, kind, oidc_id: oidcId })
        .onConflict((oc) => oc.columns(['tenant_id', 'session_hash', 'kind', 'oidc_id']).doNothing())
        .execute();
    } catch (error) {
      if (isForeignKeyViolation(error)) {
        throw new StoredSessionError(`tenant ${this.#scope.tenantId}: there is no session ${handle} to link to`);
      }
      throw error;
    }
  }

  /**
   * The session that covers an OpenID Connect session or grant, if any: the link and the session row in one
   * statement (every refresh-token use asks, bench/token.bench.ts).
   */
  async findByLink(kind: LinkKind, oidcId: string): Promise<StoredSession | undefined> {
    // The newest covering session: a grant kept across sign-ins is covered by each of them. Usually one row, chosen
    // here rather than by an ORDER BY, which costs SQLite a sort (a temporary B-tree) at every refresh.
    const { rows } = await this.#scope.run(BY_LINK, { kind, oidcId });
    let newest: (typeof rows)[number] | undefined;
    for (const row of rows) {
      const [at, newestAt] = [Number(row.created_at), Number(newest?.created_at)];
      if (newest === undefined || at > newestAt || (at === newestAt && row.id_hash < newest.id_hash)) newest = row;
    }
    return newest && toStored(newest, this.#scope.tenantId);
  }

  /** Revokes one session (if not revoked already) and returns what it covers; undefined when there is no such session. */
  async revoke(handle: string, at: number): Promise<EndedSession | undefined> {
    return this.#scope.transaction(async (tx) => {
      const row = await tx
        .selectFrom('sessions')
        .select(['user_id', 'end_reason'])
        .where('id_hash', '=', handle)
        .executeTakeFirst();
      if (!row) return undefined;
      const alreadyRevoked = row.end_reason === 'revoked';
      if (!alreadyRevoked) {
        await tx
          .updateTable('sessions', { ended_at: at, end_reason: 'revoked' })
          .where('id_hash', '=', handle)
          .execute();
      }
      const links = await linksOf(tx, [handle]);
      return { handle, userId: row.user_id, alreadyRevoked, ...links(handle) };
    });
  }

  /**
   * Revokes every session of the user not revoked already — live ones, and ones that ended by time, whose grants may
   * still hold refresh tokens — and returns them with what they cover, oldest first.
   */
  async revokeAllForUser(userId: string, at: number): Promise<EndedSession[]> {
    return this.#scope.transaction(async (tx) => {
      const rows = await tx
        .updateTable('sessions', { ended_at: at, end_reason: 'revoked' })
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('end_reason', 'is', null), eb('end_reason', '<>', 'revoked')]))
        .returning(['id_hash', 'created_at'])
        .execute();
      rows.sort((a, b) => Number(a.created_at) - Number(b.created_at) || (a.id_hash < b.id_hash ? -1 : 1));
      const handles = rows.map((r) => r.id_hash);
      const links = await linksOf(tx, handles);
      return handles.map((handle) => ({ handle, userId, alreadyRevoked: false, ...links(handle) }));
    });
  }

  /**
   * Carries a settings change into the stored sessions, so that a session never outlives any setting that was in
   * force during its life, even after the setting is relaxed again:
   * - every session's latest end is lowered to sign-in + the new maximum length (never raised);
   * - sessions that were already idle past the previous inactivity timeout are marked ended, when that is certain
   *   despite unrecorded activity (stored activity lags the real one by up to `activityLagMs`, the write throttle).
   */
  async applySettingsChange(previous: SessionSettings, next: SessionSettings, at: number, activityLagMs: number) {
    const maximumMs = next.maximumSessionLengthMinutes * MINUTE_MS;
    await this.#scope
      .updateTable('sessions', {})
      .set({ expires_at: sql<number>`${sql.ref('created_at')} + ${maximumMs}` })
      .where(sql<boolean>`${sql.ref('expires_at')} > ${sql.ref('created_at')} + ${maximumMs}`)
      .execute();
    if (previous.inactivityTimeoutMinutes !== null) {
      const idleMs = previous.inactivityTimeoutMinutes * MINUTE_MS;
      await this.#scope
        .updateTable('sessions', { end_reason: 'inactivity' })
        .set({ ended_at: sql<number>`${sql.ref('last_activity_at')} + ${idleMs}` })
        .where('ended_at', 'is', null)
        .where('last_activity_at', '<=', at - idleMs - activityLagMs)
        .execute();
    }
  }

  /**
   * Deletes sessions that ended (or reached their latest end) at or before `before`, with their links. Keep ended
   * sessions as long as something may still ask about them (e.g. a refresh token of a grant they covered).
   */
  async purgeEnded(before: number): Promise<number> {
    const result = await this.#scope
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', before), eb('ended_at', '<=', before)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

async function linksOf(scope: TenantScope, handles: readonly string[]) {
  const rows =
    handles.length === 0
      ? []
      : await scope
          .selectFrom('session_links')
          .select(['session_hash', 'kind', 'oidc_id'])
          .where('session_hash', 'in', handles)
          .orderBy('oidc_id')
          .execute();
  return (handle: string) => ({
    oidcSessionIds: rows.filter((r) => r.session_hash === handle && r.kind === 'oidcSession').map((r) => r.oidc_id),
    grantIds: rows.filter((r) => r.session_hash === handle && r.kind === 'grant').map((r) => r.oidc_id),
  });
}
