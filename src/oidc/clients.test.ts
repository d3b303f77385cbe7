// Client authentication at the token endpoint: the secret is checked against the application row the client lookup
// read in the same request (no second read), and a secret added, removed or expired counts at the next request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Provider from 'oidc-provider';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { ManualClock } from '../clock.ts';
import { Applications } from '../directory/applications.ts';
import { directoryClients } from './clients.ts';

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
