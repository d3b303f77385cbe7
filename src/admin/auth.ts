// Who is calling the admin API: a bearer token from the tenant's own token endpoint (audience api://portcullis,
// issuer the tenant's), checked against the tenant's signing keys, and the admin roles its principal holds — a
// signed-in user's directory roles, or, for client credentials, the roles given to the application (the automation
// client `init` registers is a Global Administrator).
// The admin console calls the same API without a token: its session cookie plus the X-CSRF-Token header
// (console/session.ts) stand for the signed-in user. A request with an Authorization header is always judged by it.
import { createLocalJWKSet, type JSONWebKeySet, type JWK, errors as joseErrors, jwtVerify } from 'jose';
import type { Clock } from '../clock.ts';
import { ConsoleSessions } from '../console/session.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { directoryFor } from '../directory/directory.ts';
import { builtInRole } from '../directory/roles.ts';
import { HttpError } from '../http/graph-error.ts';
import { ADMIN_API_RESOURCE } from '../oidc/provider.ts';
import { loadSigningKeys } from '../oidc/signing-keys.ts';
import { Sessions } from '../session/sessions.ts';
import { SETTING_KEYS, TenantSettings } from '../store/repositories/tenant-settings.ts';
import type { TenantScope } from '../store/tenant-scope.ts';

export type Principal =
  | { readonly kind: 'user'; readonly id: string; readonly roles: ReadonlySet<string> }
  | { readonly kind: 'application'; readonly id: string; readonly roles: ReadonlySet<string> };

/** How long a node keeps a tenant's public keys before reading them again (a rotation shows within this). */
const KEYS_TTL_MS = 60_000;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

export class AdminAuthenticator {
  readonly #keyring: Keyring;
  readonly #clock: Clock;
  readonly #issuerOf: (tenantId: string) => string;
  readonly #keys = new Map<string, { at: number; set: ReturnType<typeof createLocalJWKSet> }>();

  constructor(options: { keyring: Keyring; clock: Clock; issuerOf: (tenantId: string) => string }) {
    this.#keyring = options.keyring;
    this.#clock = options.clock;
    this.#issuerOf = options.issuerOf;
  }

  /**
   * The caller of a request to tenant `scope`, or an HttpError 401 naming what is wrong with the token. With no
   * Authorization header, `headers` may carry the console's session cookie, which counts only together with its
   * CSRF header (403 without it, 401 once the session has ended).
   */
  async authenticate(
    scope: TenantScope,
    authorization: string | undefined,
    headers?: { readonly cookie?: string; readonly [name: string]: string | string[] | undefined },
  ): Promise<Principal> {
    if (authorization === undefined && headers !== undefined) {
      const consoleSessions = this.#console(scope);
      if (consoleSessions.present(scope.tenantId, headers.cookie)) {
        const userId = await consoleSessions.authenticate(scope.tenantId, headers, this.#clock.now());
        return this.#user(scope, userId, 'The console session');
      }
    }
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) {
      throw new HttpError(
        401,
        'Access token is empty: send Authorization: Bearer <token>.',
        'InvalidAuthenticationToken',
      );
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(match[1], await this.#keySet(scope), {
        issuer: this.#issuerOf(scope.tenantId),
        audience: ADMIN_API_RESOURCE,
        currentDate: new Date(this.#clock.now()),
      }));
    } catch (error) {
      const reason =
        error instanceof joseErrors.JWTExpired
          ? 'the token has expired'
          : error instanceof joseErrors.JWTClaimValidationFailed
            ? `the token's ${error.claim} claim is not for this tenant's admin API`
            : 'the token is not a valid access token of this tenant';
      throw new HttpError(401, `Access token validation failure: ${reason}.`, 'InvalidAuthenticationToken');
    }
    if (payload.tid !== scope.tenantId) {
      throw new HttpError(
        401,
        "Access token validation failure: the token's tid is another tenant.",
        'InvalidAuthenticationToken',
      );
    }
    const directory = directoryFor(scope);
    if (payload.oid !== undefined || payload.scope === undefined || payload.sub !== payload.client_id) {
      // A token for a user (the token endpoint issues none for this resource, provider.ts): refused, so that a
      // client an administrator once signed in to can never act with the administrator's roles.
      throw new HttpError(
        401,
        "Access token validation failure: the admin API accepts an application's own token (client credentials), " +
          'not one issued on behalf of a user; people use the admin console.',
        'InvalidAuthenticationToken',
      );
    }
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    if (!clientId || !(await directory.applications.getByAppId(clientId))) {
      throw new HttpError(
        401,
        'Access token validation failure: the application no longer exists.',
        'InvalidAuthenticationToken',
      );
    }
    return { kind: 'application', id: clientId, roles: new Set(await applicationRoles(scope, clientId)) };
  }

  async #user(scope: TenantScope, userId: string, what: string): Promise<Principal> {
    const directory = directoryFor(scope);
    const user = await directory.users.get(userId);
    if (!user?.accountEnabled) {
      throw new HttpError(401, `${what}: the user is disabled or deleted.`, 'InvalidAuthenticationToken');
    }
    return { kind: 'user', id: user.id, roles: new Set(await directory.roles.rolesOf(user.id)) };
  }

  /** The console sessions, checked against the store (no cache: a revocation on any node shows at once). */
  #console(scope: TenantScope): ConsoleSessions {
    return new ConsoleSessions({
      keyring: this.#keyring,
      sessions: () => new Sessions(scope),
      issuerOf: this.#issuerOf,
    });
  }

  async #keySet(scope: TenantScope) {
    const now = this.#clock.now();
    const cached = this.#keys.get(scope.tenantId);
    if (cached && now - cached.at < KEYS_TTL_MS) return cached.set;
    const { jwks } = await loadSigningKeys(scope, this.#keyring);
    const set = createLocalJWKSet({ keys: jwks.map(publicJwk) } as JSONWebKeySet);
    this.#keys.set(scope.tenantId, { at: now, set });
    return set;
  }
}

