// The people of the session tests: contoso (alice at headquarters, bob abroad) and fabrikam (mallory), in a fresh
// migrated store of the kind under test, with a clock the test moves (never sleeps).
import type { StoreUnderTest } from '../../../test/support/stores.ts';
import { twoTenants } from '../../../test/support/tenants.ts';
import { ManualClock } from '../../clock.ts';
import { directoryFor } from '../../directory/directory.ts';
import type { Store } from '../../store/store.ts';
import type { TenantScope } from '../../store/tenant-scope.ts';
import type { SessionCache } from '../cache.ts';
import { type SessionLogger, Sessions } from '../sessions.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export interface SessionWorld {
  readonly store: Store;
  readonly clock: ManualClock;
  readonly contoso: TenantScope;
  readonly fabrikam: TenantScope;
  readonly alice: string;
  readonly bob: string;
  readonly mallory: string;
  /** contoso's sessions (or another tenant's), with the given cache and logger. */
  sessions(options?: { scope?: TenantScope; cache?: SessionCache; logger?: SessionLogger }): Sessions;
}

export async function openSessionWorld(db: StoreUnderTest): Promise<SessionWorld> {
  const clock = new ManualClock(Date.UTC(2026, 2, 2, 9, 0, 0));
  const store = await db.open({ clock });
  const tenants = await twoTenants(store);
  const contoso = store.forTenant(tenants.contoso);
  const fabrikam = store.forTenant(tenants.fabrikam);
  const user = async (scope: TenantScope, userPrincipalName: string, displayName: string) =>
    (await directoryFor(scope).users.create({ userPrincipalName, displayName })).id;
  return {
    store,
    clock,
    contoso,
    fabrikam,
    alice: await user(contoso, 'alice@contoso.example', 'Alice'),
    bob: await user(contoso, 'bob@contoso.example', 'Bob'),
    mallory: await user(fabrikam, 'mallory@fabrikam.example', 'Mallory'),
    sessions: (options = {}) =>
      new Sessions(options.scope ?? contoso, {
        ...(options.cache ? { cache: options.cache } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      }),
  };
}

/** A logger that remembers what it was told. */
export function recordingLogger(): SessionLogger & { readonly lines: Array<{ object: object; message: string }> } {
  const lines: Array<{ object: object; message: string }> = [];
  return { lines, warn: (object, message) => lines.push({ object, message }) };
}
