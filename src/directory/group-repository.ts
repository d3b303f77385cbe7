// SQL for groups and their members (users and nested groups), scoped to one tenant.
import type { GroupsTable } from '../store/database.ts';
import type { TenantScope, TenantUpdate } from '../store/tenant-scope.ts';

export type GroupRow = Omit<GroupsTable, 'tenant_id'>;
export type MemberType = 'user' | 'group';
export interface MemberRef {
  readonly type: MemberType;
  readonly id: string;
}

const IN_CHUNK = 500;
const COLUMNS = ['id', 'display_name', 'description', 'mail_nickname', 'created_at', 'modified_at'] as const;

/** The common table expression of `withUserGroups`: one row per group the user is in. */
export const USER_GROUPS = 'user_groups';

/**
 * A scope whose queries can read `user_groups(id)`: every group the user is in, directly or through nested groups,
 * found by one recursive query (one statement, so one consistent read on both databases). `union` rather than
 * `union all` leaves out groups already found, so a cycle of groups ends the walk instead of looping, and there is no
 * depth cap that could silently drop a group (a dropped group could void a policy's exclusion).
 */
export function withUserGroups(scope: TenantScope, userId: string) {
  return scope.withRecursive<typeof USER_GROUPS, { id: string }>(USER_GROUPS, ['id'], (s) =>
    s
      .selectFrom('group_members')
      .select(['group_members.tenant_id', 'group_members.group_id as id'])
      .where('group_members.member_type', '=', 'user')
      .where('group_members.member_id', '=', userId)
      .union(
        s
          .selectFrom('group_members')
          .innerJoin(USER_GROUPS, (join) =>
            join
              .onRef(`${USER_GROUPS}.tenant_id`, '=', 'group_members.tenant_id')
              .onRef(`${USER_GROUPS}.id`, '=', 'group_members.member_id'),
          )
          .select(['group_members.tenant_id', 'group_members.group_id as id'])
          .where('group_members.member_type', '=', 'group'),
      ),
  );
}

export class GroupRepository {
  readonly #scope: TenantScope;
  constructor(scope: TenantScope) {
    this.#scope = scope;
  }

  async insert(row: GroupRow): Promise<void> {
    await this.#scope.insertInto('groups', row).execute();
  }

  async get(id: string): Promise<GroupRow | undefined> {
    return this.#scope.selectFrom('groups').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  async list(limit: number, after?: string): Promise<GroupRow[]> {
    let query = this.#scope.selectFrom('groups').select(COLUMNS).orderBy('id').limit(limit);
    if (after !== undefined) query = query.where('id', '>', after);
    return query.execute();
  }

  async update(id: string, changes: TenantUpdate<'groups'>): Promise<boolean> {
    const result = await this.#scope.updateTable('groups', changes).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Deletes the group, its own member rows (by foreign key) and its membership in other groups. */
  async delete(id: string): Promise<boolean> {
    return this.#scope.transaction(async (tx) => {
      await tx.deleteFrom('group_members').where('member_type', '=', 'group').where('member_id', '=', id).execute();
      const result = await tx.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  /** Whether a user or group of that id exists in this tenant. */
  async exists(member: MemberRef): Promise<boolean> {
    const table = member.type === 'user' ? 'users' : 'groups';
    const row = await this.#scope.selectFrom(table).select('id').where('id', '=', member.id).executeTakeFirst();
    return row !== undefined;
  }

  /** Adds a member; false when it was a member already. */
  async addMember(groupId: string, member: MemberRef): Promise<boolean> {
    const result = await this.#scope
      .insertInto('group_members', {
        group_id: groupId,
        member_type: member.type,
        member_id: member.id,
        created_at: this.#scope.now(),
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'group_id', 'member_type', 'member_id']).doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async removeMember(groupId: string, member: MemberRef): Promise<boolean> {
    const result = await this.#scope
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where('member_type', '=', member.type)
      .where('member_id', '=', member.id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async members(groupId: string): Promise<MemberRef[]> {
    const rows = await this.#scope
      .selectFrom('group_members')
      .select(['member_type', 'member_id'])
      .where('group_id', '=', groupId)
      .orderBy('member_type')
      .orderBy('member_id')
      .execute();
    return rows.map((r) => ({ type: r.member_type, id: r.member_id }));
  }

  /** Every group the user is in, directly or through nested groups, sorted (see `withUserGroups`). */
  async transitiveGroupsOf(userId: string): Promise<string[]> {
    const rows = await withUserGroups(this.#scope, userId).selectFrom(USER_GROUPS).select('id').execute();
    // Sorted here rather than by `order by`: PostgreSQL's collation may order the hyphens of UUIDs differently.
    return rows.map((r) => r.id).sort();
  }

  /** The groups that directly contain any of `memberIds` (all of one type), without duplicates. */
  async groupsContaining(type: MemberType, memberIds: readonly string[]): Promise<string[]> {
    const groups = new Set<string>();
    // Chunked: SQLite and PostgreSQL both cap the number of bound parameters in one statement.
    for (let i = 0; i < memberIds.length; i += IN_CHUNK) {
      const rows = await this.#scope
        .selectFrom('group_members')
        .select('group_id')
        .where('member_type', '=', type)
        .where('member_id', 'in', memberIds.slice(i, i + IN_CHUNK))
        .execute();
      for (const row of rows) groups.add(row.group_id);
    }
    return [...groups];
  }
}
