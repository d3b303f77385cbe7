// The forward-auth cases every proxy must pass, run against a real proxy in front of Portcullis and an echoing
// application: redirected to sign in, allowed after signing in through the sign-in pages (identity headers in,
// Portcullis's cookies out), step-up to MFA, blocked (53003), a spoofed X-Forwarded-For, a forged Remote-User, an
// unregistered host, and a return URL that belongs to no application.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { totpCodeAt } from '../../src/auth/totp.ts';
import { type Answer, actionOf, csrfOf, ProxyClient } from './client.ts';
import { AT_HQ, type GatewayHarness, OUTSIDE, PASSWORDS, type SessionKind, startGatewayHarness } from './harness.ts';
import type { ProxyPorts, RunningProxy } from './proxies.ts';

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
}

function echoOf(answer: Answer): Echo {
  assert.equal(
    answer.status,
    200,
    `the application answered: ${answer.url} ${answer.status} ${answer.body.slice(0, 400)}`,
  );
  return JSON.parse(answer.body) as Echo;
}

/** The cookies the application received, as a cookie parser reads them (empty pieces are nothing). */
const cookiesOf = (echo: Echo) =>
  (echo.headers.cookie ?? '')
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '');

/** Header values arrive as UTF-8 bytes; Node hands them over one byte per character. */
const utf8 = (value: string | undefined) =>
  value === undefined ? undefined : Buffer.from(value, 'latin1').toString('utf8');

