// The sign-in pipeline through its HTML forms against a running server: blocked by Conditional Access (53003 page,
// no policy named), wrong password, CSRF, and MFA — first a TOTP enrolment with a QR code, then a TOTP prompt —
// with the sign-in log written at every step.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { totpCodeAt } from '../../src/auth/totp.ts';
import { GLOBAL_ADMINISTRATOR } from '../../src/directory/roles.ts';
import {
  actionOf,
  BLOCK_OUTSIDE_TRUSTED,
  Browser,
  csrfOf,
  type Harness,
  HEADQUARTERS,
  PASSWORDS,
  requireMfaForRole,
  startHarness,
} from '../oidc/harness.ts';

const insecure = { execute: [client.allowInsecureRequests] };

async function authorizationUrl(h: Harness): Promise<URL> {
  const config = await client.discovery(new URL(h.issuer), h.clients.spa.clientId, undefined, client.None(), insecure);
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: h.clients.spa.redirectUri,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  return url;
}

async function passwordPage(h: Harness, browser: Browser): Promise<string> {
  const start = await browser.follow((await authorizationUrl(h)).href, h.url);
  assert.equal(start.response.status, 200);
  assert.equal(start.response.headers.get('content-security-policy')?.startsWith("default-src 'self'"), true);
  return start.response.text();
}

async function submitPassword(h: Harness, browser: Browser, page: string, name: string, password: string) {
  return browser.follow(new URL(actionOf(page, 'password'), h.url).href, h.url, {
    form: { csrf: csrfOf(page), username: name, password },
  });
}

