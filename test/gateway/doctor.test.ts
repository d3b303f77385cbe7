// `portcullis doctor` against real nginx and Caddy (Debian's packages) in front of Portcullis and an application
// that echoes its request: the configurations deploy/ ships pass every check; broken ones fail the check that names
// the fault, with the fix. The doctor runs from 127.0.0.70 (a client, not a trusted proxy; inside Headquarters, so
// the wiki lets alice in). Also: Portcullis's side of doctor mode, and the command line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../src/cli.ts';
import { type DoctorReport, doctor } from '../../src/gateway/doctor.ts';
import type { CheckResult, CheckStatus } from '../../src/gateway/doctor-checks.ts';
import { nodeTransport } from '../../src/gateway/doctor-http.ts';
import { DOCTOR_PARAM, diagnosisFromLocation } from '../../src/gateway/doctor-probe.ts';
import { ProxyClient } from './client.ts';
import { AT_HQ, freePort, type GatewayHarness, OUTSIDE, startGatewayHarness } from './harness.ts';
import { type EditConfig, missing, type ProxyPorts, type RunningProxy, startCaddy, startNginx } from './proxies.ts';

type StartProxy = (ports: ProxyPorts, edit?: EditConfig) => Promise<RunningProxy>;

/** Replaces `from` in one file; fails when it is not there, so a changed deploy/ file cannot pass unnoticed. */
function replace(file: string, from: string | RegExp, to: string): EditConfig {
  return (name, text) => {
    if (name !== file) return text;
    const changed = text.replace(from, to);
    assert.notEqual(changed, text, `${file} has no ${from}`);
    return changed;
  };
}

function statuses(report: DoctorReport): Record<string, CheckStatus> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

function check(report: DoctorReport, id: string): CheckResult {
  const found = report.checks.find((c) => c.id === id);
  assert.ok(found, `no check ${id}`);
  return found;
}

/** The complaints of a report, for assertion messages. */
const complaints = (report: DoctorReport) =>
  report.checks
    .filter((c) => c.status === 'FAIL' || c.status === 'WARN')
    .map((c) => `${c.status} ${c.id}: ${c.message}`)
    .join('\n');

function doctorCases(
  name: string,
  skip: string | undefined,
  start: StartProxy,
  broken: (h: () => GatewayHarness) => void,
) {
  describe(`portcullis doctor through ${name}`, { skip }, () => {
    let h: GatewayHarness;
    before(async () => {
      h = await startGatewayHarness('session module');
    });
    after(async () => {
      await h?.close();
    });

    test(`${name} as deploy/ ships it passes every check, with alice's session through the echoing wiki`, async () => {
      const report = await runDoctor(h, start, undefined, { session: true });
      assert.deepEqual(report.summary, { pass: 15, warn: 0, fail: 0, skip: 0 }, complaints(report));
      assert.equal(report.proxy.join(), name.toLowerCase());
      assert.equal(report.endpoint, name === 'nginx' ? 'auth-request' : 'forward-auth');
      assert.equal(
        check(report, 'identity-headers').message,
        'The application received Remote-User: alice@contoso.example.',
      );
      assert.match(check(report, 'proxy-trusted').message, /coming from 127\.0\.0\.70\./);
    });

    test('without --session-cookie nothing fails, and what reaches the application is skipped', async () => {
      const report = await runDoctor(h, start, undefined, { session: false, portcullis: false });
      assert.deepEqual(report.summary, { pass: 11, warn: 0, fail: 0, skip: 4 }, complaints(report));
      assert.equal(report.portcullis, h.publicUrl, "Portcullis's address is read from the sign-in redirect");
    });

    broken(() => h);
  });
}

interface RunOptions {
  readonly session?: boolean;
  readonly portcullis?: boolean;
  readonly from?: string;
}

