// The session and binding cookies: names, attributes, lifetimes, clearing, reading them back, and plain HTTP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  clearedSessionCookies,
  cookieNames,
  cookieScopeFor,
  readSessionCookies,
  serializeCookie,
  sessionCookies,
} from './cookies.ts';
import { newToken } from './tokens.ts';

const NOW = Date.UTC(2026, 2, 2, 9, 0, 0);
const secure = cookieScopeFor('https://login.contoso.example');

test('over https: __Host- cookies; both cookies are Lax (the binding cookie must reach cross-site sign-in redirects)', () => {
  const sessionId = newToken();
  const bindingSecret = newToken();
  const [session, binding] = sessionCookies(
    secure,
    { sessionId, bindingSecret, persistent: false, expiresAt: NOW },
    NOW,
  );
  assert.equal(
    serializeCookie(session),
    `__Host-portcullis-session=${sessionId}; Path=/; Secure; HttpOnly; SameSite=Lax`,
  );
  assert.equal(
    serializeCookie(binding),
    `__Host-portcullis-binding=${bindingSecret}; Path=/; Secure; HttpOnly; SameSite=Lax`,
  );
});

test('persistent cookies last until the absolute end (rounded up to the second); others end with the browser', () => {
  const issued = {
    sessionId: newToken(),
    bindingSecret: newToken(),
    persistent: true,
    expiresAt: NOW + 8 * 3600_000 + 1,
  };
  const [session, binding] = sessionCookies(secure, issued, NOW);
  assert.equal(session.maxAge, 8 * 3600 + 1);
  assert.equal(binding.maxAge, 8 * 3600 + 1);
  assert.match(serializeCookie(session), /; Max-Age=28801;/);
  const [transient] = sessionCookies(secure, { ...issued, persistent: false }, NOW);
  assert.equal(transient.maxAge, undefined);
});

test('sign-out clears both cookies with the same names and attributes', () => {
  assert.deepEqual(clearedSessionCookies(secure).map(serializeCookie), [
    '__Host-portcullis-session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax',
    '__Host-portcullis-binding=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax',
  ]);
});

test('over plain http (localhost development): no __Host- prefix and no Secure, the same in every browser', () => {
  const scope = cookieScopeFor('http://localhost:9091');
  assert.deepEqual(cookieNames(scope), { session: 'portcullis-session', binding: 'portcullis-binding' });
  const [session] = sessionCookies(
    scope,
    { sessionId: 'a', bindingSecret: 'b', persistent: false, expiresAt: NOW },
    NOW,
  );
  assert.equal(serializeCookie(session), 'portcullis-session=a; Path=/; HttpOnly; SameSite=Lax');
});

test('tenants sharing a host get a pair of cookies each', () => {
  assert.deepEqual(cookieNames(cookieScopeFor('https://id.example', 'contoso')), {
    session: '__Host-portcullis-session-contoso',
    binding: '__Host-portcullis-binding-contoso',
  });
  assert.throws(() => cookieNames({ secure: true, tenant: 'Bad Name' }), /tenant must be a tenant name/);
  assert.throws(() => cookieScopeFor('ftp://id.example'), /must be http or https/);
});

test('reading the cookies back from a Cookie header; other cookies and the plain names are ignored over https', () => {
  const sessionId = newToken();
  const bindingSecret = newToken();
  const header = `theme=dark; __Host-portcullis-session=${sessionId}; portcullis-binding=evil; __Host-portcullis-binding=${bindingSecret}; __Host-portcullis-session=second`;
  assert.deepEqual(readSessionCookies(header, secure), { sessionId, bindingSecret });
  assert.deepEqual(readSessionCookies(`__Host-portcullis-session=${sessionId}`, secure), { sessionId });
  assert.deepEqual(readSessionCookies(undefined, secure), {});
  assert.deepEqual(readSessionCookies(['a=1', `__Host-portcullis-binding=${bindingSecret}`], secure), {
    bindingSecret,
  });
});

test('a value that is not base64url is refused rather than written into a header', () => {
  assert.throws(
    () => serializeCookie({ name: 'x', value: 'a;b', httpOnly: true, secure: true, sameSite: 'Lax', path: '/' }),
    /must be base64url/,
  );
});
