// A passkey as the second factor: alice (Global Administrator, MFA required) has a passkey and no TOTP, so the MFA
// page offers "Use a passkey"; the page's script flow (options → navigator.credentials.get → form post) is played by
// a software authenticator. A cloned passkey (counter going backwards) is refused and disabled.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { SoftAuthenticator } from '../../src/auth/testing/soft-authenticator.ts';
import { generateUserHandle, passkeyRegistrationOptions, verifyPasskeyRegistration } from '../../src/auth/webauthn.ts';
import { GLOBAL_ADMINISTRATOR } from '../../src/directory/roles.ts';
import { relyingPartyFor } from '../../src/signin/second-factor.ts';
import {
  actionOf,
  Browser,
  csrfOf,
  type Harness,
  HEADQUARTERS,
  PASSWORDS,
  requireMfaForRole,
  startHarness,
} from '../oidc/harness.ts';

describe('passkey step-up', () => {
  let h: Harness;
  let authenticator: SoftAuthenticator;
  before(async () => {
    h = await startHarness();
    await h.policies.set(h.tenantId, [HEADQUARTERS], [requireMfaForRole(GLOBAL_ADMINISTRATOR)]);
    const rp = relyingPartyFor(h.issuer);
    const user = {
      id: h.users.alice,
      userHandle: generateUserHandle(),
      name: 'alice@contoso.example',
      displayName: 'Alice',
    };
    authenticator = new SoftAuthenticator({ origin: h.url });
    const { options, pending } = await passkeyRegistrationOptions({ rp, user, existing: [], now: h.clock.now() });
    const registered = await verifyPasskeyRegistration({
      rp,
      response: authenticator.create(options),
      pending,
      user,
      existing: [],
      name: 'Laptop',
      now: h.clock.now(),
    });
    assert.ok(registered.ok);
    await h.credentials.for(h.tenantId).webauthn.put(registered.credential);
  });
  after(async () => h.close());

  async function toMfaPage(browser: Browser): Promise<string> {
    const config = await client.discovery(new URL(h.issuer), h.clients.spa.clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: h.clients.spa.redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const start = await browser.follow(url.href, h.url);
    const page = await start.response.text();
    const mfa = await browser.follow(new URL(actionOf(page, 'password'), h.url).href, h.url, {
      form: { csrf: csrfOf(page), username: 'alice@contoso.example', password: PASSWORDS.alice },
    });
    return mfa.response.text();
  }

  async function answer(browser: Browser, page: string, authenticatorToUse: SoftAuthenticator) {
    const optionsUrl = /data-options="([^"]+)"/.exec(page)?.[1];
    assert.ok(optionsUrl, 'the MFA page offers a passkey');
    const response = await fetch(optionsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: browser.jar.header(), 'user-agent': browser.userAgent },
      body: JSON.stringify({ csrf: csrfOf(page) }),
    });
    assert.equal(response.status, 200);
    const assertion = authenticatorToUse.get((await response.json()) as Parameters<SoftAuthenticator['get']>[0]);
    return browser.follow(new URL(actionOf(page, 'passkey'), h.url).href, h.url, {
      form: { csrf: csrfOf(page), response: JSON.stringify(assertion) },
    });
  }

  test('alice signs in with her password and her passkey; amr says hwk and mfa', async () => {
    const browser = new Browser();
    const page = await toMfaPage(browser);
    assert.match(page, /Use a passkey/);
    assert.match(page, /<script src="\/assets\/passkey.js"><\/script>/);
    assert.doesNotMatch(page, /Set up your authenticator app/, 'a passkey is a method: no TOTP enrolment');
    const done = await answer(browser, page, authenticator);
    assert.ok(done.left?.startsWith(h.clients.spa.redirectUri), `back to the app (${done.response.status})`);
    assert.deepEqual(h.log.entries.at(-1)?.amr, ['pwd', 'hwk', 'mfa']);
    assert.equal(h.log.entries.at(-1)?.errorCode, 0);
  });

  test('a forged or empty passkey answer is refused as a failed second factor', async () => {
    const browser = new Browser();
    const page = await toMfaPage(browser);
    const done = await browser.follow(new URL(actionOf(page, 'passkey'), h.url).href, h.url, {
      form: { csrf: csrfOf(page), response: '{"id":"nope","response":{}}' },
    });
    assert.equal(done.response.status, 400);
    assert.equal(h.log.entries.at(-1)?.errorCode, 500121);
  });
  test('mallory with a clone of the passkey (its counter behind) is refused, and the passkey is disabled', async () => {
    const clone = authenticator.clone();
    const browser = new Browser();
    await answer(browser, await toMfaPage(browser), authenticator); // the original moves the counter on
    const second = new Browser();
    const done = await answer(second, await toMfaPage(second), clone);
    assert.equal(done.response.status, 400);
    assert.equal(h.log.entries.at(-1)?.errorCode, 500121);
    const [passkey] = await h.credentials.for(h.tenantId).webauthn.listByUser(h.users.alice);
    assert.notEqual(passkey.disabledAt, null);
  });
});
