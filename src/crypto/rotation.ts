// What `portcullis keys rotate` calls: a new data key version for every tenant, and re-wrapping every data key under
// a new master key — for a generated key file, staged beside the old one so a crash never loses the key in use.
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/store.ts';
import { TenantRepository } from '../store/tenant-repository.ts';
import { KEY_BYTES } from './aes-gcm.ts';
import type { Keyring } from './keyring.ts';
import { MASTER_KEY_FILE, NEXT_MASTER_KEY_FILE, writeMasterKeyFile } from './master-key.ts';

/** Adds a data key version to every tenant; returns tenant id → new version. */
export async function rotateAllDataKeys(store: Store, keyring: Keyring): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (const tenant of await new TenantRepository(store).list()) {
    versions.set(tenant.id, await keyring.rotateDataKey(tenant.id));
  }
  return versions;
}

/**
 * For a data directory whose master key is the key file: generates a new key, writes it to master.key.next,
 * re-wraps every data key under it (one transaction), then renames master.key.next over master.key. A crash before
 * the commit leaves master.key valid; after it, master.key.next holds the key in use (loadMasterKey says so).
 */
export async function rotateMasterKeyFile(
  keyring: Keyring,
  dataDir: string,
): Promise<{ masterKeyId: string; rewrapped: number; path: string }> {
  const path = join(dataDir, MASTER_KEY_FILE);
  const nextPath = join(dataDir, NEXT_MASTER_KEY_FILE);
  if (!existsSync(path)) throw new Error(`no ${MASTER_KEY_FILE} in ${dataDir}: the master key is configured elsewhere`);
  if (existsSync(nextPath)) {
    throw new Error(`${nextPath} exists from an interrupted rotation: resolve it first (see the start-up warning)`);
  }
  const key = new Uint8Array(randomBytes(KEY_BYTES));
  writeMasterKeyFile(dataDir, key, NEXT_MASTER_KEY_FILE);
  let result: { masterKeyId: string; rewrapped: number };
  try {
    result = await keyring.rotateMasterKey(key);
  } catch (error) {
    rmSync(nextPath, { force: true });
    throw error;
  }
  renameSync(nextPath, path);
  return { ...result, path };
}
