// The forward-auth registration of an application through the admin API (admin/forward-auth.ts), against the server
// as `serve` builds it: a registration takes effect on this node's gateway at once, is audited, refuses confidential
// clients and the read-only roles, and its removal puts the host back to "no application" (denied, fail closed).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { assignApplicationRole } from '../../src/admin/auth.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { GLOBAL_ADMINISTRATOR, SECURITY_READER } from '../../src/directory/roles.ts';
import { ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import { type Harness, startHarness } from '../oidc/harness.ts';

describe('admin API: forward-auth registration of an application', () => {
  let h: Harness;
  let graph: string;
  let admin: string;
  let reader: string;
  let spa: { id: string; appId: string };
  let web: { id: string };

  async function token(roles: string[]): Promise<string> {
    const scope = h.store.forTenant(h.tenantId);
    const made = await directoryFor(scope).applications.create({
      displayName: `Automation ${roles.join(',')}`,
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    for (const role of roles) await assignApplicationRole(scope, made.application.appId, role);
    const config = await client.discovery(new URL(h.issuer), made.application.appId, made.secretText ?? '', undefined, {
      execute: [client.allowInsecureRequests],
    });
    return (await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE })).access_token;
  }

  async function call(method: string, path: string, body?: unknown, bearer = admin) {
    const response = await fetch(`${graph}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** What the gateway answers nginx for a browser's request to `url` (no session). */
  async function gateway(url: string): Promise<number> {
    const response = await fetch(`${h.url}/api/authz/auth-request`, {
      headers: { 'x-original-url': url, 'x-original-method': 'GET', 'x-forwarded-for': '10.0.0.1' },
    });
    await response.arrayBuffer();
    return response.status;
  }

  before(async () => {
    h = await startHarness();
    graph = `${h.issuer}/graph/v1.0`;
    // One after the other: application roles live in one tenant setting, written read-modify-write.
    admin = await token([GLOBAL_ADMINISTRATOR]);
    reader = await token([SECURITY_READER]);
    const applications = directoryFor(h.store.forTenant(h.tenantId)).applications;
    const found = await applications.getByAppId(h.clients.spa.clientId);
    assert.ok(found);
    spa = found;
    const confidential = await applications.getByAppId(h.clients.web.clientId);
    assert.ok(confidential);
    web = confidential;
  });
  after(async () => h?.close());

  test('none at first: GET is 404 and the gateway denies the host as no application’s', async () => {
    const got = await call('GET', `/applications/${spa.id}/forwardAuth`);
    assert.equal(got.status, 404);
    assert.equal(got.body.error.code, 'Request_ResourceNotFound');
    assert.equal(await gateway('https://wiki.contoso.example/page'), 403);
  });

  test('PUT registers it; this node routes by it at once (sign-in instead of denial); audited', async () => {
    const put = await call('PUT', `/applications/${spa.id}/forwardAuth`, {
      hosts: ['wiki.contoso.example'],
      paths: ['/'],
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(
      { appId: put.body.appId, hosts: put.body.hosts, paths: put.body.paths, source: put.body.source },
      { appId: spa.appId, hosts: ['wiki.contoso.example'], paths: ['/'], source: 'api' },
    );
    assert.equal(await gateway('https://wiki.contoso.example/page'), 401);
    const got = await call('GET', `/applications/${spa.id}/forwardAuth`, undefined, reader);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.hosts, ['wiki.contoso.example']);

    const audits = await call('GET', `/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Update application'`);
    assert.equal(audits.status, 200, JSON.stringify(audits.body));
    const record = audits.body.value.find((r: { targetResources: Array<{ id: string }> }) =>
      r.targetResources.some((t) => t.id === spa.id),
    );
    assert.ok(record, 'the registration is in the directory audit log');
    const change = record.targetResources[0].modifiedProperties[0];
    assert.equal(change.displayName, 'forwardAuth');
    assert.equal(change.oldValue, 'null');
    assert.deepEqual(JSON.parse(change.newValue), { hosts: ['wiki.contoso.example'], paths: ['/'] });
  });

  test('bad input names the field; a confidential client is refused; nothing changes', async () => {
    const noHosts = await call('PUT', `/applications/${spa.id}/forwardAuth`, { hosts: [] });
    assert.equal(noHosts.status, 400);
    assert.match(noHosts.body.error.message, /hosts/);
    const extra = await call('PUT', `/applications/${spa.id}/forwardAuth`, { hosts: ['a.example'], upstream: 'x' });
    assert.equal(extra.status, 400);
    assert.match(extra.body.error.message, /upstream/);
    const confidential = await call('PUT', `/applications/${web.id}/forwardAuth`, { hosts: ['portal.example'] });
    assert.equal(confidential.status, 400);
    assert.match(confidential.body.error.message, /confidential client/);
    const unknown = await call('PUT', '/applications/00000000-0000-4000-8000-000000000000/forwardAuth', {
      hosts: ['x.example'],
    });
    assert.equal(unknown.status, 404);
    assert.equal(await gateway('https://portal.example/'), 403);
    assert.deepEqual((await call('GET', `/applications/${spa.id}/forwardAuth`)).body.hosts, ['wiki.contoso.example']);
  });

  test('a Security Reader may read but not change or remove it', async () => {
    const put = await call('PUT', `/applications/${spa.id}/forwardAuth`, { hosts: ['evil.example'] }, reader);
    assert.equal(put.status, 403);
    const removed = await call('DELETE', `/applications/${spa.id}/forwardAuth`, undefined, reader);
    assert.equal(removed.status, 403);
    assert.equal(await gateway('https://wiki.contoso.example/page'), 401);
  });

  test('DELETE removes it: the host is denied again; a second DELETE is 404', async () => {
    assert.equal((await call('DELETE', `/applications/${spa.id}/forwardAuth`)).status, 204);
    assert.equal(await gateway('https://wiki.contoso.example/page'), 403);
    assert.equal((await call('DELETE', `/applications/${spa.id}/forwardAuth`)).status, 404);
  });
});
