// The expiry warning's HTTP side through Fastify inject, on a server that also mounts OIDC (whose wildcard
// `/t/:tenant/*` must not swallow these routes): status (no activity), "Stay signed in" (activity), the 401 of an ended
// session, CORS for registered application origins only, the preflight, and the script.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { MINUTE, type SessionServer, startSessionServer, T0 } from '../../test/session/server.ts';
import { originsOf } from './app-origins.ts';
import { SESSION_SCRIPT } from './session-script.ts';

/** Contoso's portal: a registered application (its redirect URI's origin). */
const PORTAL = 'https://portal.contoso.example';
/** A developer's copy of the portal on loopback, also registered. */
const LOCAL_PORTAL = 'http://127.0.0.1:3000';
/** Mallory's site: not an application of contoso. */
const MALLORY = 'https://mallory.example';
const SELF = 'https://id.contoso.example';
const iso = (ms: number) => new Date(ms).toISOString();

async function withServer(run: (s: SessionServer) => Promise<void>, options: { originCacheMs?: number } = {}) {
  const s = await startSessionServer({ publicUrl: SELF, ...options });
  try {
    await s.registerApp([`${PORTAL}/signin-oidc`, `${LOCAL_PORTAL}/callback`, 'com.contoso.app:/callback']);
    await run(s);
  } finally {
    await s.close();
  }
}

interface Call {
  readonly method?: 'GET' | 'POST' | 'OPTIONS' | 'DELETE';
  readonly path?: 'status' | 'activity';
  readonly tenant?: string;
  readonly origin?: string;
  readonly cookie?: string;
  readonly headers?: Record<string, string>;
}

function call(s: SessionServer, c: Call): Promise<LightMyRequestResponse> {
  const path = c.path ?? 'status';
  return s.app.inject({
    method: c.method ?? (path === 'status' ? 'GET' : 'POST'),
    url: `/t/${c.tenant ?? s.tenants.contoso}/session/${path}`,
    headers: {
      ...(c.origin === undefined ? {} : { origin: c.origin }),
      ...(c.cookie === undefined ? {} : { cookie: c.cookie }),
      ...c.headers,
    },
  });
}

/** "Stay signed in" as session.js sends it from the portal. */
const STAY = { path: 'activity', origin: PORTAL, headers: { 'x-portcullis-session': '1' } } as const;

function corsHeaders(response: LightMyRequestResponse): Record<string, unknown> {
  return Object.fromEntries(Object.entries(response.headers).filter(([name]) => name.startsWith('access-control-')));
}

function assertGraphError(response: LightMyRequestResponse, status: number, code: string, message: RegExp): void {
  assert.equal(response.statusCode, status, response.body);
  assert.equal(response.headers['cache-control'], 'no-store');
  const body = response.json();
  assert.equal(body.error.code, code);
  assert.match(body.error.message, message);
  assert.equal(body.error.innerError['request-id'], response.headers['x-request-id']);
}

