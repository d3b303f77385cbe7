// Applications (OIDC clients): the secret is shown once and stored only as a hash; verification accepts exactly the
// right, unexpired secret of a confidential client of this tenant; redirect URIs and grants are checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { ManualClock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import { Applications, type NewApplication } from './applications.ts';
import { hashClientSecret, secretMatches } from './client-secret.ts';

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const DAY = 86_400_000;
const payroll: NewApplication = {
  displayName: 'Payroll',
  clientType: 'confidential',
  redirectUris: ['https://payroll.contoso.example/callback'],
  postLogoutRedirectUris: ['https://payroll.contoso.example/'],
};
const mobile: NewApplication = {
  displayName: 'Contoso mobile',
  clientType: 'public',
  redirectUris: ['com.contoso.mobile:/oauth/callback', 'http://127.0.0.1/callback'],
};

function invalidWith(message: RegExp) {
  return (error: unknown) => error instanceof PortcullisError && error.code === 90001 && message.test(error.message);
}

test('a client secret matches its hash and nothing else', () => {
  const hash = hashClientSecret('s3cret');
  assert.equal(secretMatches('s3cret', hash), true);
  assert.equal(secretMatches('s3cret ', hash), false);
  assert.equal(secretMatches('s3cret', 'not-a-hash'), false);
});

const badApps: Array<{ name: string; input: unknown; message: RegExp }> = [
  { name: 'no display name', input: { ...payroll, displayName: '' }, message: /displayName: must not be empty/ },
  {
    name: 'an unknown client type',
    input: { ...payroll, clientType: 'spa' },
    message: /clientType: must be 'public' or 'confidential'/,
  },
  {
    name: 'a relative redirect URI',
    input: { ...payroll, redirectUris: ['/callback'] },
    message: /redirectUris\[0\]: '\/callback' is not an absolute URI/,
  },
  {
    name: 'a redirect URI with a fragment',
    input: { ...payroll, redirectUris: ['https://a.example/cb#x'] },
    message: /must not contain a fragment/,
  },
  {
    name: 'a wildcard redirect URI',
    input: { ...payroll, redirectUris: ['https://*.contoso.example/cb'] },
    message: /must not contain a wildcard/,
  },
  {
    name: 'plain http to a remote host',
    input: { ...payroll, redirectUris: ['http://payroll.contoso.example/cb'] },
    message: /must use https \(http is allowed only for localhost\)/,
  },
  {
    name: 'a custom scheme on a confidential client',
    input: { ...payroll, redirectUris: ['com.contoso.app:/cb'] },
    message: /must use https$/,
  },
  {
    name: 'a javascript: URI on a public client',
    input: { ...mobile, redirectUris: ['javascript:alert(1)'] },
    message: /must use https or a private-use scheme/,
  },
  {
    name: 'a bad post-logout URI',
    input: { ...payroll, postLogoutRedirectUris: ['ftp://x.example/'] },
    message: /postLogoutRedirectUris\[0\]/,
  },
  {
    name: 'client credentials on a public client',
    input: { ...mobile, grantTypes: ['client_credentials'] },
    message: /client_credentials needs a confidential client/,
  },
  {
    name: 'an unknown grant',
    input: { ...payroll, grantTypes: ['password'] },
    message: /grantTypes\[0\]: must be one of/,
  },
  {
    name: 'refresh tokens without the code grant',
    input: { ...payroll, grantTypes: ['refresh_token', 'client_credentials'] },
    message: /refresh_token comes only with authorization_code/,
  },
  {
    name: 'an ID-token algorithm without a key (HS256 would sign with the client secret)',
    input: { ...payroll, idTokenSignedResponseAlg: 'HS256' },
    message: /idTokenSignedResponseAlg: must be one of RS256, ES256 but it is 'HS256'/,
  },
  {
    name: 'the code grant without a redirect URI',
    input: { ...payroll, redirectUris: [] },
    message: /needs at least one redirect URI/,
  },
];

