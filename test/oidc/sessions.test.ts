// Sessions through OpenID Connect (issue 4): a sign-in starts a Portcullis session (two cookies), single sign-on
// needs it live and bound to the browser, and its end — maximum length, inactivity, sign-out, sign-out everywhere,
// revocation — means credentials again and refresh tokens refused (50173). Time moves on the injected clock.
import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import * as client from 'openid-client';
import { Sessions } from '../../src/session/sessions.ts';
import { updateSessionSettings } from '../../src/session/settings-store.ts';
import {
  actionOf,
  BLOCK_OUTSIDE_TRUSTED,
  Browser,
  csrfOf,
  type Harness,
  HEADQUARTERS,
  PASSWORDS,
  startHarness,
} from './harness.ts';

const insecure = { execute: [client.allowInsecureRequests] };
const MINUTE = 60_000;

let h: Harness;
let config: client.Configuration;

async function authorize(browser: Browser) {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: h.clients.web.redirectUri,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  return { verifier, start: await browser.follow(url.href, h.url) };
}

/** Signs in with the password (the sign-in page must be shown) and exchanges the code. */
async function signIn(browser: Browser, name = 'bob@contoso.example', password = PASSWORDS.bob) {
  const { verifier, start } = await authorize(browser);
  assert.equal(start.left, undefined, 'credentials are asked for');
  const page = await start.response.text();
  const done = await browser.follow(new URL(actionOf(page, 'password'), h.url).href, h.url, {
    form: { csrf: csrfOf(page), username: name, password },
  });
  assert.ok(done.left?.startsWith(h.clients.web.redirectUri), `back to the app, got ${done.response.status}`);
  return client.authorizationCodeGrant(config, new URL(done.left ?? ''), {
    pkceCodeVerifier: verifier,
    expectedState: client.skipStateCheck,
  });
}

/** Whether an authorization request from this browser goes straight back to the app (single sign-on). */
async function singleSignOn(browser: Browser): Promise<boolean> {
  const { start } = await authorize(browser);
  if (start.left) return true;
  assert.match(await start.response.text(), /name="password"/, 'otherwise the password page');
  return false;
}

async function refreshRefusedWith50173(refreshToken: string | undefined) {
  assert.ok(refreshToken);
  await assert.rejects(
    client.refreshTokenGrant(config, refreshToken),
    (error: Error & { error_description?: string }) => {
      assert.match(error.error_description ?? '', /AADSTS50173/);
      return true;
    },
  );
  const entry = h.log.entries.at(-1);
  assert.equal(entry?.errorCode, 50173);
  assert.equal(entry?.isInteractive, false);
}

