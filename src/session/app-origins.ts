// Which web origins may call a tenant's session endpoints from the browser (CORS): the origins of its registered
// applications' redirect URIs. Read from the directory and kept for a short while per tenant, with the tenant itself
// (named in the URL by id or by name), so the expiry banner's requests do not read the store each time.
import type { Clock } from '../clock.ts';
import { Applications } from '../directory/applications.ts';
import type { StoreHandle } from '../store/store.ts';
import { TenantRepository } from '../store/tenant-repository.ts';

/** How long a tenant and its application origins are kept (ms): a newly registered app works within this time. */
export const APP_ORIGINS_TTL_MS = 60_000;
/** Tenants kept at most; when full, the cache starts again (only found tenants are kept, so made-up names cannot fill it). */
const MAX_TENANTS = 1_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface TenantOrigins {
  readonly tenantId: string;
  /** Serialized origins (`https://app.example.com`, `http://127.0.0.1:3000`); http(s) redirect URIs only. */
  readonly origins: ReadonlySet<string>;
}

/**
 * The origins of redirect URIs, as browsers send them in `Origin`. Private-use schemes (native apps,
 * `com.example.app:/callback`) have no web origin and are left out.
 */
export function originsOf(redirectUris: Iterable<string>): Set<string> {
  const origins = new Set<string>();
  for (const uri of redirectUris) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      continue;
    }
    if (url.protocol === 'https:' || url.protocol === 'http:') origins.add(url.origin);
  }
  return origins;
}

export class AppOrigins {
  readonly #store: StoreHandle;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { readonly value: TenantOrigins; readonly at: number }>();

  constructor(store: StoreHandle, clock: Clock, ttlMs: number = APP_ORIGINS_TTL_MS) {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 0) {
      throw new RangeError(`app origins: ttlMs must be a whole number of milliseconds ≥ 0, but it is ${ttlMs}`);
    }
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /** The tenant named by a URL segment (its id, or its name) and its application origins; undefined when none. */
  async lookup(segment: string): Promise<TenantOrigins | undefined> {
    const now = this.#clock.now();
    const cached = this.#entries.get(segment);
    if (cached !== undefined && now - cached.at < this.#ttlMs) return cached.value;
    const isId = UUID.test(segment);
    if (!isId && !NAME.test(segment)) return undefined;
    const tenants = new TenantRepository(this.#store);
    const tenant = isId ? await tenants.get(segment) : await tenants.getByName(segment);
    if (tenant === undefined) {
      this.#entries.delete(segment);
      return undefined;
    }
    const applications = new Applications(this.#store.forTenant(tenant.id));
    const redirectUris: string[] = [];
    let after: string | undefined;
    do {
      const page = await applications.list({ top: 999, ...(after === undefined ? {} : { after }) });
      for (const application of page.items) redirectUris.push(...application.redirectUris);
      after = page.next;
    } while (after !== undefined);
    const value: TenantOrigins = { tenantId: tenant.id, origins: originsOf(redirectUris) };
    if (this.#entries.size >= MAX_TENANTS && !this.#entries.has(segment)) this.#entries.clear();
    this.#entries.set(segment, { value, at: now });
    return value;
  }
}
