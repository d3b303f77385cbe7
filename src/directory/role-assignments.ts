// Assigning built-in admin roles to users of one tenant. Out comes Graph's `unifiedRoleAssignment` (directory-wide
// scope `/`); `rolesOf(userId)` gives the role template ids the evaluator's subject carries.
import { randomUUID } from 'node:crypto';
import { isForeignKeyViolation } from '../store/errors.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { RoleAssignmentRepository, type RoleAssignmentRow } from './role-assignment-repository.ts';
import { builtInRole } from './roles.ts';
import { invalid, requiredText, show } from './validate.ts';

export interface RoleAssignment {
  readonly id: string;
  readonly roleDefinitionId: string;
  readonly principalId: string;
  readonly directoryScopeId: '/';
}

function toAssignment(row: RoleAssignmentRow): RoleAssignment {
  return { id: row.id, roleDefinitionId: row.role_definition_id, principalId: row.principal_id, directoryScopeId: '/' };
}

function roleId(value: unknown): string {
  const role = builtInRole(value);
  if (!role) throw invalid(`roleDefinitionId: ${show(value)} is not a built-in role template id`);
  return role.id;
}

export class RoleAssignments {
  readonly #scope: TenantScope;
  readonly #repo: RoleAssignmentRepository;
  constructor(scope: TenantScope) {
    this.#scope = scope;
    this.#repo = new RoleAssignmentRepository(scope);
  }

  /** Gives the user the role; assigning a role the user already has returns the existing assignment. */
  async assign(principalId: string, roleDefinitionId: string): Promise<RoleAssignment> {
    const role = roleId(roleDefinitionId);
    const principal = requiredText('principalId', principalId, 256);
    const row: RoleAssignmentRow = {
      id: randomUUID(),
      role_definition_id: role,
      principal_id: principal,
      created_at: this.#scope.now(),
    };
    try {
      if (await this.#repo.insert(row)) return toAssignment(row);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw invalid(`principalId: no user ${show(principal)} in this tenant`);
      throw error;
    }
    const existing = await this.#repo.find(principal, role);
    if (!existing) throw new Error(`role assignment for ${principal} vanished while being created`);
    return toAssignment(existing);
  }

  async get(id: string): Promise<RoleAssignment | undefined> {
    const row = await this.#repo.get(id);
    return row && toAssignment(row);
  }

  async list(filter: { principalId?: string; roleDefinitionId?: string } = {}): Promise<RoleAssignment[]> {
    const roleDefinitionId = filter.roleDefinitionId === undefined ? undefined : roleId(filter.roleDefinitionId);
    return (await this.#repo.list({ principalId: filter.principalId, roleDefinitionId })).map(toAssignment);
  }

  /** The role template ids assigned to the user, sorted. */
  async rolesOf(userId: string): Promise<string[]> {
    return (await this.#repo.list({ principalId: userId })).map((r) => r.role_definition_id).sort();
  }

  async remove(id: string): Promise<boolean> {
    return this.#repo.delete(id);
  }
}
