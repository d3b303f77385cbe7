// The oidc-provider storage adapter on both stores: upsert/find by id, uid and user code, expiry from the clock,
// consume, destroy, revokeByGrantId across models, clients from the lookup, tenant isolation, and rows read along
// with a grant for the rest of one request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesUnderTest } from '../../test/support/stores.ts';
import { twoTenants } from '../../test/support/tenants.ts';
import { ManualClock } from '../clock.ts';
import { deleteExpiredPayloads, payloadAdapter } from './payload-adapter.ts';
import { withRequestMemo } from './request-memo.ts';

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const noClients = async () => undefined;

for (const db of storesUnderTest()) {
  test(`oidc payload adapter (${db.name}): alice's tokens are found, expire, are consumed and revoked by grant`, async (t) => {
    const clock = new ManualClock(NOW);
    const store = await db.open({ clock });
    const { contoso, fabrikam } = await twoTenants(store);
    const Adapter = payloadAdapter(store.forTenant(contoso), noClients);
    const tokens = new Adapter('AccessToken');
    const refresh = new Adapter('RefreshToken');
    const sessions = new Adapter('Session');
    const interactions = new Adapter('Interaction');
    const devices = new Adapter('DeviceCode');

    const cases = [
      {
        name: 'an access token of alice is found by id until it expires',
        async run() {
          await tokens.upsert('at-1', { accountId: 'alice', grantId: 'g-1', jti: 'at-1' }, 60);
          assert.equal((await tokens.find('at-1'))?.accountId, 'alice');
          clock.advance(59_000);
          assert.ok(await tokens.find('at-1'));
          clock.advance(1_000);
          assert.equal(await tokens.find('at-1'), undefined, 'expired at exactly expiresIn');
        },
      },
      {
        name: 'an upsert replaces the payload',
        async run() {
          await sessions.upsert('s-1', { accountId: 'alice', uid: 'u-1' }, 600);
          await sessions.upsert('s-1', { accountId: 'bob', uid: 'u-1' }, 600);
          assert.equal((await sessions.find('s-1'))?.accountId, 'bob');
          assert.equal((await sessions.findByUid('u-1'))?.accountId, 'bob');
        },
      },
      {
        name: 'a device code is found by its user code',
        async run() {
          await devices.upsert('dc-1', { userCode: 'ABCD-EFGH', grantId: 'g-2' }, 600);
          assert.ok(await devices.findByUserCode('ABCD-EFGH'));
          assert.equal(await devices.findByUserCode('WXYZ-0000'), undefined);
        },
      },
      {
        name: 'a consumed refresh token reports when (oidc-provider detects reuse by it)',
        async run() {
          await refresh.upsert('rt-1', { accountId: 'alice', grantId: 'g-1' }, 3600);
          assert.equal((await refresh.find('rt-1'))?.consumed, undefined);
          await refresh.consume('rt-1');
          assert.equal((await refresh.find('rt-1'))?.consumed, Math.floor(clock.now() / 1000));
        },
      },
      {
        name: 'a code consumed by a use that raced this one is refused (invalid_grant), and its grant is revoked',
        async run() {
          const codes = new Adapter('AuthorizationCode');
          await codes.upsert('code-9', { accountId: 'alice', grantId: 'g-9' }, 60);
          await tokens.upsert('at-9', { accountId: 'alice', grantId: 'g-9' }, 3600);
          // Both uses read the code unconsumed (oidc-provider's check), then both consume it.
          assert.equal((await codes.find('code-9'))?.consumed, undefined);
          assert.equal((await codes.find('code-9'))?.consumed, undefined);
          await codes.consume('code-9');
          await assert.rejects(codes.consume('code-9'), (error: Error & { error?: string; error_detail?: string }) => {
            assert.equal(error.error, 'invalid_grant');
            assert.equal(error.error_detail, 'AuthorizationCode already used');
            return true;
          });
          assert.equal(await tokens.find('at-9'), undefined, "the grant's access token is revoked");
          assert.equal(await codes.find('code-9'), undefined, 'and the code with it');
          await assert.rejects(codes.consume('code-404'), /invalid_grant/, 'a code that is gone cannot be consumed');
        },
      },
      {
        name: 'an upsert over a consumed, expiring row replaces all of it; fabrikam’s row under the same id stays',
        async run() {
          const Other = payloadAdapter(store.forTenant(fabrikam), noClients);
          await new Other('RefreshToken').upsert('rt-2', { accountId: 'mallory', grantId: 'g-f' }, 3600);
          await refresh.upsert('rt-2', { accountId: 'alice', grantId: 'g-old' }, 10);
          await refresh.consume('rt-2');
          await refresh.upsert('rt-2', { accountId: 'alice', grantId: 'g-new' }, 3600);
          clock.advance(11_000);
          const row = await refresh.find('rt-2');
          assert.equal(row?.grantId, 'g-new');
          assert.equal(row?.consumed, undefined, 'no longer consumed');
          await refresh.revokeByGrantId('g-old');
          assert.ok(await refresh.find('rt-2'), 'the grant id column follows the new payload');
          assert.equal((await new Other('RefreshToken').find('rt-2'))?.accountId, 'mallory');
        },
      },
      {
        name: 'revokeByGrantId removes every token of the grant, whatever its model, and nothing else',
        async run() {
          await tokens.upsert('at-2', { grantId: 'g-1' }, 3600);
          await tokens.upsert('at-3', { grantId: 'g-9' }, 3600);
          await refresh.revokeByGrantId('g-1');
          assert.equal(await tokens.find('at-2'), undefined);
          assert.equal(await refresh.find('rt-1'), undefined);
          assert.ok(await tokens.find('at-3'));
        },
      },
      {
        name: 'destroy removes one row',
        async run() {
          await interactions.upsert('i-1', { uid: 'i-1' }, 600);
          await interactions.destroy('i-1');
          assert.equal(await interactions.find('i-1'), undefined);
        },
      },
      {
        name: 'ids of absurd length or type are not looked up',
        async run() {
          assert.equal(await tokens.find('x'.repeat(10_000)), undefined);
          assert.equal(await tokens.find(42 as unknown as string), undefined);
        },
      },
      {
        name: 'mallory at fabrikam does not see contoso tokens, nor revoke them',
        async run() {
          const Other = payloadAdapter(store.forTenant(fabrikam), noClients);
          await tokens.upsert('at-4', { grantId: 'g-4' }, 3600);
          assert.equal(await new Other('AccessToken').find('at-4'), undefined);
          await new Other('AccessToken').revokeByGrantId('g-4');
          assert.ok(await tokens.find('at-4'));
        },
      },
      {
        name: 'expired rows are deleted by the sweep',
        async run() {
          await tokens.upsert('at-5', { grantId: 'g-5' }, 1);
          clock.advance(2_000);
          assert.ok((await deleteExpiredPayloads(store.forTenant(contoso))) >= 1);
        },
      },
    ];
    for (const c of cases) await t.test(c.name, c.run);
  });
}

