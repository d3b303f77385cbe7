// A real browser (Debian's Chromium through playwright-core) signs in with password + TOTP and comes back to the app
// with a code; and, when its requests arrive through a trusted proxy that reports an untrusted client address, is
// blocked with the 53003 page. Screenshots go to test-artifacts/ (gitignored).
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { type BrowserContext, chromium } from 'playwright-core';
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

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Outside every trusted location (TEST-NET-3, RFC 5737). */
const ABROAD = '203.0.113.9';

/**
 * A forward proxy on loopback that adds `X-Forwarded-For: <forwardedFor>`, as a corporate or reverse proxy in front
 * of Portcullis would. Its own address (127.0.0.1) is in config.trustedProxies, so Portcullis believes it.
 */
async function forwardingProxy(forwardedFor: string): Promise<{ server: Server; url: string }> {
  const server = createServer((incoming, outgoing) => {
    const target = new URL(incoming.url ?? '/');
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: target.pathname + target.search,
        headers: { ...incoming.headers, 'x-forwarded-for': forwardedFor },
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, url: `http://127.0.0.1:${address.port}` };
}

async function launch(profile: string, proxy?: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: proxy ? [...ARGS, `--proxy-server=${proxy}`, '--proxy-bypass-list=<-loopback>'] : ARGS,
  });
}

describe('Chromium signs in', () => {
  let h: Harness;
  let proxy: { server: Server; url: string };
  let profiles: string;
  const totpSecret = generateTotpSecret();
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    profiles = mkdtempSync(join(tmpdir(), 'portcullis-chromium-'));
    h = await startHarness();
    h.policies.set(h.tenantId, [HEADQUARTERS], [BLOCK_OUTSIDE_TRUSTED, requireMfaForRole(GLOBAL_ADMINISTRATOR)]);
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

  async function authorizationUrl() {
    const config = await client.discovery(new URL(h.issuer), h.clients.spa.clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: h.clients.spa.redirectUri,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'chromium',
    });
    return { config, verifier, url };
  }

  test('alice at headquarters: password, then a TOTP code, then back to the app with a code', async () => {
    const context = await launch(join(profiles, 'alice'));
    try {
      const page = await context.newPage();
      let callback: string | undefined;
      await page.route(`${h.clients.spa.redirectUri}**`, async (route) => {
        callback = route.request().url();
        await route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>SPA</title><p>signed in</p>' });
      });
      const { config, verifier, url } = await authorizationUrl();
      await page.goto(url.href);
      await page.getByLabel('Email or user name').fill('alice@contoso.example');
      await page.getByLabel('Password').fill(PASSWORDS.alice);
      await page.screenshot({ path: join(ARTIFACTS, 'chromium-1-password.png') });
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Code from your authenticator app').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'chromium-2-totp.png') });
      await page.getByLabel('Code from your authenticator app').fill(await totpCodeAt(totpSecret, h.clock.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByText('signed in').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'chromium-3-back-at-app.png') });
      assert.ok(callback, 'the browser came back to the redirect URI');
      const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
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
      const { url } = await authorizationUrl();
      await page.goto(url.href);
      await page.getByLabel('Email or user name').fill('bob@contoso.example');
      await page.getByLabel('Password').fill(PASSWORDS.bob);
      await page.getByRole('button', { name: 'Sign in' }).click();
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
    h.policies.set(h.tenantId, [HEADQUARTERS], [requireMfaForRole(GLOBAL_ADMINISTRATOR)]);
  });
  after(async () => {
    await h.close();
    rmSync(profiles, { recursive: true, force: true });
  });

  test('alice: password, then "Use a passkey" with a virtual authenticator, then back to the app', async () => {
    const context = await chromium.launchPersistentContext(join(profiles, 'alice'), {
      executablePath: CHROMIUM,
      headless: true,
      // The server listens on 127.0.0.1; `localhost` must not resolve to ::1.
      args: [...ARGS, '--host-resolver-rules=MAP localhost 127.0.0.1'],
    });
    try {
      const page = await context.newPage();
      // A passkey held by a virtual authenticator (DevTools WebAuthn domain), registered for alice in the store.
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' });
      const credentialId = randomBytes(16);
      const userHandle = randomBytes(16);
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        },
      });
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

      let callback: string | undefined;
      await page.route(`${h.clients.spa.redirectUri}**`, async (route) => {
        callback = route.request().url();
        await route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>SPA</title><p>signed in</p>' });
      });
      const config = await client.discovery(new URL(h.issuer), h.clients.spa.clientId, undefined, client.None(), {
        execute: [client.allowInsecureRequests],
      });
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: h.clients.spa.redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      await page.goto(url.href);
      await page.getByLabel('Email or user name').fill('alice@contoso.example');
      await page.getByLabel('Password').fill(PASSWORDS.alice);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Use a passkey' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'chromium-5-passkey-prompt.png') });
      await page.getByRole('button', { name: 'Use a passkey' }).click();
      await page.getByText('signed in').waitFor();
      assert.ok(callback?.includes('code='));
      const entry = h.log.entries.at(-1);
      assert.equal(entry?.errorCode, 0);
      assert.deepEqual(entry?.amr, ['pwd', 'hwk', 'mfa']);
    } finally {
      await context.close();
    }
  });
});
