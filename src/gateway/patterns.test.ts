// Host patterns, path prefixes and the normalisation of a request's host and path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  hostsOverlap,
  normalizeHost,
  normalizePath,
  PatternError,
  parseGatewayRules,
  parseHostPattern,
  parsePathPrefix,
  pathUnder,
} from './patterns.ts';

test('host patterns: exact names and leading wildcards, lower-cased; anything else is refused with a reason', () => {
  assert.deepEqual(parseHostPattern('Wiki.Example.com.'), {
    kind: 'exact',
    text: 'wiki.example.com',
    host: 'wiki.example.com',
  });
  assert.deepEqual(parseHostPattern('*.example.com'), {
    kind: 'wildcard',
    text: '*.example.com',
    suffix: '.example.com',
  });
  const refused: [string, unknown, RegExp][] = [
    ['empty', '', /host name/],
    ['a port', 'wiki.example.com:8443', /without a scheme, port or path/],
    ['a scheme', 'https://wiki.example.com', /without a scheme/],
    ['a wildcard inside', 'wiki.*.example.com', /only as its first label/],
    ['a wildcard over a top-level domain', '*.com', /at least two labels/],
    ['a space', 'wiki example.com', /not a valid host name/],
    ['an underscore', 'wiki_1.example.com', /not a valid host name/],
    ['not text', 42, /host name/],
  ];
  for (const [name, value, reason] of refused) {
    assert.throws(
      () => parseHostPattern(value),
      (e: Error) => e instanceof PatternError && reason.test(e.message),
      name,
    );
  }
});

test('path prefixes: start with /, no trailing slash, lower case; dot segments and queries are refused', () => {
  assert.equal(parsePathPrefix('/'), '/');
  assert.equal(parsePathPrefix('/Admin/'), '/admin');
  assert.equal(parsePathPrefix('//api//v1'), '/api/v1');
  for (const bad of ['admin', '/a/../b', '/a?x', '/a*', '/%2e', '/a b', 7]) {
    assert.throws(() => parsePathPrefix(bad), PatternError, String(bad));
  }
});

test('a prefix claims its path and what lies below it on a segment boundary', () => {
  const cases: [string, string, boolean][] = [
    ['/admin', '/', true],
    ['/admin', '/admin', true],
    ['/admin/users', '/admin', true],
    ['/administrator', '/admin', false],
    ['/other', '/admin', false],
  ];
  for (const [path, prefix, expected] of cases)
    assert.equal(pathUnder(path, prefix), expected, `${path} under ${prefix}`);
});

test('request paths are matched as the application would route them', () => {
  const cases: [string, string, string][] = [
    ['plain', '/wiki/page?x=1', '/wiki/page'],
    ['dot segments', '/public/../admin/x', '/admin/x'],
    ['encoded dots', '/public/%2e%2e/admin', '/admin'],
    ['encoded slash', '/public%2f..%2fadmin', '/admin'],
    ['backslashes', '/public\\..\\admin', '/admin'],
    ['repeated slashes', '//admin///x', '/admin/x'],
    ['letter case', '/ADMIN', '/admin'],
    ['above the root', '/../../admin', '/admin'],
  ];
  for (const [name, raw, expected] of cases) assert.equal(normalizePath(raw), expected, name);
  assert.throws(() => normalizePath('admin'), PatternError);
  assert.throws(() => normalizePath('/a%zz'), PatternError);
});

test('request hosts: lower case without port or trailing dot; IP literals kept so no pattern matches them', () => {
  const cases: [string | undefined, string | undefined][] = [
    ['Wiki.Example.com:8443', 'wiki.example.com'],
    ['wiki.example.com.', 'wiki.example.com'],
    ['[::1]:443', '[::1]'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['wiki.example.com:abc', undefined],
    ['evil.example.com/x', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [value, expected] of cases) assert.equal(normalizeHost(value), expected, String(value));
});

test("an application's rules: paths default to /, duplicates dropped, the field is named in a problem", () => {
  const rules = parseGatewayRules({ hosts: ['wiki.example.com', 'WIKI.example.com'] });
  assert.deepEqual(
    rules.hosts.map((h) => h.text),
    ['wiki.example.com'],
  );
  assert.deepEqual(rules.paths, ['/']);
  assert.throws(() => parseGatewayRules({ hosts: [] }), /hosts: must be a non-empty list/);
  assert.throws(() => parseGatewayRules({ hosts: ['a.example.com', 'b c'] }), /^PatternError: hosts\[1\]: /);
  assert.throws(() => parseGatewayRules({ hosts: ['a.example.com'], paths: ['/ok', 'bad'] }), /paths\[1\]: /);
  assert.throws(() => parseGatewayRules({ hosts: ['a.example.com'], paths: [] }), /paths: must be a non-empty list/);
});

test('the quick path for plain request paths gives what full resolution gives', () => {
  // normalizePath's resolution as first written, without the shortcut for paths that need none.
  const resolved = (raw: string) => {
    const path = raw
      .replace(/[?#].*$/s, '')
      .replace(/%2f|%5c/gi, '/')
      .replace(/%2e/gi, '.')
      .replace(/\\/g, '/');
    const out: string[] = [];
    for (const segment of path.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment === '..') out.pop();
      else out.push(segment);
    }
    return `/${out.join('/')}`.toLowerCase();
  };
  const segment = fc.constantFrom(
    '',
    '.',
    '..',
    'a',
    'B',
    'x.y',
    '.hidden',
    '%2e',
    '%2F',
    'a\\b',
    'Wiki',
    '~u',
    '?q=1',
    '#f',
  );
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 6 }), (segments) => {
      const raw = `/${segments.join('/')}`;
      assert.equal(normalizePath(raw), resolved(raw), raw);
    }),
    { numRuns: 2000 },
  );
});

test('hostsOverlap: some name matches both patterns', () => {
  const p = (text: string) => parseHostPattern(text);
  const cases: Array<[string, string, boolean]> = [
    ['wiki.example.com', 'wiki.example.com', true],
    ['wiki.example.com', 'docs.example.com', false],
    ['wiki.example.com', '*.example.com', true],
    ['example.com', '*.example.com', false],
    ['*.a.example.com', '*.example.com', true],
    ['*.example.com', '*.example.org', false],
    ['*.wiki.example.com', 'wiki.example.com', false],
    ['notexample.com', '*.example.com', false],
  ];
  for (const [a, b, overlap] of cases) {
    assert.equal(hostsOverlap(p(a), p(b)), overlap, `${a} ~ ${b}`);
    assert.equal(hostsOverlap(p(b), p(a)), overlap, `${b} ~ ${a}`);
  }
});
