// A Portcullis speaking HTTPS on 127.0.0.1 (the test certificate of src/http/fixtures, trusted by this process), with
// the OIDC and admin plugins wired as start.ts wires them plus the admin plugin's `policyCache`. HTTPS because the
// Microsoft Graph client attaches tokens (customHosts) and follows `@odata.nextLink` only for https:// URLs.
// Tenant contoso with bob, and an automation application that is a Global Administrator.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { assignApplicationRole } from '../../src/admin/auth.ts';
import { adminPlugin } from '../../src/admin/plugin.ts';
import type { DirectoryAuditWriter } from '../../src/audit/directory-audit-port.ts';
import { StoreSignInLog } from '../../src/audit/sign-in-log.ts';
import { storeCredentialPorts } from '../../src/auth/store/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config/load.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { GLOBAL_ADMINISTRATOR } from '../../src/directory/roles.ts';
import { createTenant } from '../../src/directory/tenants.ts';
import { createLogger } from '../../src/http/logger.ts';
import { oidcPlugin } from '../../src/oidc/plugin.ts';
import { buildServer } from '../../src/server.ts';
import { SessionCache } from '../../src/session/cache.ts';
import { Sessions } from '../../src/session/sessions.ts';
import type { SignInServices } from '../../src/signin/ports.ts';
import { openData } from '../../src/start.ts';
import { CompiledPolicyCache } from '../../src/store/repositories/compiled-policy-cache.ts';
import type { Store } from '../../src/store/store.ts';

const FIXTURES = new URL('../../src/http/fixtures/', import.meta.url);

export interface HttpsPortcullis {
  readonly url: string;
  readonly issuer: string;
  readonly tenantId: string;
  readonly store: Store;
  readonly clock: ManualClock;
  /** The node's compiled policy cache, as sign-ins read it. */
  readonly policies: CompiledPolicyCache;
  readonly bob: string;
  readonly automation: { clientId: string; clientSecret: string };
  close(): Promise<void>;
}

/** `audit`: where the admin API records changes (default: the store's directory audit log, as start.ts wires it). */
export async function startHttpsPortcullis(options: { audit?: DirectoryAuditWriter } = {}): Promise<HttpsPortcullis> {
  const cert = readFileSync(new URL('localhost-cert.pem', FIXTURES), 'utf8');
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), cert]);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-admin-'));
  const clock = new ManualClock(Date.now());
  const { config } = loadConfig({
    env: {
      PORTCULLIS_DATA_DIR: dir,
      PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64'),
      PORTCULLIS_TLS_CERT_FILE: new URL('localhost-cert.pem', FIXTURES).pathname,
      PORTCULLIS_TLS_KEY_FILE: new URL('localhost-key.pem', FIXTURES).pathname,
    },
  });
  const { store, keyring } = await openData(config, clock);
  const tenant = await createTenant(store, { name: 'contoso', displayName: 'Contoso' });
  const directory = directoryFor(store.forTenant(tenant.id));
  const bob = await directory.users.create({ userPrincipalName: 'bob@contoso.example', displayName: 'Bob' });
  const automation = await directory.applications.create({
    displayName: 'Contoso Automation',
    clientType: 'confidential',
    grantTypes: ['client_credentials'],
  });
  await assignApplicationRole(store.forTenant(tenant.id), automation.application.appId, GLOBAL_ADMINISTRATOR);

  const logger = createLogger({ level: 'silent' });
  const policies = new CompiledPolicyCache({ store, clock });
  const sessionCache = new SessionCache();
  const services: SignInServices = {
    store,
    keyring,
    clock,
    policies: (tenantId) => policies.get(tenantId),
    credentials: (scope) => storeCredentialPorts(scope, keyring),
    signInLog: new StoreSignInLog(store),
    sessions: (tenantId) => new Sessions(store.forTenant(tenantId), { cache: sessionCache, logger }),
  };
  let url = '';
  const publicUrl = () => url;
  const app = buildServer({
    config,
    logger,
    clock,
    readiness: () => store.ping(),
    plugins: [
      oidcPlugin(services, { publicUrl }),
      adminPlugin(services, { publicUrl, policyCache: policies, audit: options.audit }),
    ],
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  url = `https://127.0.0.1:${address.port}`;
  return {
    url,
    issuer: `${url}/t/${tenant.id}`,
    tenantId: tenant.id,
    store,
    clock,
    policies,
    bob: bob.id,
    automation: { clientId: automation.application.appId, clientSecret: automation.secretText ?? '' },
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
