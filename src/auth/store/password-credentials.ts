// PasswordCredentialPort on the store: one argon2id PHC string per user in password_credentials, for one tenant.
import type { TenantScope } from '../../store/tenant-scope.ts';
import type { PasswordCredential, PasswordCredentialPort } from '../ports.ts';

export class PasswordCredentialRepository implements PasswordCredentialPort {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  async get(userId: string): Promise<PasswordCredential | undefined> {
    const row = await this.#scope
      .selectFrom('password_credentials')
      .select(['user_id', 'hash', 'modified_at'])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row && { userId: row.user_id, phc: row.hash, updatedAt: row.modified_at };
  }

  /** Insert or replace; the user must exist in this tenant (a foreign key refuses anything else). */
  async put(credential: PasswordCredential): Promise<void> {
    if (typeof credential?.phc !== 'string' || !credential.phc.startsWith('$')) {
      // The port's contract: a PHC string, never a password. Refuse anything else rather than store it.
      throw new TypeError('password credential: phc must be a PHC string such as $argon2id$v=19$…');
    }
    await this.#scope
      .insertInto('password_credentials', {
        user_id: credential.userId,
        hash: credential.phc,
        created_at: credential.updatedAt,
        modified_at: credential.updatedAt,
      })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'user_id']).doUpdateSet({ hash: credential.phc, modified_at: credential.updatedAt }),
      )
      .execute();
  }

  async delete(userId: string): Promise<void> {
    await this.#scope.deleteFrom('password_credentials').where('user_id', '=', userId).execute();
  }
}
