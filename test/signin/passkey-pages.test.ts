// The passkey pages over HTTP, with the pages' script played by hand and a software authenticator: enrolling a
// passkey from the enrolment page, and passwordless sign-in ("Sign in with a passkey") with every way it can fail —
// each attempt answered with the right code and written to the sign-in log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { SoftAuthenticator } from '../../src/auth/testing/soft-authenticator.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { GLOBAL_ADMINISTRATOR } from '../../src/directory/roles.ts';
import {
  actionOf,
  BLOCK_OUTSIDE_TRUSTED,
  Browser,
  csrfOf,
  type Harness,
  HEADQUARTERS,
  PASSWORDS,
  policy,
  requireMfaForRole,
  startHarness,
} from '../oidc/harness.ts';

const POLICIES = [BLOCK_OUTSIDE_TRUSTED, requireMfaForRole(GLOBAL_ADMINISTRATOR)];
/** MFA for every user, so that bob and carol are asked too. */
const MFA_FOR_EVERYONE = policy('44444444-4444-4444-8444-444444444444', 'MFA for everyone', 'mfa');

type Options = Parameters<SoftAuthenticator['get']>[0] & Parameters<SoftAuthenticator['create']>[0];

describe('passkey pages', () => {
  let h: Harness;
  /** Alice's and carol's authenticators, holding the passkeys they enrol. */
  let alices: SoftAuthenticator;
  let carols: SoftAuthenticator;
  before(async () => {
    h = await startHarness();
    await h.policies.set(h.tenantId, [HEADQUARTERS], POLICIES);
    alices = new SoftAuthenticator({ origin: h.url });
    carols = new SoftAuthenticator({ origin: h.url });
  });
  after(async () => h.close());

  async function firstPage(browser: Browser): Promise<string> {
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
    assert.equal(start.response.status, 200);
    return start.response.text();
  }

  /** The page after name and password: the MFA prompt or the enrolment page. */
  async function afterPassword(browser: Browser, name: string, password: string): Promise<string> {
    const page = await firstPage(browser);
    const next = await browser.follow(new URL(actionOf(page, 'password'), h.url).href, h.url, {
      form: { csrf: csrfOf(page), username: name, password },
    });
    assert.equal(next.response.status, 200);
    return next.response.text();
  }

  /** What the passkey button's script does first: POST the CSRF token to the form's data-options URL. */
  async function options(browser: Browser, page: string, path: string, csrf = csrfOf(page)) {
    const url = new RegExp(`data-options="([^"]+/${path}/options)"`).exec(page)?.[1];
    assert.ok(url, `the page has a passkey form for ${path}`);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      cookie: browser.jar.header(),
      'user-agent': browser.userAgent,
    };
    if (browser.forwardedFor) headers['x-forwarded-for'] = browser.forwardedFor;
    return fetch(new URL(url, h.url), { method: 'POST', headers, body: JSON.stringify({ csrf }) });
  }

  /** Then: post the browser's answer (or an empty one, as after a cancelled ceremony) with the form. */
  function post(browser: Browser, page: string, path: string, response: unknown) {
    return browser.follow(new URL(actionOf(page, path), h.url).href, h.url, {
      form: { csrf: csrfOf(page), response: response === '' ? '' : JSON.stringify(response) },
    });
  }

  async function passwordless(browser: Browser, authenticator: SoftAuthenticator | undefined) {
    const page = await firstPage(browser);
    const answer = await options(browser, page, 'passkey-sign-in');
    assert.equal(answer.status, 200);
    const publicKey = (await answer.json()) as Options & { userVerification?: string };
    return { publicKey, done: await post(browser, page, 'passkey-sign-in', authenticator?.get(publicKey) ?? '') };
  }

  test('alice (MFA required, no method) enrols a passkey: options, answer, recovery codes, back to the app', async () => {
    const browser = new Browser();
    const enrolPage = await afterPassword(browser, 'alice@contoso.example', PASSWORDS.alice);
    assert.match(enrolPage, /Set up a passkey/);
    assert.match(enrolPage, /Set up your authenticator app/, 'beside the TOTP app');
    assert.match(enrolPage, /<script src="\/assets\/passkey.js"><\/script>/);

    const forged = await options(browser, enrolPage, 'enrol-passkey', 'forged');
    assert.equal(forged.status, 403, 'the options need the CSRF token');
    const answer = await options(browser, enrolPage, 'enrol-passkey');
    assert.equal(answer.status, 200);
    const publicKey = (await answer.json()) as Options & Record<string, unknown>;
    assert.equal(publicKey.attestation, 'none');
    assert.deepEqual(publicKey.authenticatorSelection, {
      residentKey: 'preferred',
      userVerification: 'preferred',
      requireResidentKey: false,
    });
    assert.deepEqual(publicKey.user, {
      id: publicKey.user.id,
      name: 'alice@contoso.example',
      displayName: 'Alice',
    });
    assert.equal(Buffer.from(publicKey.user.id, 'base64url').length, 64, 'a random user handle, not her id');

    const codes = await post(browser, enrolPage, 'enrol-passkey', alices.create(publicKey));
    assert.equal(codes.response.status, 200);
    const codesPage = await codes.response.text();
    assert.equal((codesPage.match(/<li>/g) ?? []).length, 10, 'ten recovery codes, shown once');
    const done = await browser.follow(new URL(actionOf(codesPage, 'continue'), h.url).href, h.url, {
      form: { csrf: csrfOf(codesPage) },
    });
    assert.ok(done.left?.startsWith(h.clients.spa.redirectUri), 'back to the app');
    assert.deepEqual(h.log.entries.at(-1)?.amr, ['pwd', 'hwk', 'mfa']);
    const [passkey] = await h.credentials.for(h.tenantId).webauthn.listByUser(h.users.alice);
    assert.equal(passkey.credentialId, alices.credentialIds()[0]);
    assert.equal(passkey.userHandle, publicKey.user.id);
  });

  test('bob enrols through a phishing origin: refused on the enrolment page (500121), nothing stored', async () => {
    await h.policies.set(h.tenantId, [HEADQUARTERS], [MFA_FOR_EVERYONE]);
    try {
      const browser = new Browser();
      const enrolPage = await afterPassword(browser, 'bob@contoso.example', PASSWORDS.bob);
      const publicKey = (await (await options(browser, enrolPage, 'enrol-passkey')).json()) as Options;
      const relayed = new SoftAuthenticator({ origin: 'https://phishing.example' }).create(publicKey);
      const refused = await post(browser, enrolPage, 'enrol-passkey', relayed);
      assert.equal(refused.response.status, 400);
      assert.match(await refused.response.text(), /Set up a passkey/, 'still on the enrolment page');
      const entry = h.log.entries.at(-1);
      assert.equal(entry?.errorCode, 500121);
      assert.match(entry?.failureReason ?? '', /passkey registration invalid/);
      assert.deepEqual(await h.credentials.for(h.tenantId).webauthn.listByUser(h.users.bob), []);
    } finally {
      await h.policies.set(h.tenantId, [HEADQUARTERS], POLICIES);
    }
  });

  test('alice signs in with her passkey alone: usernameless options, user verification required', async () => {
    const before = h.log.entries.length;
    const { publicKey, done } = await passwordless(new Browser(), alices);
    assert.equal(publicKey.userVerification, 'required');
    assert.ok(!publicKey.allowCredentials?.length, 'discoverable credentials: none listed');
    assert.ok(done.left?.startsWith(h.clients.spa.redirectUri), `back to the app (${done.response.status})`);
    assert.equal(h.log.entries.length, before + 1);
    const entry = h.log.entries.at(-1);
    assert.equal(entry?.errorCode, 0);
    assert.deepEqual(entry?.amr, ['hwk', 'mfa']);
    assert.equal(entry?.user?.id, h.users.alice);
  });

  const failures: {
    name: string;
    authenticator: () => SoftAuthenticator | undefined;
    code: number;
    reason: RegExp;
  }[] = [
    {
      name: 'a passkey this tenant never registered',
      authenticator: () => {
        const stranger = new SoftAuthenticator({ origin: h.url });
        stranger.create({
          challenge: 'AA',
          rp: { name: 'x' },
          user: { id: 'AA', name: 'x', displayName: 'x' },
          pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
        });
        return stranger;
      },
      code: 800121,
      reason: /no registered passkey has this credential id/,
    },
    {
      name: 'a cancelled ceremony (empty answer)',
      authenticator: () => undefined,
      code: 800121,
      reason: /not a WebAuthn assertion/,
    },
    {
      name: "alice's passkey on an authenticator that only tests presence (no user verification)",
      authenticator: () => alices.clone({ userVerification: false }),
      code: 800121,
      reason: /passkey invalid: .*user verification/i,
    },
  ];
  for (const c of failures) {
    test(`refused with ${c.code}: ${c.name}`, async () => {
      const before = h.log.entries.length;
      const { done } = await passwordless(new Browser(), c.authenticator());
      assert.equal(done.response.status, 400);
      const page = await done.response.text();
      assert.match(page, /role="alert"[^>]*>Your passkey was not accepted/);
      assert.match(page, /Sign in with a passkey/, 'back on the first page');
      assert.equal(h.log.entries.length, before + 1, 'one log entry');
      const entry = h.log.entries.at(-1);
      assert.equal(entry?.errorCode, c.code);
      assert.match(entry?.failureReason ?? '', c.reason);
      assert.deepEqual(entry?.amr, []);
    });
  }

  test("mallory's clone of alice's passkey (its counter behind) is refused, and the passkey is disabled", async () => {
    const clone = alices.clone();
    assert.ok((await passwordless(new Browser(), alices)).done.left, 'the original moves the counter on');
    const { done } = await passwordless(new Browser(), clone);
    assert.equal(done.response.status, 400);
    const entry = h.log.entries.at(-1);
    assert.equal(entry?.errorCode, 800121);
    assert.match(entry?.failureReason ?? '', /passkey cloned/);
    assert.equal(entry?.user?.id, h.users.alice);
    const [passkey] = await h.credentials.for(h.tenantId).webauthn.listByUser(h.users.alice);
    assert.notEqual(passkey.disabledAt, null);
    const after = await passwordless(new Browser(), alices);
    assert.equal(after.done.response.status, 400, 'the original is refused too, until she registers a new one');
    assert.match(h.log.entries.at(-1)?.failureReason ?? '', /passkey disabled/);
  });

  test('carol, disabled, is told so (50057) only after a good passkey answer', async () => {
    // Carol enrols a passkey while MFA is asked of everyone; then her account is disabled.
    await h.policies.set(h.tenantId, [HEADQUARTERS], [MFA_FOR_EVERYONE]);
    try {
      const browser = new Browser();
      const enrolPage = await afterPassword(browser, 'carol@partner.example', PASSWORDS.carol);
      const publicKey = (await (await options(browser, enrolPage, 'enrol-passkey')).json()) as Options;
      const codes = await post(browser, enrolPage, 'enrol-passkey', carols.create(publicKey));
      assert.equal(codes.response.status, 200);
    } finally {
      await h.policies.set(h.tenantId, [HEADQUARTERS], POLICIES);
    }
    const directory = directoryFor(h.store.forTenant(h.tenantId));
    await directory.users.update(h.users.carol, { accountEnabled: false });
    try {
      const { done } = await passwordless(new Browser(), carols);
      assert.equal(done.response.status, 400);
      assert.match(await done.response.text(), /The user account is disabled/);
      assert.equal(h.log.entries.at(-1)?.errorCode, 50057);
      assert.equal(h.log.entries.at(-1)?.user?.id, h.users.carol);
    } finally {
      await directory.users.update(h.users.carol, { accountEnabled: true });
    }
  });

  test('carol abroad signs in with her passkey: Conditional Access blocks it (53003) as after a password', async () => {
    const { done } = await passwordless(new Browser({ forwardedFor: '203.0.113.9' }), carols);
    assert.equal(done.response.status, 403);
    assert.match(await done.response.text(), /id="error-code">53003</);
    const entry = h.log.entries.at(-1);
    assert.equal(entry?.errorCode, 53003);
    assert.equal(entry?.ipAddress, '203.0.113.9');
    assert.equal(entry?.user?.id, h.users.carol);
    assert.deepEqual(entry?.amr, ['hwk', 'mfa']);
  });

  test('the passkey options are only for the stage they belong to (409), and need the CSRF token (403)', async () => {
    const browser = new Browser();
    const page = await firstPage(browser);
    assert.equal((await options(browser, page, 'passkey-sign-in', 'forged')).status, 403);
    const base = new URL(actionOf(page, 'password'), h.url).href.replace(/\/password$/, '');
    const early = await fetch(`${base}/enrol-passkey/options`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: browser.jar.header() },
      body: JSON.stringify({ csrf: csrfOf(page) }),
    });
    assert.equal(early.status, 409, 'no enrolment before the first factor');
    // After the password, with MFA pending, the passwordless options are no longer offered.
    const mfaPage = await afterPassword(browser, 'alice@contoso.example', PASSWORDS.alice);
    assert.match(mfaPage, /Verify your identity/);
    const mfaBase = new URL(actionOf(mfaPage, 'recovery-code'), h.url).href.replace(/\/recovery-code$/, '');
    const late = await fetch(`${mfaBase}/passkey-sign-in/options`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: browser.jar.header() },
      body: JSON.stringify({ csrf: csrfOf(mfaPage) }),
    });
    assert.equal(late.status, 409);
  });
});
