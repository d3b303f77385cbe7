// Passkeys end to end in a real browser (Debian's Chromium, a virtual platform authenticator through the DevTools
// WebAuthn domain): alice, a Global Administrator whom MFA is asked of and who has no method yet, registers a passkey
// from the enrolment page and comes back to the app; then signs in with "Sign in with a passkey" without typing her
// name; and, from a client address outside the trusted locations, the same passkey sign-in is blocked (53003).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import type { BrowserContext, CDPSession } from 'playwright-core';
import { GLOBAL_ADMINISTRATOR } from '../../src/directory/roles.ts';
import {
  BLOCK_OUTSIDE_TRUSTED,
  type Harness,
  HEADQUARTERS,
  PASSWORDS,
  requireMfaForRole,
  startHarness,
} from '../oidc/harness.ts';
import {
  ABROAD,
  ARTIFACTS,
  authorizationUrl,
  forwardingProxy,
  launch,
  spaCallback,
  virtualAuthenticator,
} from './browser.ts';

describe('Chromium enrols a passkey and signs in with it alone', () => {
  let h: Harness;
  let proxy: { server: Server; url: string };
  let profiles: string;
  let context: BrowserContext;
  let authenticator: { cdp: CDPSession; authenticatorId: string };
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    profiles = mkdtempSync(join(tmpdir(), 'portcullis-chromium-passwordless-'));
    // `localhost`: an IP address is not a valid WebAuthn RP ID.
    h = await startHarness({ hostname: 'localhost' });
    await h.policies.set(h.tenantId, [HEADQUARTERS], [BLOCK_OUTSIDE_TRUSTED, requireMfaForRole(GLOBAL_ADMINISTRATOR)]);
    proxy = await forwardingProxy(ABROAD);
    context = await launch(join(profiles, 'alice'));
  });
  after(async () => {
    await context.close();
    await h.close();
    await new Promise((resolve) => proxy.server.close(resolve));
    rmSync(profiles, { recursive: true, force: true });
  });

  test('alice has no MFA method: she sets up a passkey on the enrolment page, saves her codes, and is back at the app', async () => {
    const page = await context.newPage();
    authenticator = await virtualAuthenticator(context, page);
    const callback = await spaCallback(h, page);
    const { config, verifier, url, state } = await authorizationUrl(h, 'enrol');
    await page.goto(url.href);
    await page.getByLabel('Email or user name').fill('alice@contoso.example');
    await page.getByLabel('Password').fill(PASSWORDS.alice);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    await page.getByRole('button', { name: 'Set up a passkey' }).waitFor();
    assert.equal(await page.getByLabel('Code from your authenticator app').count(), 1, 'a TOTP app is offered too');
    await page.screenshot({ path: join(ARTIFACTS, 'passwordless-1-enrol.png') });
    await page.getByRole('button', { name: 'Set up a passkey' }).click();

    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    assert.equal(await page.locator('ul.codes li').count(), 10, 'ten recovery codes, shown once');
    await page.screenshot({ path: join(ARTIFACTS, 'passwordless-2-recovery-codes.png') });
    await page.getByRole('button', { name: 'I have saved them, continue' }).click();
    await page.getByText('signed in').waitFor();

    assert.ok(callback.url, 'back at the redirect URI');
    const tokens = await client.authorizationCodeGrant(config, new URL(callback.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    assert.deepEqual(tokens.claims()?.amr, ['pwd', 'hwk', 'mfa'], 'password, then a device-bound passkey');

    const [passkey, ...more] = await h.credentials.for(h.tenantId).webauthn.listByUser(h.users.alice);
    assert.equal(more.length, 0);
    assert.equal(passkey.deviceType, 'singleDevice');
    assert.match(passkey.name, /^Chrome \d+ on linux$/);
    const { credentials } = await authenticator.cdp.send('WebAuthn.getCredentials', {
      authenticatorId: authenticator.authenticatorId,
    });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].isResidentCredential, true, 'discoverable, so it can sign in without a name');
    assert.equal(Buffer.from(credentials[0].credentialId, 'base64').toString('base64url'), passkey.credentialId);

    const entry = h.log.entries.at(-1);
    assert.equal(entry?.errorCode, 0);
    assert.deepEqual(entry?.amr, ['pwd', 'hwk', 'mfa']);
  });

  test('alice signs in again with "Sign in with a passkey", typing no name, and reaches the app', async () => {
    // A new sign-in: no session left from the first one, only the passkey on the authenticator.
    await context.clearCookies();
    const page = context.pages().at(-1);
    assert.ok(page);
    const callback = await spaCallback(h, page);
    const { config, verifier, url, state } = await authorizationUrl(h, 'passwordless');
    const before = h.log.entries.length;
    await page.goto(url.href);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'passwordless-3-first-page.png') });
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByText('signed in').waitFor();

    assert.ok(callback.url, 'back at the redirect URI');
    const tokens = await client.authorizationCodeGrant(config, new URL(callback.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    assert.equal(tokens.claims()?.sub, h.users.alice, 'the passkey named alice');
    assert.deepEqual(tokens.claims()?.amr, ['hwk', 'mfa'], 'no password; the passkey is multifactor on its own');
    assert.equal(h.log.entries.length, before + 1, 'one sign-in log entry, no MFA interruption');
    const entry = h.log.entries.at(-1);
    assert.equal(entry?.errorCode, 0);
    assert.equal(entry?.user?.userPrincipalName, 'alice@contoso.example');
    assert.equal(entry?.ipAddress, '127.0.0.1');
    const mfa = entry?.evaluation?.policies.find((p) => p.displayName === 'Require MFA for admins');
    assert.equal(mfa?.result, 'success', 'the MFA policy applied and was satisfied by the passkey');
    const [passkey] = await h.credentials.for(h.tenantId).webauthn.listByUser(h.users.alice);
    assert.notEqual(passkey.lastUsedAt, null);
  });

  test(`the same passkey through a trusted proxy reporting ${ABROAD}: blocked, the 53003 page is shown`, async () => {
    // The passkey synced to another browser (copied with its counter), whose requests arrive through the proxy.
    const { credentials } = await authenticator.cdp.send('WebAuthn.getCredentials', {
      authenticatorId: authenticator.authenticatorId,
    });
    const roaming = await launch(join(profiles, 'alice-abroad'), proxy.url);
    try {
      const page = await roaming.newPage();
      const elsewhere = await virtualAuthenticator(roaming, page);
      await elsewhere.cdp.send('WebAuthn.addCredential', {
        authenticatorId: elsewhere.authenticatorId,
        credential: credentials[0],
      });
      const { url } = await authorizationUrl(h, 'abroad');
      await page.goto(url.href);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.locator('#error-code').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'passwordless-4-blocked-53003.png') });
      assert.equal(await page.locator('#error-code').textContent(), '53003');
      assert.equal(await page.getByText('Block outside trusted locations').count(), 0, 'the policy is not named');
      const entry = h.log.entries.at(-1);
      assert.equal(entry?.errorCode, 53003);
      assert.equal(entry?.ipAddress, ABROAD, 'the address the trusted proxy reported');
      assert.equal(entry?.user?.userPrincipalName, 'alice@contoso.example');
      assert.deepEqual(entry?.amr, ['hwk', 'mfa']);
      const block = entry?.evaluation?.policies.find((p) => p.displayName === BLOCK_OUTSIDE_TRUSTED.displayName);
      assert.equal(block?.result, 'failure');
    } finally {
      await roaming.close();
    }
  });
});
