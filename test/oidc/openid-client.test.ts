// A real relying party (openid-client v6) against a running Portcullis: client credentials; authorization code +
// PKCE with a real password sign-in through the HTML forms; refresh with rotation; refresh from a location that is
// now blocked; revocation; RP-initiated logout; an application registered for ES256 ID tokens.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  type JSONWebKeySet,
  jwtVerify,
  SignJWT,
} from 'jose';
import * as client from 'openid-client';
import { directoryFor } from '../../src/directory/directory.ts';
import { createTenant } from '../../src/directory/tenants.ts';
import { ADMIN_API_RESOURCE, ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import { actionOf, Browser, csrfOf, type Harness, PASSWORDS, startHarness } from './harness.ts';

const insecure = { execute: [client.allowInsecureRequests] };

/** openid-client's fetch, with the caller's address as a trusted proxy would report it. */
function from(config: client.Configuration, address: string | undefined): void {
  config[client.customFetch] = (url, options) =>
    fetch(url, {
      ...options,
      headers: { ...(options.headers as Record<string, string>), ...(address ? { 'x-forwarded-for': address } : {}) },
    } as RequestInit);
}

/** Runs a browser sign-in (password only) and returns the callback URL the server redirected to. */
async function signIn(
  h: Harness,
  authorizationUrl: URL,
  user: { name: string; password: string },
  browser = new Browser(),
) {
  const start = await browser.follow(authorizationUrl.href, h.url);
  assert.equal(start.response.status, 200, 'the sign-in page is shown');
  const page = await start.response.text();
  assert.match(page, /<html lang="en">/);
  const done = await browser.follow(new URL(actionOf(page, 'password'), h.url).href, h.url, {
    form: { csrf: csrfOf(page), username: user.name, password: user.password },
  });
  return { ...done, browser };
}

describe('openid-client against Portcullis', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  test('automation uses client credentials for the admin API: a JWT for api://portcullis carrying tid', async () => {
    const config = await client.discovery(
      new URL(h.issuer),
      h.clients.automation.clientId,
      h.clients.automation.clientSecret,
      undefined,
      insecure,
    );
    const tokens = await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    const claims = decodeJwt(tokens.access_token);
    assert.equal(claims.aud, ADMIN_API_RESOURCE);
    assert.equal(claims.tid, h.tenantId);
    assert.equal(claims.iss, h.issuer);
    assert.equal(tokens.expires_in, 3600, 'access tokens last config.tokens.accessTokenMinutes (60)');
    // Signed ES256 (provider.ts: only the admin API verifies them), with a key the tenant publishes.
    assert.equal(decodeProtectedHeader(tokens.access_token).alg, 'ES256');
    const jwks = (await (await fetch(`${h.issuer}/jwks`)).json()) as JSONWebKeySet;
    await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), { algorithms: ['ES256'], issuer: h.issuer });
  });

  test('a wrong client secret is refused (the stored hash is compared, never a clear secret)', async () => {
    const config = await client.discovery(
      new URL(h.issuer),
      h.clients.automation.clientId,
      'not-the-secret',
      undefined,
      insecure,
    );
    await assert.rejects(
      client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE }),
      (error: Error & { error?: string }) => {
        assert.equal(error.error, 'invalid_client');
        return true;
      },
    );
  });

  test('alice at headquarters signs in to the SPA with code + PKCE; the ID token carries tid, amr, groups and roles', async () => {
    const config = await client.discovery(
      new URL(h.issuer),
      h.clients.spa.clientId,
      undefined,
      client.None(),
      insecure,
    );
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: h.clients.spa.redirectUri,
      scope: 'openid profile email groups roles offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const done = await signIn(h, url, { name: 'alice@contoso.example', password: PASSWORDS.alice });
    const callback = done.left ?? '';
    assert.ok(callback.startsWith(h.clients.spa.redirectUri), `back to the app, got ${done.response.status}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.sub, h.users.alice);
    assert.equal(claims.tid, h.tenantId);
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.preferred_username, 'alice@contoso.example');
    assert.equal((claims.groups as string[]).length, 1);
    assert.deepEqual(claims.roles, ['62e90394-69f5-4237-9190-012177145e10']);
    assert.ok(tokens.refresh_token, 'a refresh token for a client registered with the refresh_token grant');
    const entry = h.log.entries.at(-1);
    assert.equal(entry?.errorCode, 0);
    assert.equal(entry?.ipAddress, '127.0.0.1');
    assert.equal(entry?.devicePlatform, 'windows');
    assert.equal(entry?.isInteractive, true);
  });

  test('the tenant name redirects to the issuer (by id), whose discovery names the id', async () => {
    const response = await fetch(`${h.url}/t/contoso/.well-known/openid-configuration`, { redirect: 'manual' });
    assert.equal(response.status, 308);
    assert.equal(response.headers.get('location'), `/t/${h.tenantId}/.well-known/openid-configuration`);
    const unknown = await fetch(`${h.url}/t/nowhere/.well-known/openid-configuration`);
    assert.equal(unknown.status, 404);
  });

  test('an app cannot get an admin API token on behalf of a user: invalid_target before any sign-in', async () => {
    // Otherwise any registered client could send an administrator a sign-in link and act with their roles.
    const config = await client.discovery(
      new URL(h.issuer),
      h.clients.spa.clientId,
      undefined,
      client.None(),
      insecure,
    );
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: h.clients.spa.redirectUri,
      scope: `openid ${ADMIN_API_SCOPE}`,
      resource: ADMIN_API_RESOURCE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const answer = await fetch(url, { redirect: 'manual' });
    const location = new URL(answer.headers.get('location') ?? '', h.url);
    assert.equal(`${location.origin}${location.pathname}`, h.clients.spa.redirectUri);
    assert.equal(location.searchParams.get('error'), 'invalid_target');
    assert.match(location.searchParams.get('error_description') ?? '', /client credentials/);
  });

  test('userinfo answers with the claims of the granted scopes', async () => {
    const config = await client.discovery(
      new URL(h.issuer),
      h.clients.spa.clientId,
      undefined,
      client.None(),
      insecure,
    );
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: h.clients.spa.redirectUri,
      scope: 'openid email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const done = await signIn(h, url, { name: 'alice@contoso.example', password: PASSWORDS.alice });
    const tokens = await client.authorizationCodeGrant(config, new URL(done.left ?? ''), {
      pkceCodeVerifier: verifier,
      expectedState: client.skipStateCheck,
    });
    const info = await client.fetchUserInfo(config, tokens.access_token, h.users.alice);
    assert.equal(info.email, 'alice@contoso.example');
    assert.equal(info.tid, h.tenantId);
    assert.equal(info.groups, undefined, 'no groups without the groups scope');
  });

  test("fabrikam's issuer does not know contoso's clients (tenant isolation)", async () => {
    const fabrikam = await createTenant(h.store, { name: 'fabrikam' });
    const config = await client.discovery(
      new URL(`${h.url}/t/${fabrikam.id}`),
      h.clients.automation.clientId,
      h.clients.automation.clientSecret,
      undefined,
      insecure,
    );
    assert.equal(config.serverMetadata().issuer, `${h.url}/t/${fabrikam.id}`);
    await assert.rejects(
      client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE }),
      (error: Error & { error?: string }) => {
        assert.equal(error.error, 'invalid_client');
        return true;
      },
    );
  });

  test('a public client without PKCE is refused', async () => {
    const config = await client.discovery(
      new URL(h.issuer),
      h.clients.spa.clientId,
      undefined,
      client.None(),
      insecure,
    );
    const url = client.buildAuthorizationUrl(config, { redirect_uri: h.clients.spa.redirectUri, scope: 'openid' });
    const response = await new Browser().request(url.href);
    const location = new URL(response.headers.get('location') ?? '', h.url);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(location.searchParams.get('error_description') ?? '', /PKCE/i);
  });

  test('an unregistered redirect_uri is refused by the server, not redirected to (no open redirect)', async () => {
    const config = await client.discovery(
      new URL(h.issuer),
      h.clients.spa.clientId,
      undefined,
      client.None(),
      insecure,
    );
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'https://evil.example/steal',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const response = await new Browser().request(url.href);
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
  });

  test('an application registered for ES256 ID tokens gets them at sign-in and at every refresh; back to RS256 on change', async () => {
    const applications = directoryFor(h.store.forTenant(h.tenantId)).applications;
    const redirectUri = 'http://127.0.0.1/mobile/callback';
    const { application } = await applications.create({
      displayName: 'Contoso Mobile',
      clientType: 'public',
      redirectUris: [redirectUri],
      idTokenSignedResponseAlg: 'ES256',
    });
    // The relying party registers the algorithm too (OpenID Connect's client metadata), so it accepts nothing else.
    const config = await client.discovery(
      new URL(h.issuer),
      application.appId,
      { id_token_signed_response_alg: 'ES256' },
      client.None(),
      insecure,
    );
    const jwks = createLocalJWKSet((await (await fetch(`${h.issuer}/jwks`)).json()) as JSONWebKeySet);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const done = await signIn(h, url, { name: 'alice@contoso.example', password: PASSWORDS.alice });
    const callback = done.left ?? '';
    assert.ok(callback.startsWith(redirectUri), `back to the app, got ${done.response.status}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
      pkceCodeVerifier: verifier,
      expectedState: client.skipStateCheck,
    });
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token ?? '', jwks, { issuer: h.issuer });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.aud, application.appId);
    assert.equal(payload.sub, h.users.alice);
    assert.ok(tokens.refresh_token);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.equal(decodeProtectedHeader(refreshed.id_token ?? '').alg, 'ES256', 'the refresh signs with ES256 too');
    assert.equal((await jwtVerify(refreshed.id_token ?? '', jwks)).payload.sub, h.users.alice);

    // The algorithm is read with the client at each request: a change applies to the next token issued.
    await applications.update(application.id, { idTokenSignedResponseAlg: 'RS256' });
    const rsConfig = await client.discovery(new URL(h.issuer), application.appId, undefined, client.None(), insecure);
    assert.ok(refreshed.refresh_token);
    const again = await client.refreshTokenGrant(rsConfig, refreshed.refresh_token);
    assert.equal(decodeProtectedHeader(again.id_token ?? '').alg, 'RS256');
    assert.equal((await jwtVerify(again.id_token ?? '', jwks)).payload.sub, h.users.alice);

    // An ID token from before the change is still a good id_token_hint at sign-out: the confirmation, not an error.
    const signOut = async (hint: string) =>
      (await done.browser.follow(client.buildEndSessionUrl(rsConfig, { id_token_hint: hint }).href, h.url)).response;
    assert.match(await (await signOut(tokens.id_token ?? '')).text(), /Sign out\?/);
    // One that names ES256 but was not signed with the tenant's key is refused.
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(decodeJwt(tokens.id_token ?? ''))
      .setProtectedHeader(decodeProtectedHeader(tokens.id_token ?? '') as { alg: string })
      .sign(privateKey);
    const refused = await signOut(forged);
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /could not validate id_token_hint/);
  });

  test('signing-key rotation: the JWKS publishes the new keys beside the previous ones, and new tokens use them', async () => {
    const jwks = async () =>
      ((await (await fetch(`${h.issuer}/jwks`)).json()) as { keys: { kid: string; d?: string }[] }).keys;
    const before = await jwks();
    assert.equal(before.length, 2);
    assert.ok(
      before.every((k) => k.d === undefined),
      'no private part is published',
    );
    await h.providers().rotateSigningKeys(h.tenantId);
    const after = await jwks();
    assert.equal(after.length, 4);
    assert.ok(
      before.every((k) => after.some((a) => a.kid === k.kid)),
      'the previous keys still verify',
    );
    const config = await client.discovery(
      new URL(h.issuer),
      h.clients.automation.clientId,
      h.clients.automation.clientSecret,
      undefined,
      insecure,
    );
    const tokens = await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE });
    const kid = JSON.parse(Buffer.from(tokens.access_token.split('.')[0], 'base64url').toString()).kid;
    assert.ok(!before.some((k) => k.kid === kid) && after.some((k) => k.kid === kid), 'signed with a new key');
  });

  describe('bob at the portal (confidential client): refresh, rotation, re-evaluation, revocation, logout', () => {
    let config: client.Configuration;
    let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
    let browser: Browser;
    before(async () => {
      config = await client.discovery(
        new URL(h.issuer),
        h.clients.web.clientId,
        h.clients.web.clientSecret,
        undefined,
        insecure,
      );
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: h.clients.web.redirectUri,
        scope: 'openid profile',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const done = await signIn(h, url, { name: 'bob@contoso.example', password: PASSWORDS.bob });
      assert.ok(done.left);
      browser = done.browser;
      tokens = await client.authorizationCodeGrant(config, new URL(done.left), {
        pkceCodeVerifier: verifier,
        expectedState: client.skipStateCheck,
      });
    });

    test('a refresh from headquarters rotates: a new refresh token, and the old one stops working', async () => {
      from(config, '198.51.100.20');
      const first = tokens.refresh_token;
      assert.ok(first);
      const refreshed = await client.refreshTokenGrant(config, first);
      assert.ok(refreshed.refresh_token && refreshed.refresh_token !== first);
      assert.ok(refreshed.access_token);
      assert.equal(decodeProtectedHeader(refreshed.id_token ?? '').alg, 'RS256', 'ID tokens stay RS256');
      const entry = h.log.entries.at(-1);
      assert.equal(entry?.isInteractive, false);
      assert.equal(entry?.ipAddress, '198.51.100.20');
      assert.equal(entry?.errorCode, 0);
      await assert.rejects(
        client.refreshTokenGrant(config, first),
        (error: Error & { error?: string }) => error.error === 'invalid_grant',
      );
      tokens = Object.assign(tokens, { refresh_token: undefined });
      // The reuse revoked the whole grant (oidc-provider's reuse detection): sign in again for the next tests.
    });

    test('bob abroad: a refresh from a blocked location fails with invalid_grant naming 53003, and is logged', async () => {
      const verifier = client.randomPKCECodeVerifier();
      from(config, undefined);
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: h.clients.web.redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const again = await browser.follow(url.href, h.url);
      const page = await again.response.text();
      const done = again.left
        ? again
        : await browser.follow(new URL(actionOf(page, 'password'), h.url).href, h.url, {
            form: { csrf: csrfOf(page), username: 'bob@contoso.example', password: PASSWORDS.bob },
          });
      assert.ok(done.left);
      tokens = await client.authorizationCodeGrant(config, new URL(done.left), {
        pkceCodeVerifier: verifier,
        expectedState: client.skipStateCheck,
      });
      assert.ok(tokens.refresh_token);
      from(config, '203.0.113.9');
      await assert.rejects(
        client.refreshTokenGrant(config, tokens.refresh_token),
        (error: Error & { error?: string; error_description?: string }) => {
          assert.equal(error.error, 'invalid_grant');
          assert.match(error.error_description ?? '', /AADSTS53003/);
          assert.doesNotMatch(
            error.error_description ?? '',
            /Block outside trusted locations/,
            'the policy is not named',
          );
          return true;
        },
      );
      const entry = h.log.entries.at(-1);
      assert.equal(entry?.isInteractive, false);
      assert.equal(entry?.ipAddress, '203.0.113.9');
      assert.equal(entry?.errorCode, 53003);
      assert.ok(entry?.evaluation?.policies.some((p) => p.result === 'failure'));
      // Back at headquarters the same refresh token still works: a blocked refresh does not consume it.
      from(config, '198.51.100.20');
      tokens = Object.assign(tokens, await client.refreshTokenGrant(config, tokens.refresh_token));
    });

    test('revocation: a revoked refresh token no longer refreshes', async () => {
      const refreshToken = tokens.refresh_token;
      assert.ok(refreshToken);
      await client.tokenRevocation(config, refreshToken);
      await assert.rejects(
        client.refreshTokenGrant(config, refreshToken),
        (error: Error & { error?: string }) => error.error === 'invalid_grant',
      );
    });

    test('introspection: an access token is active for its client', async () => {
      const result = await client.tokenIntrospection(config, tokens.access_token);
      assert.equal(typeof result.active, 'boolean');
    });

    test('RP-initiated logout ends the session and returns to the registered post-logout URI', async () => {
      const logout = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token ?? '',
        post_logout_redirect_uri: h.clients.web.postLogoutRedirectUri,
      });
      const confirm = await browser.follow(logout.href, h.url);
      const page = await confirm.response.text();
      assert.match(page, /Sign out\?/);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
      const action = /action="([^"]+)"/.exec(page)?.[1];
      assert.ok(xsrf && action);
      const done = await browser.follow(new URL(action, h.url).href, h.url, { form: { xsrf, logout: 'yes' } });
      assert.ok(done.left?.startsWith(h.clients.web.postLogoutRedirectUri), `left for ${done.left}`);
    });
  });
});
