// Envelope encryption of secrets at rest (TOTP seeds, signing keys): each tenant has random 256-bit data keys,
// stored wrapped by the master key (AES-256-GCM) in data_keys with versions; secrets are sealed with the tenant's
// newest data key. Ciphertexts are `v1.<keyVersion>.<iv>.<ciphertext+tag>` (base64url parts), and their associated
// data binds tenant, key version and purpose, so a ciphertext copied to another tenant or column does not decrypt.
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { TenantRepository } from '../store/tenant-repository.ts';
import type { TenantScope } from '../store/tenant-scope.ts';
import { KEY_BYTES, open, seal } from './aes-gcm.ts';
import { DataKeyRepository, type WrappedDataKey } from './data-key-repository.ts';
import { KeyringError } from './errors.ts';
import { type MasterKey, masterKeyId } from './master-key.ts';

const FORMAT = 'v1';
const PART = /^[A-Za-z0-9_-]+$/;
/** How long a node trusts its cached "newest version" before looking again (another node may have rotated). */
const ACTIVE_VERSION_TTL_MS = 60_000;

function dataKeyAad(tenantId: string, version: number): string {
  return `portcullis/data-key/v1|${tenantId}|${version}`;
}

function secretAad(tenantId: string, version: number, purpose: string): string {
  return `portcullis/secret/v1|${tenantId}|${version}|${purpose}`;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function assertPurpose(purpose: unknown): asserts purpose is string {
  if (typeof purpose !== 'string' || purpose.length === 0) {
    throw new TypeError(
      'keyring: the purpose (associated data) must be a non-empty string, e.g. "totp_credentials.secret"',
    );
  }
}

interface TenantKeys {
  readonly keys: Map<number, Uint8Array>;
  active?: { version: number; checkedAt: number };
}

export class Keyring {
  readonly #store: Store;
  #master: MasterKey;
  readonly #tenants = new Map<string, TenantKeys>();

  constructor(store: Store, master: MasterKey | Uint8Array) {
    this.#store = store;
    this.#master = master instanceof Uint8Array ? { key: master, id: masterKeyId(master) } : master;
    if (this.#master.key.length !== KEY_BYTES) {
      throw new KeyringError('invalid-master-key', `the master key must be ${KEY_BYTES} bytes`);
    }
  }

  /** The fingerprint of the master key in use. */
  get masterKeyId(): string {
    return this.#master.id;
  }

  /**
   * Checks that every stored data key was wrapped by this master key and unwraps; call at start-up so a wrong
   * master key stops the server with a clear message instead of failing at the first sign-in.
   */
  async verify(): Promise<void> {
    for (const tenant of await new TenantRepository(this.#store).list()) {
      for (const wrapped of await this.#repo(tenant.id).list()) this.#unwrap(tenant.id, wrapped);
    }
  }

  /**
   * Seals `plaintext` for `tenantId`; `purpose` names where it is stored (e.g. `totp_credentials.secret`).
   * Inside a transaction, pass its scope as `within`: on SQLite the keyring's own queries would otherwise wait for
   * that transaction to end (a deadlock).
   */
  async encrypt(
    tenantId: string,
    plaintext: string | Uint8Array,
    purpose: string,
    within?: TenantScope,
  ): Promise<string> {
    assertPurpose(purpose);
    const { version, key } = await this.#activeKey(tenantId, within);
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const sealed = seal(key, bytes, secretAad(tenantId, version, purpose));
    return `${FORMAT}.${version}.${b64(sealed.iv)}.${b64(sealed.data)}`;
  }

  /**
   * Opens a ciphertext from `encrypt`; throws KeyringError on anything but the exact tenant, purpose and bytes.
   * `within`: as for `encrypt`.
   */
  async decrypt(tenantId: string, ciphertext: string, purpose: string, within?: TenantScope): Promise<Uint8Array> {
    assertPurpose(purpose);
    const parts = typeof ciphertext === 'string' ? ciphertext.split('.') : [];
    const [format, versionText, ivText, dataText] = parts;
    if (
      parts.length !== 4 ||
      format !== FORMAT ||
      !/^[1-9][0-9]{0,8}$/.test(versionText) ||
      !PART.test(ivText) ||
      !PART.test(dataText)
    ) {
      throw new KeyringError('malformed', `not a keyring ciphertext (expected ${FORMAT}.<keyVersion>.<iv>.<data>)`);
    }
    const version = Number(versionText);
    const key = await this.#keyVersion(tenantId, version, within);
    const plaintext = open(
      key,
      { iv: Buffer.from(ivText, 'base64url'), data: Buffer.from(dataText, 'base64url') },
      secretAad(tenantId, version, purpose),
    );
    if (!plaintext) {
      throw new KeyringError(
        'tampered',
        `ciphertext failed authentication for tenant ${tenantId}, purpose '${purpose}': it was changed, or it ` +
          `belongs to another tenant or purpose`,
      );
    }
    return new Uint8Array(plaintext);
  }

  /** `decrypt` for secrets that were strings. */
  async decryptText(tenantId: string, ciphertext: string, purpose: string, within?: TenantScope): Promise<string> {
    return Buffer.from(await this.decrypt(tenantId, ciphertext, purpose, within)).toString('utf8');
  }

  /** Adds a new data key version for the tenant; new secrets use it, older ciphertexts still decrypt. */
  async rotateDataKey(tenantId: string): Promise<number> {
    const repo = this.#repo(tenantId);
    for (;;) {
      const version = ((await repo.latest())?.version ?? 0) + 1;
      const key = randomBytes(KEY_BYTES);
      if (await repo.insert({ version, ...this.#wrap(tenantId, version, key) })) {
        this.#cache(tenantId).keys.set(version, new Uint8Array(key));
        this.#cache(tenantId).active = { version, checkedAt: this.#store.clock.now() };
        return version;
      }
      // Another node added this version at the same moment; take the next one.
    }
  }

  /**
   * Re-wraps every tenant's data keys under `newKey`, in one transaction (all or nothing); the secrets themselves
   * are untouched. From then on this keyring uses the new key; restart other nodes with it.
   */
  async rotateMasterKey(newKey: MasterKey | Uint8Array): Promise<{ masterKeyId: string; rewrapped: number }> {
    const next = newKey instanceof Uint8Array ? { key: newKey, id: masterKeyId(newKey) } : newKey;
    if (next.key.length !== KEY_BYTES) {
      throw new KeyringError('invalid-master-key', `the new master key must be ${KEY_BYTES} bytes`);
    }
    const rewrapped = await this.#store.transaction(async (tx) => {
      let count = 0;
      for (const tenant of await new TenantRepository(tx).list()) {
        const repo = new DataKeyRepository(tx.forTenant(tenant.id));
        for (const wrapped of await repo.list()) {
          const key = this.#unwrap(tenant.id, wrapped);
          const sealed = seal(next.key, key, dataKeyAad(tenant.id, wrapped.version));
          await repo.rewrap(wrapped.version, b64(Buffer.concat([sealed.iv, sealed.data])), next.id);
          count++;
        }
      }
      return count;
    });
    this.#master = next;
    return { masterKeyId: next.id, rewrapped };
  }

  #repo(tenantId: string): DataKeyRepository {
    return new DataKeyRepository(this.#store.forTenant(tenantId));
  }

  #cache(tenantId: string): TenantKeys {
    let entry = this.#tenants.get(tenantId);
    if (!entry) {
      entry = { keys: new Map() };
      this.#tenants.set(tenantId, entry);
    }
    return entry;
  }

  #wrap(tenantId: string, version: number, key: Uint8Array): { wrappedKey: string; masterKeyId: string } {
    const sealed = seal(this.#master.key, key, dataKeyAad(tenantId, version));
    return { wrappedKey: b64(Buffer.concat([sealed.iv, sealed.data])), masterKeyId: this.#master.id };
  }

  #unwrap(tenantId: string, wrapped: WrappedDataKey): Uint8Array {
    if (wrapped.masterKeyId !== this.#master.id) {
      throw new KeyringError(
        'wrong-master-key',
        `tenant ${tenantId}'s data key version ${wrapped.version} was wrapped by master key ${wrapped.masterKeyId}, ` +
          `but the configured master key is ${this.#master.id}: start Portcullis with the master key this database ` +
          `was set up with (PORTCULLIS_MASTER_KEY, masterKey in the config file, or <data-dir>/master.key)`,
      );
    }
    const bytes = Buffer.from(wrapped.wrappedKey, 'base64url');
    const key = open(
      this.#master.key,
      { iv: bytes.subarray(0, 12), data: bytes.subarray(12) },
      dataKeyAad(tenantId, wrapped.version),
    );
    if (!key || key.length !== KEY_BYTES) {
      throw new KeyringError(
        'tampered',
        `tenant ${tenantId}'s data key version ${wrapped.version} failed authentication under master key ` +
          `${this.#master.id}: the data_keys row was changed or copied from another tenant`,
      );
    }
    return new Uint8Array(key);
  }

  /**
   * Where data keys are read from: the store, with results cached; or the caller's transaction, with nothing
   * cached (it may roll back, and a cached key whose row vanished would seal secrets nobody can open).
   */
  #source(tenantId: string, within: TenantScope | undefined): { repo: DataKeyRepository; caching: boolean } {
    if (!within) return { repo: this.#repo(tenantId), caching: true };
    if (within.tenantId !== tenantId) {
      throw new TypeError(`keyring: the transaction belongs to tenant ${within.tenantId}, not ${tenantId}`);
    }
    return { repo: new DataKeyRepository(within), caching: false };
  }

  async #activeKey(tenantId: string, within?: TenantScope): Promise<{ version: number; key: Uint8Array }> {
    const cache = this.#cache(tenantId);
    const now = this.#store.clock.now();
    if (cache.active && now - cache.active.checkedAt < ACTIVE_VERSION_TTL_MS) {
      const version = cache.active.version;
      return { version, key: await this.#keyVersion(tenantId, version, within) };
    }
    const { repo, caching } = this.#source(tenantId, within);
    let latest = await repo.latest();
    if (!latest) {
      // First secret for this tenant: create version 1 (or use the one a concurrent caller just created).
      await repo.insert({ version: 1, ...this.#wrap(tenantId, 1, randomBytes(KEY_BYTES)) });
      latest = await repo.latest();
      if (!latest) throw new Error(`keyring: could not create a data key for tenant ${tenantId}`);
    }
    const key = cache.keys.get(latest.version) ?? this.#unwrap(tenantId, latest);
    if (caching) {
      cache.keys.set(latest.version, key);
      cache.active = { version: latest.version, checkedAt: now };
    }
    return { version: latest.version, key };
  }

  async #keyVersion(tenantId: string, version: number, within?: TenantScope): Promise<Uint8Array> {
    const cache = this.#cache(tenantId);
    const cached = cache.keys.get(version);
    if (cached) return cached;
    const { repo, caching } = this.#source(tenantId, within);
    const wrapped = await repo.get(version);
    if (!wrapped) {
      throw new KeyringError('unknown-key-version', `tenant ${tenantId} has no data key version ${version}`);
    }
    const key = this.#unwrap(tenantId, wrapped);
    if (caching) cache.keys.set(version, key);
    return key;
  }
}
