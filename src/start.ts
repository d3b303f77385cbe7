// What `portcullis serve` runs: opens the configured store (SQLite in the data directory, or PostgreSQL), applies the
// migrations, unlocks the keyring with the master key, wires the store-backed services (credentials, compiled
// policies, sign-in log) into the feature plugins, and schedules housekeeping. The HTTP side is server.ts.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { adminPlugin } from './admin/plugin.ts';
import { StoreSignInLog } from './audit/sign-in-log.ts';
import { LockoutStateRepository, storeCredentialPorts, WebAuthnChallengeRepository } from './auth/store/index.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config/load.ts';
import { consolePlugin } from './console/plugin.ts';
import { Keyring } from './crypto/keyring.ts';
import { type LoadedMasterKey, loadMasterKey, masterKeyId } from './crypto/master-key.ts';
import { gatewayPlugin } from './gateway/plugin.ts';
import type { GatewayRegistry } from './gateway/registry.ts';
import { SessionModuleGatewaySessions } from './gateway/session-port.ts';
import { openCountryDatabaseSync } from './geo/country-lookup.ts';
import { createLogger } from './http/logger.ts';
import { deleteExpiredPayloads } from './oidc/payload-adapter.ts';
import { oidcPlugin } from './oidc/plugin.ts';
import type { TenantProviders } from './oidc/tenant-providers.ts';
import { buildServer } from './server.ts';
import { SessionCache } from './session/cache.ts';
import { sessionPlugin } from './session/plugin.ts';
import { SessionRepository } from './session/repository.ts';
import { Sessions } from './session/sessions.ts';
import type { SignInLogSink, SignInServices } from './signin/ports.ts';
import { CompiledPolicyCache } from './store/repositories/compiled-policy-cache.ts';
import { openStore, type Store, type StoreOptions } from './store/store.ts';
import { TenantRepository } from './store/tenant-repository.ts';

/** The SQLite database's file name inside the data directory. */
export const SQLITE_FILE = 'portcullis.db';
/** How often expired OIDC payloads, lockout states and WebAuthn challenges are deleted. */
export const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

/** Where the configuration says the data lives. */
export function storeOptions(config: Pick<Config, 'dataDir' | 'store'>): StoreOptions {
  return config.store.postgresUrl === undefined
    ? { kind: 'sqlite', path: join(config.dataDir, SQLITE_FILE) }
    : { kind: 'postgres', url: config.store.postgresUrl };
}

/** The master key: the configured one (config file or PORTCULLIS_MASTER_KEY), else the data directory's key file. */
export function resolveMasterKey(config: Pick<Config, 'dataDir' | 'masterKey'>): LoadedMasterKey {
  if (config.masterKey !== undefined) {
    const key = new Uint8Array(config.masterKey.bytes());
    return { key, id: masterKeyId(key), source: 'config' };
  }
  // The environment variable is already part of `config.masterKey`; only the key file is left to look at.
  return loadMasterKey({ dataDir: config.dataDir, env: {} });
}

/** An open store with its keyring: what `init`, `keys rotate` and `serve` share. */
export interface OpenedStore {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly masterKey: LoadedMasterKey;
  /** Migrations applied by this opening (empty when the schema was current). */
  readonly migrated: readonly string[];
}

/**
 * Opens and migrates the store and unlocks the keyring, checking that the master key unwraps every stored data key
 * (a wrong key stops here, with a message, rather than at the first sign-in). Closes the store when a step fails.
 */