for (const db of storesUnderTest()) {
  test(`${db.name}: Payroll gets its secret once; the database holds only a hash`, async () => {
    const store = await db.open({ clock: new ManualClock(NOW) });
    const { contoso } = await twoTenants(store);
    const scope = store.forTenant(contoso);
    const apps = new Applications(scope);
    const { application, secretText } = await apps.create(payroll);
    assert.ok(secretText && secretText.length >= 43);
    assert.deepEqual(application.grantTypes, ['authorization_code', 'refresh_token']);
    assert.equal(application.passwordCredentials.length, 1);
    assert.deepEqual(application.passwordCredentials[0], {
      keyId: application.passwordCredentials[0].keyId,
      displayName: null,
      hint: secretText.slice(0, 3),
      startDateTime: '2026-11-23T09:00:00Z',
      endDateTime: '2028-11-22T09:00:00Z',
    });
    const row = await scope.selectFrom('applications').selectAll().executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(row).includes(secretText), 'the secret itself is not stored');
    assert.ok(row.client_secrets.includes(hashClientSecret(secretText)));
    assert.ok(!JSON.stringify(await apps.get(application.id)).includes(secretText), 'nor returned again');
  });

  test(`${db.name}: verifying Payroll's secret`, async () => {
    const clock = new ManualClock(NOW);
    const store = await db.open({ clock });
    const { contoso, fabrikam } = await twoTenants(store);
    const apps = new Applications(store.forTenant(contoso));
    const { application, secretText = '' } = await apps.create(payroll);
    const { application: phone } = await apps.create(mobile);
    const cases = [
      { name: 'the right secret', appId: application.appId, secret: secretText, ok: true },
      { name: 'a wrong secret', appId: application.appId, secret: `${secretText.slice(0, -1)}x`, ok: false },
      { name: 'an empty secret', appId: application.appId, secret: '', ok: false },
      { name: 'an unknown client', appId: 'no-such-client', secret: secretText, ok: false },
      { name: 'a public client', appId: phone.appId, secret: secretText, ok: false },
    ];
    for (const c of cases)
      assert.equal((await apps.verifySecret(c.appId, c.secret))?.id === application.id, c.ok, c.name);
    assert.equal(
      await new Applications(store.forTenant(fabrikam)).verifySecret(application.appId, secretText),
      undefined,
      'fabrikam',
    );
    clock.advance(730 * DAY);
    assert.equal(await apps.verifySecret(application.appId, secretText), undefined, 'expired after two years');
  });

  test(`${db.name}: rotating Payroll's secret — add a new one, both work, remove the old one`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const apps = new Applications(store.forTenant(contoso));
    const { application, secretText: old = '' } = await apps.create(payroll);
    const issued = await apps.addSecret(application.id, { displayName: 'rotation 2026', lifetimeDays: 90 });
    assert.ok(issued);
    assert.equal(issued.credential.displayName, 'rotation 2026');
    assert.equal(issued.application.passwordCredentials.length, 2);
    assert.ok(await apps.verifySecret(application.appId, old));
    assert.ok(await apps.verifySecret(application.appId, issued.secretText));
    const oldKey = application.passwordCredentials[0].keyId;
    assert.equal(await apps.removeSecret(application.id, oldKey), true);
    assert.equal(await apps.removeSecret(application.id, oldKey), false);
    assert.equal(await apps.verifySecret(application.appId, old), undefined);
    assert.ok(await apps.verifySecret(application.appId, issued.secretText));
    await assert.rejects(
      apps.addSecret(application.id, { lifetimeDays: 0 }),
      invalidWith(/lifetimeDays: must be a whole number/),
    );
    assert.equal(await apps.addSecret('no-such-app'), undefined);
  });

  test(`${db.name}: the mobile app is public: no secret, custom scheme and loopback redirects`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const apps = new Applications(store.forTenant(contoso));
    const created = await apps.create(mobile);
    assert.equal(created.secretText, undefined);
    assert.deepEqual(created.application.redirectUris, mobile.redirectUris);
    await assert.rejects(apps.addSecret(created.application.id), invalidWith(/a public client has no secrets/));
    assert.deepEqual(await apps.getByAppId(created.application.appId), created.application);
  });

  test(`${db.name}: ID tokens are RS256 unless the app asks for ES256; rows from before the setting read as RS256`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const scope = store.forTenant(contoso);
    const apps = new Applications(scope);
    const plain = (await apps.create(payroll)).application;
    assert.equal(plain.idTokenSignedResponseAlg, 'RS256');
    const es = (await apps.create({ ...mobile, idTokenSignedResponseAlg: 'ES256' })).application;
    assert.equal((await apps.getByAppId(es.appId))?.idTokenSignedResponseAlg, 'ES256');
    await scope
      .updateTable('applications', { id_token_signed_response_alg: null })
      .where('id', '=', plain.id)
      .execute();
    assert.equal((await apps.get(plain.id))?.idTokenSignedResponseAlg, 'RS256', 'null is the default');
    await assert.rejects(
      scope.updateTable('applications', { id_token_signed_response_alg: 'HS256' }).where('id', '=', plain.id).execute(),
      /check constraint/i,
      'the database refuses any other algorithm',
    );
    assert.equal(
      (await apps.update(plain.id, { idTokenSignedResponseAlg: 'ES256' }))?.idTokenSignedResponseAlg,
      'ES256',
    );
    assert.equal((await apps.update(plain.id, { displayName: 'Payroll 2' }))?.idTokenSignedResponseAlg, 'ES256');
    await assert.rejects(
      apps.update(plain.id, { idTokenSignedResponseAlg: 'none' }),
      invalidWith(/idTokenSignedResponseAlg: must be one of RS256, ES256 but it is 'none'/),
    );
    assert.equal((await apps.get(plain.id))?.idTokenSignedResponseAlg, 'ES256', 'a refused change writes nothing');
  });

  test(`${db.name}: a daemon with only client credentials needs no redirect URI`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const apps = new Applications(store.forTenant(contoso));
    const { application, secretText } = await apps.create({
      displayName: 'Nightly sync',
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    assert.deepEqual(application.grantTypes, ['client_credentials']);
    assert.deepEqual(application.redirectUris, []);
    assert.ok(secretText);
  });

  test(`${db.name}: updating Payroll's redirect URIs and name; the grants are re-checked`, async () => {
    const store = await db.open();
    const { contoso } = await twoTenants(store);
    const apps = new Applications(store.forTenant(contoso));
    const { application } = await apps.create(payroll);
    const updated = await apps.update(application.id, {
      displayName: 'Payroll v2',
      redirectUris: ['https://payroll2.contoso.example/cb', 'https://payroll2.contoso.example/cb'],
    });
    assert.equal(updated?.displayName, 'Payroll v2');
    assert.deepEqual(updated?.redirectUris, ['https://payroll2.contoso.example/cb']);
    assert.deepEqual(updated?.postLogoutRedirectUris, payroll.postLogoutRedirectUris);
    await assert.rejects(
      apps.update(application.id, { redirectUris: [] }),
      invalidWith(/needs at least one redirect URI/),
    );
    assert.equal(await apps.update('no-such-app', { displayName: 'x' }), undefined);
    assert.equal((await apps.list()).items.length, 1);
    assert.equal(await apps.delete(application.id), true);
    assert.equal(await apps.get(application.id), undefined);
  });

  for (const c of badApps) {
    test(`${db.name}: registering an application is refused for ${c.name}`, async () => {
      const store = await db.open();
      const { contoso } = await twoTenants(store);
      await assert.rejects(
        new Applications(store.forTenant(contoso)).create(c.input as NewApplication),
        invalidWith(c.message),
      );
    });
  }
}
