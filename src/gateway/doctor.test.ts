// `portcullis doctor`: its options (usage errors name what is wrong), the report (text and JSON) and the exit code,
// on a made-up transport standing in for a proxy (test/gateway/doctor.test.ts uses real nginx and Caddy).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DoctorOptions, type DoctorReport, doctorOptions, formatReport, runDoctor } from './doctor.ts';
import type { HttpAnswer } from './doctor-checks.ts';
import type { HttpRequest, Transport } from './doctor-http.ts';
import { withDiagnosis } from './doctor-probe.ts';

const TENANT = '0b5c6a2e-1111-4111-8111-111111111111';
const SESSION = `portcullis-gw-session-${TENANT}=${'s'.repeat(43)}; portcullis-gw-binding-${TENANT}=${'b'.repeat(43)}`;

test('the command line: one protected URL, an optional Portcullis URL and session cookie', () => {
  const ok = doctorOptions({
    positionals: ['https://wiki.example.com/page#top'],
    portcullis: 'https://auth.example.com/',
    sessionCookie: `Cookie: ${SESSION}\n`,
    json: true,
  });
  assert.ok(ok.ok);
  assert.equal(ok.options.url.href, 'https://wiki.example.com/page', 'the fragment is never sent');
  assert.equal(ok.options.portcullis, 'https://auth.example.com');
  assert.equal(ok.options.sessionCookie, SESSION, 'a pasted "Cookie:" prefix and the newline are dropped');
  assert.equal(ok.options.json, true);
  assert.equal(
    (
      doctorOptions({ positionals: ['http://x.example/'], portcullis: 'https://a.example/sso/' }) as {
        options: DoctorOptions;
      }
    ).options.portcullis,
    'https://a.example/sso',
  );

  const problems: [string, Parameters<typeof doctorOptions>[0], RegExp][] = [
    ['no URL', { positionals: [] }, /give the URL of a protected application/],
    ['two URLs', { positionals: ['https://a.example/', 'https://b.example/'] }, /unexpected argument 'https:\/\/b/],
    ['not a URL', { positionals: ['wiki.example.com'] }, /the URL 'wiki\.example\.com' is not an absolute URL/],
    ['not http', { positionals: ['ftp://wiki.example.com/'] }, /must be an http or https URL/],
    ['credentials', { positionals: ['https://u:p@wiki.example.com/'] }, /must not carry a user name or password/],
    ['a bad --portcullis', { positionals: ['https://a.example/'], portcullis: 'auth' }, /--portcullis 'auth'/],
    [
      '--portcullis with a query',
      { positionals: ['https://a.example/'], portcullis: 'https://auth.example/?x=1' },
      /must not have a query/,
    ],
    [
      "a cookie that is not Portcullis's",
      { positionals: ['https://a.example/'], sessionCookie: 'theme=dark' },
      /--session-cookie must be Portcullis's gateway cookies/,
    ],
    [
      'a cookie with a line break inside',
      { positionals: ['https://a.example/'], sessionCookie: `${SESSION}\nX-Evil: 1` },
      /--session-cookie must be/,
    ],
  ];
  for (const [name, input, message] of problems) {
    const result = doctorOptions(input);
    assert.equal(result.ok, false, name);
    if (!result.ok) assert.match(result.problem, message, name);
  }
});

/** A proxy done right in front of Portcullis and an echoing application, as the doctor sees it from 203.0.113.7. */
function correctProxy(options: { protect?: boolean } = {}): { transport: Transport; requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  const transport: Transport = async (request) => {
    requests.push(request);
    const { url, headers } = request;
    const json = (body: unknown): HttpAnswer => ({ status: 200, headers: {}, body: JSON.stringify(body) });
    const diagnosis = { clientIp: '203.0.113.7', via: 'x-forwarded-for', forwardedFor: true } as const;
    if (url.pathname === '/api/authz/doctor') return json({ endpoint: 'portcullis', ...diagnosis });
    if (options.protect === false || headers.cookie?.includes('portcullis-gw-binding')) {
      // The proxy replaces the identity headers and keeps only the application's own cookie.
      const kept = Object.fromEntries(
        Object.entries(headers).filter(([name]) => !name.toLowerCase().startsWith('remote-')),
      );
      const appCookie = /doctor-app-cookie=[^;]*/.exec(headers.cookie ?? '')?.[0];
      return json({ headers: { ...kept, 'remote-user': 'alice@example.com', cookie: appCookie } });
    }
    if (headers.accept === 'application/json') return { status: 401, headers: { server: 'nginx' }, body: '' };
    const location = `https://auth.example.com/t/${TENANT}/gateway/login?rd=${encodeURIComponent(url.href)}`;
    return {
      status: 302,
      headers: { server: 'nginx', location: withDiagnosis(location, { endpoint: 'auth-request', ...diagnosis }) },
      body: '',
    };
  };
  return { transport, requests };
}

function capture() {
  let text = '';
  return { io: { out: (t: string) => (text += t) }, text: () => text };
}

test('a correct proxy: exit 0, one line per check, and the probes a client could send', async () => {
  const { transport, requests } = correctProxy();
  const out = capture();
  const code = await runDoctor(
    { url: new URL('https://wiki.example.com/page'), json: false, sessionCookie: SESSION },
    out.io,
    transport,
  );
  const text = out.text();
  assert.equal(code, 0, text);
  assert.match(
    text,
    /^portcullis doctor https:\/\/wiki\.example\.com\/page\n {2}proxy: nginx \(auth-request\); Portcullis: https:\/\/auth\.example\.com\n/,
  );
  assert.match(text, /^PASS {2}sign-in {4,}Without a session the browser is sent to sign in/m);
  assert.match(text, /^PASS {2}forged-identity-stripped {2}/m);
  assert.match(text, /\n15 passed, 0 warnings, 0 failed, 0 skipped\n$/);
  // What was sent: Portcullis's own host is found from the sign-in redirect; forged headers are the documented ones.
  assert.ok(requests.some((r) => r.url.href === 'https://auth.example.com/api/authz/doctor'));
  const forged = requests.find((r) => r.headers['x-original-url'] !== undefined);
  assert.equal(forged?.headers['x-original-url'], 'https://wiki.example.com/portcullis-doctor-forged');
  assert.equal(forged?.headers['x-forwarded-for'], '198.51.100.77, 127.0.0.1');
  const forgedIdentity = requests.find(
    (r) => r.headers['Remote-User'] === 'doctor-forged-user' && !r.headers['x-original-url'],
  );
  assert.equal(forgedIdentity?.headers.cookie, 'portcullis-gw-session=doctor-forged-session', 'no real session');
  assert.ok(
    requests.every((r) => r.url.href.startsWith('https://')),
    'only the given addresses are asked',
  );
});

test('an unprotected application: exit 1, and --json prints the same report for scripts', async () => {
  const out = capture();
  const code = await runDoctor(
    { url: new URL('https://wiki.example.com/'), json: true },
    out.io,
    correctProxy({ protect: false }).transport,
  );
  assert.equal(code, 1);
  const report = JSON.parse(out.text()) as DoctorReport;
  assert.equal(report.url, 'https://wiki.example.com/');
  assert.equal(report.portcullis, null);
  assert.deepEqual(report.summary, { pass: 2, warn: 0, fail: 1, skip: 12 });
  const signIn = report.checks.find((c) => c.id === 'sign-in');
  assert.equal(signIn?.status, 'FAIL');
  assert.match(signIn?.fix ?? '', /nginx: include portcullis-protect\.conf/);
});

test('nothing answers: one failed check, the rest skipped, exit 1', async () => {
  const out = capture();
  const refused: Transport = async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 192.0.2.1:443'), { code: 'ECONNREFUSED' });
  };
  const code = await runDoctor({ url: new URL('https://wiki.example.com/'), json: false }, out.io, refused);
  assert.equal(code, 1);
  assert.match(out.text(), /^FAIL {2}reachable +https:\/\/wiki\.example\.com\/ did not answer: connect ECONNREFUSED/m);
  assert.match(out.text(), /\n {6,}fix: Check the address, DNS and the firewall/);
  assert.match(out.text(), /0 passed, 0 warnings, 1 failed, 14 skipped/);
});

test('the report lines up the ids and puts each fix under its check', () => {
  const text = formatReport({
    url: 'https://wiki.example.com/',
    portcullis: 'https://auth.example.com',
    proxy: ['caddy', 'traefik'],
    endpoint: 'forward-auth',
    checks: [
      { id: 'a', status: 'PASS', message: 'fine.' },
      { id: 'longer', status: 'WARN', message: 'hmm.', fix: 'do this.' },
    ],
    summary: { pass: 1, warn: 1, fail: 0, skip: 0 },
  });
  assert.equal(
    text,
    [
      'portcullis doctor https://wiki.example.com/',
      '  proxy: caddy or traefik (forward-auth); Portcullis: https://auth.example.com',
      '',
      'PASS  a       fine.',
      'WARN  longer  hmm.',
      '              fix: do this.',
      '',
      '1 passed, 1 warning, 0 failed, 0 skipped',
      '',
    ].join('\n'),
  );
});
