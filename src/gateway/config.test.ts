// The `gateway` section of the configuration: applications from YAML or JSON in the environment, checked as the API
// checks them; header names; a cookie domain that must cover the public URL and every configured host.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../config/load.ts';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ env });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems];
  }
  return [];
}

test("defaults: no applications, Authelia's header names, group names, host-only cookies", () => {
  const { gateway } = loadConfig({ env: {} }).config;
  assert.deepEqual(gateway.applications, []);
  assert.deepEqual(gateway.headers, {
    user: 'Remote-User',
    groups: 'Remote-Groups',
    email: 'Remote-Email',
    name: 'Remote-Name',
  });
  assert.equal(gateway.groups, 'displayName');
  assert.equal(gateway.cookieDomain, undefined);
});

test('applications from the YAML file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-gateway-config-'));
  try {
    const file = join(dir, 'portcullis.yaml');
    writeFileSync(
      file,
      `publicUrl: https://auth.contoso.example
gateway:
  cookieDomain: contoso.example
  applications:
    - tenant: contoso
      applicationId: 6f1c0b1e-0000-4000-8000-000000000001
      hosts: [wiki.contoso.example, "*.apps.contoso.example"]
      paths: [/, /admin]
  headers:
    user: X-Forwarded-User
`,
    );
    const { gateway } = loadConfig({ file, env: {} }).config;
    assert.equal(gateway.applications.length, 1);
    assert.deepEqual(
      gateway.applications[0].hosts.map((h) => h.text),
      ['wiki.contoso.example', '*.apps.contoso.example'],
    );
    assert.deepEqual(gateway.applications[0].paths, ['/', '/admin']);
    assert.equal(gateway.headers.user, 'X-Forwarded-User');
    assert.equal(gateway.cookieDomain, 'contoso.example');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each problem names the option, the entry and what is wrong', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['not JSON', { PORTCULLIS_GATEWAY_APPLICATIONS: 'wiki' }, /option 'applications' must be a list of applications/],
    [
      'a bad host',
      { PORTCULLIS_GATEWAY_APPLICATIONS: '[{"tenant":"t","applicationId":"a","hosts":["a b"]}]' },
      /entry 1: hosts\[0\]: 'a b' is not a valid host name/,
    ],
    [
      'no tenant',
      { PORTCULLIS_GATEWAY_APPLICATIONS: '[{"applicationId":"a","hosts":["a.example"]}]' },
      /entry 1: tenant must be/,
    ],
    [
      'an unknown key',
      { PORTCULLIS_GATEWAY_APPLICATIONS: '[{"tenant":"t","applicationId":"a","hosts":["a.example"],"host":"x"}]' },
      /entry 1: 'host' is not a known key/,
    ],
    [
      'a reserved header',
      { PORTCULLIS_GATEWAY_HEADERS_USER: 'Cookie' },
      /option 'user' must be an HTTP header name .* \(Cookie is reserved\)/,
    ],
    [
      'two options, one header',
      { PORTCULLIS_GATEWAY_HEADERS_NAME: 'remote-user' },
      /options 'user' and 'name' must name different headers/,
    ],
    [
      'a cookie domain that misses the public URL',
      { PORTCULLIS_PUBLIC_URL: 'https://id.fabrikam.example', PORTCULLIS_GATEWAY_COOKIE_DOMAIN: 'contoso.example' },
      /cookieDomain' must be the public URL's host 'id.fabrikam.example' or a parent of it/,
    ],
    [
      'a host outside the cookie domain',
      {
        PORTCULLIS_PUBLIC_URL: 'https://id.contoso.example',
        PORTCULLIS_GATEWAY_COOKIE_DOMAIN: 'contoso.example',
        PORTCULLIS_GATEWAY_APPLICATIONS: '[{"tenant":"t","applicationId":"a","hosts":["wiki.fabrikam.example"]}]',
      },
      /gateway.applications\[0\]: host 'wiki.fabrikam.example' is not under cookieDomain 'contoso.example'/,
    ],
  ];
  for (const [name, env, message] of cases) {
    const found = problems(env);
    assert.ok(
      found.some((p) => message.test(p)),
      `${name}: ${found.join(' | ')}`,
    );
  }
});
