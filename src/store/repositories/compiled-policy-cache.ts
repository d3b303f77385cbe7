// Each tenant's compiled Conditional Access set, kept in memory and rebuilt only when the tenant's policyVersion has
// moved; the version is looked at no more than once per `checkEveryMs` (default one second) per tenant.
//
// One node: every change goes through PolicyRepository, which bumps the version, so the next check after
// `checkEveryMs` sees it. Several nodes: the same polling bounds staleness to `checkEveryMs`; pushing invalidations
// through PostgreSQL LISTEN/NOTIFY (ARCHITECTURE.md, "Scale") comes later and will call `invalidate`.
import { type Clock, systemClock } from '../../clock.ts';
import type { CountryLookup } from '../../geo/country-lookup.ts';
import { type CompiledPolicySet, compilePolicySet } from '../../policy/compile.ts';
import type { TenantScope } from '../tenant-scope.ts';
import { PolicyRepository, type PolicySnapshot } from './policy-repository.ts';

export const DEFAULT_POLICY_CHECK_MS = 1000;

export interface CompiledPolicyCacheOptions {
  /** Where tenants are reached: the Store (or anything with its `forTenant`). */
  readonly store: { forTenant(tenantId: string): TenantScope };
  /** IP → country for country locations; without it, requests without a country match only "unknown". */
  readonly countries?: CountryLookup;
  /** Decides when the version is looked at again; tests pass a ManualClock. Default: the system clock. */
  readonly clock?: Clock;
  /** At most one version check per tenant per this many milliseconds. Default 1000; 0 checks on every call. */
  readonly checkEveryMs?: number;
}

/** The stored policies of a tenant do not compile (changed behind the repository's back): sign-ins fail closed. */
export class PolicySetUnavailableError extends Error {
  override name = 'PolicySetUnavailableError';
}

interface Entry {
  readonly version: number;
  readonly set: CompiledPolicySet;
  checkedAt: number;
}

export class CompiledPolicyCache {
  readonly #store: CompiledPolicyCacheOptions['store'];
  readonly #countryOf: ((ip: Parameters<CountryLookup['country']>[0]) => string | undefined) | undefined;
  readonly #clock: Clock;
  readonly #checkEveryMs: number;
  readonly #entries = new Map<string, Entry>();
  /** One refresh per tenant at a time: concurrent sign-ins wait for the same read and compile. */
  readonly #refreshing = new Map<string, Promise<CompiledPolicySet>>();
  /** Bumped by invalidate, so a refresh that started before it does not install what it read. */
  #generation = 0;

  constructor(options: CompiledPolicyCacheOptions) {
    const every = options.checkEveryMs ?? DEFAULT_POLICY_CHECK_MS;
    if (!Number.isFinite(every) || every < 0) {
      throw new RangeError(`checkEveryMs must be a number of milliseconds, 0 or more, not ${every}`);
    }
    this.#store = options.store;
    const countries = options.countries;
    this.#countryOf = countries ? (ip) => countries.country(ip) : undefined;
    this.#clock = options.clock ?? systemClock;
    this.#checkEveryMs = every;
  }

  /** The tenant's compiled set: from memory when checked recently or still at the stored version. */
  async get(tenantId: string): Promise<CompiledPolicySet> {
    const entry = this.#entries.get(tenantId);
    if (entry && this.#clock.now() - entry.checkedAt < this.#checkEveryMs) return entry.set;
    let pending = this.#refreshing.get(tenantId);
    if (!pending) {
      pending = this.#refresh(tenantId, entry).finally(() => this.#refreshing.delete(tenantId));
      this.#refreshing.set(tenantId, pending);
    }
    return pending;
  }

  /** Forgets one tenant's set (or all): the next `get` reads the store. For LISTEN/NOTIFY and for tests. */
  invalidate(tenantId?: string): void {
    this.#generation++;
    if (tenantId === undefined) this.#entries.clear();
    else this.#entries.delete(tenantId);
  }

  async #refresh(tenantId: string, entry: Entry | undefined): Promise<CompiledPolicySet> {
    const generation = this.#generation;
    const scope = this.#store.forTenant(tenantId);
    const repository = new PolicyRepository(scope);
    const checkedAt = this.#clock.now();
    if (entry && (await repository.version()) === entry.version) {
      entry.checkedAt = checkedAt;
      return entry.set;
    }
    const snapshot = await repository.snapshot();
    const set = this.#compile(tenantId, snapshot);
    if (generation === this.#generation) this.#entries.set(tenantId, { version: snapshot.version, set, checkedAt });
    return set;
  }

  #compile(tenantId: string, snapshot: PolicySnapshot): CompiledPolicySet {
    try {
      return compilePolicySet(snapshot.locations, snapshot.policies, {
        mfaTrustedIps: snapshot.mfaTrustedIps,
        countryOf: this.#countryOf,
      });
    } catch (error) {
      // Never fall back to an older set: it may lack the block policy this change added.
      throw new PolicySetUnavailableError(
        `tenant ${tenantId}: the stored named locations and policies (version ${snapshot.version}) do not compile: ` +
          `${(error as Error).message}`,
      );
    }
  }
}
