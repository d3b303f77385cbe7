// Users and groups driven by Microsoft's own Graph client (`@microsoft/microsoft-graph-client`, unmodified) against a
// tenant's Graph base URL, with the server's own directory audit log (as start.ts wires it): create a user with a
// password, find it with $filter, page with the client's PageIterator, update, create a group, add and remove
// members by $ref, read members and memberOf, delete; Graph errors arrive as GraphError with Entra's codes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AuthenticationProvider, Client, GraphError, PageIterator } from '@microsoft/microsoft-graph-client';
import * as client from 'openid-client';
import { ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import { type HttpsPortcullis, startHttpsPortcullis } from './https-server.ts';

describe('users and groups through the Microsoft Graph client', () => {
  let server: HttpsPortcullis;
  let graph: Client;

  async function graphError(promise: Promise<unknown>): Promise<GraphError> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof GraphError, `a GraphError, not ${error}`);
      return error;
    }
    assert.fail('the request succeeded');
  }

  before(async () => {
    server = await startHttpsPortcullis();
    const config = await client.discovery(
      new URL(server.issuer),
      server.automation.clientId,
      server.automation.clientSecret,
    );
    const token = (await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE })).access_token;
    const authProvider: AuthenticationProvider = { getAccessToken: async () => token };
    graph = Client.initWithMiddleware({
      authProvider,
      baseUrl: `${server.issuer}/graph/`,
      defaultVersion: 'v1.0',
      customHosts: new Set(['127.0.0.1']),
    });
  });
  after(async () => server?.close());

  let kim: { id: string; userPrincipalName: string };
  let team: { id: string };

  test('create users (Graph docs example body), find one with $filter, page through all with PageIterator', async () => {
    kim = await graph.api('/users').post({
      accountEnabled: true,
      displayName: 'Kim Akers',
      mailNickname: 'kima',
      userPrincipalName: 'kim@contoso.example',
      passwordProfile: { forceChangePasswordNextSignIn: false, password: 'xWwvJ]6NMw+bWH-d' },
    });
    assert.match(kim.id, /^[0-9a-f-]{36}$/);
    for (const name of ['lee', 'max']) {
      await graph
        .api('/users')
        .post({ accountEnabled: true, displayName: name, userPrincipalName: `${name}@contoso.example` });
    }
    const found = await graph
      .api('/users')
      .filter("userPrincipalName eq 'KIM@contoso.example'")
      .select(['id', 'displayName'])
      .get();
    assert.deepEqual(found.value, [{ id: kim.id, displayName: 'Kim Akers' }]);

    const first = await graph.api('/users').top(1).get();
    const names: string[] = [];
    await new PageIterator(graph, first, (u: { userPrincipalName: string }) => {
      names.push(u.userPrincipalName);
      return true;
    }).iterate();
    assert.deepEqual(names.sort(), [
      'bob@contoso.example',
      'kim@contoso.example',
      'lee@contoso.example',
      'max@contoso.example',
    ]);
  });

  test('update a user; the same name again is a GraphError 400 naming userPrincipalName', async () => {
    await graph.api(`/users/${kim.id}`).update({ displayName: 'Kim A.', accountEnabled: false });
    const read = await graph.api(`/users/${kim.userPrincipalName}`).get();
    assert.equal(read.displayName, 'Kim A.');
    assert.equal(read.accountEnabled, false);
    const taken = await graphError(
      graph.api('/users').post({ displayName: 'Kim 2', userPrincipalName: 'Kim@contoso.example' }),
    );
    assert.equal(taken.statusCode, 400);
    assert.equal(taken.code, 'Request_BadRequest');
    assert.match(taken.message, /userPrincipalName: another user in this tenant already has/);
  });

  test('a group with members by $ref: members, memberOf, remove; errors as GraphError', async () => {
    team = await graph
      .api('/groups')
      .post({ displayName: 'Team', mailEnabled: false, mailNickname: 'team', securityEnabled: true });
    const inner = await graph
      .api('/groups')
      .post({ displayName: 'Inner', mailEnabled: false, mailNickname: 'inner', securityEnabled: true });
    await graph
      .api(`/groups/${team.id}/members/$ref`)
      .post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${kim.id}` });
    await graph
      .api(`/groups/${team.id}/members/$ref`)
      .post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${inner.id}` });

    const members = await graph.api(`/groups/${team.id}/members`).get();
    assert.deepEqual(
      members.value.map((m: { '@odata.type': string; id: string }) => [m['@odata.type'], m.id]).sort(),
      [
        ['#microsoft.graph.group', inner.id],
        ['#microsoft.graph.user', kim.id],
      ].sort(),
    );
    const memberOf = await graph.api(`/users/${kim.id}/memberOf`).get();
    assert.deepEqual(
      memberOf.value.map((g: { displayName: string }) => g.displayName),
      ['Team'],
    );

    const cycle = await graphError(
      graph
        .api(`/groups/${inner.id}/members/$ref`)
        .post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${team.id}` }),
    );
    assert.equal(cycle.statusCode, 400);
    assert.match(cycle.message, /cycle of nested groups/);

    await graph.api(`/groups/${team.id}/members/${kim.id}/$ref`).delete();
    assert.deepEqual((await graph.api(`/users/${kim.id}/memberOf`).get()).value, []);
    const gone = await graphError(graph.api(`/groups/${team.id}/members/${kim.id}/$ref`).delete());
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.code, 'Request_ResourceNotFound');
  });

  test('delete the user and the group; reading them again is Request_ResourceNotFound', async () => {
    await graph.api(`/users/${kim.id}`).delete();
    await graph.api(`/groups/${team.id}`).delete();
    for (const path of [`/users/${kim.id}`, `/groups/${team.id}`]) {
      const missing = await graphError(graph.api(path).get());
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.code, 'Request_ResourceNotFound');
    }
  });
});
