// The doctor's checks on made-up observations: a healthy nginx passes everything; each broken proxy fails exactly
// the checks it should, with the fix for that proxy. (test/gateway/doctor.test.ts runs them through real proxies.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CheckStatus,
  echoedHeader,
  FORGED,
  type HttpAnswer,
  type Observations,
  type Probe,
  portcullisCookies,
  runChecks,
} from './doctor-checks.ts';
import { type DoctorDiagnosis, withDiagnosis } from './doctor-probe.ts';

const TENANT = '0b5c6a2e-1111-4111-8111-111111111111';
const PORTCULLIS = 'https://auth.example.com';
const TARGET = new URL('https://wiki.example.com/page?x=1');
/** The admin's laptop, as a proxy that appends to X-Forwarded-For shows it. */
const LAPTOP = '203.0.113.7';
const SESSION = `portcullis-gw-session-${TENANT}=${'s'.repeat(43)}; portcullis-gw-binding-${TENANT}=${'b'.repeat(43)}`;

const answer = (status: number, headers: Record<string, string> = {}, body = ''): Probe => ({
  ok: true,
  answer: { status, headers, body } satisfies HttpAnswer,
});

const seen = (clientIp: string, more: Partial<DoctorDiagnosis> = {}): DoctorDiagnosis => ({
  endpoint: 'auth-request',
  clientIp,
  via: 'x-forwarded-for',
  forwardedFor: true,
  ...more,
});

function signIn(rd: URL | string, diagnosis: DoctorDiagnosis | undefined, server = 'nginx/1.22.1'): Probe {
  const location = `${PORTCULLIS}/t/${TENANT}/gateway/login?rd=${encodeURIComponent(String(rd))}`;
  return answer(302, {
    server,
    location: diagnosis === undefined ? location : withDiagnosis(location, diagnosis),
  });
}

const selfProbe = (clientIp: string, more: Partial<DoctorDiagnosis> = {}): Probe =>
  answer(
    200,
    { 'content-type': 'application/json' },
    JSON.stringify(seen(clientIp, { endpoint: 'portcullis', ...more })),
  );

function echo(headers: Record<string, string>): Probe {
  return answer(200, { 'content-type': 'application/json' }, JSON.stringify({ method: 'GET', url: '/page', headers }));
}

const MARKER = 'portcullis-doctor-echo-n0nce';
const APP_COOKIE = 'doctor-app-n0nce';

/** nginx as deploy/ ships it, with the admin's session and an echoing application. */
function healthy(): Observations {
  return {
    target: TARGET,
    expectedPortcullis: PORTCULLIS,
    browser: signIn(TARGET, seen(LAPTOP)),
    script: answer(401, { server: 'nginx/1.22.1' }),
    forgedUrl: signIn(TARGET, seen(LAPTOP)),
    forgedIdentity: signIn(TARGET, seen(LAPTOP)),
    portcullisSelf: {
      url: `${PORTCULLIS}/api/authz/doctor`,
      plain: selfProbe(LAPTOP),
      forged: selfProbe(LAPTOP),
    },
    session: {
      cookie: SESSION,
      echoMarker: MARKER,
      appCookieValue: APP_COOKIE,
      probe: echo({
        'remote-user': 'alice@example.com',
        'remote-groups': 'Engineers',
        'remote-email': 'alice@example.com',
        'remote-name': 'Alice',
        cookie: `doctor-app-cookie=${APP_COOKIE}`,
        'portcullis-doctor-echo': MARKER,
      }),
    },
    forged: FORGED,
  };
}

interface Expect {
  readonly id: string;
  readonly status: CheckStatus;
  readonly match?: RegExp;
}

interface Case {
  readonly name: string;
  readonly observe: (o: Observations) => Observations;
  /** The checks that must not pass; every other check must PASS or SKIP. */
  readonly expect: readonly Expect[];
}

const withSession = (o: Observations, probe: Probe): Observations => ({
  ...o,
  session: o.session && { ...o.session, probe },
});