describe('GET /t/{tenant}/session/status', () => {
  test('alice at the portal: her session times, readable by the portal only, never cached', () =>
    withServer(async (s) => {
      const alice = await s.signIn(s.users.alice);
      s.clock.advance(5 * MINUTE);
      const response = await call(s, { origin: PORTAL, cookie: alice.cookie });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), {
        expiresAt: iso(T0 + 1440 * MINUTE),
        warnAt: iso(T0 + 1420 * MINUTE),
        endsBy: 'absolute',
        now: iso(T0 + 5 * MINUTE),
      });
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.match(String(response.headers.vary), /\bOrigin\b/);
      assert.deepEqual(corsHeaders(response), {
        'access-control-allow-origin': PORTAL,
        'access-control-allow-credentials': 'true',
      });
    }));

  test('with an inactivity timeout: idleExpiresAt, and the earlier end decides warnAt and endsBy', () =>
    withServer(async (s) => {
      await s.settle({ inactivityTimeoutMinutes: 30 });
      const alice = await s.signIn(s.users.alice);
      const response = await call(s, { origin: LOCAL_PORTAL, cookie: alice.cookie });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), {
        expiresAt: iso(T0 + 1440 * MINUTE),
        idleExpiresAt: iso(T0 + 30 * MINUTE),
        warnAt: iso(T0 + 10 * MINUTE),
        endsBy: 'inactivity',
        now: iso(T0),
      });
      assert.equal(response.headers['access-control-allow-origin'], LOCAL_PORTAL);
    }));

  test('asking for the status is not activity: the banner does not keep an idle session alive', () =>
    withServer(async (s) => {
      await s.settle({ inactivityTimeoutMinutes: 30 });
      const alice = await s.signIn(s.users.alice);
      for (const minute of [5, 10, 15, 20, 25, 29]) {
        s.clock.set(T0 + minute * MINUTE);
        const response = await call(s, { origin: PORTAL, cookie: alice.cookie });
        assert.equal(response.statusCode, 200, `minute ${minute}: ${response.body}`);
        assert.equal(response.json().idleExpiresAt, iso(T0 + 30 * MINUTE), `minute ${minute}`);
      }
      const [stored] = await s.store.forTenant(s.tenants.contoso).selectFrom('sessions').selectAll().execute();
      assert.equal(Number(stored.last_activity_at), T0, 'no activity was written');
      s.clock.set(T0 + 30 * MINUTE);
      assertGraphError(await call(s, { origin: PORTAL, cookie: alice.cookie }), 401, 'unauthenticated', /inactivity/);
    }));

  const ended: Array<{ name: string; end: (s: SessionServer, cookie: string) => Promise<string> }> = [
    { name: 'no cookies at all', end: async () => '' },
    {
      name: 'alice signed out',
      async end(s, cookie) {
        await s.sessions().revoke(cookie.split(/[=;]/)[1]);
        return cookie;
      },
    },
    {
      name: "alice's session reached its maximum length",
      async end(s, cookie) {
        s.clock.advance(1440 * MINUTE);
        return cookie;
      },
    },
    {
      name: 'a copied session cookie without its binding cookie',
      async end(_s, cookie) {
        return cookie.split('; ')[0];
      },
    },
    {
      name: "mallory's fabrikam session presented to contoso",
      async end(s) {
        return (await s.signIn(s.users.mallory, s.tenants.fabrikam)).cookie;
      },
    },
  ];
  for (const c of ended) {
    test(`${c.name}: 401 with a Graph error, still readable by the portal`, () =>
      withServer(async (s) => {
        const alice = await s.signIn(s.users.alice);
        const cookie = await c.end(s, alice.cookie);
        const response = await call(s, { origin: PORTAL, ...(cookie === '' ? {} : { cookie }) });
        assertGraphError(response, 401, 'unauthenticated', /Sign in/);
        // The script must be able to tell "ended" from "unreachable", so the 401 carries CORS headers too.
        assert.equal(response.headers['access-control-allow-origin'], PORTAL);
      }));
  }

  test('the 401 says why, without telling a copied cookie apart from no session', () =>
    withServer(async (s) => {
      const alice = await s.signIn(s.users.alice);
      const withoutBinding = await call(s, { cookie: alice.cookie.split('; ')[0] });
      const none = await call(s, {});
      assert.equal(withoutBinding.json().error.message, none.json().error.message);
      await s.sessions().revoke(alice.issued.sessionId);
      assert.match((await call(s, { cookie: alice.cookie })).json().error.message, /signed out/);
    }));

  test("mallory's site gets no CORS headers: 403, and nothing about the session", () =>
    withServer(async (s) => {
      const alice = await s.signIn(s.users.alice);
      for (const origin of [
        MALLORY,
        'null',
        'https://portal.contoso.example.mallory.example',
        'http://portal.contoso.example',
      ]) {
        const response = await call(s, { origin, cookie: alice.cookie });
        assertGraphError(response, 403, 'accessDenied', /is not an application of this tenant/);
        assert.deepEqual(corsHeaders(response), {}, origin);
        assert.ok(!response.body.includes('expiresAt'), origin);
      }
    }));

  test("Portcullis's own pages (same origin, or no Origin header) need no CORS", () =>
    withServer(async (s) => {
      const alice = await s.signIn(s.users.alice);
      for (const origin of [SELF, undefined]) {
        const response = await call(s, { ...(origin === undefined ? {} : { origin }), cookie: alice.cookie });
        assert.equal(response.statusCode, 200, response.body);
        assert.deepEqual(corsHeaders(response), {});
      }
    }));

  test('the tenant may be named by its name; an unknown tenant is 404', () =>
    withServer(async (s) => {
      const alice = await s.signIn(s.users.alice);
      const byName = await call(s, { tenant: 'contoso', origin: PORTAL, cookie: alice.cookie });
      assert.equal(byName.statusCode, 200, byName.body);
      for (const tenant of ['tailspin', '00000000-0000-4000-8000-000000000000', 'NOT%20A%20NAME']) {
        assertGraphError(await call(s, { tenant, origin: PORTAL }), 404, 'itemNotFound', /There is no tenant/);
      }
    }));

  test("a fabrikam application's origin is not one of contoso's", () =>
    withServer(async (s) => {
      await s.registerApp(['https://fabrikam-app.example/callback'], s.tenants.fabrikam);
      const alice = await s.signIn(s.users.alice);
      const response = await call(s, { origin: 'https://fabrikam-app.example', cookie: alice.cookie });
      assert.equal(response.statusCode, 403);
      const mallory = await s.signIn(s.users.mallory, s.tenants.fabrikam);
      const own = await call(s, {
        tenant: s.tenants.fabrikam,
        origin: 'https://fabrikam-app.example',
        cookie: mallory.cookie,
      });
      assert.equal(own.statusCode, 200, own.body);
    }));

  test('a newly registered application is allowed once the cached origins expire (1 minute by default)', () =>
    withServer(async (s) => {
      const alice = await s.signIn(s.users.alice);
      const reports = 'https://reports.contoso.example';
      assert.equal((await call(s, { origin: reports, cookie: alice.cookie })).statusCode, 403);
      await s.registerApp([`${reports}/callback`]);
      assert.equal((await call(s, { origin: reports, cookie: alice.cookie })).statusCode, 403, 'still cached');
      s.clock.advance(MINUTE);
      assert.equal((await call(s, { origin: reports, cookie: alice.cookie })).statusCode, 200);
    }));
});

