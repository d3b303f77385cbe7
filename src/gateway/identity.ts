// Who a session's user is, for Conditional Access (the subject: groups flattened, roles) and for the identity headers
// (UPN, display name, mail, group names). Read from the directory and kept for a short time per user, so a busy app
// does not cost several queries per request; changes in the directory (a new group, a disabled account) reach the
// gateway within that time. Session revocation is not delayed by it: sessions are checked on every request.
import type { Clock } from '../clock.ts';
import { directoryFor } from '../directory/directory.ts';
import type { Subject } from '../policy/evaluate.ts';
import type { Store } from '../store/store.ts';

export interface GatewayIdentity {
  readonly subject: Subject;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly mail: string | null;
  /** Every group the user is in (nested groups flattened), with display names, sorted by id. */
  readonly groups: readonly { readonly id: string; readonly displayName: string }[];
}

export interface IdentitySource {
  /**
   * The user's identity; undefined when the tenant has no such user or the account is disabled. `now` is the
   * request's time, read from the same clock the source was given (the caller has read it already).
   */
  identity(tenantId: string, userId: string, now?: number): Promise<GatewayIdentity | undefined>;
}

export const IDENTITY_CACHE_MS = 30_000;
const IDENTITY_CACHE_MAX = 50_000;

/** The directory-backed source with a per-user cache of IDENTITY_CACHE_MS. */
export class DirectoryIdentities implements IdentitySource {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  /** Tenant id → user id → the read (two levels: the ids come as the same strings each time, no key is built). */
  readonly #cache = new Map<string, Map<string, { at: number; value: Promise<GatewayIdentity | undefined> }>>();
  #size = 0;

  constructor(store: Store, clock: Clock, ttlMs = IDENTITY_CACHE_MS) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  identity(tenantId: string, userId: string, now = this.#clock.now()): Promise<GatewayIdentity | undefined> {
    let users = this.#cache.get(tenantId);
    const cached = users?.get(userId);
    if (cached && now - cached.at < this.#ttlMs) return cached.value;
    if (cached === undefined && this.#size >= IDENTITY_CACHE_MAX) {
      this.#cache.clear();
      this.#size = 0;
      users = undefined;
    }
    if (users === undefined) {
      users = new Map();
      this.#cache.set(tenantId, users);
    }
    const value = this.#read(tenantId, userId);
    const entry = { at: now, value };
    if (cached === undefined) this.#size++;
    users.set(userId, entry);
    // A failed read is not kept: the next request reads again (and this one fails closed).
    value.catch(() => {
      if (this.#cache.get(tenantId)?.get(userId) === entry) this.forget(tenantId, userId);
    });
    return value;
  }

  /** Drops what is known about a user (after a directory change on this node). */
  forget(tenantId: string, userId: string): void {
    const users = this.#cache.get(tenantId);
    if (users?.delete(userId)) this.#size--;
  }

  async #read(tenantId: string, userId: string): Promise<GatewayIdentity | undefined> {
    const directory = directoryFor(this.#store.forTenant(tenantId));
    const user = await directory.users.get(userId);
    if (!user?.accountEnabled) return undefined;
    const subject = await directory.subjectFor(userId);
    if (!subject) return undefined;
    const groups: { id: string; displayName: string }[] = [];
    for (const id of subject.groups) {
      const group = await directory.groups.get(id);
      if (group) groups.push({ id, displayName: group.displayName });
    }
    return {
      subject,
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName,
      mail: user.mail,
      groups,
    };
  }
}
