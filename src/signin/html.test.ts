// The page frame escapes every interpolated value; only markup we generated ourselves passes through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml, html, PASSKEY_SCRIPT, PASSKEY_SCRIPT_PATH, trusted } from './html.ts';
import { enrolPage, errorPage, mfaPage, passwordPage } from './pages.ts';

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

const form = { action: '/t/x/signin/u', csrf: 'c', appName: 'App' };

test('pages: the first page offers "Sign in with a passkey" (usernameless) beside the password', () => {
  const page = passwordPage(form, {});
  assert.match(
    page,
    /<form method="post" action="\/t\/x\/signin\/u\/passkey-sign-in" data-passkey="get" data-options="\/t\/x\/signin\/u\/passkey-sign-in\/options">/,
  );
  assert.match(page, /<button type="button" class="secondary">Sign in with a passkey<\/button>/);
  assert.match(page, /<input type="hidden" name="response" value="">/);
});

test('pages: the enrolment page offers a passkey and a TOTP app; the passkey button takes the focus', () => {
  const page = enrolPage(form, { qrSvg: '<svg></svg>', secret: 'JBSWY3DPEHPK3PXP' });
  assert.match(page, /data-passkey="create" data-options="\/t\/x\/signin\/u\/enrol-passkey\/options"/);
  assert.match(page, /<button type="button" autofocus>Set up a passkey<\/button>/);
  assert.match(page, /action="\/t\/x\/signin\/u\/enrol"/);
  assert.equal(page.match(/autofocus/g)?.length, 1, 'one element takes the focus');
  const failed = enrolPage(form, { qrSvg: '<svg></svg>', secret: 'JBSWY3DPEHPK3PXP', error: 'no' });
  assert.match(failed, /role="alert"[^>]*autofocus/);
  assert.equal(failed.match(/autofocus/g)?.length, 1, 'after an error, only the error');
});

test('pages: every script is the passkey script from our own origin (the CSP allows no inline script)', () => {
  const pages = [
    passwordPage(form, {}),
    enrolPage(form, { qrSvg: '<svg></svg>', secret: 'S' }),
    mfaPage(form, { methods: { totp: true, passkeys: true, recoveryCodes: true } }),
  ];
  for (const page of pages) {
    for (const tag of page.match(/<script[^>]*>[^<]*<\/script>/g) ?? []) {
      assert.equal(tag, `<script src="${PASSKEY_SCRIPT_PATH}"></script>`);
    }
    assert.doesNotMatch(page, /\son[a-z]+=/, 'no inline event handlers');
  }
  assert.match(PASSKEY_SCRIPT, /navigator\.credentials\.create/);
  assert.match(PASSKEY_SCRIPT, /navigator\.credentials\.get/);
});
