// The nginx cases again with the session module behind the gateway (session-port.ts) instead of the in-memory
// stand-in, plus what only real sessions do: the absolute limit, revocation and browser binding, checked on every
// request through the proxy; an ended session makes the next sign-in ask for credentials (prompt=login).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { forwardAuthCases } from './cases.ts';
import { ProxyClient } from './client.ts';
import { AT_HQ, type GatewayHarness, startGatewayHarness } from './harness.ts';
import { missing, type RunningProxy, startNginx } from './proxies.ts';

forwardAuthCases('nginx', missing('nginx'), startNginx, 'session module');

describe('session limits through nginx, on every request', { skip: missing('nginx') }, () => {
  let h: GatewayHarness;
  let proxy: RunningProxy;
  before(async () => {
    h = await startGatewayHarness('session module');
    proxy = await startNginx({ listen: h.proxyPort, portcullis: h.portcullisPort, upstream: h.upstreamPort });
  });
  after(async () => {
    await proxy?.stop();
    await h?.close();
  });

  async function aliceWith(cookies: string[]) {
    const client = new ProxyClient({ port: h.proxyPort, from: AT_HQ });
    for (const cookie of cookies) {
      const eq = cookie.indexOf('=');
      client.jar.add(cookie.slice(0, eq), cookie.slice(eq + 1), 'localhost');
    }
    return client;
  }

  test('the absolute limit: allowed before it, sent to sign in with prompt=login after it', async () => {
    const alice = await aliceWith(await h.signedIn('alice', ['pwd']));
    const wiki = `${h.site('wiki')}/page`;
    assert.equal((await alice.request(wiki)).status, 200);
    h.clock.advance(23 * 60 * 60_000);
    assert.equal((await alice.request(wiki)).status, 200, 'still within the default 1440 minutes');
    h.clock.advance(60 * 60_000);
    const ended = await alice.request(wiki);
    assert.equal(ended.status, 302);
    const login = await alice.request(String(ended.headers.location));
    assert.equal(login.status, 303);
    assert.equal(new URL(String(login.headers.location)).searchParams.get('prompt'), 'login');
  });

  test('revoking her sessions (sign out everywhere) takes effect on the next request', async () => {
    const alice = await aliceWith(await h.signedIn('alice', ['pwd']));
    const wiki = `${h.site('wiki')}/page`;
    assert.equal((await alice.request(wiki)).status, 200);
    // As the admin API and "sign out everywhere" do, through this node's sessions (and their cache).
    await h.services.sessions(h.tenantId).revokeAllForUser(h.users.alice);
    assert.equal((await alice.request(wiki)).status, 302);
  });

  test('a copied session cookie without its binding cookie is refused', async () => {
    const [session, binding] = await h.signedIn('alice', ['pwd']);
    const wiki = `${h.site('wiki')}/page`;
    assert.equal((await (await aliceWith([session, binding])).request(wiki)).status, 200);
    assert.equal((await (await aliceWith([session])).request(wiki)).status, 302);
    const forged = `${binding.slice(0, binding.indexOf('=') + 1)}${'A'.repeat(43)}`;
    assert.equal((await (await aliceWith([session, forged])).request(wiki)).status, 302);
  });
});
