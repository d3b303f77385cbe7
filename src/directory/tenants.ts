// Creating tenants: a generated UUID and a short URL-safe name (tenant-facing URLs name the tenant), and the
// `default` tenant that `portcullis init` and a first `serve` create.
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { type TenantRecord, TenantRepository } from '../store/tenant-repository.ts';
import { invalid, requiredText, show } from './validate.ts';

export type { TenantRecord } from '../store/tenant-repository.ts';

export const DEFAULT_TENANT_NAME = 'default';

/** A DNS-label-like name: lower-case letters, digits and inner hyphens, 1–63 characters. */
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Entra's tenant aliases in its URLs; a tenant of that name would be confused with them. */
const RESERVED = new Set(['common', 'organizations', 'consumers']);

export function validateTenantName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalid(
      `name: must be 1-63 lower-case letters, digits or inner hyphens (it appears in URLs) but it is ${show(name)}`,
    );
  }
  if (RESERVED.has(name)) throw invalid(`name: '${name}' is reserved`);
  return name;
}

export async function createTenant(store: Store, input: { name: string; displayName?: string }): Promise<TenantRecord> {
  const name = validateTenantName(input?.name);
  const displayName = input.displayName === undefined ? name : requiredText('displayName', input.displayName, 256);
  const tenant = await new TenantRepository(store).insert({ id: randomUUID(), name, displayName });
  if (!tenant) throw invalid(`name: a tenant named '${name}' already exists`);
  return tenant;
}

/** The tenant named `default`, created when missing. Safe to call from several nodes at once. */
export async function ensureDefaultTenant(store: Store): Promise<{ tenant: TenantRecord; created: boolean }> {
  const repo = new TenantRepository(store);
  const existing = await repo.getByName(DEFAULT_TENANT_NAME);
  if (existing) return { tenant: existing, created: false };
  const created = await repo.insert({ id: randomUUID(), name: DEFAULT_TENANT_NAME, displayName: 'Default' });
  if (created) return { tenant: created, created: true };
  const raced = await repo.getByName(DEFAULT_TENANT_NAME);
  if (!raced) throw new Error('the default tenant could neither be created nor found');
  return { tenant: raced, created: false };
}
