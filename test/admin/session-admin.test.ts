// The admin API's session endpoints (issue 4) over HTTP with real tokens from the tenant's token endpoint:
// session settings (GET / PATCH under the Graph base URL) and Graph's POST /users/{id}/revokeSignInSessions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { assignApplicationRole } from '../../src/admin/auth.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { BUILT_IN_ROLES, SECURITY_READER, USER_ADMINISTRATOR } from '../../src/directory/roles.ts';
import { createTenant } from '../../src/directory/tenants.ts';
import { ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import { actionOf, Browser, csrfOf, type Harness, PASSWORDS, startHarness } from '../oidc/harness.ts';

const insecure = { execute: [client.allowInsecureRequests] };

describe('admin API: session settings and revocation', () => {
  let h: Harness;
  let graph: string;
  let token: string;

  async function clientToken(clientId: string, clientSecret: string, issuer = h.issuer): Promise<string> {
    const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, insecure);
    return (await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE })).access_token;
  }

  async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
    const response = await fetch(`${graph}${path}`, {
      method,
      headers: {
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  before(async () => {
    h = await startHarness();
    graph = `${h.issuer}/graph/v1.0`;
    await assignApplicationRole(
      h.store.forTenant(h.tenantId),
      h.clients.automation.clientId,
      '62e90394-69f5-4237-9190-012177145e10',
    );
    token = await clientToken(h.clients.automation.clientId, h.clients.automation.clientSecret);
  });
  after(async () => h.close());

  test('no token, a garbage token: 401 with a Graph error body', async () => {
    const none = await call('GET', '/policies/sessionSettings');
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'InvalidAuthenticationToken');
    assert.ok(none.body.error.innerError['request-id']);
    const garbage = await call('GET', '/policies/sessionSettings', { token: 'not.a.jwt' });
    assert.equal(garbage.status, 401);
  });

  test('read the defaults, refuse out-of-range values naming field, range and value, then change them', async () => {
    const read = await call('GET', '/policies/sessionSettings', { token });
    assert.equal(read.status, 200);
    assert.equal(read.body.maximumSessionLengthMinutes, 1440);
    assert.equal(read.body.warningBeforeExpiryMinutes, 20);
    assert.equal(read.body.inactivityTimeoutMinutes, null);

    const bad = await call('PATCH', '/policies/sessionSettings', { token, body: { maximumSessionLengthMinutes: 30 } });
    assert.equal(bad.status, 400);
    assert.match(
      bad.body.error.message,
      /maximumSessionLengthMinutes must be a whole number from 60 to 1440, but it is 30/,
    );
    const idle = await call('PATCH', '/policies/sessionSettings', {
      token,
      body: { maximumSessionLengthMinutes: 120, inactivityTimeoutMinutes: 120 },
    });
    assert.equal(idle.status, 400);
    assert.match(idle.body.error.message, /inactivityTimeoutMinutes/);
    assert.equal(
      (await call('GET', '/policies/sessionSettings', { token })).body.maximumSessionLengthMinutes,
      1440,
      'nothing written',
    );

    const ok = await call('PATCH', '/policies/sessionSettings', {
      token,
      body: { maximumSessionLengthMinutes: 480, inactivityTimeoutMinutes: 30 },
    });
    assert.equal(ok.status, 204);
    const after = await call('GET', '/policies/sessionSettings', { token });
    assert.equal(after.body.maximumSessionLengthMinutes, 480);
    assert.equal(after.body.inactivityTimeoutMinutes, 30);
  });

  test('roles decide: an application without a role, or a Security Reader writing, gets 403', async () => {
    const directory = directoryFor(h.store.forTenant(h.tenantId));
    const plain = await directory.applications.create({
      displayName: 'No role',
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    const plainToken = await clientToken(plain.application.appId, plain.secretText ?? '');
    const denied = await call('GET', '/policies/sessionSettings', { token: plainToken });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'Authorization_RequestDenied');
    await assignApplicationRole(h.store.forTenant(h.tenantId), plain.application.appId, SECURITY_READER);
    assert.equal((await call('GET', '/policies/sessionSettings', { token: plainToken })).status, 200);
    const write = await call('PATCH', '/policies/sessionSettings', {
      token: plainToken,
      body: { warningBeforeExpiryMinutes: 10 },
    });
    assert.equal(write.status, 403);
    assert.equal((await call('POST', `/users/${h.users.bob}/revokeSignInSessions`, { token: plainToken })).status, 403);
  });

  test('role matrix: each built-in role (and none) may use exactly the session routes it should', async () => {
    // issue 6: Security Administrator — session settings and revocation; Security Reader and Reports Reader —
    // read-only; User Administrator — users (so revocation); everyone else 403.
    const expected: Record<string, { read: boolean; write: boolean; revoke: boolean }> = {
      'Global Administrator': { read: true, write: true, revoke: true },
      'Security Administrator': { read: true, write: true, revoke: true },
      'Security Reader': { read: true, write: false, revoke: false },
      'Reports Reader': { read: true, write: false, revoke: false },
      'User Administrator': { read: false, write: false, revoke: true },
      'Conditional Access Administrator': { read: false, write: false, revoke: false },
      'Application Administrator': { read: false, write: false, revoke: false },
      none: { read: false, write: false, revoke: false },
    };
    assert.deepEqual(Object.keys(expected).sort(), [...BUILT_IN_ROLES.map((r) => r.displayName), 'none'].sort());
    const scope = h.store.forTenant(h.tenantId);
    const directory = directoryFor(scope);
    const current = (await call('GET', '/policies/sessionSettings', { token })).body.warningBeforeExpiryMinutes;
    for (const [name, may] of Object.entries(expected)) {
      const made = await directory.applications.create({
        displayName: `Caller ${name}`,
        clientType: 'confidential',
        grantTypes: ['client_credentials'],
      });
      const role = BUILT_IN_ROLES.find((r) => r.displayName === name);
      if (role) await assignApplicationRole(scope, made.application.appId, role.id);
      const caller = await clientToken(made.application.appId, made.secretText ?? '');
      const read = await call('GET', '/policies/sessionSettings', { token: caller });
      const write = await call('PATCH', '/policies/sessionSettings', {
        token: caller,
        body: { warningBeforeExpiryMinutes: current },
      });
      const revoke = await call('POST', `/users/${h.users.carol}/revokeSignInSessions`, { token: caller });
      assert.deepEqual(
        { read: read.status, write: write.status, revoke: revoke.status },
        { read: may.read ? 200 : 403, write: may.write ? 204 : 403, revoke: may.revoke ? 200 : 403 },
        name,
      );
      for (const refused of [read, write, revoke].filter((r) => r.status === 403)) {
        assert.equal(refused.body.error.code, 'Authorization_RequestDenied', name);
      }
    }
  });

  test('a User Administrator cannot sign a Global Administrator out everywhere; a Global Administrator can', async () => {
    const scope = h.store.forTenant(h.tenantId);
    const made = await directoryFor(scope).applications.create({
      displayName: 'Helpdesk',
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    await assignApplicationRole(scope, made.application.appId, USER_ADMINISTRATOR);
    const helpdesk = await clientToken(made.application.appId, made.secretText ?? '');
    const refused = await call('POST', `/users/${h.users.alice}/revokeSignInSessions`, { token: helpdesk });
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /Global Administrator/);
    assert.equal((await call('POST', `/users/${h.users.alice}/revokeSignInSessions`, { token })).status, 200);
  });

  test("another tenant's token is refused", async () => {
    const fabrikam = await createTenant(h.store, { name: 'fabrikam' });
    const app = await directoryFor(h.store.forTenant(fabrikam.id)).applications.create({
      displayName: 'Fabrikam automation',
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    await assignApplicationRole(
      h.store.forTenant(fabrikam.id),
      app.application.appId,
      '62e90394-69f5-4237-9190-012177145e10',
    );
    const foreign = await clientToken(app.application.appId, app.secretText ?? '', `${h.url}/t/${fabrikam.id}`);
    const refused = await call('GET', '/policies/sessionSettings', { token: foreign });
    assert.equal(refused.status, 401);
    assert.match(refused.body.error.message, /not a valid access token of this tenant/);
  });

  test("revokeSignInSessions ends the user's sessions: the refresh token stops working (50173)", async () => {
    const config = await client.discovery(
      new URL(h.issuer),
      h.clients.web.clientId,
      h.clients.web.clientSecret,
      undefined,
      insecure,
    );
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: h.clients.web.redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const browser = new Browser();
    const start = await browser.follow(url.href, h.url);
    const page = await start.response.text();
    const done = await browser.follow(new URL(actionOf(page, 'password'), h.url).href, h.url, {
      form: { csrf: csrfOf(page), username: 'bob@contoso.example', password: PASSWORDS.bob },
    });
    const tokens = await client.authorizationCodeGrant(config, new URL(done.left ?? ''), {
      pkceCodeVerifier: verifier,
      expectedState: client.skipStateCheck,
    });

    const missing = await call('POST', '/users/nobody@contoso.example/revokeSignInSessions', { token });
    assert.equal(missing.status, 404);
    const revoked = await call('POST', '/users/bob@contoso.example/revokeSignInSessions', { token });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.value, true);
    await assert.rejects(
      client.refreshTokenGrant(config, tokens.refresh_token ?? ''),
      (error: Error & { error_description?: string }) => {
        assert.match(error.error_description ?? '', /AADSTS50173/);
        return true;
      },
    );
  });
});
