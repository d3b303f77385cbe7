// A running Portcullis for end-to-end tests, built as `portcullis serve` builds it (src/start.ts: SQLite in a data
// directory, the store-backed credentials, policies and sign-in log): tenant contoso with alice (Global
// Administrator), bob and guest carol, three registered applications, and a server listening on 127.0.0.1:0. Loopback is a trusted proxy, so a test can play any client address by sending
// X-Forwarded-For (and everything else comes from 127.0.0.1, inside the trusted "headquarters" location).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { StoreSignInLog } from '../../src/audit/sign-in-log.ts';
import { hashPassword } from '../../src/auth/password-hash.ts';
import { storeCredentialPorts } from '../../src/auth/store/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/load.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { GLOBAL_ADMINISTRATOR } from '../../src/directory/roles.ts';
import { createTenant } from '../../src/directory/tenants.ts';
import { createLogger } from '../../src/http/logger.ts';
import type { TenantProviders } from '../../src/oidc/tenant-providers.ts';
import type { ConditionalAccessPolicy, NamedLocation } from '../../src/policy/types.ts';
import type { CredentialPorts, SignInAttempt, SignInLogSink } from '../../src/signin/ports.ts';
import { createPortcullis, openData } from '../../src/start.ts';
import type { CompiledPolicyCache } from '../../src/store/repositories/compiled-policy-cache.ts';
import { PolicyRepository } from '../../src/store/repositories/policy-repository.ts';
import type { Store } from '../../src/store/store.ts';

export const PASSWORDS = {
  alice: 'correct horse battery staple',
  bob: 'Tr0ub4dor&3 but longer',
  carol: 'guest pass phrase 42',
};

export const HEADQUARTERS: NamedLocation = {
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  id: '11111111-1111-4111-8111-111111111111',
  displayName: 'Headquarters',
  isTrusted: true,
  ipRanges: [
    { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '127.0.0.1/32' },
    { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.0/24' },
  ],
};

export function policy(
  id: string,
  displayName: string,
  grant: 'block' | 'mfa',
  conditions: Partial<ConditionalAccessPolicy['conditions']> = {},
): ConditionalAccessPolicy {
  return {
    id,
    displayName,
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
      applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [] },
      clientAppTypes: ['all'],
      signInRiskLevels: [],
      userRiskLevels: [],
      ...conditions,
    },
    grantControls: { operator: 'OR', builtInControls: [grant] },
  };
}

/** Blocks every sign-in from outside the trusted locations. */
export const BLOCK_OUTSIDE_TRUSTED = policy(
  '22222222-2222-4222-8222-222222222222',
  'Block outside trusted locations',
  'block',
  {
    locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
  },
);

export function requireMfaForRole(role: string): ConditionalAccessPolicy {
  return policy('33333333-3333-4333-8333-333333333333', 'Require MFA for admins', 'mfa', {
    users: {
      includeUsers: [],
      excludeUsers: [],
      includeGroups: [],
      excludeGroups: [],
      includeRoles: [role],
      excludeRoles: [],
    },
  });
}

export interface Harness {
  readonly url: string;
  readonly issuer: string;
  readonly tenantId: string;
  readonly store: Store;
  readonly app: FastifyInstance;
  readonly clock: ManualClock;
  /** Every sign-in attempt, in order, as the pipeline handed it to the (store-backed) sign-in log. */
  readonly log: RecordingSignInLog;
  readonly policies: StoredPolicies;
  readonly credentials: { for(tenantId: string): CredentialPorts };
  readonly providers: () => TenantProviders;
  readonly users: { alice: string; bob: string; carol: string };
  readonly clients: {
    /** Public client (a single-page or native app): PKCE, no secret. */
    spa: { clientId: string; redirectUri: string };
    /** Confidential web app with a secret. */
    web: { clientId: string; clientSecret: string; redirectUri: string; postLogoutRedirectUri: string };
    /** Server-to-server automation: client credentials only. */
    automation: { clientId: string; clientSecret: string };
  };
  close(): Promise<void>;
}

