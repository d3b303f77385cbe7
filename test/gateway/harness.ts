// Portcullis with forward auth for end-to-end tests behind a real reverse proxy, built as `portcullis serve` builds it
// (SQLite in a data directory, store-backed credentials, policies and sign-in log) plus the gateway plugin, with the
// in-memory GatewaySessions stand-in until the session module is wired into the composition root.
//
// The proxy listens on 127.0.0.1:<proxyPort> and serves every name: `localhost` is Portcullis (the public URL),
// `wiki.localhost` and `finance.localhost` are applications, `nobody.localhost` is claimed by no application. An
// upstream on loopback echoes the headers it received. Only 127.0.0.1 (the proxy) is a trusted proxy; clients come
// from other loopback addresses: 127.0.0.70 is inside the trusted "Headquarters" (127.0.0.64/26), 127.0.0.9 is not.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { StoreSignInLog } from '../../src/audit/sign-in-log.ts';
import { hashPassword } from '../../src/auth/password-hash.ts';
import { storeCredentialPorts } from '../../src/auth/store/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/load.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { createTenant } from '../../src/directory/tenants.ts';
import { gatewayPlugin } from '../../src/gateway/plugin.ts';
import { type GatewayRegistry, gatewayCallbackUrl } from '../../src/gateway/registry.ts';
import { SessionModuleGatewaySessions } from '../../src/gateway/session-port.ts';
import { MemoryGatewaySessions } from '../../src/gateway/testing/memory-sessions.ts';
import { openCountryDatabaseSync } from '../../src/geo/country-lookup.ts';
import { createLogger } from '../../src/http/logger.ts';
import { oidcPlugin } from '../../src/oidc/plugin.ts';
import type { ConditionalAccessPolicy, NamedLocation } from '../../src/policy/types.ts';
import { buildServer } from '../../src/server.ts';
import { SessionCache } from '../../src/session/cache.ts';
import { Sessions } from '../../src/session/sessions.ts';
import type { SignInServices } from '../../src/signin/ports.ts';
import { openData } from '../../src/start.ts';
import { CompiledPolicyCache } from '../../src/store/repositories/compiled-policy-cache.ts';
import type { Store } from '../../src/store/store.ts';
import { StoredPolicies } from '../oidc/harness.ts';

export const PASSWORDS = { alice: 'correct horse battery staple', bob: 'Tr0ub4dor&3 but longer' };
export const AT_HQ = '127.0.0.70';
export const OUTSIDE = '127.0.0.9';

const HEADQUARTERS: NamedLocation = {
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  id: '11111111-1111-4111-8111-111111111111',
  displayName: 'Headquarters',
  isTrusted: true,
  ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '127.0.0.64/26' }],
};

