// What the logger removes: secret-named fields at any depth and secret query parameters in URLs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REDACTED, redactSecrets, redactUrl } from './logger.ts';

describe('redactSecrets', () => {
  const cases: { name: string; input: unknown; expected: unknown }[] = [
    {
      name: "alice's sign-in form: the password goes, the user name stays",
      input: { form: { username: 'alice@contoso.com', password: 'hunter2' } },
      expected: { form: { username: 'alice@contoso.com', password: REDACTED } },
    },
    {
      name: 'request headers: authorization, cookie and set-cookie',
      input: { headers: { authorization: 'Bearer x', cookie: 'a=b', 'set-cookie': ['c=d'], accept: '*/*' } },
      expected: { headers: { authorization: REDACTED, cookie: REDACTED, 'set-cookie': REDACTED, accept: '*/*' } },
    },
    {
      name: 'any spelling of secret, token or key, in arrays too',
      input: {
        clients: [{ clientId: 'app', clientSecret: 's' }],
        refresh_token: 'r',
        accessToken: 'a',
        apiKey: 'k',
        privateKey: 'p',
        masterKey: 'm',
        client_assertion: 'jwt',
      },
      expected: {
        clients: [{ clientId: 'app', clientSecret: REDACTED }],
        refresh_token: REDACTED,
        accessToken: REDACTED,
        apiKey: REDACTED,
        privateKey: REDACTED,
        masterKey: REDACTED,
        client_assertion: REDACTED,
      },
    },
    {
      name: 'objects with no secrets come back equal',
      input: { tenant: 'contoso', count: 3, nested: { deeper: [1, 2, { ok: true }] } },
      expected: { tenant: 'contoso', count: 3, nested: { deeper: [1, 2, { ok: true }] } },
    },
    { name: 'scalars pass through', input: 'plain message', expected: 'plain message' },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(redactSecrets(c.input), c.expected));
  }

  test('the caller’s object is not changed', () => {
    const input = { password: 'hunter2' };
    redactSecrets(input);
    assert.equal(input.password, 'hunter2');
  });

  test('class instances (errors, requests) are left to their serializers', () => {
    const error = new Error('boom');
    assert.equal((redactSecrets({ err: error }) as { err: Error }).err, error);
  });

  test('a cyclic object does not hang logging', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    assert.doesNotThrow(() => redactSecrets(cyclic));
  });
});

describe('redactUrl', () => {
  const cases: { name: string; url: string; expected: string }[] = [
    { name: 'no query', url: '/oauth2/authorize', expected: '/oauth2/authorize' },
    {
      name: "bob's authorization code and state on the callback",
      url: '/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj',
      expected: '/callback?code=[Redacted]&state=[Redacted]',
    },
    {
      name: 'logout with an id_token_hint keeps the redirect',
      url: '/logout?id_token_hint=eyJ&post_logout_redirect_uri=https%3A%2F%2Fapp',
      expected: '/logout?id_token_hint=[Redacted]&post_logout_redirect_uri=https%3A%2F%2Fapp',
    },
    {
      name: 'an encoded parameter name is judged decoded',
      url: '/x?pass%77ord=hunter2&page=1',
      expected: '/x?pass%77ord=[Redacted]&page=1',
    },
    { name: 'a flag without a value', url: '/x?token&debug', expected: '/x?token&debug' },
    { name: 'a malformed escape is kept', url: '/x?%E0%A4%A=1', expected: '/x?%E0%A4%A=1' },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(redactUrl(c.url), c.expected));
  }
});
