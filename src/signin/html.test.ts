// The page frame escapes every interpolated value; only markup we generated ourselves passes through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml, html, trusted } from './html.ts';
import { errorPage, passwordPage } from './pages.ts';

const cases = [
  {
    name: 'a script tag in a user name',
    input: '<script>alert(1)</script>',
    expected: '&lt;script&gt;alert(1)&lt;/script&gt;',
  },
  {
    name: 'quotes that would leave an attribute',
    input: '" autofocus onfocus="x',
    expected: '&quot; autofocus onfocus=&quot;x',
  },
  { name: 'an ampersand', input: 'a&b', expected: 'a&amp;b' },
  { name: 'undefined', input: undefined, expected: '' },
];

for (const c of cases) {
  test(`html: escapes ${c.name}`, () => {
    assert.equal(escapeHtml(c.input), c.expected);
    assert.equal(html`<p>${c.input}</p>`.text, `<p>${c.expected}</p>`);
  });
}

test('html: trusted markup and nested templates are kept as they are', () => {
  assert.equal(
    html`<div>${trusted('<svg></svg>')}${html`<b>${'<i>'}</b>`}</div>`.text,
    '<div><svg></svg><b>&lt;i&gt;</b></div>',
  );
});

test("pages: mallory's sign-in name comes back escaped, and the page has a language and labels", () => {
  const page = passwordPage(
    { action: '/t/x/signin/u', csrf: 'c', appName: '<b>App</b>' },
    { signInName: '"><script>', error: 'Your account or password is incorrect.' },
  );
  assert.match(page, /<html lang="en">/);
  assert.match(page, /value="&quot;&gt;&lt;script&gt;"/);
  assert.match(page, /&lt;b&gt;App&lt;\/b&gt;/);
  assert.match(page, /<label for="username">/);
  assert.match(page, /role="alert"[^>]*autofocus/);
});

test('pages: the blocked page names the code, correlation id and time, and nothing else', () => {
  const page = errorPage({ code: 53003, correlationId: 'abc-123', at: Date.UTC(2026, 10, 23, 9, 0, 0) });
  assert.match(page, /id="error-code">53003</);
  assert.match(page, /id="correlation-id">abc-123</);
  assert.match(page, /2026-11-23T09:00:00.000Z/);
});
