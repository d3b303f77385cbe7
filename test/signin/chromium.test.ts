// A real browser (Debian's Chromium through playwright-core) signs in with password + TOTP and comes back to the app
// with a code; and, when its requests arrive through a trusted proxy that reports an untrusted client address, is
// blocked with the 53003 page. Screenshots go to test-artifacts/ (gitignored).
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { encodeCbor } from '../../src/auth/testing/soft-authenticator.ts';
import { generateTotpSecret, totpCodeAt } from '../../src/auth/totp.ts';
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

describe('Chromium signs in', () => {
  let h: Harness;
  let proxy: { server: Server; url: string };
  let profiles: string;
  const totpSecret = generateTotpSecret();
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    profiles = mkdtempSync(join(tmpdir(), 'portcullis-chromium-'));
    h = await startHarness();
    await h.policies.set(h.tenantId, [HEADQUARTERS], [BLOCK_OUTSIDE_TRUSTED, requireMfaForRole(GLOBAL_ADMINISTRATOR)]);
    const now = h.clock.now();
    await h.credentials.for(h.tenantId).totp.put({
      userId: h.users.alice,
      secret: totpSecret,
      lastUsedStep: null,
      createdAt: now,
      confirmedAt: now,
    });
    proxy = await forwardingProxy(ABROAD);
  });
  after(async () => {
    await h.close();
    await new Promise((resolve) => proxy.server.close(resolve));
    rmSync(profiles, { recursive: true, force: true });
  });

  test('alice at headquarters: password, then a TOTP code, then back to the app with a code', async () => {
    const context = await launch(join(profiles, 'alice'));
    try {
      const page = await context.newPage();
      const callback = await spaCallback(h, page);
      const { config, verifier, url } = await authorizationUrl(h);
      await page.goto(url.href);
      await page.getByLabel('Email or user name').fill('alice@contoso.example');
      await page.getByLabel('Password').fill(PASSWORDS.alice);
      await page.screenshot({ path: join(ARTIFACTS, 'chromium-1-password.png') });
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByLabel('Code from your authenticator app').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'chromium-2-totp.png') });
      await page.getByLabel('Code from your authenticator app').fill(await totpCodeAt(totpSecret, h.clock.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByText('signed in').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'chromium-3-back-at-app.png') });
      assert.ok(callback.url, 'the browser came back to the redirect URI');
      const tokens = await client.authorizationCodeGrant(config, new URL(callback.url), {
        pkceCodeVerifier: verifier,
        expectedState: 'chromium',
      });
      assert.deepEqual(tokens.claims()?.amr, ['pwd', 'otp', 'mfa']);
      const entry = h.log.entries.at(-1);
      assert.equal(entry?.errorCode, 0);
      assert.equal(entry?.devicePlatform, 'linux', 'Chromium on Linux, from its User-Agent');
    } finally {
      await context.close();
    }
  });

  test(`bob through a trusted proxy reporting ${ABROAD}: blocked, the 53003 page is shown`, async () => {
    const context = await launch(join(profiles, 'bob'), proxy.url);
    try {
      const page = await context.newPage();
      const { url } = await authorizationUrl(h);
      await page.goto(url.href);
      await page.getByLabel('Email or user name').fill('bob@contoso.example');
      await page.getByLabel('Password').fill(PASSWORDS.bob);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator('#error-code').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'chromium-4-blocked-53003.png') });
      assert.equal(await page.locator('#error-code').textContent(), '53003');
      assert.ok(await page.locator('#correlation-id').textContent());
      assert.equal(await page.getByText('Block outside trusted locations').count(), 0, 'the policy is not named');
      const entry = h.log.entries.at(-1);
      assert.equal(entry?.errorCode, 53003);
      assert.equal(entry?.ipAddress, ABROAD, 'the address the trusted proxy reported');
    } finally {
      await context.close();
    }
  });
});

describe('Chromium uses a passkey as the second factor', () => {
  let h: Harness;
  let profiles: string;
  before(async () => {
    profiles = mkdtempSync(join(tmpdir(), 'portcullis-chromium-passkey-'));
    h = await startHarness({ hostname: 'localhost' });
    await h.policies.set(h.tenantId, [HEADQUARTERS], [requireMfaForRole(GLOBAL_ADMINISTRATOR)]);
  });
  after(async () => {
    await h.close();
    rmSync(profiles, { recursive: true, force: true });
  });

  test('alice: password, then "Use a passkey" with a virtual authenticator, then back to the app', async () => {
    const context = await launch(join(profiles, 'alice'));
    try {
      const page = await context.newPage();
      // A passkey held by a virtual authenticator (DevTools WebAuthn domain), registered for alice in the store.
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' });
      const credentialId = randomBytes(16);
      const userHandle = randomBytes(16);
      const { cdp, authenticatorId } = await virtualAuthenticator(context, page);
      await cdp.send('WebAuthn.addCredential', {
        authenticatorId,
        credential: {
          credentialId: credentialId.toString('base64'),
          isResidentCredential: true,
          rpId: 'localhost',
          privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
          userHandle: userHandle.toString('base64'),
          signCount: 0,
        },
      });
      const now = h.clock.now();
      await h.credentials.for(h.tenantId).webauthn.put({
        userId: h.users.alice,
        credentialId: credentialId.toString('base64url'),
        // COSE_Key for ES256 (RFC 9053): kty 2 (EC2), alg -7, crv 1 (P-256), x, y.
        publicKey: encodeCbor(
          new Map<number, Uint8Array | number>([
            [1, 2],
            [3, -7],
            [-1, 1],
            [-2, Buffer.from(String(jwk.x), 'base64url')],
            [-3, Buffer.from(String(jwk.y), 'base64url')],
          ]),
        ),
        counter: 0,
        transports: ['internal'],
        userHandle: userHandle.toString('base64url'),
        deviceType: 'singleDevice',
        backedUp: false,
        aaguid: '00000000-0000-0000-0000-000000000000',
        name: 'Virtual authenticator',
        createdAt: now,
        lastUsedAt: null,
        disabledAt: null,
      });

      const callback = await spaCallback(h, page);
      const { url } = await authorizationUrl(h);
      await page.goto(url.href);
      await page.getByLabel('Email or user name').fill('alice@contoso.example');
      await page.getByLabel('Password').fill(PASSWORDS.alice);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('button', { name: 'Use a passkey' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'chromium-5-passkey-prompt.png') });
      await page.getByRole('button', { name: 'Use a passkey' }).click();
      await page.getByText('signed in').waitFor();
      assert.ok(callback.url?.includes('code='));
      const entry = h.log.entries.at(-1);
      assert.equal(entry?.errorCode, 0);
      assert.deepEqual(entry?.amr, ['pwd', 'hwk', 'mfa']);
    } finally {
      await context.close();
    }
  });
});
