// One tenant's directory in one object: what the sign-in pipeline, OIDC and the admin API take. Build it per
// request (it holds no state beyond the scope): `directoryFor(store.forTenant(tenantId))`.
import type { Subject } from '../policy/evaluate.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { Applications } from './applications.ts';
import { Groups } from './groups.ts';
import { RoleAssignments } from './role-assignments.ts';
import { subjectFor } from './subject.ts';
import { Users } from './users.ts';

export interface Directory {
  readonly tenantId: string;
  readonly users: Users;
  readonly groups: Groups;
  readonly roles: RoleAssignments;
  readonly applications: Applications;
  /** The Conditional Access subject of a user; undefined when there is no such user. */
  subjectFor(userId: string): Promise<Subject | undefined>;
}

export function directoryFor(scope: TenantScope): Directory {
  return {
    tenantId: scope.tenantId,
    users: new Users(scope),
    groups: new Groups(scope),
    roles: new RoleAssignments(scope),
    applications: new Applications(scope),
    subjectFor: (userId) => subjectFor(scope, userId),
  };
}