describe('sessions through OpenID Connect', () => {
  beforeEach(async () => {
    await h?.close();
    h = await startHarness();
    config = await client.discovery(
      new URL(h.issuer),
      h.clients.web.clientId,
      h.clients.web.clientSecret,
      undefined,
      insecure,
    );
  });
  after(async () => h.close());

  test('a sign-in sets the session and binding cookies; single sign-on follows; refresh works while it lives', async () => {
    const browser = new Browser();
    const tokens = await signIn(browser);
    const cookies = browser.jar.header();
    assert.match(cookies, new RegExp(`portcullis-session-${h.tenantId}=`));
    assert.match(cookies, new RegExp(`portcullis-binding-${h.tenantId}=`));
    assert.equal(await singleSignOn(browser), true);
    assert.ok(tokens.refresh_token);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
  });

  test('a copied session cookie without its binding cookie gives no single sign-on', async () => {
    const browser = new Browser();
    await signIn(browser);
    const thief = new Browser();
    for (const pair of browser.jar.header().split('; ')) {
      if (!pair.startsWith(`portcullis-binding-${h.tenantId}=`)) thief.jar.set(pair);
    }
    assert.equal(await singleSignOn(thief), false, 'the thief is asked for credentials');
    assert.equal(await singleSignOn(browser), true, 'the owner still signs on');
  });

  test('the maximum session length ends the session: credentials again, refresh refused (50173)', async () => {
    const browser = new Browser();
    const tokens = await signIn(browser);
    await updateSessionSettings(h.store.forTenant(h.tenantId), { maximumSessionLengthMinutes: 60 });
    h.clock.advance(59 * MINUTE);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? '');
    h.clock.advance(2 * MINUTE);
    await refreshRefusedWith50173(refreshed.refresh_token);
    assert.equal(await singleSignOn(browser), false);
  });

  test('inactivity ends the session; a single sign-on counts as activity', async () => {
    const browser = new Browser();
    const tokens = await signIn(browser);
    await updateSessionSettings(h.store.forTenant(h.tenantId), { inactivityTimeoutMinutes: 30 });
    h.clock.advance(20 * MINUTE);
    assert.equal(await singleSignOn(browser), true, 'activity at 20 minutes');
    h.clock.advance(25 * MINUTE);
    assert.equal(await singleSignOn(browser), true, '25 minutes after the last activity: still live');
    h.clock.advance(31 * MINUTE);
    await refreshRefusedWith50173(tokens.refresh_token);
    assert.equal(await singleSignOn(browser), false, '31 minutes idle: ended');
  });

  test('sign-out ends the session: refresh refused, credentials needed again', async () => {
    const browser = new Browser();
    const tokens = await signIn(browser);
    await signOut(browser, tokens.id_token ?? '', {});
    assert.doesNotMatch(browser.jar.header(), /portcullis-session/, 'the cookies are cleared');
    await refreshRefused(tokens.refresh_token);
    const ended = await new Sessions(h.store.forTenant(h.tenantId)).listForUser(h.users.bob);
    assert.deepEqual(
      ended.map((s) => [s.live, s.session.endReason]),
      [[false, 'revoked']],
    );
    assert.equal(await singleSignOn(browser), false);
  });

  test('"Sign out everywhere" ends the user\'s sessions in other browsers too', async () => {
    const laptop = new Browser();
    const phone = new Browser();
    const laptopTokens = await signIn(laptop);
    const phoneTokens = await signIn(phone);
    const other = new Browser();
    await signIn(other, 'alice@contoso.example', PASSWORDS.alice);
    await signOut(laptop, laptopTokens.id_token ?? '', { everywhere: 'yes' });
    await refreshRefusedWith50173(phoneTokens.refresh_token);
    assert.equal(await singleSignOn(phone), false);
    assert.equal(await singleSignOn(other), true, "another user's session is untouched");
  });

  test("an admin's revocation (revokeSignInSessions) ends every session of the user, with its refresh tokens", async () => {
    const browser = new Browser();
    const tokens = await signIn(browser);
    const ended = await new Sessions(h.store.forTenant(h.tenantId)).revokeAllForUser(h.users.bob);
    assert.equal(ended.length, 1);
    await refreshRefusedWith50173(tokens.refresh_token);
    assert.equal(await singleSignOn(browser), false);
    // Signing in again starts a new session whose new grant refreshes; the old refresh token stays dead.
    const again = await signIn(browser);
    assert.ok((await client.refreshTokenGrant(config, again.refresh_token ?? '')).access_token);
    await refreshRefused(tokens.refresh_token);
  });

  test("a policy's sign-in frequency (1 hour) asks for credentials again after an hour, though the session lives", async () => {
    await h.policies.set(
      h.tenantId,
      [HEADQUARTERS],
      [
        BLOCK_OUTSIDE_TRUSTED,
        {
          id: '44444444-4444-4444-8444-444444444444',
          displayName: 'Sign in every hour',
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
          },
          grantControls: null,
          sessionControls: {
            signInFrequency: { isEnabled: true, type: 'hours', value: 1, frequencyInterval: 'timeBased' },
          },
        },
      ],
    );
    const browser = new Browser();
    await signIn(browser);
    h.clock.advance(59 * MINUTE);
    assert.equal(await singleSignOn(browser), true);
    h.clock.advance(2 * MINUTE);
    assert.equal(await singleSignOn(browser), false, 'an hour after the sign-in: the password page');
    await signIn(browser);
    assert.equal(await singleSignOn(browser), true, 'signed in afresh');
  });

  test('revocation while requests are in flight: every request after it is refused', async () => {
    const browser = new Browser();
    const tokens = await signIn(browser);
    assert.ok(tokens.refresh_token);
    // The same browser's cookies in several tabs (jars), so concurrent sign-in interactions do not share a cookie.
    const tabs = (n: number) =>
      Array.from({ length: n }, () => {
        const tab = new Browser();
        for (const pair of browser.jar.header().split('; ')) tab.jar.set(pair);
        return tab;
      });
    const sessions = new Sessions(h.store.forTenant(h.tenantId));
    // Whether a tab got back to the app; any other answer (a page, an error) is a refusal.
    const signsOn = async (tab: Browser) => (await authorize(tab)).start.left !== undefined;
    const inFlight = Promise.allSettled(tabs(8).map(signsOn));
    await sessions.revokeAllForUser(h.users.bob);
    const afterwards = await Promise.all(tabs(8).map(signsOn));
    await inFlight;
    assert.deepEqual(afterwards, Array(8).fill(false), 'no request after the revocation signs on');
    await refreshRefusedWith50173(tokens.refresh_token);
  });
});

async function signOut(browser: Browser, idToken: string, extra: Record<string, string>) {
  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: idToken,
    post_logout_redirect_uri: h.clients.web.postLogoutRedirectUri,
  });
  const confirm = await browser.follow(logout.href, h.url);
  const page = await confirm.response.text();
  assert.match(page, /Sign out everywhere/);
  assert.match(
    page,
    new RegExp(`<script src="/assets/session.js" data-tenant="${h.tenantId}" defer></script>`),
    'the signed-in page carries the expiry warning',
  );
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
  const action = /action="([^"]+)"/.exec(page)?.[1];
  assert.ok(xsrf && action);
  const done = await browser.follow(new URL(action, h.url).href, h.url, { form: { xsrf, logout: 'yes', ...extra } });
  assert.ok(done.left?.startsWith(h.clients.web.postLogoutRedirectUri), `left for ${done.left}`);
}

/** Refused because oidc-provider itself destroyed the grant (sign-out, or a grant replaced by a new sign-in). */
async function refreshRefused(refreshToken: string | undefined) {
  assert.ok(refreshToken);
  await assert.rejects(client.refreshTokenGrant(config, refreshToken), (error: Error & { error?: string }) => {
    assert.equal(error.error, 'invalid_grant');
    return true;
  });
}
