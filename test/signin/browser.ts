// What the Chromium tests share: Debian's Chromium through playwright-core, a forwarding proxy that plays a client
// elsewhere, a virtual WebAuthn authenticator, and an OpenID Connect client for the harness's SPA.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import * as client from 'openid-client';
import { type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import type { Harness } from '../oidc/harness.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots (gitignored). */
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
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
export const ABROAD = '203.0.113.9';

/**
 * A forward proxy on loopback that adds `X-Forwarded-For: <forwardedFor>`, as a corporate or reverse proxy in front
 * of Portcullis would. Its own address (127.0.0.1) is in config.trustedProxies, so Portcullis believes it.
 */
export async function forwardingProxy(forwardedFor: string): Promise<{ server: Server; url: string }> {
  const server = createServer((incoming, outgoing) => {
    const target = new URL(incoming.url ?? '/');
    const upstream = httpRequest(
      {
        // The harness listens on 127.0.0.1 only; `localhost` (for WebAuthn) must not become ::1.
        host: target.hostname === 'localhost' ? '127.0.0.1' : target.hostname,
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

/** A fresh Chromium profile, optionally through `proxy` (loopback included, which Chromium bypasses by default). */
export async function launch(profile: string, proxy?: string): Promise<BrowserContext> {
  const args = [
    ...ARGS,
    // The harness listens on 127.0.0.1; `localhost` must not resolve to ::1.
    '--host-resolver-rules=MAP localhost 127.0.0.1',
  ];
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: proxy ? [...args, `--proxy-server=${proxy}`, '--proxy-bypass-list=<-loopback>'] : args,
  });
}

/**
 * A platform authenticator of the DevTools WebAuthn domain on `page`'s tab: CTAP2, internal transport, discoverable
 * credentials, and user verification (a fingerprint or PIN) that succeeds.
 */
export async function virtualAuthenticator(
  context: BrowserContext,
  page: Page,
): Promise<{ cdp: CDPSession; authenticatorId: string }> {
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
  return { cdp, authenticatorId };
}

/** Serves the SPA's redirect URI in the browser and remembers the URL the sign-in came back with. */
export async function spaCallback(h: Harness, page: Page): Promise<{ url?: string }> {
  const seen: { url?: string } = {};
  await page.route(`${h.clients.spa.redirectUri}**`, async (route) => {
    seen.url = route.request().url();
    await route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>SPA</title><p>signed in</p>' });
  });
  return seen;
}

/** An authorization request of the harness's SPA (code + PKCE), and what redeeming its code needs. */
export async function authorizationUrl(h: Harness, state = 'chromium') {
  const config = await client.discovery(new URL(h.issuer), h.clients.spa.clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: h.clients.spa.redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  return { config, verifier, url, state };
}