describe('sign-in pipeline', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.policies.set(h.tenantId, [HEADQUARTERS], [BLOCK_OUTSIDE_TRUSTED, requireMfaForRole(GLOBAL_ADMINISTRATOR)]);
  });
  after(async () => h.close());

  test('bob abroad is blocked: the 53003 page shows the code, the correlation id and the time, not the policy', async () => {
    const browser = new Browser({ forwardedFor: '203.0.113.9' });
    const done = await submitPassword(h, browser, await passwordPage(h, browser), 'bob@contoso.example', PASSWORDS.bob);
    assert.equal(done.response.status, 403);
    assert.equal(done.left, undefined, 'not sent back to the app');
    const page = await done.response.text();
    assert.match(page, /id="error-code">53003</);
    const correlationId = /id="correlation-id">([^<]+)</.exec(page)?.[1];
    assert.ok(correlationId);
    assert.match(page, /id="timestamp">\d{4}-\d\d-\d\dT/);
    assert.doesNotMatch(page, /Block outside trusted locations/);
    const entry = h.log.entries.at(-1);
    assert.equal(entry?.errorCode, 53003);
    assert.equal(entry?.correlationId, correlationId);
    assert.equal(entry?.ipAddress, '203.0.113.9', 'the same address the policy saw');
    assert.equal(entry?.user?.userPrincipalName, 'bob@contoso.example');
    const applied = entry?.evaluation?.policies.find((p) => p.displayName === BLOCK_OUTSIDE_TRUSTED.displayName);
    assert.equal(applied?.result, 'failure');
  });

  test('guest carol mistypes her password: 50126 on the form, focus on the error, and a log entry', async () => {
    const browser = new Browser();
    const done = await submitPassword(h, browser, await passwordPage(h, browser), 'carol@partner.example', 'wrong');
    assert.equal(done.response.status, 400);
    const page = await done.response.text();
    assert.match(page, /role="alert"[^>]*autofocus>Your account or password is incorrect\./);
    assert.match(page, /value="carol@partner.example"/, 'the name is kept');
    const entry = h.log.entries.at(-1);
    assert.equal(entry?.errorCode, 50126);
    assert.equal(entry?.evaluation, undefined, 'Conditional Access did not run');
  });

  test('mallory posts the form without its CSRF token: refused', async () => {
    const browser = new Browser();
    const page = await passwordPage(h, browser);
    const response = await browser.request(new URL(actionOf(page, 'password'), h.url).href, {
      form: { csrf: 'forged', username: 'bob@contoso.example', password: PASSWORDS.bob },
    });
    assert.equal(response.status, 403);
  });

  test('single sign-on still runs Conditional Access: bob, signed in at headquarters, is blocked from abroad', async () => {
    const browser = new Browser();
    const signedIn = await submitPassword(
      h,
      browser,
      await passwordPage(h, browser),
      'bob@contoso.example',
      PASSWORDS.bob,
    );
    assert.ok(signedIn.left?.startsWith(h.clients.spa.redirectUri));

    // Same browser, same session, still at headquarters: no password asked, a log entry for this sign-in.
    const before = h.log.entries.length;
    const sso = await browser.follow((await authorizationUrl(h)).href, h.url);
    assert.ok(sso.left?.startsWith(h.clients.spa.redirectUri), 'signed in without a password');
    assert.equal(h.log.entries.length, before + 1);
    assert.equal(h.log.entries.at(-1)?.errorCode, 0);

    // prompt=none cannot show a page, so it cannot evaluate: interaction_required, not a silent code.
    const silent = await authorizationUrl(h);
    silent.searchParams.set('prompt', 'none');
    const none = await browser.follow(silent.href, h.url);
    assert.equal(new URL(none.left ?? '').searchParams.get('error'), 'interaction_required');

    // The same session from abroad (a roaming laptop behind the trusted proxy): blocked, not waved through.
    const abroad = new Browser({ forwardedFor: '203.0.113.9' });
    for (const cookie of browser.jar.header().split('; '))
      abroad.jar.store(new Response(null, { headers: { 'set-cookie': cookie } }));
    const blocked = await abroad.follow((await authorizationUrl(h)).href, h.url);
    assert.equal(blocked.response.status, 403);
    assert.match(await blocked.response.text(), /id="error-code">53003</);
    assert.equal(h.log.entries.at(-1)?.errorCode, 53003);
  });

  test('alice (Global Administrator) must use MFA: she enrols TOTP from the QR page, then signs in with a code', async () => {
    const browser = new Browser();
    const before = h.log.entries.length;
    const afterPassword = await submitPassword(
      h,
      browser,
      await passwordPage(h, browser),
      'alice@contoso.example',
      PASSWORDS.alice,
    );
    assert.equal(afterPassword.response.status, 200);
    const enrol = await afterPassword.response.text();
    assert.match(enrol, /Set up your authenticator app/);
    assert.match(enrol, /<svg/, 'the QR code is inline SVG (allowed by the CSP)');
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol)?.[1];
    assert.ok(secret);
    assert.equal(h.log.entries[before].errorCode, 50076, 'the MFA interruption is logged');

    const wrong = await browser.request(new URL(actionOf(enrol, 'enrol'), h.url).href, {
      form: { csrf: csrfOf(enrol), code: '000000' },
    });
    assert.equal(wrong.status, 400);
    const retry = await wrong.text();
    const codesPage = await browser.request(new URL(actionOf(retry, 'enrol'), h.url).href, {
      form: { csrf: csrfOf(retry), code: await totpCodeAt(secret, h.clock.now()) },
    });
    assert.equal(codesPage.status, 200);
    const codes = await codesPage.text();
    assert.equal((codes.match(/<li>/g) ?? []).length, 10, 'ten recovery codes, shown once');
    const done = await browser.follow(new URL(actionOf(codes, 'continue'), h.url).href, h.url, {
      form: { csrf: csrfOf(codes) },
    });
    assert.ok(done.left?.startsWith(h.clients.spa.redirectUri), 'back to the app');
    const final = h.log.entries.at(-1);
    assert.equal(final?.errorCode, 0);
    assert.ok(final?.amr.includes('mfa'));

    // Next time: a TOTP prompt (a new time step, so the code is not a replay).
    h.clock.advance(30_000);
    const second = new Browser();
    const prompt = await submitPassword(
      h,
      second,
      await passwordPage(h, second),
      'alice@contoso.example',
      PASSWORDS.alice,
    );
    const mfa = await prompt.response.text();
    assert.match(mfa, /Verify your identity/);
    const bad = await second.request(new URL(actionOf(mfa, 'totp'), h.url).href, {
      form: { csrf: csrfOf(mfa), code: '123456' },
    });
    assert.equal(bad.status, 400);
    assert.equal(h.log.entries.at(-1)?.errorCode, 500121);
    const badPage = await bad.text();
    const ok = await second.follow(new URL(actionOf(badPage, 'totp'), h.url).href, h.url, {
      form: { csrf: csrfOf(badPage), code: await totpCodeAt(secret, h.clock.now()) },
    });
    assert.ok(ok.left?.startsWith(h.clients.spa.redirectUri));
    assert.equal(h.log.entries.at(-1)?.errorCode, 0);
    assert.deepEqual(h.log.entries.at(-1)?.amr, ['pwd', 'otp', 'mfa']);
  });
});
