// Graph's users API (issue 6) over HTTPS with real client-credentials tokens: create with a password (hashed with
// argon2id, never echoed), read by id and user principal name, list with the OData subset and paging, update
// (sessions end on a new password or a disabled account), delete, memberOf; validation naming the field, the
// safeguards (a User Administrator cannot take over a Global Administrator; the last one cannot go), and an audit
// record for every change, written with the change or not at all.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { verifyPassword } from '../../src/auth/password-hash.ts';
import { PasswordCredentialRepository } from '../../src/auth/store/password-credentials.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import { GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR } from '../../src/directory/roles.ts';
import { Sessions } from '../../src/session/sessions.ts';
import { assertGraphError, type DirectoryServer, startDirectoryServer } from './directory-support.ts';

const PASSWORD = 'a long enough pass phrase 7';

describe('admin API: users', () => {
  let d: DirectoryServer;
  let dana: { id: string; userPrincipalName: string; createdDateTime: string };

  before(async () => {
    d = await startDirectoryServer();
  });
  after(async () => d?.close());

  const sessionsOf = async (userId: string) => new Sessions(d.scope).listForUser(userId);
  const signIn = (userId: string) => new Sessions(d.scope).create(userId, { amr: ['pwd'] });

  test('create dana with a password: 201 with Graph user, Location, no password; hashed with argon2id; audited', async () => {
    const created = await d.call('POST', '/users', {
      body: {
        accountEnabled: true,
        displayName: 'Dana Scully',
        mailNickname: 'dana',
        userPrincipalName: 'dana@contoso.example',
        mail: 'dana@contoso.example',
        passwordProfile: { forceChangePasswordNextSignIn: false, password: PASSWORD },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body['@odata.context'], `${d.graph}/$metadata#users/$entity`);
    assert.equal(created.headers.get('location'), `${d.graph}/users/${created.body.id}`);
    assert.deepEqual(Object.keys(created.body).sort(), [
      '@odata.context',
      'accountEnabled',
      'createdDateTime',
      'displayName',
      'id',
      'mail',
      'userPrincipalName',
      'userType',
    ]);
    assert.equal(created.body.userType, 'Member');
    assert.ok(!JSON.stringify(created.body).includes(PASSWORD), 'the password is not echoed');
    dana = created.body;

    const stored = await new PasswordCredentialRepository(d.scope).get(dana.id);
    assert.ok(stored?.phc.startsWith('$argon2id$'), 'an argon2id PHC string');
    assert.equal(await verifyPassword(stored?.phc ?? '', PASSWORD), true);

    const [record] = await d.audits('Add user');
    assert.equal(record.event.category, 'UserManagement');
    assert.equal(record.event.operationType, 'Add');
    assert.deepEqual(record.actor, {
      kind: 'application',
      id: d.server.automation.clientId,
      displayName: 'Contoso Automation',
    });
    assert.equal(record.event.targets[0].id, dana.id);
    assert.deepEqual(
      record.event.targets[0].modifiedProperties?.find((p) => p.displayName === 'displayName'),
      { displayName: 'displayName', oldValue: null, newValue: 'Dana Scully' },
    );
    assert.ok(!JSON.stringify(await d.audits()).includes(PASSWORD), 'the audit log never holds the password');
  });

  test('forceChangePasswordNextSignIn is accepted and the 201 says it is not enforced', async () => {
    const created = await d.call('POST', '/users', {
      body: {
        displayName: 'Erin',
        userPrincipalName: 'erin@contoso.example',
        passwordProfile: { forceChangePasswordNextSignIn: true, password: PASSWORD },
      },
    });
    assert.equal(created.status, 201);
    assert.match(created.body['@portcullis.warnings'][0], /^passwordProfile\.forceChangePasswordNextSignIn: /);
  });

  test('bad input: 400 Request_BadRequest naming the field, and nothing is written', async () => {
    const count = async () => (await directoryFor(d.scope).users.list({ top: 999 })).items.length;
    const audits = (await d.audits()).length;
    const users = await count();
    const cases: Array<{ name: string; body?: unknown; raw?: string; message: RegExp }> = [
      {
        name: 'the same user principal name in other letters',
        body: { displayName: 'Dana again', userPrincipalName: 'DANA@contoso.example' },
        message: /userPrincipalName: another user in this tenant already has 'DANA@contoso\.example'/,
      },
      {
        name: 'no display name',
        body: { userPrincipalName: 'frank@contoso.example' },
        message: /displayName: must be a string/,
      },
      {
        name: 'a name that is not alias@domain',
        body: { displayName: 'Frank', userPrincipalName: 'frank' },
        message: /userPrincipalName: 'frank' must look like alias@domain/,
      },
      {
        name: 'a short password',
        body: {
          displayName: 'Frank',
          userPrincipalName: 'frank@contoso.example',
          passwordProfile: { password: 'short' },
        },
        message: /passwordProfile\.password: the password must be at least 8 characters long/,
      },
      {
        name: 'the password is the user name',
        body: {
          displayName: 'Frank',
          userPrincipalName: 'frank.castle@contoso.example',
          passwordProfile: { password: 'frank.castle' },
        },
        message: /passwordProfile\.password: the password must not be your user name/,
      },
      {
        name: 'a property Portcullis does not keep',
        body: { displayName: 'Frank', userPrincipalName: 'frank@contoso.example', givenName: 'Frank' },
        message: /Property 'givenName' is not supported on type 'microsoft\.graph\.user'/,
      },
      {
        name: 'accountEnabled as text',
        body: { displayName: 'Frank', userPrincipalName: 'frank@contoso.example', accountEnabled: 'yes' },
        message: /accountEnabled: must be true or false but it is 'yes'/,
      },
      {
        name: 'userType other than Member or Guest',
        body: { displayName: 'Frank', userPrincipalName: 'frank@contoso.example', userType: 'Admin' },
        message: /userType: must be 'Member' or 'Guest'/,
      },
      { name: 'a JSON array', body: [], message: /must be a user as a JSON object/ },
      { name: 'not JSON', raw: '{"displayName":', message: /./ },
    ];
    for (const c of cases) {
      const answer = await d.call('POST', '/users', { body: c.body, raw: c.raw });
      assert.equal(answer.status, 400, `${c.name}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.error.message, c.message, c.name);
      if (c.raw === undefined) assert.equal(answer.body.error.code, 'Request_BadRequest', c.name);
    }
    assert.equal(await count(), users, 'no user was created');
    assert.equal((await d.audits()).length, audits, 'nothing was audited');
  });

  test('get by id and by user principal name (any case), $select; 404 Request_ResourceNotFound', async () => {
    const byId = await d.call('GET', `/users/${dana.id}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.userPrincipalName, 'dana@contoso.example');
    const byName = await d.call('GET', '/users/Dana@Contoso.example?$select=displayName,accountEnabled');
    assert.equal(byName.status, 200);
    assert.deepEqual(byName.body, {
      '@odata.context': `${d.graph}/$metadata#users(displayName,accountEnabled)/$entity`,
      displayName: 'Dana Scully',
      accountEnabled: true,
    });
    assertGraphError(
      await d.call('GET', '/users/nobody@contoso.example'),
      404,
      'Request_ResourceNotFound',
      /'nobody@contoso\.example' does not exist/,
    );
    assertGraphError(await d.call('GET', '/users?$orderby=displayName'), 400, 'invalidRequest', /\$orderby/);
  });

  test('list: $filter, $select and $top with @odata.nextLink through every user', async () => {
    for (const name of ['gina', 'hank', 'ivan']) {
      const answer = await d.call('POST', '/users', {
        body: { displayName: name, userPrincipalName: `${name}@fabrikam.example`, accountEnabled: name !== 'hank' },
      });
      assert.equal(answer.status, 201);
    }
    const cases = [
      {
        filter: "startswith(userPrincipalName,'G') or userPrincipalName eq 'ivan@fabrikam.example'",
        expect: ['gina', 'ivan'],
      },
      { filter: 'accountEnabled eq false', expect: ['hank'] },
      {
        filter: `createdDateTime ge ${dana.createdDateTime} and startswith(displayName,'Dana')`,
        expect: ['Dana Scully'],
      },
    ];
    for (const c of cases) {
      const page = await d.call('GET', `/users?$filter=${encodeURIComponent(c.filter)}&$select=displayName`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.deepEqual(page.body.value.map((u: { displayName: string }) => u.displayName).sort(), c.expect, c.filter);
      assert.deepEqual(Object.keys(page.body.value[0]), ['displayName']);
    }

    const all = (await directoryFor(d.scope).users.list({ top: 999 })).items.map((u) => u.id).sort();
    const seen: string[] = [];
    let next: string | undefined = `${d.graph}/users?$top=2&$select=id`;
    let pages = 0;
    while (next) {
      const page = await d.call('GET', next);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.value.length <= 2);
      seen.push(...page.body.value.map((u: { id: string }) => u.id));
      next = page.body['@odata.nextLink'];
      pages++;
    }
    assert.deepEqual(seen, all, 'every user once, in id order');
    assert.equal(pages, Math.ceil(all.length / 2));

    // A filtered page that ends where the filter's matches end has no next link.
    const two = await d.call('GET', `/users?$top=2&$filter=${encodeURIComponent("endswith(mail,'x')")}`);
    assertGraphError(two, 400, 'invalidRequest', /endswith/);
  });

  test('update: 204; old and new values audited; a new password and a disabled account end the sessions', async () => {
    await signIn(dana.id);
    const renamed = await d.call('PATCH', `/users/${dana.id}`, { body: { displayName: 'Dana K. Scully', mail: null } });
    assert.equal(renamed.status, 204);
    assert.equal(renamed.body, undefined);
    const read = await d.call('GET', `/users/${dana.id}`);
    assert.equal(read.body.displayName, 'Dana K. Scully');
    assert.equal(read.body.mail, null);
    const [update] = await d.audits('Update user');
    assert.deepEqual(update.event.targets[0].modifiedProperties, [
      { displayName: 'displayName', oldValue: 'Dana Scully', newValue: 'Dana K. Scully' },
      { displayName: 'mail', oldValue: 'dana@contoso.example', newValue: null },
    ]);
    assert.equal((await sessionsOf(dana.id)).filter((s) => s.live).length, 1, 'a rename leaves the session');

    const newPassword = 'another long pass phrase 8';
    const reset = await d.call('PATCH', `/users/dana@contoso.example`, {
      body: { passwordProfile: { password: newPassword } },
    });
    assert.equal(reset.status, 204, JSON.stringify(reset.body));
    const stored = await new PasswordCredentialRepository(d.scope).get(dana.id);
    assert.equal(await verifyPassword(stored?.phc ?? '', newPassword), true);
    assert.equal((await sessionsOf(dana.id)).filter((s) => s.live).length, 0, 'the reset ended the session');
    assert.equal((await d.audits('Reset user password')).length, 1);
    assert.ok(!JSON.stringify(await d.audits()).includes(newPassword));

    await signIn(dana.id);
    assert.equal((await d.call('PATCH', `/users/${dana.id}`, { body: { accountEnabled: false } })).status, 204);
    assert.equal((await sessionsOf(dana.id)).filter((s) => s.live).length, 0, 'disabling ended the session');
    assert.equal((await d.call('GET', `/users/${dana.id}`)).body.accountEnabled, false);

    assertGraphError(
      await d.call('PATCH', `/users/${dana.id}`, { body: { passwordProfile: {} } }),
      400,
      'Request_BadRequest',
      /passwordProfile\.password: give the new password/,
    );
    assertGraphError(
      await d.call('PATCH', `/users/${dana.id}`, { body: { userPrincipalName: 'gina@fabrikam.example' } }),
      400,
      'Request_BadRequest',
      /userPrincipalName: another user in this tenant already has/,
    );
    assertGraphError(await d.call('PATCH', '/users/nobody', { body: {} }), 404, 'Request_ResourceNotFound');
  });

  test('memberOf: the groups and directory roles the user is directly in, with @odata.type', async () => {
    const directory = directoryFor(d.scope);
    const outer = await directory.groups.create({ displayName: 'Outer' });
    const inner = await directory.groups.create({ displayName: 'Inner' });
    await directory.groups.addMember(outer.id, { type: 'group', id: inner.id });
    await directory.groups.addMember(inner.id, { type: 'user', id: dana.id });
    await directory.roles.assign(dana.id, USER_ADMINISTRATOR);
    const answer = await d.call('GET', `/users/${dana.id}/memberOf`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body['@odata.context'], `${d.graph}/$metadata#directoryObjects`);
    const shown = answer.body.value.map((o: { '@odata.type': string; displayName: string }) => [
      o['@odata.type'],
      o.displayName,
    ]);
    assert.deepEqual(shown.sort(), [
      ['#microsoft.graph.directoryRole', 'User Administrator'],
      ['#microsoft.graph.group', 'Inner'],
    ]);
    const role = answer.body.value.find((o: { roleTemplateId?: string }) => o.roleTemplateId);
    assert.equal(role.roleTemplateId, USER_ADMINISTRATOR);
    const groupsOnly = await d.call(
      'GET',
      `/users/${dana.id}/memberOf?$filter=${encodeURIComponent("isof('microsoft.graph.group')")}`,
    );
    assert.deepEqual(
      groupsOnly.body.value.map((o: { displayName: string }) => o.displayName),
      ['Inner'],
    );
    assertGraphError(await d.call('GET', '/users/nobody/memberOf'), 404, 'Request_ResourceNotFound');
  });

  test('a User Administrator cannot change or delete a Global Administrator; a Global Administrator can', async () => {
    const directory = directoryFor(d.scope);
    const boss = await directory.users.create({ userPrincipalName: 'boss@contoso.example', displayName: 'Boss' });
    await directory.roles.assign(boss.id, GLOBAL_ADMINISTRATOR);
    const userAdmin = await d.tokenFor([USER_ADMINISTRATOR]);
    for (const [method, body] of [
      ['PATCH', { passwordProfile: { password: 'taken over pass phrase' } }],
      ['PATCH', { accountEnabled: false }],
      ['DELETE', undefined],
    ] as const) {
      assertGraphError(
        await d.call(method, `/users/${boss.id}`, { token: userAdmin, body }),
        403,
        'Authorization_RequestDenied',
        /holds Global Administrator, and only a Global Administrator can change such a user/,
      );
    }
    assert.equal(await new PasswordCredentialRepository(d.scope).get(boss.id), undefined, 'no password was set');
    // dana holds User Administrator, which a User Administrator may change.
    assert.equal(
      (await d.call('PATCH', `/users/${dana.id}`, { token: userAdmin, body: { accountEnabled: true } })).status,
      204,
    );
    assert.equal((await d.call('PATCH', `/users/${boss.id}`, { body: { displayName: 'The Boss' } })).status, 204);
  });

  test('the only enabled Global Administrator can be neither disabled nor deleted', async () => {
    const directory = directoryFor(d.scope);
    const admins = await directory.roles.list({ roleDefinitionId: GLOBAL_ADMINISTRATOR });
    assert.equal(admins.length, 1, 'boss is the only one');
    const boss = admins[0].principalId;
    assertGraphError(
      await d.call('PATCH', `/users/${boss}`, { body: { accountEnabled: false } }),
      400,
      'Request_BadRequest',
      /only enabled Global Administrator/,
    );
    assertGraphError(
      await d.call('DELETE', `/users/${boss}`),
      400,
      'Request_BadRequest',
      /only enabled Global Administrator/,
    );
    assert.equal((await directory.users.get(boss))?.accountEnabled, true);
  });

  test('a change whose audit record cannot be written is not made (500, and the user is still there)', async () => {
    d.audit.failOn = 'Delete user';
    try {
      const answer = await d.call('DELETE', `/users/${dana.id}`);
      assert.equal(answer.status, 500);
      assert.ok(await directoryFor(d.scope).users.get(dana.id), 'dana was not deleted');
      assert.equal((await d.audits('Delete user')).length, 0);
    } finally {
      d.audit.failOn = undefined;
    }
  });

  test('delete: 204, then 404; sessions ended; audited with the old values', async () => {
    await signIn(dana.id);
    assert.equal((await d.call('DELETE', `/users/${dana.id}`)).status, 204);
    assertGraphError(await d.call('GET', `/users/${dana.id}`), 404, 'Request_ResourceNotFound');
    assertGraphError(await d.call('DELETE', `/users/${dana.id}`), 404, 'Request_ResourceNotFound');
    assert.deepEqual(await sessionsOf(dana.id), []);
    const [record] = await d.audits('Delete user');
    assert.equal(record.event.targets[0].userPrincipalName, 'dana@contoso.example');
    assert.deepEqual(
      record.event.targets[0].modifiedProperties?.find((p) => p.displayName === 'userPrincipalName'),
      { displayName: 'userPrincipalName', oldValue: 'dana@contoso.example', newValue: null },
    );
  });
});
