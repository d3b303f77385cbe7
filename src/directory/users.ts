// Users of one tenant: create, read (by id, or by user principal name case-insensitively), list, update, delete.
// What comes out is Graph's `user` shape, so the admin API returns it as it is.
import { randomUUID } from 'node:crypto';
import { isUniqueViolation } from '../store/errors.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { UserRepository, type UserRow } from './user-repository.ts';
import {
  graphTime,
  invalid,
  optionalBoolean,
  optionalText,
  type Page,
  type PageRequest,
  pageSize,
  requiredText,
  show,
  toPage,
} from './validate.ts';

/** Graph's `user` (the properties Portcullis keeps). Graph spells userType `Member` / `Guest`. */
export interface User {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly mail: string | null;
  readonly userType: 'Member' | 'Guest';
  readonly accountEnabled: boolean;
  readonly createdDateTime: string;
}

export interface NewUser {
  userPrincipalName: string;
  displayName: string;
  mail?: string | null;
  /** `member` (default) or `guest`, in any letter case. */
  userType?: string;
  /** Default true. */
  accountEnabled?: boolean;
}

export type UserChanges = Partial<NewUser>;

// Entra: "The UPN prefix … up to 64 characters; the domain … up to 48" (113 with the @).
const UPN = /^[^\s@]{1,64}@[^\s@]{1,48}$/;
const MAIL = /^[^\s@]+@[^\s@]+$/;

function upn(value: unknown): string {
  const text = requiredText('userPrincipalName', value, 113);
  if (!UPN.test(text)) {
    throw invalid(
      `userPrincipalName: ${show(text)} must look like alias@domain (alias up to 64 characters, domain up to 48)`,
    );
  }
  return text;
}

function mail(value: unknown): string | null | undefined {
  const text = optionalText('mail', value, 254);
  if (text && !MAIL.test(text)) throw invalid(`mail: ${show(text)} is not an email address`);
  return text;
}

function userType(value: unknown): 'member' | 'guest' | undefined {
  if (value === undefined) return undefined;
  const lower = typeof value === 'string' ? value.toLowerCase() : value;
  if (lower === 'member' || lower === 'guest') return lower;
  throw invalid(`userType: must be 'Member' or 'Guest' but it is ${show(value)}`);
}

/** The case-insensitive lookup key: Entra treats user principal names case-insensitively. */
export function upnKey(userPrincipalName: string): string {
  return userPrincipalName.trim().toLowerCase();
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    userPrincipalName: row.user_principal_name,
    displayName: row.display_name,
    mail: row.mail,
    userType: row.user_type === 'guest' ? 'Guest' : 'Member',
    accountEnabled: row.account_enabled === 1,
    createdDateTime: graphTime(row.created_at),
  };
}

function taken(name: string): Error {
  return invalid(`userPrincipalName: another user in this tenant already has ${show(name)}`);
}

export class Users {
  readonly #scope: TenantScope;
  readonly #repo: UserRepository;
  constructor(scope: TenantScope) {
    this.#scope = scope;
    this.#repo = new UserRepository(scope);
  }

  async create(input: NewUser): Promise<User> {
    const name = upn(input?.userPrincipalName);
    const now = this.#scope.now();
    const row: UserRow = {
      id: randomUUID(),
      user_principal_name: name,
      upn_key: upnKey(name),
      display_name: requiredText('displayName', input.displayName, 256),
      mail: mail(input.mail) ?? null,
      user_type: userType(input.userType) ?? 'member',
      account_enabled: (optionalBoolean('accountEnabled', input.accountEnabled) ?? true) ? 1 : 0,
      created_at: now,
      modified_at: now,
    };
    try {
      await this.#repo.insert(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw taken(name);
      throw error;
    }
    return toUser(row);
  }

  async get(id: string): Promise<User | undefined> {
    const row = await this.#repo.get(id);
    return row && toUser(row);
  }

  /** By user principal name, ignoring letter case. */
  async getByUserPrincipalName(userPrincipalName: string): Promise<User | undefined> {
    if (typeof userPrincipalName !== 'string') return undefined;
    const row = await this.#repo.getByUpnKey(upnKey(userPrincipalName));
    return row && toUser(row);
  }

  /** Graph's `/users/{id | userPrincipalName}`: an id, or a name containing `@`. */
  async find(idOrUserPrincipalName: string): Promise<User | undefined> {
    if (typeof idOrUserPrincipalName !== 'string') return undefined;
    return idOrUserPrincipalName.includes('@')
      ? this.getByUserPrincipalName(idOrUserPrincipalName)
      : this.get(idOrUserPrincipalName);
  }

  async list(request: PageRequest = {}): Promise<Page<User>> {
    const top = pageSize(request.top);
    const rows = await this.#repo.list(top + 1, request.after);
    return toPage(rows, top, (r) => r.id, toUser);
  }

  /** Changes the properties given; undefined when there is no such user. */
  async update(id: string, changes: UserChanges): Promise<User | undefined> {
    const set: Parameters<UserRepository['update']>[1] = {};
    if (changes?.userPrincipalName !== undefined) {
      set.user_principal_name = upn(changes.userPrincipalName);
      set.upn_key = upnKey(set.user_principal_name);
    }
    if (changes?.displayName !== undefined) set.display_name = requiredText('displayName', changes.displayName, 256);
    const newMail = mail(changes?.mail);
    if (newMail !== undefined) set.mail = newMail;
    const newType = userType(changes?.userType);
    if (newType) set.user_type = newType;
    const enabled = optionalBoolean('accountEnabled', changes?.accountEnabled);
    if (enabled !== undefined) set.account_enabled = enabled ? 1 : 0;
    set.modified_at = this.#scope.now();
    try {
      if (!(await this.#repo.update(id, set))) return undefined;
    } catch (error) {
      if (isUniqueViolation(error)) throw taken(set.user_principal_name ?? '');
      throw error;
    }
    return this.get(id);
  }

  /** Deletes the user with their credentials, role assignments and group memberships; false when not found. */
  async delete(id: string): Promise<boolean> {
    return this.#repo.delete(id);
  }
}