async function runDoctor(h: GatewayHarness, start: StartProxy, edit: EditConfig | undefined, options: RunOptions) {
  const proxy = await start({ listen: h.proxyPort, portcullis: h.portcullisPort, upstream: h.upstreamPort }, edit);
  try {
    const transport = nodeTransport({
      connectTo: { host: '127.0.0.1', port: h.proxyPort },
      localAddress: options.from ?? AT_HQ,
    });
    return await doctor(
      {
        url: new URL(`${h.site('wiki')}/page?x=1`),
        portcullis: options.portcullis === false ? undefined : h.publicUrl,
        json: false,
        sessionCookie: options.session ? (await h.signedIn('alice', ['pwd'])).join('; ') : undefined,
      },
      transport,
    );
  } finally {
    await proxy.stop();
  }
}

doctorCases('nginx', missing('nginx'), startNginx, (harness) => {
  test('no auth_request at all: the application answers without a session', async () => {
    const edit = replace('nginx.conf', /include \S+portcullis-(?:authz|protect)\.conf;/g, '');
    const report = await runDoctor(harness(), startNginx, edit, { session: true });
    const signIn = check(report, 'sign-in');
    assert.equal(signIn.status, 'FAIL');
    assert.match(signIn.message, /answered 200 without a session: nothing asks Portcullis/);
    assert.match(signIn.fix ?? '', /^nginx: include portcullis-protect\.conf/);
    assert.equal(check(report, 'forged-identity-stripped').status, 'FAIL');
    assert.equal(check(report, 'portcullis-cookies').status, 'FAIL');
  });

  test('the protected location does not set Remote-User: a forged one reaches the application', async () => {
    const edit = replace('portcullis-protect.conf', /^proxy_set_header Remote-User .*$/m, '');
    const report = await runDoctor(harness(), startNginx, edit, { session: true });
    const stripped = check(report, 'forged-identity-stripped');
    assert.equal(stripped.status, 'FAIL', complaints(report));
    assert.equal(
      stripped.message,
      "A client's Remote-User reached the application: anyone can claim to be anyone to it.",
    );
    assert.match(stripped.fix ?? '', /^nginx: .*proxy_set_header Remote-User \$portcullis_user;/);
    assert.deepEqual(
      Object.entries(statuses(report)).filter(([, s]) => s !== 'PASS'),
      [
        ['identity-headers', 'FAIL'],
        ['forged-identity-stripped', 'FAIL'],
      ],
    );
  });

  test("the protected location does not set Cookie: Portcullis's session cookies reach the application", async () => {
    const edit = replace('portcullis-protect.conf', /^proxy_set_header Cookie .*$/m, '');
    const report = await runDoctor(harness(), startNginx, edit, { session: true });
    const cookies = check(report, 'portcullis-cookies');
    assert.equal(cookies.status, 'FAIL', complaints(report));
    assert.match(cookies.message, /cookie portcullis-gw-session-[0-9a-f-]+, portcullis-gw-binding-[0-9a-f-]+ reached/);
    assert.match(cookies.fix ?? '', /proxy_set_header Cookie \$portcullis_cookie;/);
  });

  test('the auth_request location sends no X-Forwarded-For: Portcullis sees nginx, and a forged one decides', async () => {
    const edit = replace('portcullis-authz.conf', /^ {4}proxy_set_header X-Forwarded-For .*$/m, '');
    const report = await runDoctor(harness(), startNginx, edit, {});
    const trusted = check(report, 'proxy-trusted');
    assert.equal(trusted.status, 'FAIL');
    assert.match(
      trusted.message,
      /sends no X-Forwarded-For to Portcullis: every request appears to come from 127\.0\.0\.1/,
    );
    assert.match(trusted.fix ?? '', /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    const forged = check(report, 'forged-forwarded-for');
    assert.equal(forged.status, 'FAIL');
    assert.match(forged.message, /made Portcullis see 198\.51\.100\.77 instead of 127\.0\.0\.1/);
  });

  test("nginx's address is not in trustedProxies: every user looks like the proxy", async () => {
    // nginx talks to Portcullis from 127.0.0.2; only 127.0.0.1 is trusted.
    const bind = (file: string) =>
      replace(file, /^(\s*)proxy_pass (http:\/\/portcullis\S*);$/gm, '$1proxy_pass $2;\n$1proxy_bind 127.0.0.2;');
    const both: EditConfig = (name, text) =>
      name === 'portcullis-authz.conf' || name === 'nginx.conf' ? bind(name)(name, text) : text;
    const report = await runDoctor(harness(), startNginx, both, {});
    const trusted = check(report, 'proxy-trusted');
    assert.equal(trusted.status, 'FAIL');
    assert.match(trusted.message, /does not trust the proxy: .*address 127\.0\.0\.2/);
    assert.equal(trusted.fix, "Add the proxy's address (127.0.0.2) to trustedProxies in Portcullis's configuration.");
    const self = check(report, 'portcullis-client-address');
    assert.equal(self.status, 'FAIL');
    assert.match(self.message, /sign-in pages see every user as 127\.0\.0\.2/);
  });

  test('the auth_request location sends no X-Original-URL: nginx answers 500', async () => {
    const edit = replace('portcullis-authz.conf', /^ {4}proxy_set_header X-Original-URL .*$/m, '');
    const report = await runDoctor(harness(), startNginx, edit, {});
    const signIn = check(report, 'sign-in');
    assert.equal(signIn.status, 'FAIL');
    assert.match(signIn.message, /answered 500/);
    assert.match(signIn.fix ?? '', /no X-Original-URL \(proxy_set_header X-Original-URL/);
  });
});

doctorCases('Caddy', missing('caddy'), startCaddy, (harness) => {
  test("without the Cookie expression Portcullis's session cookies reach the application", async () => {
    const edit = replace('portcullis.caddy', /^\t\trequest_header Cookie .*$/m, '');
    const report = await runDoctor(harness(), startCaddy, edit, { session: true });
    const cookies = check(report, 'portcullis-cookies');
    assert.equal(cookies.status, 'FAIL', complaints(report));
    assert.match(cookies.fix ?? '', /^Caddy: after forward_auth, inside the route: request_header Cookie/);
    assert.equal(report.summary.fail, 1, complaints(report));
  });

  test('trusted_proxies covering the clients: a client picks the host and scheme Portcullis judges', async () => {
    const edit = replace(
      'portcullis.caddy',
      'uri /api/authz/forward-auth',
      'uri /api/authz/forward-auth\n\t\t\ttrusted_proxies 127.0.0.0/8',
    );
    const report = await runDoctor(harness(), startCaddy, edit, {});
    const forged = check(report, 'forged-url-headers');
    assert.equal(forged.status, 'FAIL', complaints(report));
    assert.match(
      forged.message,
      /A client's X-Forwarded-Host, X-Forwarded-Proto reached Portcullis: it judged https:\/\/wiki\.localhost:1\/page\?x=1/,
    );
    assert.match(forged.fix ?? '', /^Caddy: .*no trusted_proxies that cover your clients/);
  });
});

describe("doctor mode on Portcullis's side", () => {
  let h: GatewayHarness;
  before(async () => {
    h = await startGatewayHarness();
  });
  after(async () => {
    await h?.close();
  });

  const forwardAuth = (from: string, headers: Record<string, string>) =>
    new ProxyClient({ port: h.portcullisPort, from }).request(
      `http://127.0.0.1:${h.portcullisPort}/api/authz/forward-auth`,
      {
        headers: {
          'x-forwarded-proto': 'http',
          'x-forwarded-host': `wiki.localhost:${h.proxyPort}`,
          'x-forwarded-uri': '/page',
          ...headers,
        },
      },
    );

  test('a sign-in redirect carries the diagnosis only when asked, and the same sign-in URL otherwise', async () => {
    const plain = await forwardAuth('127.0.0.1', { 'x-forwarded-for': AT_HQ });
    assert.equal(plain.status, 302);
    const location = new URL(String(plain.headers.location));
    assert.equal(location.searchParams.get(DOCTOR_PARAM), null);

    const asked = await forwardAuth('127.0.0.1', { 'x-forwarded-for': AT_HQ, 'portcullis-doctor': '1' });
    const carried = new URL(String(asked.headers.location));
    assert.equal(carried.href.slice(0, location.href.length), location.href);
    assert.deepEqual(diagnosisFromLocation(carried), {
      endpoint: 'forward-auth',
      clientIp: AT_HQ,
      via: 'x-forwarded-for',
      forwardedFor: true,
    });
    // A client talking to Portcullis directly is not a trusted proxy: its X-Forwarded-For is not believed.
    const direct = await forwardAuth(OUTSIDE, { 'x-forwarded-for': AT_HQ, 'portcullis-doctor': '1' });
    assert.deepEqual(diagnosisFromLocation(new URL(String(direct.headers.location))), {
      endpoint: 'forward-auth',
      clientIp: OUTSIDE,
      via: 'socket',
      forwardedFor: true,
    });
  });

  test('GET /api/authz/doctor describes only the request itself', async () => {
    const client = new ProxyClient({ port: h.portcullisPort, from: OUTSIDE });
    const answer = await client.request(`http://127.0.0.1:${h.portcullisPort}/api/authz/doctor`, {
      headers: { accept: 'application/json' },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['cache-control'], 'no-store');
    assert.deepEqual(JSON.parse(answer.body), {
      endpoint: 'portcullis',
      clientIp: OUTSIDE,
      via: 'socket',
      forwardedFor: false,
    });
  });
});

describe('portcullis doctor on the command line', () => {
  /** `main` in this process, with standard input and output captured. */
  async function run(args: string[], stdin?: string) {
    let stdout = '';
    let stderr = '';
    const code = await main(args, {
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
      now: () => Date.now(),
      readStdin: async () => stdin ?? '',
      stdinIsTerminal: stdin === undefined,
      env: {},
    });
    return { code, stdout, stderr };
  }

  test('usage errors exit 2 naming the problem; --help lists the command', async () => {
    const none = await run(['doctor']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^portcullis doctor: give the URL of a protected application/);
    const bad = await run(['doctor', 'https://wiki.example.com/', '--session-cookie', 'theme=dark']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--session-cookie must be Portcullis's gateway cookies/);
    assert.equal((await run(['doctor', 'https://wiki.example.com/', '--frobnicate'])).code, 2);
    const terminal = await run(['doctor', 'https://wiki.example.com/', '--session-cookie-stdin']);
    assert.equal(terminal.code, 2);
    assert.match(terminal.stderr, /reads standard input, which is a terminal/);
    const both = await run(['doctor', 'https://a.example/', '--session-cookie', 'x', '--session-cookie-stdin'], 'y');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /not both/);
    const help = await run(['doctor', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^ {2}doctor {5}doctor <url of a protected application>/m);
  });

  test('an address that does not answer: exit 1, and --json says why (the installed command, in a child process)', async () => {
    const port = await freePort();
    const root = new URL('../../', import.meta.url).pathname;
    const result = spawnSync(
      process.execPath,
      [join(root, 'bin/portcullis.js'), 'doctor', '--json', `http://127.0.0.1:${port}/`],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 1, result.stderr);
    const report = JSON.parse(result.stdout) as DoctorReport;
    assert.equal(report.checks[0].id, 'reachable');
    assert.equal(report.checks[0].status, 'FAIL');
    assert.match(report.checks[0].message, /ECONNREFUSED/);
    assert.deepEqual(report.summary, { pass: 0, warn: 0, fail: 1, skip: 14 });
  });

  test('--session-cookie-stdin reads the cookies from standard input', async () => {
    const port = await freePort();
    const cookie = 'portcullis-gw-session-x=abc; portcullis-gw-binding-x=def\n';
    const piped = await run(['doctor', '--session-cookie-stdin', `http://127.0.0.1:${port}/`], cookie);
    assert.equal(piped.code, 1, piped.stderr);
    assert.match(piped.stdout, /^FAIL {2}reachable/m);
    const notCookies = await run(['doctor', '--session-cookie-stdin', `http://127.0.0.1:${port}/`], 'hello');
    assert.equal(notCookies.code, 2);
  });
});