test('oidc payload adapter: the Client model asks the directory lookup and cannot be written', async () => {
  const store = await storesUnderTest()[0].open();
  const { contoso } = await twoTenants(store);
  const Adapter = payloadAdapter(store.forTenant(contoso), async (id) =>
    id === 'app-1' ? { client_id: 'app-1' } : undefined,
  );
  const clients = new Adapter('Client');
  assert.deepEqual(await clients.find('app-1'), { client_id: 'app-1' });
  assert.equal(await clients.find('app-2'), undefined);
  await assert.rejects(clients.upsert('app-3', { client_id: 'app-3' }, 0), /managed in the directory/);
});

for (const db of storesUnderTest()) {
  test(`oidc payload adapter (${db.name}): a grant's companion row comes with it within one request, and only then`, async (t) => {
    const clock = new ManualClock(NOW);
    const store = await db.open({ clock });
    const { contoso, fabrikam } = await twoTenants(store);
    const scope = store.forTenant(contoso);
    const Adapter = payloadAdapter(scope, noClients, { readAlong: { Grant: 'Context' } });
    const grants = new Adapter('Grant');
    const contexts = new Adapter('Context');
    /** Changes the stored companion behind the adapter's back, as another node would. */
    const rewrite = (id: string, payload: object) =>
      scope
        .updateTable('oidc_payloads', { payload: JSON.stringify(payload) })
        .where('model', '=', 'Context')
        .where('id', '=', id)
        .execute();

    const cases = [
      {
        name: "alice's grant: the context read with the grant answers the later find, not a second read",
        async run() {
          await grants.upsert('g-1', { accountId: 'alice' }, 3600);
          await contexts.upsert('g-1', { device: 'windows' }, 3600);
          await withRequestMemo(async () => {
            assert.equal((await grants.find('g-1'))?.accountId, 'alice');
            await rewrite('g-1', { device: 'changed after the grant was read' });
            assert.deepEqual(await contexts.find('g-1'), { device: 'windows' });
          });
        },
      },
      {
        name: 'outside a request every find reads the store',
        async run() {
          assert.ok(await grants.find('g-1'));
          assert.deepEqual(await contexts.find('g-1'), { device: 'changed after the grant was read' });
        },
      },
      {
        name: 'a new request reads again: nothing is kept between requests',
        async run() {
          await rewrite('g-1', { device: 'linux' });
          await withRequestMemo(async () => {
            await grants.find('g-1');
            assert.deepEqual(await contexts.find('g-1'), { device: 'linux' });
          });
        },
      },
      {
        name: 'a write of the context in the request drops what was kept (the find after it sees the write)',
        async run() {
          await withRequestMemo(async () => {
            await grants.find('g-1');
            await contexts.upsert('g-1', { device: 'macos' }, 3600);
            assert.deepEqual(await contexts.find('g-1'), { device: 'macos' });
            await grants.find('g-1');
            await contexts.destroy('g-1');
            assert.equal(await contexts.find('g-1'), undefined);
          });
        },
      },
      {
        name: 'a grant without a context, or no grant at all: the context is undefined',
        async run() {
          await grants.upsert('g-2', { accountId: 'bob' }, 3600);
          await withRequestMemo(async () => {
            assert.ok(await grants.find('g-2'));
            assert.equal(await contexts.find('g-2'), undefined);
            assert.equal(await grants.find('g-none'), undefined);
            assert.equal(await contexts.find('g-none'), undefined);
          });
        },
      },
      {
        name: 'an expired context read with its grant is still expired when asked for',
        async run() {
          await grants.upsert('g-3', { accountId: 'carol' }, 3600);
          await contexts.upsert('g-3', { device: 'ios' }, 10);
          await withRequestMemo(async () => {
            await grants.find('g-3');
            clock.advance(10_000);
            assert.equal(await contexts.find('g-3'), undefined);
          });
        },
      },
      {
        name: 'mallory at fabrikam reads no contoso context along with a grant of the same id',
        async run() {
          const Other = payloadAdapter(store.forTenant(fabrikam), noClients, { readAlong: { Grant: 'Context' } });
          await new Other('Grant').upsert('g-1', { accountId: 'mallory' }, 3600);
          await withRequestMemo(async () => {
            assert.equal((await new Other('Grant').find('g-1'))?.accountId, 'mallory');
            assert.equal(await new Other('Context').find('g-1'), undefined);
          });
        },
      },
    ];
    for (const c of cases) await t.test(c.name, c.run);
  });
}