export async function openData(config: Config, clock: Clock = systemClock): Promise<OpenedStore> {
  if (config.store.postgresUrl === undefined) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore(storeOptions(config), clock);
  try {
    const migrated = await store.migrate();
    const masterKey = resolveMasterKey(config);
    const keyring = new Keyring(store, masterKey);
    await keyring.verify();
    return { store, keyring, masterKey, migrated };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

/**
 * Deletes what has expired in every tenant; returns the number of rows deleted. Failures are the caller's to log.
 * Sign-in sessions are kept for `keepEndedSessionsMs` after they end (the refresh-token lifetime), so a refresh
 * token of a grant they covered is refused with the session's own reason (50173) rather than as unknown.
 */
export async function runHousekeeping(store: Store, keepEndedSessionsMs: number): Promise<number> {
  let deleted = 0;
  for (const tenant of await new TenantRepository(store).list()) {
    const scope = store.forTenant(tenant.id);
    deleted += await deleteExpiredPayloads(scope);
    deleted += await new LockoutStateRepository(scope).purgeExpired();
    deleted += await new WebAuthnChallengeRepository(scope).purgeExpired();
    deleted += await new SessionRepository(scope).purgeEnded(scope.now() - keepEndedSessionsMs);
  }
  return deleted;
}

export interface Portcullis {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly keyring: Keyring;
  readonly services: SignInServices;
  readonly policies: CompiledPolicyCache;
  /** The node's OIDC providers, once the server is ready (signing-key rotation goes through it). */
  providers(): TenantProviders | undefined;
  /** Closes the server, stops housekeeping, then closes the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly config: Config;
  readonly opened: OpenedStore;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Default HOUSEKEEPING_INTERVAL_MS; 0 turns housekeeping off (tests run it by hand). */
  readonly housekeepingMs?: number;
  /** Defaults to `config.publicUrl`; tests that listen on port 0 pass the address they got. */
  readonly publicUrl?: () => string;
  /** Where sign-in attempts are written; default the store's sign-in log (tests wrap it to watch attempts). */
  readonly signInLog?: (store: Store) => SignInLogSink;
}

/** Builds the server on an opened store. The caller listens (`app.listen`) and handles signals. */
export function createPortcullis(options: StartOptions): Portcullis {
  const { config, opened } = options;
  const { store, keyring } = opened;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const countries = openCountryDatabaseSync(
    config.geo.countryDatabase === undefined ? {} : { path: config.geo.countryDatabase },
  );
  const policies = new CompiledPolicyCache({ store, countries, clock });
  const sessionCache = new SessionCache();
  const services: SignInServices = {
    store,
    keyring,
    clock,
    policies: (tenantId) => policies.get(tenantId),
    credentials: (scope) => storeCredentialPorts(scope, keyring),
    signInLog: options.signInLog?.(store) ?? new StoreSignInLog(store),
    lockoutPolicy: config.lockout,
    sessions: (tenantId) => new Sessions(store.forTenant(tenantId), { cache: sessionCache, logger }),
  };
  let providers: TenantProviders | undefined;
  let gatewayRegistry: GatewayRegistry | undefined;
  const app = buildServer({
    config,
    logger,
    clock,
    readiness: () => store.ping(),
    plugins: [
      oidcPlugin(services, { publicUrl: options.publicUrl, onProviders: (p) => (providers = p) }),
      sessionPlugin({ store, sessions: services.sessions, clock, publicUrl: options.publicUrl }),
      gatewayPlugin(
        {
          store,
          keyring,
          policies: services.policies,
          sessions: new SessionModuleGatewaySessions({
            sessions: services.sessions,
            publicUrl: options.publicUrl ?? (() => config.publicUrl),
            cookieDomain: config.gateway.cookieDomain,
            logger,
          }),
        },
        { publicUrl: options.publicUrl, onRegistry: (registry) => (gatewayRegistry = registry) },
      ),
      adminPlugin(services, {
        publicUrl: options.publicUrl,
        policyCache: policies,
        gatewayRegistry: () => gatewayRegistry,
      }),
      consolePlugin(services, { publicUrl: options.publicUrl }),
    ],
  });

  const every = options.housekeepingMs ?? HOUSEKEEPING_INTERVAL_MS;
  let running: Promise<void> = Promise.resolve();
  const timer =
    every > 0
      ? setInterval(() => {
          running = runHousekeeping(store, config.tokens.refreshTokenDays * 86_400_000).then(
            (deleted) => {
              if (deleted > 0) logger.info({ deleted }, `housekeeping deleted ${deleted} expired rows`);
            },
            (error) => logger.error({ err: error }, 'housekeeping failed'),
          );
        }, every)
      : undefined;
  timer?.unref();

  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    keyring,
    services,
    policies,
    providers: () => providers,
    close() {
      closing ??= (async () => {
        if (timer) clearInterval(timer);
        try {
          await app.close();
          await running;
        } finally {
          await store.close();
        }
      })();
      return closing;
    },
  };
}
