// SQL for users, scoped to one tenant; the Users service validates and shapes what goes in and out.
import type { UsersTable } from '../store/database.ts';
import { defineQuery, type TenantScope, type TenantUpdate } from '../store/tenant-scope.ts';

export type UserRow = Omit<UsersTable, 'tenant_id'>;

const COLUMNS = [
  'id',
  'user_principal_name',
  'upn_key',
  'display_name',
  'mail',
  'user_type',
  'account_enabled',
  'created_at',
  'modified_at',
] as const;

/** Every sign-in, refresh and forward-auth check reads a user by id: compiled once (TenantScope.run). */
const BY_ID = defineQuery((scope, v: { id: string }) =>
  scope.selectFrom('users').select(COLUMNS).where('id', '=', v.id),
);

export class UserRepository {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  async insert(row: UserRow): Promise<void> {
    await this.#scope.insertInto('users', row).execute();
  }

  async get(id: string): Promise<UserRow | undefined> {
    return (await this.#scope.run(BY_ID, { id })).rows[0];
  }

  async getByUpnKey(upnKey: string): Promise<UserRow | undefined> {
    return this.#scope.selectFrom('users').select(COLUMNS).where('upn_key', '=', upnKey).executeTakeFirst();
  }

  /** Users ordered by id, starting after `after`; `limit` rows at most. */
  async list(limit: number, after?: string): Promise<UserRow[]> {
    let query = this.#scope.selectFrom('users').select(COLUMNS).orderBy('id').limit(limit);
    if (after !== undefined) query = query.where('id', '>', after);
    return query.execute();
  }

  /** Changes the columns given; false when no such user. */
  async update(id: string, changes: TenantUpdate<'users'>): Promise<boolean> {
    const result = await this.#scope.updateTable('users', changes).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Deletes the user and their group memberships (credentials and role assignments go by foreign key). */
  async delete(id: string): Promise<boolean> {
    return this.#scope.transaction(async (tx) => {
      await tx.deleteFrom('group_members').where('member_type', '=', 'user').where('member_id', '=', id).execute();
      const result = await tx.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }
}
