// LockoutStatePort on the store: lockout.ts's JSON state under its key in lockout_states, read, changed and written
// atomically per key, so that parallel guesses are counted one by one on every node.
import { sql } from 'kysely';
import '../../store/repositories/schema.ts';
import type { TenantScope } from '../../store/tenant-scope.ts';
import type { LockoutStatePort } from '../ports.ts';

/** A stored value that is not JSON reaches `change` as this, which lockout.ts's readers fail closed on. */
const UNREADABLE = 'unreadable lockout state';

export class LockoutStateRepository implements LockoutStatePort {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  /**
   * One transaction per update. Its first statement inserts the row if it is missing and otherwise touches it —
   * `INSERT … ON CONFLICT DO UPDATE … RETURNING value` — which on PostgreSQL leaves the row locked until commit
   * whichever way it went: the port's "INSERT … ON CONFLICT DO NOTHING, then SELECT … FOR UPDATE" in one statement,
   * with no window in which a concurrent delete leaves nothing to lock. On SQLite the transaction holds the write
   * lock from BEGIN IMMEDIATE. A second update of the key waits for the first to commit and then reads its result.
   * A row past its expiry time is treated as absent (the port allows deleting it then).
   */
  async update<R>(
    key: string,
    change: (current: unknown) => { next: object | undefined; expiresAt: number; result: R },
  ): Promise<R> {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('lockout state: the key must not be empty');
    return this.#scope.transaction(async (tx) => {
      const now = tx.now();
      const row = await tx
        .insertInto('lockout_states', { key, value: null, expires_at: now })
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'key']).doUpdateSet({ expires_at: sql`${sql.ref('lockout_states.expires_at')}` }),
        )
        .returning(['value', 'expires_at'])
        .executeTakeFirstOrThrow();
      const current = row.value === null || Number(row.expires_at) <= now ? undefined : parse(row.value);
      const { next, expiresAt, result } = change(current);
      if (next === undefined) {
        await tx.deleteFrom('lockout_states').where('key', '=', key).execute();
      } else {
        if (!Number.isFinite(expiresAt)) throw new RangeError(`lockout state '${key}': expiresAt must be a time`);
        await tx
          .updateTable('lockout_states', { value: JSON.stringify(next), expires_at: Math.ceil(expiresAt) })
          .where('key', '=', key)
          .execute();
      }
      return result;
    });
  }

  /** Deletes rows whose state has expired; returns how many. For periodic housekeeping. */
  async purgeExpired(): Promise<number> {
    const result = await this.#scope
      .deleteFrom('lockout_states')
      .where('expires_at', '<=', this.#scope.now())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function parse(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return UNREADABLE;
  }
}