describe('POST /t/{tenant}/session/activity ("Stay signed in")', () => {
  test('alice stays signed in: it counts as activity, and the answer is the new status', () =>
    withServer(async (s) => {
      await s.settle({ inactivityTimeoutMinutes: 30 });
      const alice = await s.signIn(s.users.alice);
      s.clock.set(T0 + 11 * MINUTE);
      const response = await call(s, { ...STAY, cookie: alice.cookie });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), {
        expiresAt: iso(T0 + 1440 * MINUTE),
        idleExpiresAt: iso(T0 + 41 * MINUTE),
        warnAt: iso(T0 + 21 * MINUTE),
        endsBy: 'inactivity',
        now: iso(T0 + 11 * MINUTE),
      });
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.equal(response.headers['access-control-allow-origin'], PORTAL);
      assert.equal(response.headers['access-control-allow-credentials'], 'true');
      const [stored] = await s.store.forTenant(s.tenants.contoso).selectFrom('sessions').selectAll().execute();
      assert.equal(Number(stored.last_activity_at), T0 + 11 * MINUTE, 'the activity was written to the store');
      // Past the first idle end, alive because of the activity; then idle again.
      s.clock.set(T0 + 40 * MINUTE);
      assert.equal((await call(s, { origin: PORTAL, cookie: alice.cookie })).statusCode, 200);
      s.clock.set(T0 + 41 * MINUTE);
      assert.equal((await call(s, { origin: PORTAL, cookie: alice.cookie })).statusCode, 401);
    }));

  test('staying signed in does not move the absolute end', () =>
    withServer(async (s) => {
      await s.settle({ maximumSessionLengthMinutes: 60, inactivityTimeoutMinutes: 30 });
      const alice = await s.signIn(s.users.alice);
      s.clock.set(T0 + 25 * MINUTE);
      assert.equal((await call(s, { ...STAY, cookie: alice.cookie })).statusCode, 200);
      s.clock.set(T0 + 50 * MINUTE);
      const response = await call(s, { ...STAY, cookie: alice.cookie });
      assert.deepEqual(
        { expiresAt: response.json().expiresAt, endsBy: response.json().endsBy },
        { expiresAt: iso(T0 + 60 * MINUTE), endsBy: 'absolute' },
      );
      s.clock.set(T0 + 60 * MINUTE);
      assertGraphError(await call(s, { ...STAY, cookie: alice.cookie }), 401, 'unauthenticated', /maximum length/);
    }));

  const refused: Array<{ name: string; call: Omit<Call, 'cookie'>; status: number; message: RegExp }> = [
    {
      name: "mallory's site, with the header (its preflight would have failed anyway)",
      call: { ...STAY, origin: MALLORY },
      status: 403,
      message: /not an application of this tenant/,
    },
    {
      name: 'the portal, without the custom header (a form post or a simple request)',
      call: { path: 'activity', origin: PORTAL },
      status: 403,
      message: /X-Portcullis-Session: 1/,
    },
    {
      name: 'the portal, with the header set to something else',
      call: { ...STAY, headers: { 'x-portcullis-session': 'yes' } },
      status: 403,
      message: /X-Portcullis-Session: 1/,
    },
    {
      name: 'no Origin header (not from a page in a browser)',
      call: { path: 'activity', headers: { 'x-portcullis-session': '1' } },
      status: 403,
      message: /Origin header/,
    },
    {
      name: 'GET instead of POST',
      call: { path: 'activity', method: 'GET', origin: PORTAL },
      status: 405,
      message: /POST/,
    },
  ];
  for (const c of refused) {
    test(`refused, and no activity recorded: ${c.name}`, () =>
      withServer(async (s) => {
        await s.settle({ inactivityTimeoutMinutes: 30 });
        const alice = await s.signIn(s.users.alice);
        s.clock.set(T0 + 20 * MINUTE);
        const response = await call(s, { ...c.call, cookie: alice.cookie });
        assertGraphError(response, c.status, c.status === 403 ? 'accessDenied' : 'notAllowed', c.message);
        if (c.call.origin !== PORTAL) assert.deepEqual(corsHeaders(response), {});
        s.clock.set(T0 + 30 * MINUTE);
        assert.equal((await call(s, { cookie: alice.cookie })).statusCode, 401, 'the session still ended on time');
      }));
  }

  test("Portcullis's own pages may stay signed in too (same origin, no CORS headers)", () =>
    withServer(async (s) => {
      await s.settle({ inactivityTimeoutMinutes: 30 });
      const alice = await s.signIn(s.users.alice);
      s.clock.set(T0 + 20 * MINUTE);
      const response = await call(s, { ...STAY, origin: SELF, cookie: alice.cookie });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().idleExpiresAt, iso(T0 + 50 * MINUTE));
      assert.deepEqual(corsHeaders(response), {});
    }));

  test('an ended session cannot be revived: 401', () =>
    withServer(async (s) => {
      await s.settle({ inactivityTimeoutMinutes: 30 });
      const alice = await s.signIn(s.users.alice);
      s.clock.set(T0 + 30 * MINUTE);
      assertGraphError(await call(s, { ...STAY, cookie: alice.cookie }), 401, 'unauthenticated', /inactivity/);
      assert.equal((await call(s, { cookie: alice.cookie })).statusCode, 401);
    }));
});

