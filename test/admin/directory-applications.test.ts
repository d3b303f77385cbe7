// Graph's applications API (issue 6) over HTTPS with real client-credentials tokens: web apps and public clients in
// Graph's application shape, validation naming the field, addPassword (the secret shown once, stored as a hash, and
// usable at the tenant's token endpoint) and removePassword (the secret stops working), update, delete; secrets never
// reach the audit log; an Application Administrator cannot add a secret to an application that holds admin roles.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { APPLICATION_ADMINISTRATOR } from '../../src/directory/roles.ts';
import { ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import { assertGraphError, type DirectoryServer, startDirectoryServer } from './directory-support.ts';

describe('admin API: applications', () => {
  let d: DirectoryServer;
  let web: { id: string; appId: string };
  let secret: { keyId: string; secretText: string };

  before(async () => {
    d = await startDirectoryServer();
  });
  after(async () => d?.close());

  async function tokenWith(clientId: string, clientSecret: string): Promise<string> {
    const config = await client.discovery(new URL(d.server.issuer), clientId, clientSecret);
    return (await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE })).access_token;
  }

  test('create a web app: 201 in Graph shape, no secret yet; audited', async () => {
    const created = await d.call('POST', '/applications', {
      body: {
        displayName: 'Payroll',
        signInAudience: 'AzureADMyOrg',
        web: { redirectUris: ['https://payroll.contoso.example/signin-oidc'] },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body['@odata.context'], `${d.graph}/$metadata#applications/$entity`);
    assert.equal(created.headers.get('location'), `${d.graph}/applications/${created.body.id}`);
    assert.match(created.body.appId, /^[0-9a-f-]{36}$/);
    assert.notEqual(created.body.appId, created.body.id);
    assert.deepEqual(created.body.web.redirectUris, ['https://payroll.contoso.example/signin-oidc']);
    assert.deepEqual(created.body.publicClient, { redirectUris: [] });
    assert.deepEqual(created.body.spa, { redirectUris: [] });
    assert.equal(created.body.isFallbackPublicClient, false);
    assert.deepEqual(created.body.passwordCredentials, []);
    assert.equal(created.body.idTokenSignedResponseAlg, 'RS256', 'ID tokens are RS256 unless the app asks');
    web = created.body;
    const [record] = await d.audits('Add application');
    assert.equal(record.event.category, 'ApplicationManagement');
    assert.equal(record.event.targets[0].id, web.id);
  });

  test('create a public client (publicClient.redirectUris): no secrets possible', async () => {
    const created = await d.call('POST', '/applications', {
      body: { displayName: 'Desktop', publicClient: { redirectUris: ['http://localhost:8400/callback'] } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.isFallbackPublicClient, true);
    assert.deepEqual(created.body.web.redirectUris, []);
    assert.deepEqual(created.body.publicClient.redirectUris, ['http://localhost:8400/callback']);
    assertGraphError(
      await d.call('POST', `/applications/${created.body.id}/addPassword`, { body: {} }),
      400,
      'Request_BadRequest',
      /publicClient: a public client has no secrets/,
    );
  });

  test('bad applications: 400 naming the field, nothing written', async () => {
    const before = (await d.call('GET', '/applications?$select=id')).body.value.length;
    const cases: Array<{ body: unknown; message: RegExp }> = [
      { body: { web: { redirectUris: [] } }, message: /displayName: must be a string/ },
      {
        body: { displayName: 'Plain http', web: { redirectUris: ['http://payroll.contoso.example/cb'] } },
        message: /web\.redirectUris\[0\]: 'http:\/\/payroll\.contoso\.example\/cb' must use https/,
      },
      {
        body: { displayName: 'Wild', web: { redirectUris: ['https://*.contoso.example/cb'] } },
        message: /web\.redirectUris\[0\]: .* must not contain a wildcard/,
      },
      {
        body: { displayName: 'SPA', spa: { redirectUris: ['https://spa.contoso.example/'] } },
        message: /spa\.redirectUris: .* put these URIs in publicClient\.redirectUris/,
      },
      {
        body: {
          displayName: 'Both',
          web: { redirectUris: ['https://a.contoso.example/cb'] },
          publicClient: { redirectUris: ['http://localhost/cb'] },
        },
        message: /web\.redirectUris, publicClient\.redirectUris: .* not both/,
      },
      {
        body: { displayName: 'Public', isFallbackPublicClient: true },
        message: /publicClient\.redirectUris: a public client needs/,
      },
      {
        body: { displayName: 'Multi', signInAudience: 'AzureADMultipleOrgs' },
        message: /signInAudience: .* must be 'AzureADMyOrg'/,
      },
      {
        body: { displayName: 'Implicit', web: { implicitGrantSettings: { enableIdTokenIssuance: true } } },
        message: /web\.implicitGrantSettings\.enableIdTokenIssuance: the implicit flow is not supported/,
      },
      {
        body: { displayName: 'Secrets', passwordCredentials: [{ displayName: 'x' }] },
        message: /passwordCredentials: add secrets with POST \/applications\/\{id\}\/addPassword/,
      },
      { body: { displayName: 'Api', api: { oauth2PermissionScopes: [] } }, message: /Property 'api' is not supported/ },
    ];
    for (const c of cases) {
      assertGraphError(await d.call('POST', '/applications', { body: c.body }), 400, 'Request_BadRequest', c.message);
    }
    assert.equal((await d.call('GET', '/applications?$select=id')).body.value.length, before);
  });

  test('addPassword: 200 with secretText once; stored as a hash; the secret works at the token endpoint', async () => {
    const endDateTime = new Date(d.server.clock.now() + 90 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const added = await d.call('POST', `/applications/${web.id}/addPassword`, {
      body: { passwordCredential: { displayName: 'CI', endDateTime } },
    });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body['@odata.context'], `${d.graph}/$metadata#microsoft.graph.passwordCredential`);
    assert.equal(added.body.displayName, 'CI');
    assert.equal(added.body.endDateTime, endDateTime);
    assert.equal(typeof added.body.secretText, 'string');
    assert.equal(added.body.hint, added.body.secretText.slice(0, 3));
    secret = added.body;

    const read = await d.call('GET', `/applications/${web.id}`);
    assert.equal(read.body.passwordCredentials.length, 1);
    assert.equal(read.body.passwordCredentials[0].keyId, secret.keyId);
    assert.equal(read.body.passwordCredentials[0].secretText, null, 'never shown again');
    const row = await d.scope
      .selectFrom('applications')
      .select('client_secrets')
      .where('id', '=', web.id)
      .executeTakeFirst();
    assert.ok(row && !row.client_secrets.includes(secret.secretText), 'the store holds a hash, not the secret');
    assert.ok(!JSON.stringify(await d.audits()).includes(secret.secretText), 'nor does the audit log');
    assert.ok(!JSON.stringify(await d.audits()).includes(`"hint"`), 'nor its first characters');
    const [record] = await d.audits('Update application – Certificates and secrets management');
    assert.deepEqual(record.event.targets[0].modifiedProperties?.[0].newValue, [
      { keyId: secret.keyId, displayName: 'CI', endDateTime },
    ]);

    // The Payroll app holds no admin role: its token is good, and the admin API refuses it for want of a role.
    const token = await tokenWith(web.appId, secret.secretText);
    assertGraphError(await d.call('GET', '/applications', { token }), 403, 'Authorization_RequestDenied');

    const cases: Array<{ body: unknown; message: RegExp }> = [
      {
        body: { passwordCredential: { endDateTime: 'tomorrow' } },
        message: /passwordCredential\.endDateTime: must be a date/,
      },
      {
        body: { passwordCredential: { endDateTime: '2001-01-01T00:00:00Z' } },
        message: /passwordCredential\.endDateTime: must be in the future/,
      },
      {
        body: { passwordCredential: { secretText: 'my own secret' } },
        message: /passwordCredential\.secretText: is set by Portcullis/,
      },
      { body: { passwordCredential: 'x' }, message: /passwordCredential: must be an object/ },
    ];
    for (const c of cases) {
      assertGraphError(
        await d.call('POST', `/applications/${web.id}/addPassword`, { body: c.body }),
        400,
        'Request_BadRequest',
        c.message,
      );
    }
  });

  test('an Application Administrator manages applications, but not one that holds admin roles', async () => {
    const appAdmin = await d.tokenFor([APPLICATION_ADMINISTRATOR]);
    const automation = (
      await d.call('GET', `/applications?$filter=${encodeURIComponent(`appId eq '${d.server.automation.clientId}'`)}`)
    ).body.value[0];
    assert.ok(automation, 'the automation app is listed');
    for (const [path, body] of [
      [`/applications/${automation.id}/addPassword`, {}],
      [`/applications/${automation.id}/removePassword`, { keyId: automation.passwordCredentials[0].keyId }],
    ] as const) {
      assertGraphError(
        await d.call('POST', path, { token: appAdmin, body }),
        403,
        'Authorization_RequestDenied',
        /holds Global Administrator, and only a Global Administrator can change such an application/,
      );
    }
    assertGraphError(
      await d.call('DELETE', `/applications/${automation.id}`, { token: appAdmin }),
      403,
      'Authorization_RequestDenied',
    );
    assert.equal((await d.call('GET', `/applications/${automation.id}`)).body.passwordCredentials.length, 1);
    assert.equal(
      (await d.call('PATCH', `/applications/${web.id}`, { token: appAdmin, body: { displayName: 'Payroll (prod)' } }))
        .status,
      204,
    );
  });

  test('update: 204, redirect URIs replaced; removePassword: 204 and the secret stops working', async () => {
    const patched = await d.call('PATCH', `/applications/${web.id}`, {
      body: { web: { redirectUris: ['https://payroll.contoso.example/cb', 'http://localhost:5000/cb'] } },
    });
    assert.equal(patched.status, 204, JSON.stringify(patched.body));
    const read = await d.call('GET', `/applications/${web.id}?$select=displayName,web`);
    assert.deepEqual(Object.keys(read.body).sort(), ['@odata.context', 'displayName', 'web']);
    assert.deepEqual(read.body.web.redirectUris, ['https://payroll.contoso.example/cb', 'http://localhost:5000/cb']);
    assert.equal(read.body.displayName, 'Payroll (prod)');
    const updates = await d.audits('Update application');
    assert.deepEqual(
      updates.map((u) => u.event.targets[0].modifiedProperties?.map((p) => p.displayName)),
      [['displayName'], ['web']],
    );
    assertGraphError(
      await d.call('PATCH', `/applications/${web.id}`, {
        body: { publicClient: { redirectUris: ['http://localhost/x'] } },
      }),
      400,
      'Request_BadRequest',
      /publicClient\.redirectUris: this is a web application/,
    );
    assertGraphError(
      await d.call('PATCH', `/applications/${web.id}`, { body: { isFallbackPublicClient: true } }),
      400,
      'Request_BadRequest',
      /isFallbackPublicClient: the client type is fixed/,
    );

    assertGraphError(
      await d.call('POST', `/applications/${web.id}/removePassword`, { body: { keyId: 'no-such-key' } }),
      400,
      'Request_BadRequest',
      /keyId: the application has no password credential 'no-such-key'/,
    );
    assert.equal(
      (await d.call('POST', `/applications/${web.id}/removePassword`, { body: { keyId: secret.keyId } })).status,
      204,
    );
    assert.deepEqual((await d.call('GET', `/applications/${web.id}`)).body.passwordCredentials, []);
    await assert.rejects(tokenWith(web.appId, secret.secretText), 'the removed secret no longer gets a token');
  });

  test('idTokenSignedResponseAlg: ES256 on create or by PATCH (audited), $filter, null resets, a bad value is a 400', async () => {
    const created = await d.call('POST', '/applications', {
      body: {
        displayName: 'Field app',
        publicClient: { redirectUris: ['com.contoso.field:/callback'] },
        idTokenSignedResponseAlg: 'ES256',
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.idTokenSignedResponseAlg, 'ES256');
    const id = created.body.id;
    const filtered = await d.call('GET', "/applications?$filter=idTokenSignedResponseAlg eq 'ES256'&$select=id");
    assert.deepEqual(
      filtered.body.value.map((a: { id: string }) => a.id),
      [id],
    );

    for (const bad of ['HS256', 'none', 'es256', 42]) {
      assertGraphError(
        await d.call('PATCH', `/applications/${id}`, { body: { idTokenSignedResponseAlg: bad } }),
        400,
        'Request_BadRequest',
        /^idTokenSignedResponseAlg: must be one of RS256, ES256 but it is /,
      );
    }
    assertGraphError(
      await d.call('POST', '/applications', {
        body: { displayName: 'Bad alg', web: { redirectUris: [] }, idTokenSignedResponseAlg: 'PS512' },
      }),
      400,
      'Request_BadRequest',
      /idTokenSignedResponseAlg: must be one of RS256, ES256 but it is 'PS512'/,
    );
    assert.equal(
      (await d.call('GET', "/applications?$filter=displayName eq 'Bad alg'&$select=id")).body.value.length,
      0,
      'nothing written',
    );
    assert.equal((await d.call('GET', `/applications/${id}`)).body.idTokenSignedResponseAlg, 'ES256', 'unchanged');

    const reset = await d.call('PATCH', `/applications/${id}`, { body: { idTokenSignedResponseAlg: null } });
    assert.equal(reset.status, 204, JSON.stringify(reset.body));
    assert.equal((await d.call('GET', `/applications/${id}`)).body.idTokenSignedResponseAlg, 'RS256');
    const [record] = (await d.audits('Update application')).filter((a) => a.event.targets[0].id === id);
    assert.deepEqual(record.event.targets[0].modifiedProperties, [
      { displayName: 'idTokenSignedResponseAlg', oldValue: 'ES256', newValue: 'RS256' },
    ]);
  });

  test('delete: 204, then 404; audited', async () => {
    assert.equal((await d.call('DELETE', `/applications/${web.id}`)).status, 204);
    assertGraphError(await d.call('GET', `/applications/${web.id}`), 404, 'Request_ResourceNotFound');
    assertGraphError(await d.call('DELETE', `/applications/${web.id}`), 404, 'Request_ResourceNotFound');
    assertGraphError(
      await d.call('POST', `/applications/${web.id}/addPassword`, { body: {} }),
      404,
      'Request_ResourceNotFound',
    );
    assert.equal((await d.audits('Delete application')).length, 1);
  });
});
