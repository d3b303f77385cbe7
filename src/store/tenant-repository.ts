// Tenants themselves: the one repository above tenancy, so the only one built on `store.unscoped`. Everything a
// tenant owns is reached through `store.forTenant(id)` instead.
import type { TenantsTable } from './database.ts';
import { isUniqueViolation } from './errors.ts';
import type { StoreHandle } from './store.ts';

export interface TenantRecord {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly createdAt: number;
  readonly modifiedAt: number;
}

function toRecord(row: TenantsTable): TenantRecord {
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

export class TenantRepository {
  readonly #store: StoreHandle;
  constructor(store: StoreHandle) {
    this.#store = store;
  }

  /** Inserts a tenant; returns undefined when the name is taken (names are unique). */
  async insert(tenant: { id: string; name: string; displayName: string }): Promise<TenantRecord | undefined> {
    const now = this.#store.clock.now();
    const row: TenantsTable = {
      id: tenant.id,
      name: tenant.name,
      display_name: tenant.displayName,
      created_at: now,
      modified_at: now,
    };
    try {
      await this.#store.unscoped.insertInto('tenants').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
    return toRecord(row);
  }

  async get(id: string): Promise<TenantRecord | undefined> {
    const row = await this.#store.unscoped.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async getByName(name: string): Promise<TenantRecord | undefined> {
    const row = await this.#store.unscoped
      .selectFrom('tenants')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /** Every tenant, by name. */
  async list(): Promise<TenantRecord[]> {
    const rows = await this.#store.unscoped.selectFrom('tenants').selectAll().orderBy('name').execute();
    return rows.map(toRecord);
  }
}
