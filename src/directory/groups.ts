// Groups of one tenant and their members — users and other groups (nested) — and `transitiveGroupsOf(userId)`, the
// flattened list of every group a user is in, which is what Conditional Access evaluates.
import { randomUUID } from 'node:crypto';
import { isForeignKeyViolation } from '../store/errors.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { GroupRepository, type GroupRow, type MemberRef } from './group-repository.ts';
import {
  graphTime,
  invalid,
  optionalText,
  type Page,
  type PageRequest,
  pageSize,
  requiredText,
  show,
  toPage,
} from './validate.ts';

export type { MemberRef, MemberType } from './group-repository.ts';

/** Graph's `group` (a security group: Portcullis groups are for access, not mail). */
export interface Group {
  readonly id: string;
  readonly displayName: string;
  readonly description: string | null;
  readonly mailNickname: string | null;
  readonly mailEnabled: false;
  readonly securityEnabled: true;
  readonly groupTypes: readonly string[];
  readonly createdDateTime: string;
}

export interface NewGroup {
  displayName: string;
  description?: string | null;
  mailNickname?: string | null;
}

function toGroup(row: GroupRow): Group {
  return {
    id: row.id,
    displayName: row.display_name,
    description: row.description,
    mailNickname: row.mail_nickname,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    createdDateTime: graphTime(row.created_at),
  };
}

function memberRef(member: unknown): MemberRef {
  const m = member as Partial<MemberRef> | undefined;
  if (m?.type !== 'user' && m?.type !== 'group') {
    throw invalid(`member.type: must be 'user' or 'group' but it is ${show(m?.type)}`);
  }
  return { type: m.type, id: requiredText('member.id', m.id, 256) };
}

export class Groups {
  readonly #scope: TenantScope;
  readonly #repo: GroupRepository;
  constructor(scope: TenantScope) {
    this.#scope = scope;
    this.#repo = new GroupRepository(scope);
  }

  async create(input: NewGroup): Promise<Group> {
    const now = this.#scope.now();
    const row: GroupRow = {
      id: randomUUID(),
      display_name: requiredText('displayName', input?.displayName, 256),
      description: optionalText('description', input.description, 1024, true) ?? null,
      mail_nickname: optionalText('mailNickname', input.mailNickname, 64) ?? null,
      created_at: now,
      modified_at: now,
    };
    await this.#repo.insert(row);
    return toGroup(row);
  }

  async get(id: string): Promise<Group | undefined> {
    const row = await this.#repo.get(id);
    return row && toGroup(row);
  }

  async list(request: PageRequest = {}): Promise<Page<Group>> {
    const top = pageSize(request.top);
    return toPage(await this.#repo.list(top + 1, request.after), top, (r) => r.id, toGroup);
  }

  async update(id: string, changes: Partial<NewGroup>): Promise<Group | undefined> {
    const set: Parameters<GroupRepository['update']>[1] = { modified_at: this.#scope.now() };
    if (changes?.displayName !== undefined) set.display_name = requiredText('displayName', changes.displayName, 256);
    const description = optionalText('description', changes?.description, 1024, true);
    if (description !== undefined) set.description = description;
    const nickname = optionalText('mailNickname', changes?.mailNickname, 64);
    if (nickname !== undefined) set.mail_nickname = nickname;
    if (!(await this.#repo.update(id, set))) return undefined;
    return this.get(id);
  }

  /** Deletes the group; its members stay (they only leave it). False when not found. */
  async delete(id: string): Promise<boolean> {
    return this.#repo.delete(id);
  }

  /**
   * Adds a user or a group to a group; false when it was a member already. Both must exist in this tenant; a group
   * cannot contain itself. Cycles through several groups are allowed (Graph imports may carry them) and
   * `transitiveGroupsOf` copes with them.
   */
  async addMember(groupId: string, member: MemberRef): Promise<boolean> {
    const ref = memberRef(member);
    if (ref.type === 'group' && ref.id === groupId) throw invalid(`member.id: a group cannot be a member of itself`);
    return this.#scope.transaction(async (tx) => {
      const repo = new GroupRepository(tx);
      if (!(await repo.get(groupId))) throw invalid(`groupId: no group ${show(groupId)} in this tenant`);
      if (!(await repo.exists(ref))) throw invalid(`member.id: no ${ref.type} ${show(ref.id)} in this tenant`);
      try {
        return await repo.addMember(groupId, ref);
      } catch (error) {
        if (isForeignKeyViolation(error)) throw invalid(`groupId: no group ${show(groupId)} in this tenant`);
        throw error;
      }
    });
  }

  async removeMember(groupId: string, member: MemberRef): Promise<boolean> {
    return this.#repo.removeMember(groupId, memberRef(member));
  }

  /** Direct members, users first. */
  async members(groupId: string): Promise<MemberRef[]> {
    return this.#repo.members(groupId);
  }

  /** The groups that directly contain the user or group. */
  async memberOf(member: MemberRef): Promise<string[]> {
    const ref = memberRef(member);
    return (await this.#repo.groupsContaining(ref.type, [ref.id])).sort();
  }

  /**
   * Every group the user is in, directly or through nested groups, sorted: one recursive query that copes with
   * cycles and has no depth cap that could silently drop a group (a dropped group could void a policy's exclusion).
   */
  async transitiveGroupsOf(userId: string): Promise<string[]> {
    return this.#repo.transitiveGroupsOf(userId);
  }
}