describe('the CORS preflight', () => {
  test('the portal may send the custom header with credentials, for ten minutes', () =>
    withServer(async (s) => {
      for (const [path, method] of [
        ['activity', 'POST'],
        ['status', 'GET'],
      ] as const) {
        const response = await call(s, {
          method: 'OPTIONS',
          path,
          origin: PORTAL,
          headers: {
            'access-control-request-method': method,
            'access-control-request-headers': 'x-portcullis-session',
          },
        });
        assert.equal(response.statusCode, 204, response.body);
        assert.deepEqual(corsHeaders(response), {
          'access-control-allow-origin': PORTAL,
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': method,
          'access-control-allow-headers': 'X-Portcullis-Session',
          'access-control-max-age': '600',
        });
        assert.match(String(response.headers.vary), /\bOrigin\b/);
      }
    }));

  test("mallory's site fails the preflight: no CORS headers", () =>
    withServer(async (s) => {
      const response = await call(s, {
        method: 'OPTIONS',
        path: 'activity',
        origin: MALLORY,
        headers: { 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-portcullis-session' },
      });
      assertGraphError(response, 403, 'accessDenied', /not an application/);
      assert.deepEqual(corsHeaders(response), {});
    }));
});

describe('next to the OIDC mount and its wildcard /t/:tenant/*', () => {
  test('the session routes win for every method; the rest of /t/{tenant}/ is still OIDC', () =>
    withServer(async (s) => {
      const alice = await s.signIn(s.users.alice);
      const status = await call(s, { cookie: alice.cookie });
      assert.equal(status.statusCode, 200, status.body);
      assert.ok(!('content-security-policy' in status.headers), 'not answered by the OIDC mount');
      const preflight = await call(s, { method: 'OPTIONS', origin: PORTAL });
      assert.equal(preflight.statusCode, 204);
      assert.equal(preflight.headers.allow, 'GET, OPTIONS');
      for (const [method, path, allow] of [
        ['POST', 'status', 'GET, OPTIONS'],
        ['DELETE', 'status', 'GET, OPTIONS'],
        ['DELETE', 'activity', 'POST, OPTIONS'],
      ] as const) {
        const response = await call(s, { method, path });
        assert.equal(response.statusCode, 405, `${method} ${path}: ${response.body}`);
        assert.equal(response.headers.allow, allow);
      }
      const discovery = await s.app.inject({ url: `/t/${s.tenants.contoso}/.well-known/openid-configuration` });
      assert.equal(discovery.statusCode, 200, discovery.body);
      assert.equal(discovery.json().issuer, `${SELF}/t/${s.tenants.contoso}`);
    }));
});

describe('GET /assets/session.js', () => {
  test('the script, cacheable, loadable cross-origin (also with integrity=)', () =>
    withServer(async (s) => {
      const response = await s.app.inject({ url: '/assets/session.js' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.body, SESSION_SCRIPT);
      assert.match(String(response.headers['content-type']), /^text\/javascript/);
      assert.equal(response.headers['cache-control'], 'public, max-age=3600');
      assert.equal(response.headers['access-control-allow-origin'], '*');
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
      assert.match(SESSION_SCRIPT, /session\/status/);
      assert.match(SESSION_SCRIPT, /X-Portcullis-Session/);
    }));
});

test('originsOf: the web origins of redirect URIs; native-app schemes have none', () => {
  assert.deepEqual(
    [
      ...originsOf([
        'https://portal.contoso.example/signin-oidc',
        'https://portal.contoso.example/other',
        'https://PORTAL.contoso.example:443/x',
        'http://127.0.0.1:3000/callback',
        'http://localhost/cb',
        'com.contoso.app:/callback',
        'not a uri',
      ]),
    ],
    ['https://portal.contoso.example', 'http://127.0.0.1:3000', 'http://localhost'],
  );
});