export function forwardAuthCases(
  name: string,
  skip: string | undefined,
  startProxy: (ports: ProxyPorts) => Promise<RunningProxy>,
  sessionKind: SessionKind = 'memory',
): void {
  describe(`forward auth through ${name} (sessions: ${sessionKind})`, { skip }, () => {
    let h: GatewayHarness;
    let proxy: RunningProxy;
    before(async () => {
      h = await startGatewayHarness(sessionKind);
      proxy = await startProxy({ listen: h.proxyPort, portcullis: h.portcullisPort, upstream: h.upstreamPort });
    });
    after(async () => {
      await proxy?.stop();
      await h?.close();
    });

    const client = (from: string) => new ProxyClient({ port: h.proxyPort, from });
    /** A client that is already signed in (a session made directly, as the session module would after sign-in). */
    const signedIn = async (from: string, amr: string[], user: 'alice' | 'bob' = 'alice') => {
      const c = client(from);
      for (const cookie of await h.signedIn(user, amr)) {
        const eq = cookie.indexOf('=');
        c.jar.add(cookie.slice(0, eq), cookie.slice(eq + 1), 'localhost');
      }
      return c;
    };
    const loginUrl = (returnUrl: string) =>
      `${h.publicUrl}/t/${h.tenantId}/gateway/login?rd=${encodeURIComponent(returnUrl)}`;

    test('no session: a browser is sent to sign in with its return URL; a script gets 401', async () => {
      const browser = client(AT_HQ);
      const page = `${h.site('wiki')}/page?x=1`;
      const answer = await browser.request(page);
      assert.equal(answer.status, 302, proxy.logs());
      assert.equal(answer.headers.location, loginUrl(page));
      const script = await browser.request(page, { headers: { accept: 'application/json' } });
      assert.equal(script.status, 401);
      assert.equal(script.headers.location, undefined);
      const xhr = await browser.request(page, { headers: { 'x-requested-with': 'XMLHttpRequest' } });
      assert.equal(xhr.status, 401);
    });

    test('alice signs in through the sign-in pages and reaches the wiki as herself; finance then asks for MFA only', async () => {
      const alice = client(AT_HQ);
      const page = `${h.site('wiki')}/page`;
      const { answer: signInPage, hops } = await alice.follow(page);
      assert.equal(signInPage.status, 200);
      assert.match(signInPage.body, /Sign in/);
      assert.ok(
        hops.some((hop) => hop.startsWith(`${h.publicUrl}/t/${h.tenantId}/auth?`)),
        hops.join('\n'),
      );
      const { answer } = await alice.follow(
        `${h.publicUrl}${new URL(actionOf(signInPage.body, 'password')).pathname}`,
        {
          form: { csrf: csrfOf(signInPage.body), username: 'alice@contoso.example', password: PASSWORDS.alice },
        },
      );
      assert.equal(answer.url.href, page, 'back where she started');
      const echo = echoOf(answer);
      assert.equal(echo.headers['remote-user'], 'alice@contoso.example');
      assert.equal(echo.headers['remote-groups'], 'Engineers');
      assert.equal(echo.headers['remote-email'], 'alice@contoso.example');
      assert.equal(utf8(echo.headers['remote-name']), 'Alice Émile');
      assert.ok(
        alice.jar.names().some((n) => n.startsWith('portcullis-gw-session')),
        'the session cookie is set for the cookie domain',
      );

      // Her own cookies reach the application; Portcullis's do not.
      const withAppCookie = await alice.request(page, {
        headers: { cookie: `theme=dark; ${alice.jar.header(new URL(page))}; lang=en` },
      });
      assert.deepEqual(cookiesOf(echoOf(withAppCookie)), ['theme=dark', 'lang=en']);
      assert.deepEqual(cookiesOf(echoOf(await alice.request(page))), [], "no cookie is left: all were Portcullis's");

      // Finance requires MFA: her session has none, so she is sent to sign in, where single sign-on skips the
      // password and asks for a second factor (she has none yet, so she enrols an authenticator app).
      const finance = `${h.site('finance')}/reports`;
      const stepUp = await alice.request(finance);
      assert.equal(stepUp.status, 302);
      assert.equal(stepUp.headers.location, loginUrl(finance));
      const { answer: enrol } = await alice.follow(finance);
      assert.match(enrol.body, /Set up your authenticator app/, enrol.body.slice(0, 500));
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol.body)?.[1];
      assert.ok(secret);
      const codes = await alice.request(`${h.publicUrl}${new URL(actionOf(enrol.body, 'enrol')).pathname}`, {
        form: { csrf: csrfOf(enrol.body), code: await totpCodeAt(secret, h.clock.now()) },
      });
      assert.equal(codes.status, 200, codes.body.slice(0, 400));
      const { answer: reports } = await alice.follow(
        `${h.publicUrl}${new URL(actionOf(codes.body, 'continue')).pathname}`,
        { form: { csrf: csrfOf(codes.body) } },
      );
      assert.equal(reports.url.href, finance);
      assert.equal(echoOf(reports).headers['remote-user'], 'alice@contoso.example');
    });

    test('blocked: alice outside headquarters gets the 53003 page with a correlation id; a script gets JSON', async () => {
      const alice = await signedIn(OUTSIDE, ['pwd']);
      const answer = await alice.request(`${h.site('wiki')}/page`);
      assert.equal(answer.status, 403);
      assert.match(answer.body, /<dd id="error-code">53003<\/dd>/);
      const correlation = /<dd id="correlation-id">([^<]+)<\/dd>/.exec(answer.body)?.[1];
      assert.ok(correlation && correlation.length >= 8, 'a correlation id is shown');
      assert.doesNotMatch(answer.body, /Wiki only from headquarters/, 'the page never names the policy');
      const script = await alice.request(`${h.site('wiki')}/api`, { headers: { accept: 'application/json' } });
      assert.equal(script.status, 403);
      assert.equal(JSON.parse(script.body).error.code, '53003');
    });

    test('a spoofed X-Forwarded-For is ignored: through the proxy, and talking to Portcullis directly', async () => {
      const alice = await signedIn(OUTSIDE, ['pwd']);
      // She claims to be at headquarters; the proxy appends her real address, which Portcullis reads right to left.
      const through = await alice.request(`${h.site('wiki')}/page`, { headers: { 'x-forwarded-for': AT_HQ } });
      assert.equal(through.status, 403);
      assert.match(through.body, /53003/);
      // Directly: 127.0.0.9 is not a trusted proxy, so its X-Forwarded-For says nothing.
      const cookie = alice.jar.header(new URL(h.publicUrl));
      const direct = new ProxyClient({ port: h.portcullisPort, from: OUTSIDE });
      const forwardAuth = await direct.request(`http://127.0.0.1:${h.portcullisPort}/api/authz/forward-auth`, {
        headers: {
          cookie,
          'x-forwarded-for': AT_HQ,
          'x-forwarded-proto': 'http',
          'x-forwarded-host': `wiki.localhost:${h.proxyPort}`,
          'x-forwarded-uri': '/page',
        },
      });
      assert.equal(forwardAuth.status, 403);
      // The same request from headquarters itself is allowed: the difference is the address, not the header.
      const fromHq = new ProxyClient({ port: h.portcullisPort, from: AT_HQ });
      const allowed = await fromHq.request(`http://127.0.0.1:${h.portcullisPort}/api/authz/forward-auth`, {
        headers: {
          cookie,
          'x-forwarded-proto': 'http',
          'x-forwarded-host': `wiki.localhost:${h.proxyPort}`,
          'x-forwarded-uri': '/page',
        },
      });
      assert.equal(allowed.status, 200);
    });

    test('a forged Remote-User (and the other identity headers) never reaches the application', async () => {
      const bob = await signedIn(AT_HQ, ['pwd'], 'bob');
      const echo = echoOf(
        await bob.request(`${h.site('wiki')}/page`, {
          headers: {
            'remote-user': 'alice@contoso.example',
            'remote-groups': 'Administrators',
            'remote-email': 'alice@contoso.example',
            'remote-name': 'Alice',
          },
        }),
      );
      assert.equal(echo.headers['remote-user'], 'bob@contoso.example');
      assert.equal(echo.headers['remote-groups'] ?? '', '');
      assert.equal(echo.headers['remote-email'] ?? '', '');
      assert.equal(echo.headers['remote-name'], 'Bob');
      // Without a session the request never reaches the application at all.
      const anonymous = await client(AT_HQ).request(`${h.site('wiki')}/page`, {
        headers: { 'remote-user': 'alice@contoso.example' },
      });
      assert.equal(anonymous.status, 302);
    });

    test('a host no application claims is denied, signed in or not', async () => {
      const alice = await signedIn(AT_HQ, ['pwd']);
      const answer = await alice.request(`${h.site('nobody')}/`);
      assert.equal(answer.status, 403);
      assert.match(answer.body, /No application is registered for this address/);
      assert.equal((await client(AT_HQ).request(`${h.site('nobody')}/`)).status, 403);
    });

    test('the sign-in returns only to registered applications (no open redirect)', async () => {
      const browser = client(AT_HQ);
      for (const rd of [`${h.site('nobody')}/`, 'https://evil.example/', 'javascript:alert(1)', '']) {
        const answer = await browser.request(loginUrl(rd));
        assert.equal(answer.status, 400, rd);
        assert.match(answer.body, /does not belong to an application/);
      }
      const ok = await browser.request(loginUrl(`${h.site('wiki')}/x`));
      assert.equal(ok.status, 303);
    });
  });
}
