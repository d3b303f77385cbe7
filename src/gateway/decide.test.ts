// The forward-auth decision, step by step, for named personas: alice at headquarters, alice abroad, bob (an admin
// whose app requires MFA), a request for a host nobody claims, and requests the proxy could not describe.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientIp } from '../net/client-ip.ts';
import { formatIp, parseIp } from '../net/ip.ts';
import { compilePolicySet } from '../policy/compile.ts';
import type { ConditionalAccessPolicy, NamedLocation } from '../policy/types.ts';
import { AccessAnswers, AdmittedAddresses, type DecideDeps, decide } from './decide.ts';
import { applicationCookies, DEFAULT_HEADER_NAMES, headerValue, identityHeaders } from './headers.ts';
import type { GatewayIdentity } from './identity.ts';
import { fromAuthRequest, fromForwardAuth, wantsJson } from './original-request.ts';
import { parseGatewayRules } from './patterns.ts';
import { RouteTable } from './routes.ts';
import { MemoryGatewaySessions } from './testing/memory-sessions.ts';

const TENANT = '0b5c6a2e-1111-4111-8111-111111111111';
const WIKI = 'a0000000-0000-4000-8000-00000000000a';
const FINANCE = 'f0000000-0000-4000-8000-00000000000f';
const NOW = Date.UTC(2026, 0, 1, 9);

const HQ: NamedLocation = {
  '@odata.type': '#microsoft.graph.ipNamedLocation',
  id: 'hq',
  displayName: 'Headquarters',
  isTrusted: true,
  ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '198.51.100.0/24' }],
};
const everyone = {
  includeUsers: ['All'],
  excludeUsers: [],
  includeGroups: [],
  excludeGroups: [],
  includeRoles: [],
  excludeRoles: [],
};
function policy(id: string, app: string, grant: 'block' | 'mfa', extra: object = {}): ConditionalAccessPolicy {
  return {
    id,
    displayName: id,
    state: 'enabled',
    conditions: {
      users: everyone,
      applications: { includeApplications: [app], excludeApplications: [], includeUserActions: [] },
      clientAppTypes: ['all'],
      signInRiskLevels: [],
      userRiskLevels: [],
      ...extra,
    },
    grantControls: { operator: 'OR', builtInControls: [grant] },
  };
}
const policies = compilePolicySet(
  [HQ],
  [
    policy('wiki outside HQ', WIKI, 'block', {
      locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
    }),
    policy('finance needs MFA', FINANCE, 'mfa'),
  ],
);

const alice: GatewayIdentity = {
  subject: { userId: 'alice', groups: ['g1', 'g2'], roles: [], userType: 'member' },
  userPrincipalName: 'alice@contoso.example',
  displayName: 'Alice Émile',
  mail: 'alice@contoso.example',
  groups: [
    { id: 'g1', displayName: 'Engineers' },
    { id: 'g2', displayName: 'Sales, EMEA' },
  ],
};

const routes = new RouteTable([
  { tenantId: TENANT, appId: WIKI, ...parseGatewayRules({ hosts: ['wiki.contoso.example'] }), source: 'test' },
  { tenantId: TENANT, appId: FINANCE, ...parseGatewayRules({ hosts: ['finance.contoso.example'] }), source: 'test' },
]);

function world() {
  const sessions = new MemoryGatewaySessions();
  const deps: DecideDeps = {
    routes: async () => routes,
    sessions,
    policies: async () => policies,
    identities: { identity: async (_t, userId) => (userId === 'alice' ? alice : undefined) },
    admitted: new AdmittedAddresses(),
  };
  return { sessions, deps };
}

const ip = (text: string): ClientIp => ({ ip: parseIp(text), text: formatIp(parseIp(text)), via: 'socket' });
const AT_HQ = ip('198.51.100.7');
const ABROAD = ip('203.0.113.9');
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

function traefik(host: string, uri = '/', method = 'GET') {
  return fromForwardAuth({
    'x-forwarded-proto': 'https',
    'x-forwarded-host': host,
    'x-forwarded-uri': uri,
    'x-forwarded-method': method,
  });
}

