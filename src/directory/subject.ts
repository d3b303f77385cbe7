// The Conditional Access subject for a user: who they are, every group they are in (nested groups flattened) and
// their admin roles — exactly the `Subject` the evaluator takes.
import type { Subject } from '../policy/evaluate.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { Groups } from './groups.ts';
import { RoleAssignments } from './role-assignments.ts';
import { UserRepository } from './user-repository.ts';

/** The user's subject, or undefined when the tenant has no such user. Read in one transaction (one snapshot). */
export async function subjectFor(scope: TenantScope, userId: string): Promise<Subject | undefined> {
  return scope.transaction(async (tx) => {
    const user = await new UserRepository(tx).get(userId);
    if (!user) return undefined;
    const [groups, roles] = [
      await new Groups(tx).transitiveGroupsOf(user.id),
      await new RoleAssignments(tx).rolesOf(user.id),
    ];
    return { userId: user.id, groups, roles, userType: user.user_type };
  });
}