function appPolicy(id: string, name: string, appId: string, grant: 'block' | 'mfa', extra: object = {}) {
  return {
    id,
    displayName: name,
    state: 'enabled',
    conditions: {
      users: {
        includeUsers: ['All'],
        excludeUsers: [],
        includeGroups: [],
        excludeGroups: [],
        includeRoles: [],
        excludeRoles: [],
      },
      applications: { includeApplications: [appId], excludeApplications: [], includeUserActions: [] },
      clientAppTypes: ['all'],
      signInRiskLevels: [],
      userRiskLevels: [],
      ...extra,
    },
    grantControls: { operator: 'OR', builtInControls: [grant] },
  } as ConditionalAccessPolicy;
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** The application: answers every request with the method, URL and headers it received, as JSON. */
export async function startEchoUpstream(): Promise<{ port: number; server: Server }> {
  const server = createHttpServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ method: request.method, url: request.url, headers: request.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { port: address.port, server };
}

export interface GatewayHarness {
  readonly proxyPort: number;
  /** Portcullis's own address (behind the proxy), for requests that skip the proxy. */
  readonly portcullisPort: number;
  readonly upstreamPort: number;
  readonly publicUrl: string;
  readonly tenantId: string;
  readonly store: Store;
  readonly app: FastifyInstance;
  readonly clock: ManualClock;
  /** Which GatewaySessions runs: the in-memory stand-in or the session module (session-port.ts). */
  readonly sessionKind: SessionKind;
  /** A session made directly (as after a sign-in): the cookies that carry it, as `name=value` strings. */
  signedIn(user: 'alice' | 'bob', amr: string[]): Promise<string[]>;
  readonly registry: GatewayRegistry;
  /** The services the OIDC plugin runs on (their `sessions` share this node's session cache). */
  readonly services: SignInServices;
  readonly users: { alice: string; bob: string };
  readonly apps: { wiki: string; finance: string };
  /** `http://<name>.localhost:<proxyPort>` */
  site(name: string): string;
  close(): Promise<void>;
}

export type SessionKind = 'memory' | 'session module';

export async function startGatewayHarness(sessionKind: SessionKind = 'memory'): Promise<GatewayHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-gateway-'));
  const clock = new ManualClock(Date.now());
  const proxyPort = await freePort();
  const publicUrl = `http://localhost:${proxyPort}`;
  const env = {
    PORTCULLIS_DATA_DIR: dir,
    PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64'),
    PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1/32',
    PORTCULLIS_PUBLIC_URL: publicUrl,
    PORTCULLIS_GATEWAY_COOKIE_DOMAIN: 'localhost',
    PORTCULLIS_LOG_LEVEL: 'silent',
  };
  const opened = await openData(loadConfig({ env }).config, clock);
  const { store, keyring } = opened;
  const tenant = await createTenant(store, { name: 'contoso', displayName: 'Contoso' });
  const directory = directoryFor(store.forTenant(tenant.id));
  const ports = storeCredentialPorts(store.forTenant(tenant.id), keyring);
  const alice = await directory.users.create({
    userPrincipalName: 'alice@contoso.example',
    displayName: 'Alice Émile',
    mail: 'alice@contoso.example',
  });
  const bob = await directory.users.create({ userPrincipalName: 'bob@contoso.example', displayName: 'Bob' });
  const engineers = await directory.groups.create({ displayName: 'Engineers' });
  await directory.groups.addMember(engineers.id, { type: 'user', id: alice.id });
  for (const [user, password] of [
    [alice, PASSWORDS.alice],
    [bob, PASSWORDS.bob],
  ] as const) {
    await ports.passwords.put({ userId: user.id, phc: await hashPassword(password), updatedAt: clock.now() });
  }
  // Public clients whose only redirect URI is the gateway's callback (registration would add it anyway).
  const callback = gatewayCallbackUrl(publicUrl, tenant.id);
  const wiki = await directory.applications.create({
    displayName: 'Wiki',
    clientType: 'public',
    redirectUris: [callback],
  });
  const finance = await directory.applications.create({
    displayName: 'Finance',
    clientType: 'public',
    redirectUris: ['http://127.0.0.1/unrelated'],
  });

  // finance comes from the configuration file's section; wiki is registered through the API below.
  const { config } = loadConfig({
    env: {
      ...env,
      PORTCULLIS_GATEWAY_APPLICATIONS: JSON.stringify([
        { tenant: 'contoso', applicationId: finance.application.appId, hosts: ['finance.localhost'] },
      ]),
    },
  });
  const logger = createLogger({ level: 'silent' });
  const policies = new CompiledPolicyCache({ store, countries: openCountryDatabaseSync({}), clock });
  const sessionCache = new SessionCache();
  const services: SignInServices = {
    store,
    keyring,
    clock,
    policies: (tenantId) => policies.get(tenantId),
    credentials: (scope) => storeCredentialPorts(scope, keyring),
    signInLog: new StoreSignInLog(store),
    lockoutPolicy: config.lockout,
    sessions: (tenantId) => new Sessions(store.forTenant(tenantId), { cache: sessionCache }),
  };
  const memory = new MemoryGatewaySessions({ cookieDomain: 'localhost' });
  const module = new SessionModuleGatewaySessions({
    sessions: services.sessions,
    publicUrl: () => publicUrl,
    cookieDomain: 'localhost',
  });
  const sessions = sessionKind === 'memory' ? memory : module;
  let registry: GatewayRegistry | undefined;
  const app = buildServer({
    config,
    logger,
    clock,
    readiness: () => store.ping(),
    plugins: [
      oidcPlugin(services),
      gatewayPlugin({ store, policies: services.policies, sessions, keyring }, { onRegistry: (r) => (registry = r) }),
    ],
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  assert.ok(registry);
  await registry.register(tenant.id, { appId: wiki.application.appId, hosts: ['wiki.localhost'] });
  await new StoredPolicies(store, () => policies).set(
    tenant.id,
    [HEADQUARTERS],
    [
      appPolicy(
        '22222222-2222-4222-8222-222222222222',
        'Wiki only from headquarters',
        wiki.application.appId,
        'block',
        {
          locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
        },
      ),
      appPolicy('33333333-3333-4333-8333-333333333333', 'Finance needs MFA', finance.application.appId, 'mfa'),
    ],
  );
  const upstream = await startEchoUpstream();

  return {
    proxyPort,
    portcullisPort: address.port,
    upstreamPort: upstream.port,
    publicUrl,
    tenantId: tenant.id,
    store,
    app,
    clock,
    sessionKind,
    async signedIn(user, amr) {
      const userId = user === 'alice' ? alice.id : bob.id;
      if (sessionKind === 'memory') return [memory.signedIn({ tenantId: tenant.id, userId, amr }, clock.now())];
      const created = await services.sessions(tenant.id).create(userId, { amr });
      return module.cookiesFor(tenant.id, created).map((line) => line.split(';')[0]);
    },
    registry,
    services,
    users: { alice: alice.id, bob: bob.id },
    apps: { wiki: wiki.application.appId, finance: finance.application.appId },
    site: (name) => `http://${name}.localhost:${proxyPort}`,
    async close() {
      upstream.server.closeAllConnections();
      await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
