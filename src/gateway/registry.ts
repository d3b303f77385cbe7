// Forward-auth applications: a directory application (its appId is what Conditional Access sees) plus the hosts and
// path prefixes it claims. Registered through the API (stored in `gateway_applications`, one row per application)
// or in the configuration file (`gateway.applications`, read at start-up); both end in one RouteTable for the node.
//
// Registering also makes the directory application usable by the gateway's sign-in: it must be a public client
// (the gateway signs in with authorization code + PKCE and holds no secret), and the gateway's callback
// `{publicUrl}/t/{tenantId}/gateway/callback` is added to its redirect URIs.
import { type Application, Applications } from '../directory/applications.ts';
import { invalid } from '../directory/validate.ts';
import type { Store } from '../store/store.ts';
import { TenantRepository } from '../store/tenant-repository.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import {
  type ConfiguredGatewayApplication,
  type GatewayRules,
  hostsOverlap,
  PatternError,
  parseGatewayRules,
} from './patterns.ts';
import { type GatewayEntry, RouteConflictError, RouteTable } from './routes.ts';
import './schema.ts';

/** A registered forward-auth application as the API shows it. */
export interface GatewayApplication {
  readonly appId: string;
  readonly hosts: readonly string[];
  readonly paths: readonly string[];
  /** `api` (stored) or `config` (from the configuration file; changed by editing the file). */
  readonly source: 'api' | 'config';
}

export interface GatewayApplicationInput {
  readonly appId: unknown;
  readonly hosts: unknown;
  readonly paths?: unknown;
}

/** Problems with the configured applications at start-up, every one listed. */
export class GatewayConfigError extends Error {
  override name = 'GatewayConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      `gateway.applications has ${problems.length === 1 ? '1 problem' : `${problems.length} problems`}:\n` +
        problems.map((p) => `  ${p}`).join('\n'),
    );
    this.problems = problems;
  }
}

export interface GatewayRegistryOptions {
  readonly store: Store;
  /** The public URL (callbacks are built from it); a function because tests learn it after listening. */
  readonly publicUrl: () => string;
  readonly configured?: readonly ConfiguredGatewayApplication[];
  /**
   * How long a loaded table is used before the store is read again, so registrations made on another node apply
   * here too. Default 30 s. Registrations on this node apply at once.
   */
  readonly reloadMs?: number;
  readonly logger?: { error(object: object, message: string): void };
}

export const DEFAULT_RELOAD_MS = 30_000;