function publicJwk(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete copy[member];
  return copy as JWK;
}

/** The admin roles given to applications (client credentials): appId → role template ids. */
export async function applicationRoles(scope: TenantScope, appId: string): Promise<string[]> {
  return (await allApplicationRoles(scope)).get(appId) ?? [];
}

/** Gives an application an admin role (idempotent). */
/** Every application's admin roles in the tenant: appId → role template ids. */
export async function allApplicationRoles(scope: TenantScope): Promise<Map<string, string[]>> {
  const all = (await new TenantSettings(scope).get(SETTING_KEYS.applicationRoles)) as
    | Record<string, unknown>
    | undefined;
  const out = new Map<string, string[]>();
  for (const [appId, roles] of Object.entries(all ?? {})) {
    if (Array.isArray(roles))
      out.set(
        appId,
        roles.filter((r): r is string => typeof r === 'string'),
      );
  }
  return out;
}

/** Takes one role from an application (`roleId` undefined: all of them); true when it had it. */
export async function removeApplicationRole(scope: TenantScope, appId: string, roleId?: string): Promise<boolean> {
  let had = false;
  await new TenantSettings(scope).update(SETTING_KEYS.applicationRoles, (stored) => {
    const all = { ...((stored ?? {}) as Record<string, string[]>) };
    const current = Array.isArray(all[appId]) ? all[appId] : [];
    const kept = roleId === undefined ? [] : current.filter((r) => r !== roleId);
    had = kept.length !== current.length;
    if (kept.length === 0) delete all[appId];
    else all[appId] = kept;
    return all;
  });
  return had;
}

export async function assignApplicationRole(scope: TenantScope, appId: string, roleId: string): Promise<void> {
  const role = builtInRole(roleId);
  if (!role) throw new TypeError(`roleDefinitionId: '${roleId}' is not a built-in role template id`);
  await new TenantSettings(scope).update(SETTING_KEYS.applicationRoles, (stored) => {
    const all = (stored ?? {}) as Record<string, string[]>;
    const current = Array.isArray(all[appId]) ? all[appId] : [];
    return current.includes(role.id) ? all : { ...all, [appId]: [...current, role.id] };
  });
}

/** Refuses (403, Graph's Authorization_RequestDenied) unless the principal holds one of `roles`. */
export function requireRole(principal: Principal, roles: readonly string[], action: string): void {
  if (roles.some((role) => principal.roles.has(role))) return;
  const names = roles.map((r) => builtInRole(r)?.displayName ?? r).join(', ');
  throw new HttpError(
    403,
    `Insufficient privileges to ${action}: it needs one of these roles: ${names}.`,
    'Authorization_RequestDenied',
  );
}
