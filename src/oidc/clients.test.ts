// Client authentication at the token endpoint: the secret is checked against the application row the client lookup
// read in the same request (no second read), and a secret added, removed or expired counts at the next request.
// The application's ID-token algorithm reaches the client metadata, and an ID token signed with the tenant's other
// algorithm (before the application's changed) is still a good id_token_hint — and nothing else is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';
import Provider from 'oidc-provider';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { ManualClock } from '../clock.ts';
import { type Application, Applications } from '../directory/applications.ts';
import { acceptEarlierIdTokenAlgorithms, clientMetadata, directoryClients } from './clients.ts';

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const DAY = 86_400_000;

type Compare = (this: { clientId: string; clientSecret?: string }, actual: unknown) => Promise<boolean>;

for (const db of storesUnderTest()) {
  test(`client secrets at the token endpoint (${db.name}): checked against the row the lookup read`, async (t) => {
    const clock = new ManualClock(NOW);
    const store = await db.open({ clock });
    const { contoso, fabrikam } = await twoTenants(store);
    const applications = new Applications(store.forTenant(contoso));
    const clients = directoryClients(applications);
    // The part of oidc-provider that clients.ts replaces: Client#compareClientSecret.
    const Client = class {};
    clients.install({ Client } as unknown as Provider);
    const compare = (Client.prototype as { compareClientSecret: Compare }).compareClientSecret;
    /** What oidc-provider does per request: find the client (through the lookup), then authenticate it. */
    const authenticate = async (clientId: string, secret: unknown) => {
      const metadata = await clients.lookup(clientId);
      if (!metadata) return false;
      return compare.call({ clientId, clientSecret: metadata.client_secret as string | undefined }, secret);
    };

    const payroll = await applications.create({
      displayName: 'Payroll',
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    const appId = payroll.application.appId;
    const first = payroll.secretText ?? '';
    const mobile = await applications.create({
      displayName: 'Mobile',
      clientType: 'public',
      redirectUris: ['com.contoso.mobile:/cb'],
    });
    let second = '';

    const cases = [
      {
        name: "payroll's secret is accepted; a wrong, empty or non-string one is not",
        async run() {
          assert.equal(await authenticate(appId, first), true);
          assert.equal(await authenticate(appId, `${first}x`), false);
          assert.equal(await authenticate(appId, ''), false);
          assert.equal(await authenticate(appId, 42), false);
        },
      },
      {
        name: 'the placeholder in the metadata is not a secret, and is not the stored hash',
        async run() {
          const metadata = await clients.lookup(appId);
          const placeholder = String(metadata?.client_secret);
          assert.equal(await authenticate(appId, placeholder), false);
          const stored = await applications.get(payroll.application.id);
          assert.ok(!JSON.stringify(stored).includes(placeholder));
        },
      },
      {
        name: 'a second secret works at once, and removing the first refuses it at the next request',
        async run() {
          const issued = await applications.addSecret(payroll.application.id);
          second = issued?.secretText ?? '';
          assert.equal(await authenticate(appId, second), true);
          const keyId = issued?.application.passwordCredentials.find((c) => c.keyId !== issued.credential.keyId)?.keyId;
          assert.ok(keyId);
          assert.equal(await applications.removeSecret(payroll.application.id, keyId), true);
          assert.equal(await authenticate(appId, first), false, 'removed');
          assert.equal(await authenticate(appId, second), true);
        },
      },
      {
        name: 'a secret past its end is refused even though its set was read before',
        async run() {
          assert.equal(await authenticate(appId, second), true);
          clock.advance(731 * DAY);
          assert.equal(await authenticate(appId, second), false);
          clock.set(NOW);
        },
      },
      {
        name: 'a client object whose secret set is not remembered falls back to reading the row',
        async run() {
          assert.equal(await compare.call({ clientId: appId, clientSecret: 'unknown placeholder' }, second), true);
          assert.equal(await compare.call({ clientId: appId, clientSecret: 'unknown placeholder' }, first), false);
        },
      },
      {
        name: 'a set remembered for payroll does not authenticate another client id',
        async run() {
          const metadata = await clients.lookup(appId);
          const other = { clientId: mobile.application.appId, clientSecret: metadata?.client_secret as string };
          assert.equal(await compare.call(other, second), false);
        },
      },
      {
        name: 'a public client has no secret to present',
        async run() {
          const metadata = await clients.lookup(mobile.application.appId);
          assert.equal(metadata?.token_endpoint_auth_method, 'none');
          assert.equal(metadata?.client_secret, undefined);
          assert.equal(await authenticate(mobile.application.appId, 'anything'), false);
        },
      },
      {
        name: "mallory at fabrikam: contoso's client is unknown there, with the right secret too",
        async run() {
          const theirs = directoryClients(new Applications(store.forTenant(fabrikam)));
          assert.equal(await theirs.lookup(appId), undefined);
        },
      },
    ];
    for (const c of cases) await t.test(c.name, c.run);
  });
}

test("the client metadata carries the application's ID-token algorithm", () => {
  const app: Application = {
    id: 'object-id',
    appId: 'client-id',
    displayName: 'Field app',
    clientType: 'public',
    redirectUris: ['com.contoso.field:/callback'],
    postLogoutRedirectUris: [],
    grantTypes: ['authorization_code', 'refresh_token'],
    idTokenSignedResponseAlg: 'ES256',
    passwordCredentials: [],
    createdDateTime: '2026-11-23T09:00:00Z',
  };
  assert.equal(clientMetadata(app, '').id_token_signed_response_alg, 'ES256');
  assert.equal(clientMetadata({ ...app, idTokenSignedResponseAlg: 'RS256' }, '').id_token_signed_response_alg, 'RS256');
});

test('id_token_hint after an algorithm change: the other algorithm of our own keys, for this client, and nothing else', async (t) => {
  const ISSUER = 'http://127.0.0.1/t/contoso';
  const keyPair = async (alg: 'RS256' | 'ES256', kid: string) => {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    return { privateKey, jwk: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' } as JWK };
  };
  const ours = { rs: await keyPair('RS256', 'rs'), ec: await keyPair('ES256', 'ec') };
  const theirs = await keyPair('ES256', 'ec');
  const secret = 's'.repeat(64);
  const provider = new Provider(ISSUER, {
    jwks: { keys: [ours.rs.jwk, ours.ec.jwk] as never },
    clients: [
      { client_id: 'rs-app', token_endpoint_auth_method: 'none', redirect_uris: ['https://a.example/cb'] },
      {
        client_id: 'es-app',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['https://a.example/cb'],
        id_token_signed_response_alg: 'ES256',
      },
      { client_id: 'hs-app', client_secret: secret, redirect_uris: ['https://a.example/cb'] },
    ],
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256', 'HS256'] },
  });
  acceptEarlierIdTokenAlgorithms(provider);
  const validate = async (jwt: string, clientId: string) =>
    provider.IdToken.validate(jwt, (await provider.Client.find(clientId)) as never);
  const sign = (key: Awaited<ReturnType<typeof keyPair>>, claims: JWTPayload, header: Record<string, string> = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: key.jwk.alg as string, kid: key.jwk.kid, ...header })
      .sign(key.privateKey);
  const claims = (aud: string): JWTPayload => ({ iss: ISSUER, sub: 'alice', aud, iat: 1, exp: 2 });

  await t.test('an ES256 token of an app now on RS256 is accepted, and the reverse', async () => {
    await validate(await sign(ours.ec, claims('rs-app')), 'rs-app');
    await validate(await sign(ours.rs, claims('es-app')), 'es-app');
  });
  const refused: Array<{ name: string; jwt: () => Promise<string>; client: string; message?: RegExp }> = [
    { name: "another client's token", jwt: () => sign(ours.ec, claims('es-app')), client: 'rs-app', message: /aud/ },
    {
      name: "another issuer's token",
      jwt: () => sign(ours.ec, { ...claims('rs-app'), iss: 'http://127.0.0.1/t/fabrikam' }),
      client: 'rs-app',
      message: /iss/,
    },
    {
      name: 'a token without a subject',
      jwt: () => sign(ours.ec, { iss: ISSUER, aud: 'rs-app' }),
      client: 'rs-app',
      message: /sub/,
    },
    {
      name: 'a token signed with a key that is not ours, under our kid',
      jwt: () => sign(theirs, claims('rs-app')),
      client: 'rs-app',
    },
    {
      name: 'a typed JWT (an access token, at+jwt) with our other key',
      jwt: () => sign(ours.ec, claims('rs-app'), { typ: 'at+jwt' }),
      client: 'rs-app',
    },
    {
      name: 'alg none',
      jwt: async () => new UnsecuredJWT(claims('rs-app')).encode(),
      client: 'rs-app',
    },
    {
      name: "HS256 with the client's secret (not one of our signing algorithms)",
      jwt: () =>
        new SignJWT(claims('hs-app')).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret)),
      client: 'hs-app',
    },
    {
      name: "ES256 named over the RSA key's kid",
      jwt: () => sign(ours.ec, claims('rs-app'), { kid: 'rs' }),
      client: 'rs-app',
    },
  ];
  for (const c of refused) {
    await t.test(`refused: ${c.name}`, async () => {
      await assert.rejects(validate(await c.jwt(), c.client), c.message ?? Error);
    });
  }
});