/** The store's sign-in log, recording each attempt on its way so tests can look at it synchronously. */
export class RecordingSignInLog implements SignInLogSink {
  readonly entries: SignInAttempt[] = [];
  readonly #store: StoreSignInLog;
  constructor(store: Store) {
    this.#store = new StoreSignInLog(store);
  }
  async append(attempt: SignInAttempt): Promise<void> {
    this.entries.push(attempt);
    await this.#store.append(attempt);
  }
}

/** Replaces a tenant's named locations and policies in the store, as an admin would, and drops the cached set. */
export class StoredPolicies {
  readonly #store: Store;
  readonly #cache: () => CompiledPolicyCache;
  constructor(store: Store, cache: () => CompiledPolicyCache) {
    this.#store = store;
    this.#cache = cache;
  }
  async set(tenantId: string, locations: readonly NamedLocation[], policies: readonly ConditionalAccessPolicy[]) {
    const repo = new PolicyRepository(this.#store.forTenant(tenantId));
    for (const p of await repo.listPolicies()) await repo.deletePolicy(p.id);
    for (const l of await repo.listLocations()) {
      // As an admin must: a trusted location is first marked untrusted, then deleted.
      if ('isTrusted' in l && l.isTrusted) await repo.replaceLocation(l.id, { ...l, isTrusted: false });
      await repo.deleteLocation(l.id);
    }
    // The store gives new ids (Graph's POST does); references are rewritten to them.
    const ids = new Map<string, string>();
    for (const location of locations) ids.set(location.id, (await repo.createLocation(location)).value.id);
    const remap = (list: readonly string[] | undefined) => list?.map((id) => ids.get(id) ?? id);
    for (const policy of policies) {
      const where = policy.conditions.locations;
      await repo.createPolicy({
        ...policy,
        conditions: {
          ...policy.conditions,
          ...(where
            ? {
                locations: {
                  includeLocations: remap(where.includeLocations) ?? [],
                  excludeLocations: remap(where.excludeLocations) ?? [],
                },
              }
            : {}),
        },
      });
    }
    this.#cache().invalidate(tenantId);
  }
}

export async function startHarness(options: { trustedProxies?: string; hostname?: string } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-oidc-'));
  const clock = new ManualClock(Date.now());
  // The server as `portcullis serve` builds it: SQLite in a data directory, the store-backed services.
  const { config } = loadConfig({
    env: {
      PORTCULLIS_DATA_DIR: dir,
      PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64'),
      PORTCULLIS_TRUSTED_PROXIES: options.trustedProxies ?? '127.0.0.1/32',
    },
  });
  const opened = await openData(config, clock);
  const { store, keyring } = opened;
  const tenant = await createTenant(store, { name: 'contoso', displayName: 'Contoso' });
  const scope = store.forTenant(tenant.id);
  const directory = directoryFor(scope);
  const credentials = { for: (tenantId: string) => storeCredentialPorts(store.forTenant(tenantId), keyring) };
  const ports = credentials.for(tenant.id);

  const alice = await directory.users.create({
    userPrincipalName: 'alice@contoso.example',
    displayName: 'Alice',
    mail: 'alice@contoso.example',
  });
  const bob = await directory.users.create({ userPrincipalName: 'bob@contoso.example', displayName: 'Bob' });
  const carol = await directory.users.create({
    userPrincipalName: 'carol@partner.example',
    displayName: 'Carol',
    userType: 'guest',
  });
  await directory.roles.assign(alice.id, GLOBAL_ADMINISTRATOR);
  const engineers = await directory.groups.create({ displayName: 'Engineers' });
  await directory.groups.addMember(engineers.id, { type: 'user', id: alice.id });
  for (const [user, password] of [
    [alice, PASSWORDS.alice],
    [bob, PASSWORDS.bob],
    [carol, PASSWORDS.carol],
  ] as const) {
    await ports.passwords.put({ userId: user.id, phc: await hashPassword(password), updatedAt: clock.now() });
  }

  const spa = await directory.applications.create({
    displayName: 'Contoso SPA',
    clientType: 'public',
    redirectUris: ['http://127.0.0.1/spa/callback'],
  });
  const web = await directory.applications.create({
    displayName: 'Contoso Portal',
    clientType: 'confidential',
    redirectUris: ['http://127.0.0.1/portal/callback'],
    postLogoutRedirectUris: ['http://127.0.0.1/portal/signed-out'],
  });
  const automation = await directory.applications.create({
    displayName: 'Contoso Automation',
    clientType: 'confidential',
    grantTypes: ['client_credentials'],
  });

  let url = '';
  let log: RecordingSignInLog | undefined;
  const portcullis = createPortcullis({
    config,
    opened,
    clock,
    logger: createLogger({ level: 'silent' }),
    housekeepingMs: 0,
    publicUrl: () => url,
    signInLog: (s) => (log = new RecordingSignInLog(s)),
  });
  assert.ok(log);
  const policies = new StoredPolicies(store, () => portcullis.policies);
  await policies.set(tenant.id, [HEADQUARTERS], [BLOCK_OUTSIDE_TRUSTED]);

  const { app } = portcullis;
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  // `localhost` for WebAuthn in a real browser (an IP address is not a valid RP ID); the server listens on 127.0.0.1.
  url = `http://${options.hostname ?? '127.0.0.1'}:${address.port}`;
  return {
    url,
    issuer: `${url}/t/${tenant.id}`,
    tenantId: tenant.id,
    store,
    app,
    clock,
    log,
    policies,
    credentials,
    providers: () => {
      const providers = portcullis.providers();
      assert.ok(providers);
      return providers;
    },
    users: { alice: alice.id, bob: bob.id, carol: carol.id },
    clients: {
      spa: { clientId: spa.application.appId, redirectUri: 'http://127.0.0.1/spa/callback' },
      web: {
        clientId: web.application.appId,
        clientSecret: web.secretText ?? '',
        redirectUri: 'http://127.0.0.1/portal/callback',
        postLogoutRedirectUri: 'http://127.0.0.1/portal/signed-out',
      },
      automation: { clientId: automation.application.appId, clientSecret: automation.secretText ?? '' },
    },
    async close() {
      await portcullis.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A browser's cookie jar, enough for one host: name → value, dropping cookies the server expires. */
export class CookieJar {
  readonly #cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.#cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
  /** Adds one `name=value` pair, as a cookie copied from another browser. */
  set(pair: string): void {
    const eq = pair.indexOf('=');
    this.#cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
}

/** A user agent that follows redirects by hand (keeping cookies) until it leaves the server or gets a page. */
export class Browser {
  readonly jar = new CookieJar();
  readonly userAgent: string;
  readonly forwardedFor?: string;
  constructor(options: { userAgent?: string; forwardedFor?: string } = {}) {
    this.userAgent =
      options.userAgent ??
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    this.forwardedFor = options.forwardedFor;
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      cookie: this.jar.header(),
      accept: 'text/html',
    };
    if (this.forwardedFor) headers['x-forwarded-for'] = this.forwardedFor;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    this.jar.store(response);
    return response;
  }

  /** Follows redirects while they stay on `origin`; returns the final response and the URL it left for, if any. */
  async follow(
    url: string,
    origin: string,
    init: { form?: Record<string, string> } = {},
  ): Promise<{ response: Response; url: string; left?: string }> {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
      const location = new URL(response.headers.get('location') ?? '', current).href;
      if (!location.startsWith(origin)) return { response, url: current, left: location };
      current = location;
      response = await this.request(current);
    }
    return { response, url: current };
  }
}

export function csrfOf(page: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(page);
  assert.ok(match, 'the page has a CSRF field');
  return match[1];
}

export function actionOf(page: string, suffix: string): string {
  const match = new RegExp(`action="([^"]+/${suffix})"`).exec(page);
  assert.ok(match, `the page has a form posting to …/${suffix}`);
  return match[1];
}
