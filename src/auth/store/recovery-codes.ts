// RecoveryCodePort on the store: one row per code, holding only its hash (auth/recovery-codes.ts), for one tenant.
import type { TenantScope } from '../../store/tenant-scope.ts';
import type { RecoveryCodePort, RecoveryCodeRecord } from '../ports.ts';

export class RecoveryCodeRepository implements RecoveryCodePort {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  async list(userId: string): Promise<RecoveryCodeRecord[]> {
    const rows = await this.#scope
      .selectFrom('recovery_codes')
      .select(['user_id', 'id', 'code_hash', 'used_at', 'created_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      userId: row.user_id,
      id: row.id,
      hash: row.code_hash,
      usedAt: row.used_at,
      createdAt: row.created_at,
    }));
  }

  /** New codes invalidate all old ones: delete and insert in one transaction. */
  async replaceAll(userId: string, records: readonly RecoveryCodeRecord[]): Promise<void> {
    const stranger = records.find((record) => record.userId !== userId);
    if (stranger) {
      throw new TypeError(`recovery codes: replaceAll for user ${userId} got a code of user ${stranger.userId}`);
    }
    await this.#scope.transaction(async (tx) => {
      await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      if (records.length === 0) return;
      await tx
        .insertInto(
          'recovery_codes',
          records.map((record) => ({
            user_id: userId,
            id: record.id,
            code_hash: record.hash,
            used_at: record.usedAt,
            created_at: record.createdAt,
          })),
        )
        .execute();
    });
  }

  /** One UPDATE conditioned on the code being unused: of concurrent uses of one code only one wins. */
  async markUsed(userId: string, id: string, usedAt: number): Promise<boolean> {
    const result = await this.#scope
      .updateTable('recovery_codes', { used_at: usedAt })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }
}
