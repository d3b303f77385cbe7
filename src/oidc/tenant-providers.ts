// The per-tenant providers of this node, built on first use and kept: building one reads and decrypts the tenant's
// keys. `forget` drops one (after a key rotation) so the next request builds it again with the new keys.
import type { Config } from '../config/load.ts';
import type { SignInServices } from '../signin/ports.ts';
import { type TenantRecord, TenantRepository } from '../store/tenant-repository.ts';
import { createTenantProvider, type TenantProvider } from './provider.ts';
import { rotateSigningKeys } from './signing-keys.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** How long a tenant looked up by URL is remembered (tenants are created, not renamed, so this is only about reads). */
const TENANT_CACHE_MS = 60_000;
const TENANT_CACHE_MAX = 10_000;

export class TenantProviders {
  readonly #services: SignInServices;
  readonly #config: Pick<Config, 'tokens'>;
  readonly #publicUrl: () => string;
  readonly #providers = new Map<string, Promise<TenantProvider>>();
  readonly #tenants = new Map<string, { record: TenantRecord | undefined; at: number }>();

  constructor(services: SignInServices, config: Pick<Config, 'tokens'>, publicUrl: () => string) {
    this.#services = services;
    this.#config = config;
    this.#publicUrl = publicUrl;
  }

  /** The tenant named in a URL segment: its id, or its name. Undefined when there is none. */
  async resolveTenant(segment: string): Promise<TenantRecord | undefined> {
    const now = this.#services.clock.now();
    const cached = this.#tenants.get(segment);
    if (cached && now - cached.at < TENANT_CACHE_MS) return cached.record;
    const repo = new TenantRepository(this.#services.store);
    const valid = UUID.test(segment) || /^[a-z0-9-]{1,63}$/.test(segment);
    if (!valid) return undefined;
    const record = UUID.test(segment) ? await repo.get(segment) : await repo.getByName(segment);
    // Only found tenants are remembered, so URLs with made-up names cannot fill the cache.
    if (record) {
      if (this.#tenants.size >= TENANT_CACHE_MAX) this.#tenants.clear();
      this.#tenants.set(segment, { record, at: now });
    }
    return record;
  }

  get(tenantId: string): Promise<TenantProvider> {
    let entry = this.#providers.get(tenantId);
    if (!entry) {
      entry = createTenantProvider({
        services: this.#services,
        config: this.#config,
        publicUrl: this.#publicUrl(),
        tenantId,
      });
      this.#providers.set(tenantId, entry);
      // A failed build is not cached: the next request tries again.
      entry.catch(() => this.#providers.delete(tenantId));
    }
    return entry;
  }

  forget(tenantId: string): void {
    this.#providers.delete(tenantId);
  }

  /** Rotates the tenant's signing keys (for `portcullis keys rotate-signing`) and rebuilds its provider. */
  async rotateSigningKeys(tenantId: string): Promise<{ kids: string[] }> {
    const result = await rotateSigningKeys(this.#services.store.forTenant(tenantId), this.#services.keyring);
    this.forget(tenantId);
    return result;
  }
}
