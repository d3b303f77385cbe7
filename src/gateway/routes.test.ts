// The route table: most specific host, then longest path prefix; unclaimed hosts belong to nobody; conflicts refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGatewayRules } from './patterns.ts';
import { type GatewayEntry, RouteConflictError, RouteTable } from './routes.ts';

const CONTOSO = '0b5c6a2e-1111-4111-8111-111111111111';
const FABRIKAM = '0b5c6a2e-2222-4222-8222-222222222222';

function entry(appId: string, hosts: string[], paths?: string[], tenantId = CONTOSO): GatewayEntry {
  return { tenantId, appId, ...parseGatewayRules({ hosts, paths }), source: `test ${appId}` };
}

const table = new RouteTable([
  entry('intranet', ['*.contoso.example']),
  entry('apps', ['*.apps.contoso.example']),
  entry('wiki', ['wiki.contoso.example']),
  entry('wiki-admin', ['wiki.contoso.example'], ['/admin']),
  entry('wiki-admin-api', ['wiki.contoso.example'], ['/admin/api']),
  entry('fabrikam', ['portal.fabrikam.example'], ['/'], FABRIKAM),
]);

test('each request goes to the most specific host, then the longest path prefix', () => {
  const cases: [string, string, string, string | undefined][] = [
    ['an exact host', 'wiki.contoso.example', '/page', 'wiki'],
    ['an exact host with a port', 'wiki.contoso.example:8443', '/page', 'wiki'],
    ['a longer path prefix on the same host', 'wiki.contoso.example', '/admin/users', 'wiki-admin'],
    ['the longest of nested prefixes', 'wiki.contoso.example', '/admin/api/v1', 'wiki-admin-api'],
    ['a prefix on a segment boundary only', 'wiki.contoso.example', '/administrator', 'wiki'],
    ['dot segments resolved before matching', 'wiki.contoso.example', '/page/../admin', 'wiki-admin'],
    ['letter case ignored in paths', 'wiki.contoso.example', '/ADMIN', 'wiki-admin'],
    ['the longer wildcard', 'crm.apps.contoso.example', '/', 'apps'],
    ['the shorter wildcard at any depth', 'a.b.contoso.example', '/', 'intranet'],
    ['another tenant', 'portal.fabrikam.example', '/x', 'fabrikam'],
    ['a wildcard does not claim its own domain', 'contoso.example', '/', undefined],
    ['an unclaimed host', 'evil.example', '/', undefined],
    ['an IP address', '127.0.0.1', '/', undefined],
  ];
  for (const [name, host, path, appId] of cases) assert.equal(table.match(host, path)?.entry.appId, appId, name);
});

test('an exact host whose prefixes miss falls back to a wildcard that claims the path', () => {
  const t = new RouteTable([
    entry('admin-only', ['hr.contoso.example'], ['/admin']),
    entry('intranet', ['*.contoso.example']),
  ]);
  assert.equal(t.match('hr.contoso.example', '/admin/x')?.entry.appId, 'admin-only');
  assert.equal(t.match('hr.contoso.example', '/other')?.entry.appId, 'intranet');
  const alone = new RouteTable([entry('admin-only', ['hr.contoso.example'], ['/admin'])]);
  assert.equal(alone.match('hr.contoso.example', '/other'), undefined);
});

test('return URLs: only http(s) without credentials', () => {
  assert.equal(table.matchUrl(new URL('https://wiki.contoso.example/x'))?.entry.appId, 'wiki');
  assert.equal(table.matchUrl(new URL('javascript://wiki.contoso.example/x')), undefined);
  assert.equal(table.matchUrl(new URL('https://user:pw@wiki.contoso.example/x')), undefined);
  assert.equal(table.matchUrl(new URL('https://evil.example/?wiki.contoso.example')), undefined);
});

test('two applications claiming the same host and prefix are refused, naming both', () => {
  assert.throws(
    () => new RouteTable([entry('a', ['x.contoso.example']), entry('b', ['X.contoso.example'], ['/'], FABRIKAM)]),
    (e: Error) => e instanceof RouteConflictError && /'x.contoso.example' path '\/'.*test a.*test b/.test(e.message),
  );
});

test('a Host value is judged the same every time, also after a flood of made-up ones', () => {
  const again = () =>
    [
      table.match('wiki.contoso.example', '/admin')?.entry.appId,
      table.match('WIKI.contoso.example:443', '/')?.entry.appId,
      table.match('evil.example', '/')?.entry.appId,
      table.match('not a host', '/')?.entry.appId,
    ].join(' ');
  const expected = 'wiki-admin wiki  ';
  assert.equal(again(), expected, 'first time');
  assert.equal(again(), expected, 'remembered');
  for (let i = 0; i < 3000; i++) table.match(`made-up-${i}.example`, '/');
  assert.equal(again(), expected, 'after the table forgot what it remembered');
});

test('a proxied request URL: the same answer as match, asked again, and from a new table for the new rules', () => {
  const urls = [
    new URL('https://wiki.contoso.example/admin/api/x?y=1'),
    new URL('https://evil.example/'),
    new URL('https://portal.fabrikam.example/home'),
  ];
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(
      urls.map((url) => table.matchRequest(url)?.entry.appId),
      ['wiki-admin-api', undefined, 'fabrikam'],
      i === 0 ? 'first time' : 'remembered',
    );
  }
  // The wiki moves to another tenant's application: a new table, which remembers nothing of the old one.
  const moved = new RouteTable([entry('new-wiki', ['wiki.contoso.example'], ['/'], FABRIKAM)]);
  assert.equal(moved.matchRequest(urls[0])?.entry.appId, 'new-wiki');
  assert.equal(moved.matchRequest(urls[2]), undefined);
});
