// A Portcullis for the expiry-warning tests: the server with the OIDC mount (whose wildcard `/t/:tenant/*` the session
// routes must win against) and the session plugin, on SQLite in a temporary data directory, with a clock the test
// moves. Tenant contoso (alice, bob) and fabrikam (mallory); applications are registered by each test.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { StoreSignInLog } from '../../src/audit/sign-in-log.ts';
import { storeCredentialPorts } from '../../src/auth/store/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/load.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { createTenant } from '../../src/directory/tenants.ts';
import { openCountryDatabaseSync } from '../../src/geo/country-lookup.ts';
import { createLogger } from '../../src/http/logger.ts';
import { oidcPlugin } from '../../src/oidc/plugin.ts';
import { buildServer } from '../../src/server.ts';
import { SessionCache } from '../../src/session/cache.ts';
import { cookieNames, cookieScopeFor } from '../../src/session/cookies.ts';
import { sessionPlugin } from '../../src/session/plugin.ts';
import { type NewSession, Sessions } from '../../src/session/sessions.ts';
import { updateSessionSettings } from '../../src/session/settings-store.ts';
import type { SignInServices } from '../../src/signin/ports.ts';
import { openData } from '../../src/start.ts';
import { CompiledPolicyCache } from '../../src/store/repositories/compiled-policy-cache.ts';
import type { Store } from '../../src/store/store.ts';

export const MINUTE = 60_000;
/** Monday 2 March 2026, 09:00 UTC: when every test's day starts. */
export const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

export interface SignedIn {
  readonly issued: NewSession;
  /** The two cookies, named for this server's public URL and the tenant. */
  readonly cookies: readonly { readonly name: string; readonly value: string }[];
  /** As a Cookie request header. */
  readonly cookie: string;
}

export interface SessionServer {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly clock: ManualClock;
  readonly cache: SessionCache;
  readonly tenants: { readonly contoso: string; readonly fabrikam: string };
  readonly users: { readonly alice: string; readonly bob: string; readonly mallory: string };
  /** Portcullis's public URL: the listening address, or the one given. */
  publicUrl(): string;
  sessions(tenantId?: string): Sessions;
  /** A session created as sign-in creates it, and the cookies a browser would then hold. */
  signIn(userId: string, tenantId?: string): Promise<SignedIn>;
  /** Registers a public client with these redirect URIs (their origins may then call the session endpoints). */
  registerApp(redirectUris: readonly string[], tenantId?: string): Promise<void>;
  settle(patch: object, tenantId?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * `listen: true` listens on 127.0.0.1:0 and uses that address as the public URL (for a browser); otherwise the
 * server is used with `inject` and `publicUrl` (default https, so the `__Host-` cookie names apply).
 */
export async function startSessionServer(
  options: { listen?: boolean; publicUrl?: string; originCacheMs?: number } = {},
): Promise<SessionServer> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-session-'));
  const clock = new ManualClock(T0);
  const { config } = loadConfig({
    env: { PORTCULLIS_DATA_DIR: dir, PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64') },
  });
  const opened = await openData(config, clock);
  const { store, keyring } = opened;
  const contoso = await createTenant(store, { name: 'contoso', displayName: 'Contoso' });
  const fabrikam = await createTenant(store, { name: 'fabrikam', displayName: 'Fabrikam' });
  const user = async (tenantId: string, userPrincipalName: string, displayName: string) =>
    (await directoryFor(store.forTenant(tenantId)).users.create({ userPrincipalName, displayName })).id;
  const users = {
    alice: await user(contoso.id, 'alice@contoso.example', 'Alice'),
    bob: await user(contoso.id, 'bob@contoso.example', 'Bob'),
    mallory: await user(fabrikam.id, 'mallory@fabrikam.example', 'Mallory'),
  };

  const cache = new SessionCache();
  const sessions = (tenantId: string = contoso.id) => new Sessions(store.forTenant(tenantId), { cache });
  const policies = new CompiledPolicyCache({ store, countries: openCountryDatabaseSync(), clock });
  // As src/start.ts wires them.
  const services: SignInServices = {
    store,
    keyring,
    clock,
    policies: (tenantId) => policies.get(tenantId),
    credentials: (scope) => storeCredentialPorts(scope, keyring),
    signInLog: new StoreSignInLog(store),
    lockoutPolicy: config.lockout,
    sessions,
  };
  let url = options.publicUrl ?? 'https://id.contoso.example';
  const publicUrl = () => url;
  const app = buildServer({
    config,
    logger: createLogger({ level: 'silent' }),
    clock,
    readiness: () => store.ping(),
    plugins: [
      oidcPlugin(services, { publicUrl }),
      sessionPlugin({
        store,
        sessions: services.sessions,
        clock,
        publicUrl,
        ...(options.originCacheMs === undefined ? {} : { originCacheMs: options.originCacheMs }),
      }),
    ],
  });
  if (options.listen) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    url = `http://127.0.0.1:${address.port}`;
  } else {
    await app.ready();
  }

  return {
    app,
    store,
    clock,
    cache,
    tenants: { contoso: contoso.id, fabrikam: fabrikam.id },
    users,
    publicUrl,
    sessions,
    async signIn(userId, tenantId = contoso.id) {
      const issued = await sessions(tenantId).create(userId, { amr: ['pwd'] });
      const names = cookieNames(cookieScopeFor(url, tenantId));
      const cookies = [
        { name: names.session, value: issued.sessionId },
        { name: names.binding, value: issued.bindingSecret },
      ];
      return { issued, cookies, cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') };
    },
    async registerApp(redirectUris, tenantId = contoso.id) {
      await directoryFor(store.forTenant(tenantId)).applications.create({
        displayName: `App at ${redirectUris[0]}`,
        clientType: 'public',
        redirectUris,
      });
    },
    async settle(patch, tenantId = contoso.id) {
      const result = await updateSessionSettings(store.forTenant(tenantId), patch, { cache });
      assert.ok(result.ok, result.ok ? '' : result.problems.join('; '));
    },
    async close() {
      try {
        await app.close();
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