test('the decision for each persona and request', async () => {
  const { sessions, deps } = world();
  const password = sessions.signedIn({ tenantId: TENANT, userId: 'alice', amr: ['pwd'] }, NOW);
  const withMfa = sessions.signedIn({ tenantId: TENANT, userId: 'alice', amr: ['pwd', 'mfa'] }, NOW);
  const ghost = sessions.signedIn({ tenantId: TENANT, userId: 'deleted-user', amr: ['pwd'] }, NOW);
  const cases: [string, Parameters<typeof traefik>, string | undefined, ClientIp, string, string?][] = [
    ['alice at headquarters reads the wiki', ['wiki.contoso.example', '/page'], password, AT_HQ, 'allow'],
    ['alice abroad is blocked from the wiki', ['wiki.contoso.example'], password, ABROAD, 'blocked:53003'],
    ['no cookie: sign in', ['wiki.contoso.example'], undefined, AT_HQ, 'signIn:none'],
    [
      'a forgotten session: sign in again',
      ['wiki.contoso.example'],
      'portcullis-gw-session=unknown',
      AT_HQ,
      'signIn:ended',
    ],
    ['a deleted user: sign in', ['wiki.contoso.example'], ghost, AT_HQ, 'signIn:user'],
    ['finance after a password only: step-up', ['finance.contoso.example'], password, ABROAD, 'signIn:mfa'],
    ['finance after MFA', ['finance.contoso.example'], withMfa, ABROAD, 'allow'],
    ['a host nobody claims', ['evil.contoso.example'], password, AT_HQ, 'unregistered'],
    ['the apex of nobody', ['contoso.example'], password, AT_HQ, 'unregistered'],
  ];
  // Evaluated afresh, then through one node's remembered answers shared by every case, each case asked twice (the
  // second time answered from memory): the same decisions.
  const shared = new AccessAnswers();
  const runs = [
    ...cases.map((c) => [undefined, c] as const),
    ...cases.flatMap((c) => [[shared, c] as const, [shared, c] as const]),
  ];
  for (const [answers, [name, request, cookie, clientIp, expected]] of runs) {
    // Each case on its own: no earlier case has admitted the session to the app.
    const decision = await decide(
      { ...deps, admitted: new AdmittedAddresses(), answers },
      {
        original: traefik(...request),
        cookieHeader: cookie,
        clientIp,
        userAgent: FIREFOX,
        now: NOW,
      },
    );
    const label =
      decision.kind === 'blocked'
        ? `blocked:${decision.errorCode}`
        : decision.kind === 'signIn'
          ? `signIn:${decision.reason}`
          : decision.kind;
    assert.equal(label, expected, `${name}${answers ? ' (remembered answers)' : ''}`);
  }
});

test('remembered answers: a changed policy set, a re-read user, another address, browser, app or MFA state is asked afresh', () => {
  const answers = new AccessAnswers();
  const linux = 'linux';
  const verdict = (set = policies, subject = alice.subject, app = WIKI, at = AT_HQ, platform = linux, mfa = false) =>
    answers.check(set, subject, app, at, platform as never, mfa, NOW).verdict.kind;
  assert.equal(verdict(), 'allow', 'alice at headquarters');
  assert.equal(verdict(), 'allow', 'asked again');
  assert.equal(verdict(policies, alice.subject, WIKI, ABROAD), 'block', 'alice abroad');
  assert.equal(verdict(policies, alice.subject, FINANCE), 'mfa', 'finance without MFA');
  assert.equal(verdict(policies, alice.subject, FINANCE, AT_HQ, linux, true), 'allow', 'finance with MFA');
  // An admin blocks the wiki for everyone: the new compiled set is another object, so nothing remembered applies.
  const blockAll = compilePolicySet([HQ], [policy('wiki closed', WIKI, 'block')]);
  assert.equal(verdict(blockAll), 'block', 'after the policy change');
  // The directory read again: alice is now excluded through a group the new policy leaves out.
  const closedButEngineers = compilePolicySet(
    [HQ],
    [policy('wiki closed but g9', WIKI, 'block', { users: { ...everyone, excludeGroups: ['g9'] } })],
  );
  assert.equal(verdict(closedButEngineers), 'block', 'alice not in g9');
  const reRead = { ...alice.subject, groups: ['g1', 'g2', 'g9'] };
  assert.equal(verdict(closedButEngineers, reRead), 'allow', 'alice re-read, now in g9');
  // The device platform is part of the question.
  const iosOnly = compilePolicySet(
    [HQ],
    [policy('wiki no iOS', WIKI, 'block', { platforms: { includePlatforms: ['iOS'], excludePlatforms: [] } })],
  );
  assert.equal(verdict(iosOnly, alice.subject, WIKI, AT_HQ, 'iOS'), 'block', 'from an iPhone');
  assert.equal(verdict(iosOnly, alice.subject, WIKI, AT_HQ, linux), 'allow', 'from Linux');
});

test('a sign-in decision carries the original URL and method; a blocked one the evaluation that says why', async () => {
  const { sessions, deps } = world();
  const password = sessions.signedIn({ tenantId: TENANT, userId: 'alice', amr: ['pwd'] }, NOW);
  const signIn = await decide(deps, {
    original: traefik('finance.contoso.example', '/reports?q=1', 'POST'),
    cookieHeader: password,
    clientIp: AT_HQ,
    userAgent: FIREFOX,
    now: NOW,
  });
  assert.equal(signIn.kind, 'signIn');
  assert.ok(signIn.kind === 'signIn');
  assert.equal(signIn.returnUrl.href, 'https://finance.contoso.example/reports?q=1');
  assert.equal(signIn.method, 'POST');
  const blocked = await decide(deps, {
    original: traefik('wiki.contoso.example'),
    cookieHeader: password,
    clientIp: ABROAD,
    userAgent: FIREFOX,
    now: NOW,
  });
  assert.ok(blocked.kind === 'blocked');
  assert.deepEqual(blocked.check.evaluation.decision.blockedBy ?? [], ['wiki outside HQ']);
});