export function gatewayCallbackUrl(publicUrl: string, tenantId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/t/${tenantId}/gateway/callback`;
}

export class GatewayRegistry {
  readonly #options: GatewayRegistryOptions;
  readonly #reloadMs: number;
  #table: RouteTable | undefined;
  #loadedAt = 0;
  #loading: Promise<RouteTable> | undefined;

  constructor(options: GatewayRegistryOptions) {
    this.#options = options;
    this.#reloadMs = options.reloadMs ?? DEFAULT_RELOAD_MS;
  }

  callbackUrl(tenantId: string): string {
    return gatewayCallbackUrl(this.#options.publicUrl(), tenantId);
  }

  /**
   * Reads every tenant's stored applications and the configured ones. `strict` (at start-up): any configured entry
   * that cannot be used (unknown tenant or application, a confidential client, a conflict) throws GatewayConfigError
   * with every problem. Otherwise such an entry is left out (its hosts are then denied) and logged.
   */
  async load(strict = false): Promise<RouteTable> {
    const problems: string[] = [];
    const entries: GatewayEntry[] = [];
    const tenants = await new TenantRepository(this.#options.store).list();
    for (const tenant of tenants) {
      for (const row of await this.#scope(tenant.id).selectFrom('gateway_applications').selectAll().execute()) {
        const stored = storedEntry(tenant.id, row.app_id, row.hosts, row.paths);
        if (typeof stored === 'string') problems.push(stored);
        else entries.push(stored);
      }
    }
    for (const [i, configured] of (this.#options.configured ?? []).entries()) {
      const where = `gateway.applications[${i}]`;
      const tenant = tenants.find((t) => t.id === configured.tenant || t.name === configured.tenant);
      if (!tenant) {
        problems.push(`${where}: there is no tenant '${configured.tenant}'`);
        continue;
      }
      try {
        await this.#prepareApplication(tenant.id, configured.applicationId);
      } catch (error) {
        problems.push(`${where}: ${(error as Error).message}`);
        continue;
      }
      entries.push({
        tenantId: tenant.id,
        appId: configured.applicationId,
        hosts: configured.hosts,
        paths: configured.paths,
        source: `config ${where}`,
      });
    }
    let table: RouteTable;
    try {
      table = new RouteTable(entries);
    } catch (error) {
      if (!(error instanceof RouteConflictError)) throw error;
      problems.push(error.message);
      // The configured entries lose: stored ones were checked against the table when they were registered.
      table = new RouteTable(entries.filter((e) => e.source === 'api'));
    }
    if (problems.length > 0) {
      if (strict) throw new GatewayConfigError(problems);
      this.#options.logger?.error({ problems }, 'gateway: some forward-auth applications are not in use');
    }
    this.#table = table;
    this.#loadedAt = this.#options.store.clock.now();
    return table;
  }

  /** The current table: loaded on first use, read again in the background once older than `reloadMs`. */
  async routes(): Promise<RouteTable> {
    const table = this.#table;
    if (table === undefined) return this.#reload();
    if (this.#options.store.clock.now() - this.#loadedAt >= this.#reloadMs) {
      this.#reload().catch((error) => this.#options.logger?.error({ err: error }, 'gateway: reloading failed'));
    }
    return table;
  }

  #reload(): Promise<RouteTable> {
    this.#loading ??= this.load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** The tenant's forward-auth applications, stored and configured. */
  async list(tenantId: string): Promise<GatewayApplication[]> {
    const table = await this.routes();
    return table.entries.filter((e) => e.tenantId === tenantId).map(view);
  }

  /**
   * Registers (or replaces the rules of) a forward-auth application. Throws PortcullisError 90001 naming the field
   * for bad input, an unknown or confidential application, or hosts and paths another application already claims.
   * `within` runs in the transaction that stores the registration (the admin API's audit record).
   */
  async register(
    tenantId: string,
    input: GatewayApplicationInput,
    within?: (tx: TenantScope, registered: GatewayApplication) => Promise<void>,
  ): Promise<GatewayApplication> {
    const appId = input?.appId;
    if (typeof appId !== 'string' || appId === '') throw invalid('appId: must be the application (client) id');
    let rules: GatewayRules;
    try {
      rules = parseGatewayRules({ hosts: input.hosts, paths: input.paths });
    } catch (error) {
      if (error instanceof PatternError) throw invalid(error.message);
      throw error;
    }
    const current = await this.load();
    if (current.entries.some((e) => e.tenantId === tenantId && e.appId === appId && e.source !== 'api')) {
      throw invalid(`appId: application ${appId} is registered in the configuration file; change it there`);
    }
    // A host belongs to one tenant: another tenant's application claiming a longer path under it, or a wildcard over
    // it, would send that tenant's users — and its identity headers — to this tenant's site. The message names no
    // other tenant's application.
    for (const host of rules.hosts) {
      const taken = current.entries.some((e) => e.tenantId !== tenantId && e.hosts.some((h) => hostsOverlap(host, h)));
      if (taken) {
        throw invalid(
          `hosts: '${host.text}' overlaps hosts that another tenant's application claims; a host (with all its paths ` +
            'and names under a wildcard) belongs to one tenant',
        );
      }
    }
    const entry: GatewayEntry = { tenantId, appId, ...rules, source: 'api' };
    try {
      new RouteTable([...current.entries.filter((e) => !(e.tenantId === tenantId && e.appId === appId)), entry]);
    } catch (error) {
      if (error instanceof RouteConflictError) throw invalid(error.message);
      throw error;
    }
    const scope = this.#scope(tenantId);
    const now = scope.now();
    const hosts = JSON.stringify(rules.hosts.map((h) => h.text));
    const paths = JSON.stringify(rules.paths);
    // The application's new redirect URI, the registration and the caller's audit record land together or not at all.
    await scope.transaction(async (tx) => {
      await this.#prepareApplication(tenantId, appId, tx);
      const updated = await tx
        .updateTable('gateway_applications', { hosts, paths, modified_at: now })
        .where('app_id', '=', appId)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) {
        await tx
          .insertInto('gateway_applications', { app_id: appId, hosts, paths, created_at: now, modified_at: now })
          .execute();
      }
      await within?.(tx, view(entry));
    });
    await this.load();
    return view(entry);
  }

  /**
   * Removes a stored registration (the directory application stays); false when there was none. `within` runs in the
   * same transaction when a registration was removed (the admin API's audit record).
   */
  async unregister(tenantId: string, appId: string, within?: (tx: TenantScope) => Promise<void>): Promise<boolean> {
    const removed = await this.#scope(tenantId).transaction(async (tx) => {
      const result = await tx.deleteFrom('gateway_applications').where('app_id', '=', appId).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      await within?.(tx);
      return true;
    });
    await this.load();
    return removed;
  }

  /**
   * Checks that the application exists and is a public client, and adds the gateway's callback to its redirect URIs
   * when it is missing (the login route calls this too, in case the public URL changed since).
   */
  async ensureCallback(tenantId: string, appId: string): Promise<Application> {
    return this.#prepareApplication(tenantId, appId);
  }

  async #prepareApplication(tenantId: string, appId: string, tx?: TenantScope): Promise<Application> {
    const applications = new Applications(tx ?? this.#scope(tenantId));
    const app = await applications.getByAppId(appId);
    if (!app) throw invalid(`appId: there is no application ${appId} in this tenant`);
    if (app.clientType !== 'public') {
      throw invalid(
        `appId: application ${appId} ('${app.displayName}') is a confidential client; forward auth signs in as a ` +
          'public client (authorization code with PKCE, no secret), so register a public application for it',
      );
    }
    const callback = this.callbackUrl(tenantId);
    if (app.redirectUris.includes(callback)) return app;
    const updated = await applications.update(app.id, { redirectUris: [...app.redirectUris, callback] });
    if (!updated) throw invalid(`appId: there is no application ${appId} in this tenant`);
    return updated;
  }

  #scope(tenantId: string): TenantScope {
    return this.#options.store.forTenant(tenantId);
  }
}

function view(entry: GatewayEntry): GatewayApplication {
  return {
    appId: entry.appId,
    hosts: entry.hosts.map((h) => h.text),
    paths: [...entry.paths],
    source: entry.source === 'api' ? 'api' : 'config',
  };
}

/** A stored row as an entry, or a problem naming it (a row that no longer parses is left out: fail closed). */
function storedEntry(tenantId: string, appId: string, hostsText: string, pathsText: string): GatewayEntry | string {
  try {
    const rules = parseGatewayRules({ hosts: JSON.parse(hostsText), paths: JSON.parse(pathsText) });
    return { tenantId, appId, ...rules, source: 'api' };
  } catch (error) {
    return `tenant ${tenantId}: stored forward-auth application ${appId} cannot be read: ${(error as Error).message}`;
  }
}