const CASES: Case[] = [
  {
    name: 'nothing in front of the application asks Portcullis',
    observe: (o) => ({ ...o, browser: answer(200, { server: 'nginx' }, '<h1>Wiki</h1>') }),
    expect: [{ id: 'sign-in', status: 'FAIL', match: /answered 200 without a session/ }],
  },
  {
    name: 'the URL does not answer at all',
    observe: (o) => ({ target: o.target, browser: { ok: false, error: 'ECONNREFUSED' }, forged: FORGED }),
    expect: [{ id: 'reachable', status: 'FAIL', match: /did not answer: ECONNREFUSED/ }],
  },
  {
    name: 'nginx without the sign-in redirect: a browser gets a bare 401',
    observe: (o) => ({ ...o, browser: answer(401, { server: 'nginx' }) }),
    expect: [{ id: 'sign-in', status: 'FAIL', match: /401 instead of a redirect/ }],
  },
  {
    name: 'nginx answers 500 (Portcullis refused a subrequest without X-Original-URL)',
    observe: (o) => ({ ...o, browser: answer(500, { server: 'nginx/1.22.1' }) }),
    expect: [{ id: 'sign-in', status: 'FAIL', match: /answered 500/ }],
  },
  {
    name: 'the host is registered to no application',
    observe: (o) => ({
      ...o,
      browser: answer(403, { server: 'nginx' }, '<p>No application is registered for this address, so …</p>'),
    }),
    expect: [{ id: 'sign-in', status: 'FAIL', match: /knows no application for wiki\.example\.com\/page/ }],
  },
  {
    name: 'http that the proxy redirects to https: run the doctor on the https address',
    observe: (o) => ({
      ...o,
      target: new URL('http://wiki.example.com/page'),
      browser: answer(301, { location: 'https://wiki.example.com/page' }),
    }),
    expect: [
      { id: 'sign-in', status: 'FAIL', match: /portcullis doctor https:\/\/wiki\.example\.com\/page/ },
      { id: 'https', status: 'WARN', match: /plain http/ },
    ],
  },
  {
    name: 'another sign-in service',
    observe: (o) => ({ ...o, browser: answer(302, { location: 'https://sso.example.com/login' }) }),
    expect: [{ id: 'sign-in', status: 'FAIL', match: /not Portcullis's gateway sign-in/ }],
  },
  {
    name: 'the sign-in goes to another Portcullis than expected',
    observe: (o) => ({ ...o, expectedPortcullis: 'https://login.example.com' }),
    expect: [{ id: 'portcullis-url', status: 'FAIL', match: /on https:\/\/auth\.example\.com, not https:\/\/login/ }],
  },
  {
    name: 'plain http on a public name',
    observe: (o) => {
      const target = new URL('http://wiki.example.com/page?x=1');
      return { ...o, target, browser: signIn(target, seen(LAPTOP)), forgedUrl: signIn(target, seen(LAPTOP)) };
    },
    expect: [{ id: 'https', status: 'WARN', match: /application is served over plain http/ }],
  },
  {
    name: 'TLS ends in front of nginx, which tells Portcullis http',
    observe: (o) => {
      const told = new URL('http://wiki.example.com/page?x=1');
      return { ...o, browser: signIn(told, seen(LAPTOP)), forgedUrl: signIn(told, seen(LAPTOP)) };
    },
    expect: [{ id: 'return-url', status: 'WARN', match: /told http:\/\/ for a request made over https:\/\// }],
  },
  {
    name: 'the proxy tells Portcullis another host than the browser asked for',
    observe: (o) => {
      const told = new URL('https://internal.example.com/page?x=1');
      return { ...o, browser: signIn(told, seen(LAPTOP)), forgedUrl: signIn(told, seen(LAPTOP)) };
    },
    expect: [{ id: 'return-url', status: 'FAIL', match: /internal\.example\.com/ }],
  },
  {
    name: 'a script is sent to the sign-in page',
    observe: (o) => ({ ...o, script: signIn(TARGET, undefined) }),
    expect: [{ id: 'scripts', status: 'WARN', match: /got 302 to/ }],
  },
  {
    name: "nginx passes the client's X-Original-URL on",
    observe: (o) => ({ ...o, forgedUrl: signIn(`${TARGET.origin}${FORGED.path}`, seen(LAPTOP)) }),
    expect: [{ id: 'forged-url-headers', status: 'FAIL', match: /client's X-Original-URL reached Portcullis/ }],
  },
  {
    name: 'Traefik with trustForwardHeader: true believes X-Forwarded-Host and -Proto',
    observe: (o) => {
      const traefik = (rd: string) => signIn(rd, seen(LAPTOP, { endpoint: 'forward-auth' }), '');
      return {
        ...o,
        browser: traefik(TARGET.href),
        forgedUrl: traefik(`http://wiki.example.com:${FORGED.port}/page?x=1`),
        forgedIdentity: traefik(TARGET.href),
      };
    },
    expect: [
      {
        id: 'forged-url-headers',
        status: 'FAIL',
        match: /X-Forwarded-Host, X-Forwarded-Proto reached .*Caddy: .*Traefik: trustForwardHeader: false/,
      },
    ],
  },
  {
    name: 'a forged X-Original-URL for an unclaimed path changes the answer to 403',
    observe: (o) => ({ ...o, forgedUrl: answer(403, { server: 'nginx' }, 'No application is registered') }),
    expect: [{ id: 'forged-url-headers', status: 'FAIL', match: /changed from the sign-in redirect to 403/ }],
  },
  {
    name: 'a rule that lets requests with Remote-User through',
    observe: (o) => ({ ...o, forgedIdentity: answer(200, { server: 'nginx' }, 'welcome') }),
    expect: [{ id: 'forged-identity', status: 'FAIL', match: /answered without a sign-in/ }],
  },
  {
    name: "Portcullis's trustedProxies does not list the proxy",
    observe: (o) => {
      const untrusted = seen('10.0.0.5', { via: 'socket' });
      return { ...o, browser: signIn(TARGET, untrusted), forgedUrl: signIn(TARGET, untrusted) };
    },
    expect: [
      { id: 'proxy-trusted', status: 'FAIL', match: /does not trust the proxy.*10\.0\.0\.5/ },
      {
        id: 'portcullis-client-address',
        status: 'WARN',
        match: /203\.0\.113\.7 on its own address but as 10\.0\.0\.5/,
      },
    ],
  },
  {
    name: 'nginx sends the auth request no X-Forwarded-For, so a forged one arrives alone',
    observe: (o) => ({
      ...o,
      browser: signIn(TARGET, seen('127.0.0.1', { via: 'socket', forwardedFor: false })),
      forgedUrl: signIn(TARGET, seen('198.51.100.77')),
    }),
    expect: [
      { id: 'proxy-trusted', status: 'FAIL', match: /sends no X-Forwarded-For.*proxy_add_x_forwarded_for/ },
      { id: 'forged-forwarded-for', status: 'FAIL', match: /made Portcullis see 198\.51\.100\.77/ },
      { id: 'portcullis-client-address', status: 'WARN' },
    ],
  },
  {
    name: "nginx passes the client's X-Forwarded-For on unchanged (the entry before the trusted one wins)",
    observe: (o) => ({ ...o, forgedUrl: signIn(TARGET, seen('198.51.100.77')) }),
    expect: [{ id: 'forged-forwarded-for', status: 'FAIL', match: /anyone can claim to be at a trusted location/ }],
  },
  {
    name: 'an old Portcullis (or a proxy that drops the header) sends no diagnosis',
    observe: (o) => ({
      ...o,
      browser: signIn(TARGET, undefined),
      forgedUrl: signIn(TARGET, undefined),
      portcullisSelf: { url: `${PORTCULLIS}/api/authz/doctor`, plain: answer(404), forged: answer(404) },
    }),
    expect: [],
  },
  {
    name: "the proxy in front of Portcullis's own host is not trusted",
    observe: (o) => ({
      ...o,
      portcullisSelf: {
        url: `${PORTCULLIS}/api/authz/doctor`,
        plain: selfProbe('10.0.0.9', { via: 'socket' }),
        forged: selfProbe('10.0.0.9', { via: 'socket' }),
      },
    }),
    expect: [{ id: 'portcullis-client-address', status: 'FAIL', match: /sign-in pages see every user as 10\.0\.0\.9/ }],
  },
  {
    name: "X-Forwarded-For is forgeable on Portcullis's own host",
    observe: (o) => ({
      ...o,
      portcullisSelf: {
        url: `${PORTCULLIS}/api/authz/doctor`,
        plain: selfProbe(LAPTOP),
        forged: selfProbe('198.51.100.77'),
      },
    }),
    expect: [
      { id: 'portcullis-client-address', status: 'FAIL', match: /nginx: in Portcullis's server: proxy_set_header/ },
    ],
  },
  {
    name: 'Portcullis serving https itself (no proxy in front of it) sees the laptop directly',
    observe: (o) => ({
      ...o,
      portcullisSelf: {
        url: `${PORTCULLIS}/api/authz/doctor`,
        plain: selfProbe(LAPTOP, { via: 'socket', forwardedFor: false }),
        forged: selfProbe(LAPTOP, { via: 'socket', forwardedFor: true }),
      },
    }),
    expect: [],
  },
  {
    name: 'the session cookie has ended',
    observe: (o) => withSession(o, signIn(TARGET, seen(LAPTOP))),
    expect: [{ id: 'session', status: 'FAIL', match: /did not accept the session cookie/ }],
  },
  {
    name: 'the admin is blocked by Conditional Access where the doctor runs',
    observe: (o) => withSession(o, answer(403, {}, '<dd id="error-code">53003</dd>')),
    expect: [{ id: 'session', status: 'WARN', match: /blocked by Conditional Access/ }],
  },
  {
    name: 'nginx without proxy_set_header Remote-User: the forged one reaches the application',
    observe: (o) =>
      withSession(
        o,
        echo({
          'remote-user': FORGED.identity['Remote-User'],
          'remote-groups': 'Engineers',
          cookie: `doctor-app-cookie=${APP_COOKIE}`,
          'portcullis-doctor-echo': MARKER,
        }),
      ),
    expect: [
      { id: 'identity-headers', status: 'FAIL', match: /forged Remote-User: doctor-forged-user/ },
      {
        id: 'forged-identity-stripped',
        status: 'FAIL',
        match: /client's Remote-User reached the application.*proxy_set_header Remote-User \$portcullis_user/,
      },
    ],
  },
  {
    name: 'no identity header reaches the application at all',
    observe: (o) =>
      withSession(o, echo({ cookie: `doctor-app-cookie=${APP_COOKIE}`, 'portcullis-doctor-echo': MARKER })),
    expect: [{ id: 'identity-headers', status: 'FAIL', match: /received no Remote-User/ }],
  },
  {
    name: "Portcullis's session cookie reaches the application",
    observe: (o) =>
      withSession(
        o,
        echo({
          'remote-user': 'alice@example.com',
          cookie: `${SESSION}; doctor-app-cookie=${APP_COOKIE}`,
          'portcullis-doctor-echo': MARKER,
        }),
      ),
    expect: [
      {
        id: 'portcullis-cookies',
        status: 'FAIL',
        match: new RegExp(`cookie portcullis-gw-session-${TENANT}, portcullis-gw-binding-${TENANT} reached`),
      },
    ],
  },
  {
    name: "the application's own cookies are removed too",
    observe: (o) => withSession(o, echo({ 'remote-user': 'alice@example.com', 'portcullis-doctor-echo': MARKER })),
    expect: [{ id: 'portcullis-cookies', status: 'WARN', match: /so were the application's own/ }],
  },
];

test('nginx as deploy/ ships it, with a session and an echoing application: every check passes', () => {
  const { results } = runChecks(healthy());
  assert.equal(results.length, 15);
  for (const result of results) assert.equal(result.status, 'PASS', `${result.id}: ${result.message}`);
  assert.match(results.find((r) => r.id === 'identity-headers')?.message ?? '', /Remote-User: alice@example\.com/);
});

test('each broken proxy fails (or warns) exactly the checks that name its fault, with the fix', () => {
  for (const c of CASES) {
    const { results } = runChecks(c.observe(healthy()));
    for (const want of c.expect) {
      const got = results.find((r) => r.id === want.id);
      assert.ok(got, `${c.name}: no check ${want.id}`);
      assert.equal(got.status, want.status, `${c.name}: ${want.id}: ${got.message}`);
      if (want.match) assert.match(`${got.message} ${got.fix ?? ''}`, want.match, c.name);
      if (want.status !== 'PASS') assert.ok(got.fix, `${c.name}: ${want.id} says how to fix it`);
    }
    const unexpected = results.filter(
      (r) => (r.status === 'FAIL' || r.status === 'WARN') && !c.expect.some((e) => e.id === r.id),
    );
    assert.deepEqual(
      unexpected.map((r) => `${r.id} ${r.status}: ${r.message}`),
      [],
      `${c.name}: only the expected checks complain`,
    );
  }
});

test('fixes name the proxy in front: nginx from its Server header, Caddy, or both forward-auth proxies', () => {
  const identityFix = (o: Observations) =>
    runChecks(
      withSession(o, echo({ 'remote-user': FORGED.identity['Remote-User'], 'portcullis-doctor-echo': MARKER })),
    ).results.find((r) => r.id === 'forged-identity-stripped')?.fix ?? '';
  const nginx = identityFix(healthy());
  assert.match(nginx, /^nginx: /);
  assert.doesNotMatch(nginx, /Caddy|Traefik/);
  const caddy = identityFix({
    ...healthy(),
    browser: signIn(TARGET, seen(LAPTOP, { endpoint: 'forward-auth' }), 'Caddy'),
  });
  assert.match(caddy, /^Caddy: inside the route, before forward_auth: request_header -Remote-User/);
  const unknown = identityFix({
    ...healthy(),
    browser: signIn(TARGET, seen(LAPTOP, { endpoint: 'forward-auth' }), ''),
  });
  assert.match(unknown, /^Caddy: .* Traefik: list Remote-User/);
  assert.doesNotMatch(unknown, /nginx/);
});

test('without --session-cookie, or an application that does not echo, what reaches it is skipped, saying why', () => {
  const { results } = runChecks({ ...healthy(), session: undefined });
  const skipped = results.filter((r) => r.status === 'SKIP').map((r) => r.id);
  assert.deepEqual(skipped, ['session', 'identity-headers', 'forged-identity-stripped', 'portcullis-cookies']);
  assert.match(results.find((r) => r.id === 'session')?.message ?? '', /give --session-cookie/);

  const quiet = runChecks(withSession(healthy(), answer(200, {}, '<h1>Wiki</h1>'))).results;
  assert.equal(quiet.find((r) => r.id === 'session')?.status, 'PASS');
  for (const id of ['identity-headers', 'forged-identity-stripped', 'portcullis-cookies']) {
    const result = quiet.find((r) => r.id === id);
    assert.equal(result?.status, 'SKIP', id);
  }
  assert.match(quiet.find((r) => r.id === 'identity-headers')?.message ?? '', /traefik\/whoami/);
});

test('an echoed header is read from JSON and from text echoes', () => {
  const cases: [string, string, string | undefined][] = [
    ['JSON, lower case', '{"headers":{"remote-user":"alice@example.com","x":"y"}}', 'alice@example.com'],
    ['JSON, a list of values', '{"Remote-User":["alice"]}', 'alice'],
    ['traefik/whoami text', 'GET / HTTP/1.1\r\nHost: wiki\r\nRemote-User: bob\r\nAccept: */*\r\n', 'bob'],
    ['empty', '{"remote-user":""}', ''],
    ['absent', '{"remote-groups":"Engineers"}', undefined],
  ];
  for (const [name, body, want] of cases) assert.equal(echoedHeader(body, 'Remote-User'), want, name);
});

test("Portcullis's cookies are told apart from the application's", () => {
  assert.deepEqual(
    portcullisCookies(`theme=dark; __Secure-portcullis-gw-session-${TENANT}=abc; portcullis-gw-binding=def; lang=en`),
    [
      { name: `__Secure-portcullis-gw-session-${TENANT}`, value: 'abc' },
      { name: 'portcullis-gw-binding', value: 'def' },
    ],
  );
  assert.deepEqual(portcullisCookies('theme=dark; my-portcullis-x=1; noequals'), []);
});