test('the original request from nginx and from Traefik/Caddy headers; what cannot be read is refused', () => {
  const nginx = fromAuthRequest({
    'x-original-url': 'https://wiki.contoso.example/a?b=c',
    'x-original-method': 'post',
  });
  assert.ok(nginx.ok);
  assert.equal(nginx.request.method, 'POST');
  assert.equal(nginx.request.url.href, 'https://wiki.contoso.example/a?b=c');
  // Asked again (the parsed URL is remembered): each request keeps its own method; a refused URL stays refused.
  const again = fromAuthRequest({ 'x-original-url': 'https://wiki.contoso.example/a?b=c' });
  assert.ok(again.ok);
  assert.equal(again.request.method, 'GET');
  assert.equal(again.request.url.href, 'https://wiki.contoso.example/a?b=c');
  for (let i = 0; i < 2; i++) {
    const withPassword = fromAuthRequest({ 'x-original-url': 'https://mallory:pw@wiki.contoso.example/' });
    assert.ok(!withPassword.ok && /credentials/.test(withPassword.problem), `credentials, asked ${i + 1}×`);
  }
  const refused: [string, ReturnType<typeof fromAuthRequest>, RegExp][] = [
    ['nginx without X-Original-URL', fromAuthRequest({}), /X-Original-URL/],
    ['a relative X-Original-URL', fromAuthRequest({ 'x-original-url': '/a' }), /absolute URL/],
    ['a javascript: URL', fromAuthRequest({ 'x-original-url': 'javascript:alert(1)' }), /http or https/],
    ['no proto', fromForwardAuth({ 'x-forwarded-host': 'wiki.contoso.example' }), /X-Forwarded-Proto/],
    ['no host', fromForwardAuth({ 'x-forwarded-proto': 'https' }), /X-Forwarded-Host/],
    [
      'two hosts',
      fromForwardAuth({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a.example, b.example' }),
      /X-Forwarded-Host/,
    ],
    [
      'a URI that is not a path',
      fromForwardAuth({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a.example', 'x-forwarded-uri': 'x' }),
      /start with/,
    ],
    [
      'a bad method',
      fromForwardAuth({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a.example', 'x-forwarded-method': 'GE T' }),
      /method/,
    ],
  ];
  for (const [name, result, reason] of refused) {
    assert.equal(result.ok, false, name);
    assert.ok(!result.ok && reason.test(result.problem), `${name}: ${!result.ok && result.problem}`);
  }
  // `//evil.example/x` is a path on the original host, never another host.
  const sneaky = fromForwardAuth({
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'wiki.contoso.example:443',
    'x-forwarded-uri': '//evil.example/x',
  });
  assert.ok(sneaky.ok);
  assert.equal(sneaky.request.url.host, 'wiki.contoso.example');
});

test('scripts are told apart from browsers by Accept or X-Requested-With', () => {
  assert.equal(wantsJson({ accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }), false);
  assert.equal(wantsJson({ accept: 'application/json' }), true);
  assert.equal(wantsJson({ accept: 'application/problem+json' }), true);
  assert.equal(wantsJson({ 'x-requested-with': 'XMLHttpRequest' }), true);
  assert.equal(wantsJson({}), false);
});

test('identity headers: every one present, UTF-8, groups by name unless a name has a comma', () => {
  const headers = identityHeaders(alice, DEFAULT_HEADER_NAMES, 'displayName');
  assert.deepEqual(headers, {
    'Remote-User': 'alice@contoso.example',
    'Remote-Groups': 'Engineers,g2',
    'Remote-Email': 'alice@contoso.example',
    'Remote-Name': Buffer.from('Alice Émile', 'utf8').toString('latin1'),
  });
  const byId = identityHeaders({ ...alice, mail: null }, { ...DEFAULT_HEADER_NAMES, user: 'X-User' }, 'id');
  assert.equal(byId['Remote-Groups'], 'g1,g2');
  assert.equal(byId['Remote-Email'], '');
  assert.equal(byId['X-User'], 'alice@contoso.example');
  assert.equal(headerValue('a\r\nSet-Cookie: x'), 'aSet-Cookie: x');
});

test("the application's cookies are the request's without Portcullis's own", () => {
  const cases: [string | undefined, string | undefined][] = [
    ['a=1; portcullis-gw-session=s; b=2', 'a=1; b=2'],
    ['__Host-portcullis-session=s; __Host-portcullis-binding=b', undefined],
    ['__Secure-portcullis-gw-session=s;theme=dark', 'theme=dark'],
    ['xportcullis-y=1', 'xportcullis-y=1'],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [header, expected] of cases) assert.equal(applicationCookies(header), expected, String(header));
});

test('roaming: locations are judged where the session reached the app, unless location enforcement is strict', async () => {
  const wiki = (cookie: string, clientIp: ClientIp, d: DecideDeps) =>
    decide(d, {
      original: traefik('wiki.contoso.example'),
      cookieHeader: cookie,
      clientIp,
      userAgent: FIREFOX,
      now: NOW,
    });

  const relaxed = world();
  const roaming = relaxed.sessions.signedIn({ tenantId: TENANT, userId: 'alice', amr: ['pwd'] }, NOW);
  assert.equal((await wiki(roaming, AT_HQ, relaxed.deps)).kind, 'allow', 'admitted at headquarters');
  assert.equal(
    (await wiki(roaming, ABROAD, relaxed.deps)).kind,
    'allow',
    "Entra's default: kept until the session ends",
  );
  const fresh = relaxed.sessions.signedIn({ tenantId: TENANT, userId: 'alice', amr: ['pwd'] }, NOW);
  assert.equal((await wiki(fresh, ABROAD, relaxed.deps)).kind, 'blocked', 'a session first seen abroad is blocked');

  const tenantStrict = world();
  tenantStrict.sessions.strictLocation = true;
  const strictSession = tenantStrict.sessions.signedIn({ tenantId: TENANT, userId: 'alice', amr: ['pwd'] }, NOW);
  assert.equal((await wiki(strictSession, AT_HQ, tenantStrict.deps)).kind, 'allow');
  assert.equal(
    (await wiki(strictSession, ABROAD, tenantStrict.deps)).kind,
    'blocked',
    'continuous location enforcement: leaving headquarters loses access at once',
  );

  const policyStrict = world();
  const strictPolicies = compilePolicySet(
    [HQ],
    [
      {
        ...policy('wiki outside HQ, strictly', WIKI, 'block', {
          locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
        }),
        sessionControls: { continuousAccessEvaluation: { mode: 'strictLocation' } },
      } as ConditionalAccessPolicy,
    ],
  );
  const deps = { ...policyStrict.deps, policies: async () => strictPolicies };
  const byPolicy = policyStrict.sessions.signedIn({ tenantId: TENANT, userId: 'alice', amr: ['pwd'] }, NOW);
  assert.equal((await wiki(byPolicy, AT_HQ, deps)).kind, 'allow');
  assert.equal((await wiki(byPolicy, ABROAD, deps)).kind, 'blocked', "the policy's strictLocation mode");
});

test('admitted addresses: per tenant, session and app; bounded, the sessions admitted longest ago go first', () => {
  const at = (text: string): ClientIp => ({ ip: parseIp(text), text, via: 'socket' });
  const admitted = new AdmittedAddresses(3);
  admitted.remember(TENANT, 'alice-session', WIKI, at('198.51.100.7'));
  admitted.remember(TENANT, 'alice-session', WIKI, at('203.0.113.9')); // the first admission stands
  admitted.remember(TENANT, 'alice-session', FINANCE, at('198.51.100.8'));
  assert.equal(admitted.get(TENANT, 'alice-session', WIKI)?.text, '198.51.100.7');
  assert.equal(admitted.get(TENANT, 'alice-session', FINANCE)?.text, '198.51.100.8');
  assert.equal(admitted.get('another-tenant', 'alice-session', WIKI), undefined);
  assert.equal(admitted.get(TENANT, 'bob-session', WIKI), undefined);
  admitted.remember(TENANT, 'bob-session', WIKI, at('203.0.113.9'));
  assert.equal(admitted.size, 3);
  admitted.remember(TENANT, 'carol-session', WIKI, at('192.0.2.1'));
  assert.ok(admitted.size <= 3);
  assert.equal(admitted.get(TENANT, 'alice-session', WIKI), undefined, 'alice was admitted first and goes first');
  assert.equal(admitted.get(TENANT, 'bob-session', WIKI)?.text, '203.0.113.9');
  assert.equal(admitted.get(TENANT, 'carol-session', WIKI)?.text, '192.0.2.1');
  // Full, with the session being added the oldest: it is dropped and added again, never lost.
  const one = new AdmittedAddresses(1);
  one.remember(TENANT, 'alice-session', WIKI, at('198.51.100.7'));
  one.remember(TENANT, 'alice-session', FINANCE, at('198.51.100.8'));
  assert.equal(one.size, 1);
  assert.equal(one.get(TENANT, 'alice-session', FINANCE)?.text, '198.51.100.8');
});
