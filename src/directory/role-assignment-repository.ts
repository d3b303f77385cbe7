// SQL for role assignments (user → built-in role), scoped to one tenant.
import type { RoleAssignmentsTable } from '../store/database.ts';
import type { TenantScope } from '../store/tenant-scope.ts';

export type RoleAssignmentRow = Omit<RoleAssignmentsTable, 'tenant_id'>;

const COLUMNS = ['id', 'role_definition_id', 'principal_id', 'created_at'] as const;

export class RoleAssignmentRepository {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  /** Inserts the assignment; false when the user has that role already. */
  async insert(row: RoleAssignmentRow): Promise<boolean> {
    const result = await this.#scope
      .insertInto('role_assignments', row)
      .onConflict((oc) => oc.columns(['tenant_id', 'principal_id', 'role_definition_id']).doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async get(id: string): Promise<RoleAssignmentRow | undefined> {
    return this.#scope.selectFrom('role_assignments').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  async find(principalId: string, roleDefinitionId: string): Promise<RoleAssignmentRow | undefined> {
    return this.#scope
      .selectFrom('role_assignments')
      .select(COLUMNS)
      .where('principal_id', '=', principalId)
      .where('role_definition_id', '=', roleDefinitionId)
      .executeTakeFirst();
  }

  async list(filter: { principalId?: string; roleDefinitionId?: string }): Promise<RoleAssignmentRow[]> {
    let query = this.#scope.selectFrom('role_assignments').select(COLUMNS).orderBy('id');
    if (filter.principalId !== undefined) query = query.where('principal_id', '=', filter.principalId);
    if (filter.roleDefinitionId !== undefined) query = query.where('role_definition_id', '=', filter.roleDefinitionId);
    return query.execute();
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.#scope.deleteFrom('role_assignments').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
