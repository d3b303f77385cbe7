// SQL for applications (OIDC clients), scoped to one tenant. List columns are JSON text.
import type { ApplicationsTable } from '../store/database.ts';
import { defineQuery, type TenantScope, type TenantUpdate } from '../store/tenant-scope.ts';

export type ApplicationRow = Omit<ApplicationsTable, 'tenant_id'>;

const COLUMNS = [
  'id',
  'app_id',
  'display_name',
  'client_type',
  'redirect_uris',
  'post_logout_redirect_uris',
  'grant_types',
  'client_secrets',
  'id_token_signed_response_alg',
  'created_at',
  'modified_at',
] as const;

/** Every client authentication reads this: compiled once per store (TenantScope.run). */
const BY_APP_ID = defineQuery((scope, v: { appId: string }) =>
  scope.selectFrom('applications').select(COLUMNS).where('app_id', '=', v.appId),
);

export class ApplicationRepository {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  async insert(row: ApplicationRow): Promise<void> {
    await this.#scope.insertInto('applications', row).execute();
  }

  async get(id: string): Promise<ApplicationRow | undefined> {
    return this.#scope.selectFrom('applications').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  async getByAppId(appId: string): Promise<ApplicationRow | undefined> {
    return (await this.#scope.run(BY_APP_ID, { appId })).rows[0];
  }

  async list(limit: number, after?: string): Promise<ApplicationRow[]> {
    let query = this.#scope.selectFrom('applications').select(COLUMNS).orderBy('id').limit(limit);
    if (after !== undefined) query = query.where('id', '>', after);
    return query.execute();
  }

  async update(id: string, changes: TenantUpdate<'applications'>): Promise<boolean> {
    const result = await this.#scope.updateTable('applications', changes).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.#scope.deleteFrom('applications').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
