// The Conditional Access subject for a user: who they are, every group they are in (nested groups flattened) and
// their admin roles — exactly the `Subject` the evaluator takes.
import { sql } from 'kysely';
import type { Subject } from '../policy/evaluate.ts';
import { defineQuery, type TenantScope } from '../store/tenant-scope.ts';
import { USER_GROUPS, withUserGroups } from './group-repository.ts';

type Part = 'user' | 'group' | 'role';
const part = (name: Part) => sql.lit<string>(name).as('part');

/** The statement of `subjectFor`, compiled once per store (TenantScope.run). */
const SUBJECT = defineQuery((scope, v: { userId: string }) =>
  withUserGroups(scope, v.userId)
    .selectFrom(USER_GROUPS)
    .select([part('group'), 'id as value'])
    .unionAll(
      scope
        .selectFrom('users')
        .select([part('user'), 'user_type as value'])
        .where('id', '=', v.userId),
    )
    .unionAll(
      scope
        .selectFrom('role_assignments')
        .select([part('role'), 'role_definition_id as value'])
        .where('principal_id', '=', v.userId),
    ),
);

/**
 * The user's subject, or undefined when the tenant has no such user. One statement — the user's type, their groups
 * (a recursive walk up nested groups) and their role template ids, as one `union all` — so it is one consistent read
 * on both databases without a transaction: on SQLite a transaction would take the write lock (`begin immediate`)
 * just to read, and on PostgreSQL it would cost two more round trips. Runs at every sign-in, refresh and
 * forward-auth check.
 */
export async function subjectFor(scope: TenantScope, userId: string): Promise<Subject | undefined> {
  const { rows } = await scope.run(SUBJECT, { userId });
  let userType: Subject['userType'] | undefined;
  const groups: string[] = [];
  const roles: string[] = [];
  for (const row of rows) {
    if (row.part === 'user') userType = row.value as Subject['userType'];
    else if (row.part === 'group') groups.push(row.value);
    else roles.push(row.value);
  }
  if (userType === undefined) return undefined;
  return { userId, groups: groups.sort(), roles: roles.sort(), userType };
}
