// Graph's role management (admin/role-management.ts) over HTTPS with real tokens: the built-in role definitions, a
// Global Administrator giving bob a role (which takes effect at bob's next request) and taking it back, audited;
// bad assignments named by field; the last enabled Global Administrator kept; and who may read and change roles.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { directoryFor } from '../../src/directory/directory.ts';
import {
  APPLICATION_ADMINISTRATOR,
  BUILT_IN_ROLES,
  CONDITIONAL_ACCESS_ADMINISTRATOR,
  GLOBAL_ADMINISTRATOR,
  REPORTS_READER,
  SECURITY_ADMINISTRATOR,
  SECURITY_READER,
  USER_ADMINISTRATOR,
} from '../../src/directory/roles.ts';
import { assertGraphError, type DirectoryServer, startDirectoryServer } from './directory-support.ts';

const ASSIGNMENTS = '/roleManagement/directory/roleAssignments';

describe('admin API: role management', () => {
  let d: DirectoryServer;
  let bobAssignment: string;

  before(async () => {
    d = await startDirectoryServer();
  });
  after(async () => d?.close());

  test('role definitions: the seven built-in roles with Entra template ids', async () => {
    const list = await d.call('GET', '/roleManagement/directory/roleDefinitions');
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.value.map((r: { id: string }) => r.id).sort(), BUILT_IN_ROLES.map((r) => r.id).sort());
    const one = await d.call('GET', `/roleManagement/directory/roleDefinitions/${SECURITY_READER}?$select=displayName`);
    assert.equal(one.status, 200);
    assert.equal(one.body.displayName, 'Security Reader');
    assert.equal(one.body.isBuiltIn, undefined, '$select keeps only what it names');
    assertGraphError(
      await d.call('GET', '/roleManagement/directory/roleDefinitions/00000000-0000-0000-0000-000000000000'),
      404,
      'Request_ResourceNotFound',
    );
  });

  test('a Global Administrator makes bob a Security Reader: 201, listed, audited, and bob can read', async () => {
    const created = await d.call('POST', ASSIGNMENTS, {
      body: { principalId: d.server.bob, roleDefinitionId: SECURITY_READER, directoryScopeId: '/' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(
      { principalId: created.body.principalId, roleDefinitionId: created.body.roleDefinitionId },
      { principalId: d.server.bob, roleDefinitionId: SECURITY_READER },
    );
    assert.equal(created.headers.get('location'), `${d.graph}${ASSIGNMENTS}/${created.body.id}`);
    bobAssignment = created.body.id;
    assert.deepEqual(await directoryFor(d.scope).roles.rolesOf(d.server.bob), [SECURITY_READER]);

    const filtered = await d.call('GET', `${ASSIGNMENTS}?$filter=principalId eq '${d.server.bob}'`);
    assert.equal(filtered.status, 200);
    assert.deepEqual(
      filtered.body.value.map((a: { id: string }) => a.id),
      [bobAssignment],
    );
    const [record] = await d.audits('Add member to role');
    assert.equal(record.event.category, 'RoleManagement');
    assert.equal(record.event.targets[0].id, d.server.bob);
    assert.deepEqual(
      record.event.targets[0].modifiedProperties?.map((p) => [p.displayName, p.newValue]),
      [
        ['Role.DisplayName', 'Security Reader'],
        ['Role.TemplateId', SECURITY_READER],
      ],
    );
  });

  test('applications (by object id) get and lose roles too: their client-credential tokens follow at once', async () => {
    const directory = directoryFor(d.scope);
    const automation = await directory.applications.getByAppId(d.server.automation.clientId);
    assert.ok(automation);
    const listed = await d.call('GET', `${ASSIGNMENTS}?$filter=principalId eq '${automation.id}'`);
    assert.deepEqual(
      listed.body.value.map((a: { roleDefinitionId: string }) => a.roleDefinitionId),
      [GLOBAL_ADMINISTRATOR],
      "init's automation client is listed as a Global Administrator",
    );

    const made = await directory.applications.create({
      displayName: 'Reporting job',
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    const job = await d.clientToken(made.application.appId, made.secretText ?? '');
    assert.equal((await d.call('GET', ASSIGNMENTS, { token: job })).status, 403);
    const given = await d.call('POST', ASSIGNMENTS, {
      body: { principalId: made.application.id, roleDefinitionId: REPORTS_READER },
    });
    assert.equal(given.status, 201, JSON.stringify(given.body));
    assert.equal(given.body.principalId, made.application.id);
    assert.equal((await d.call('GET', `${ASSIGNMENTS}/${given.body.id}`)).body.roleDefinitionId, REPORTS_READER);
    assert.equal((await d.call('GET', ASSIGNMENTS, { token: job })).status, 200, 'the role holds at once');
    const [record] = (await d.audits('Add member to role')).filter(
      (r) => r.event.targets[0].id === made.application.id,
    );
    assert.equal(record.event.targets[0].type, 'Application');

    assert.equal((await d.call('DELETE', `${ASSIGNMENTS}/${given.body.id}`)).status, 204);
    assert.equal((await d.call('GET', ASSIGNMENTS, { token: job })).status, 403, 'and goes at once');
    assert.equal((await d.call('DELETE', `${ASSIGNMENTS}/${given.body.id}`)).status, 404);

    // Deleting an application takes its roles with it.
    const again = await d.call('POST', ASSIGNMENTS, {
      body: { principalId: made.application.id, roleDefinitionId: SECURITY_READER },
    });
    assert.equal(again.status, 201);
    assert.equal((await d.call('DELETE', `/applications/${made.application.id}`)).status, 204);
    const after = await d.call('GET', ASSIGNMENTS);
    assert.equal(
      after.body.value.some((a: { principalId: string }) => a.principalId === made.application.id),
      false,
    );
  });

  test('bad assignments: 400 naming the field, nothing written', async () => {
    const before = await directoryFor(d.scope).roles.list();
    const cases: Array<[object, RegExp]> = [
      [{ principalId: d.server.bob, roleDefinitionId: 'not-a-role' }, /roleDefinitionId/],
      [{ principalId: 'nobody', roleDefinitionId: SECURITY_READER }, /principalId: there is no user or application/],
      [{ roleDefinitionId: SECURITY_READER }, /principalId/],
      [
        { principalId: d.server.bob, roleDefinitionId: REPORTS_READER, directoryScopeId: '/administrativeUnits/x' },
        /directoryScopeId/,
      ],
      [{ principalId: d.server.bob, roleDefinitionId: REPORTS_READER, condition: 'x' }, /condition/],
      [{ principalId: d.server.bob, roleDefinitionId: SECURITY_READER }, /already holds Security Reader/],
    ];
    for (const [body, message] of cases) {
      assertGraphError(await d.call('POST', ASSIGNMENTS, { body }), 400, 'Request_BadRequest', message);
    }
    assert.deepEqual(await directoryFor(d.scope).roles.list(), before);
  });

  test('the last enabled Global Administrator keeps the role', async () => {
    const directory = directoryFor(d.scope);
    const dana = await directory.users.create({ userPrincipalName: 'dana@contoso.example', displayName: 'Dana' });
    const given = await d.call('POST', ASSIGNMENTS, {
      body: { principalId: dana.id, roleDefinitionId: GLOBAL_ADMINISTRATOR },
    });
    assert.equal(given.status, 201);
    assertGraphError(
      await d.call('DELETE', `${ASSIGNMENTS}/${given.body.id}`),
      400,
      'Request_BadRequest',
      /only enabled Global Administrator/,
    );
    const erin = await directory.users.create({ userPrincipalName: 'erin@contoso.example', displayName: 'Erin' });
    const second = await d.call('POST', ASSIGNMENTS, {
      body: { principalId: erin.id, roleDefinitionId: GLOBAL_ADMINISTRATOR },
    });
    assert.equal(second.status, 201);
    assert.equal((await d.call('DELETE', `${ASSIGNMENTS}/${given.body.id}`)).status, 204);
    assert.deepEqual(await directory.roles.rolesOf(dana.id), []);

    // Two removals at once, each leaving the other: one of them must lose.
    const again = await d.call('POST', ASSIGNMENTS, {
      body: { principalId: dana.id, roleDefinitionId: GLOBAL_ADMINISTRATOR },
    });
    assert.equal(again.status, 201);
    const statuses = (
      await Promise.all([
        d.call('DELETE', `${ASSIGNMENTS}/${again.body.id}`),
        d.call('DELETE', `${ASSIGNMENTS}/${second.body.id}`),
      ])
    )
      .map((a) => a.status)
      .sort();
    assert.deepEqual(statuses, [204, 400]);
    const holders = await directory.roles.list({ roleDefinitionId: GLOBAL_ADMINISTRATOR });
    assert.equal(holders.filter((h) => h.principalId === dana.id || h.principalId === erin.id).length, 1);
  });

  test('who may read and change role assignments', async () => {
    const readers = [
      GLOBAL_ADMINISTRATOR,
      USER_ADMINISTRATOR,
      SECURITY_ADMINISTRATOR,
      CONDITIONAL_ACCESS_ADMINISTRATOR,
      SECURITY_READER,
      REPORTS_READER,
    ];
    for (const role of [...BUILT_IN_ROLES.map((r) => r.id), undefined]) {
      const token = await d.tokenFor(role === undefined ? [] : [role]);
      const read = await d.call('GET', ASSIGNMENTS, { token });
      assert.equal(read.status, role !== undefined && readers.includes(role) ? 200 : 403, `read as ${role}`);
      const add = await d.call('POST', ASSIGNMENTS, {
        token,
        body: { principalId: d.server.bob, roleDefinitionId: APPLICATION_ADMINISTRATOR },
      });
      const remove = await d.call('DELETE', `${ASSIGNMENTS}/${bobAssignment}`, { token });
      if (role === GLOBAL_ADMINISTRATOR) {
        assert.equal(add.status, 201, JSON.stringify(add.body));
        assert.equal(remove.status, 204);
      } else {
        assertGraphError(add, 403, 'Authorization_RequestDenied', /Global Administrator/);
        assertGraphError(remove, 403, 'Authorization_RequestDenied');
      }
    }
    assert.deepEqual(await directoryFor(d.scope).roles.rolesOf(d.server.bob), [APPLICATION_ADMINISTRATOR]);
    assert.equal(
      (await d.audits('Remove member from role')).some((r) => r.event.targets[0].id === d.server.bob),
      true,
    );
  });
});
