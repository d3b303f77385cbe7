// Graph's groups API (issue 6) over HTTPS with real client-credentials tokens: security groups (create, read, list,
// update, delete), members by Graph's `$ref` (users and nested groups, with the errors Graph gives and a refusal of
// cycles), `members@odata.bind` on create, and the audit records of every change (Entra's activity names).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { directoryFor } from '../../src/directory/directory.ts';
import { assertGraphError, type DirectoryServer, startDirectoryServer } from './directory-support.ts';

const MICROSOFT = 'https://graph.microsoft.com/v1.0';

describe('admin API: groups and members', () => {
  let d: DirectoryServer;
  let bob: string;
  let staff: { id: string; displayName: string };
  let admins: { id: string };
  let leads: { id: string };

  before(async () => {
    d = await startDirectoryServer();
    bob = d.server.bob;
  });
  after(async () => d?.close());

  const memberNames = async (groupId: string) =>
    (await d.call('GET', `/groups/${groupId}/members`)).body.value.map(
      (m: { '@odata.type': string; displayName: string }) => `${m['@odata.type']} ${m.displayName}`,
    );

  test('create security groups: 201 with Graph group; members@odata.bind adds members in the same change', async () => {
    const created = await d.call('POST', '/groups', {
      body: {
        displayName: 'Staff',
        description: 'Everyone',
        mailEnabled: false,
        mailNickname: 'staff',
        securityEnabled: true,
        groupTypes: [],
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body['@odata.context'], `${d.graph}/$metadata#groups/$entity`);
    assert.equal(created.headers.get('location'), `${d.graph}/groups/${created.body.id}`);
    assert.equal(created.body.securityEnabled, true);
    assert.equal(created.body.mailEnabled, false);
    assert.deepEqual(created.body.groupTypes, []);
    staff = created.body;

    admins = (await d.call('POST', '/groups', { body: { displayName: 'Admins', mailNickname: 'admins' } })).body;
    const withMembers = await d.call('POST', '/groups', {
      body: {
        displayName: 'Leads',
        mailEnabled: false,
        mailNickname: 'leads',
        securityEnabled: true,
        'members@odata.bind': [`${MICROSOFT}/directoryObjects/${bob}`, `${MICROSOFT}/groups/${admins.id}`],
      },
    });
    assert.equal(withMembers.status, 201, JSON.stringify(withMembers.body));
    leads = withMembers.body;
    assert.deepEqual((await memberNames(leads.id)).sort(), [
      '#microsoft.graph.group Admins',
      '#microsoft.graph.user Bob',
    ]);
    assert.deepEqual(
      (await d.audits()).map((r) => r.event.activityDisplayName),
      ['Add group', 'Add group', 'Add group', 'Add member to group', 'Add member to group'],
    );
  });

  test('bad groups: 400 naming the field, nothing written', async () => {
    const before = (await directoryFor(d.scope).groups.list({ top: 999 })).items.length;
    const cases: Array<{ body: unknown; message: RegExp }> = [
      { body: { mailNickname: 'x' }, message: /displayName: must be a string/ },
      {
        body: { displayName: 'M365', groupTypes: ['Unified'] },
        message: /groupTypes: Portcullis groups are security groups/,
      },
      { body: { displayName: 'Mail', mailEnabled: true }, message: /mailEnabled: .* must be false/ },
      { body: { displayName: 'Dist', securityEnabled: false }, message: /securityEnabled: .* must be true/ },
      { body: { displayName: 'Roles', isAssignableToRole: true }, message: /isAssignableToRole/ },
      { body: { displayName: 'Visible', visibility: 'Private' }, message: /Property 'visibility' is not supported/ },
      {
        body: { displayName: 'Ghosts', 'members@odata.bind': [`${MICROSOFT}/directoryObjects/no-such-object`] },
        message: /members@odata\.bind\[0\]: 'no-such-object' is not a user or group of this tenant/,
      },
      { body: { displayName: 'x'.repeat(257) }, message: /displayName: must be at most 256 characters/ },
    ];
    for (const c of cases) {
      assertGraphError(await d.call('POST', '/groups', { body: c.body }), 400, 'Request_BadRequest', c.message);
    }
    assert.equal((await directoryFor(d.scope).groups.list({ top: 999 })).items.length, before);
  });

  test('members/$ref: add a user and a nested group (204); duplicates, strangers, cycles and bad references are 400', async () => {
    const add = (groupId: string, ref: unknown) => d.call('POST', `/groups/${groupId}/members/$ref`, { body: ref });
    assert.equal((await add(staff.id, { '@odata.id': `${MICROSOFT}/directoryObjects/${bob}` })).status, 204);
    // Our own Graph base URL names objects too.
    assert.equal((await add(staff.id, { '@odata.id': `${d.graph}/directoryObjects/${leads.id}` })).status, 204);
    assert.deepEqual((await memberNames(staff.id)).sort(), [
      '#microsoft.graph.group Leads',
      '#microsoft.graph.user Bob',
    ]);
    const [record] = (await d.audits('Add member to group')).slice(-2);
    assert.equal(record.event.operationType, 'Assign');
    assert.deepEqual(
      record.event.targets.map((t) => [t.type, t.id]),
      [
        ['User', bob],
        ['Group', staff.id],
      ],
    );
    assert.deepEqual(record.event.targets[0].modifiedProperties?.[0], {
      displayName: 'Group.ObjectID',
      oldValue: null,
      newValue: staff.id,
    });

    const audits = (await d.audits()).length;
    const cases: Array<{ name: string; group?: string; ref: unknown; message: RegExp }> = [
      {
        name: 'already a member',
        ref: { '@odata.id': `${MICROSOFT}/directoryObjects/${bob}` },
        message: /added object references already exist for the following modified properties: 'members'/,
      },
      {
        name: 'an id from another tenant or nowhere',
        ref: { '@odata.id': `${MICROSOFT}/directoryObjects/3f2504e0-4f89-11d3-9a0c-0305e82c3301` },
        message: /@odata\.id: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' is not a user or group of this tenant/,
      },
      {
        name: 'a group as a user',
        ref: { '@odata.id': `${MICROSOFT}/users/${admins.id}` },
        message: /is not a user of this tenant/,
      },
      {
        name: 'an application',
        ref: { '@odata.id': `${MICROSOFT}/applications/${admins.id}` },
        message: /does not name a directory object/,
      },
      { name: 'not a URL', ref: { '@odata.id': bob }, message: /@odata\.id: .* is not an absolute URL/ },
      { name: 'no @odata.id', ref: { id: bob }, message: /@odata\.id: must be the URL of a directory object/ },
      {
        name: 'a group into itself',
        ref: { '@odata.id': `${MICROSOFT}/directoryObjects/${staff.id}` },
        message: /would make a cycle of nested groups/,
      },
      {
        // staff ⊃ leads ⊃ admins: admins ⊃ staff would close the circle.
        name: 'a cycle through two levels',
        group: admins.id,
        ref: { '@odata.id': `${MICROSOFT}/directoryObjects/${staff.id}` },
        message: /adding the group 'Staff' to 'Admins' would make a cycle/,
      },
    ];
    for (const c of cases) {
      assertGraphError(await add(c.group ?? staff.id, c.ref), 400, 'Request_BadRequest', c.message);
    }
    assertGraphError(
      await add('no-such-group', { '@odata.id': `${MICROSOFT}/directoryObjects/${bob}` }),
      404,
      'Request_ResourceNotFound',
    );
    assert.equal((await d.audits()).length, audits, 'nothing was audited');
    assert.deepEqual(await directoryFor(d.scope).groups.members(admins.id), [], 'admins gained no member');
  });

  test('members: $top paging and $filter with isof', async () => {
    const first = await d.call('GET', `/groups/${staff.id}/members?$top=1&$select=id`);
    assert.equal(first.status, 200);
    assert.equal(first.body.value.length, 1);
    assert.ok(first.body['@odata.nextLink']);
    const second = await d.call('GET', first.body['@odata.nextLink']);
    assert.equal(second.body.value.length, 1);
    assert.equal(second.body['@odata.nextLink'], undefined);
    assert.deepEqual([first.body.value[0].id, second.body.value[0].id].sort(), [bob, leads.id].sort());
    const users = await d.call(
      'GET',
      `/groups/${staff.id}/members?$filter=${encodeURIComponent("isof('microsoft.graph.user')")}`,
    );
    assert.deepEqual(
      users.body.value.map((m: { id: string }) => m.id),
      [bob],
    );
    assertGraphError(await d.call('GET', '/groups/no-such-group/members'), 404, 'Request_ResourceNotFound');
  });

  test('remove a member by $ref: 204, then 404; audited', async () => {
    assert.equal((await d.call('DELETE', `/groups/${staff.id}/members/${bob}/$ref`)).status, 204);
    assert.deepEqual(await memberNames(staff.id), ['#microsoft.graph.group Leads']);
    assertGraphError(
      await d.call('DELETE', `/groups/${staff.id}/members/${bob}/$ref`),
      404,
      'Request_ResourceNotFound',
    );
    const [record] = await d.audits('Remove member from group');
    assert.equal(record.event.operationType, 'Unassign');
    assert.deepEqual(record.event.targets[0].modifiedProperties?.[0], {
      displayName: 'Group.ObjectID',
      oldValue: staff.id,
      newValue: null,
    });
  });

  test('get, list with $filter, update (204, audited with old and new values), delete (204)', async () => {
    const read = await d.call('GET', `/groups/${staff.id}?$select=displayName,description`);
    assert.deepEqual(read.body, {
      '@odata.context': `${d.graph}/$metadata#groups(displayName,description)/$entity`,
      displayName: 'Staff',
      description: 'Everyone',
    });
    const listed = await d.call(
      'GET',
      `/groups?$filter=${encodeURIComponent("startswith(displayName,'l') or displayName eq 'staff'")}`,
    );
    assert.deepEqual(listed.body.value.map((g: { displayName: string }) => g.displayName).sort(), ['Leads', 'Staff']);

    assert.equal((await d.call('PATCH', `/groups/${staff.id}`, { body: { description: 'All staff' } })).status, 204);
    assert.equal((await d.call('GET', `/groups/${staff.id}`)).body.description, 'All staff');
    const [update] = await d.audits('Update group');
    assert.deepEqual(update.event.targets[0].modifiedProperties, [
      { displayName: 'description', oldValue: 'Everyone', newValue: 'All staff' },
    ]);
    assertGraphError(
      await d.call('PATCH', `/groups/${staff.id}`, { body: { groupTypes: ['DynamicMembership'] } }),
      400,
      'Request_BadRequest',
      /groupTypes/,
    );
    assertGraphError(await d.call('PATCH', '/groups/no-such-group', { body: {} }), 404, 'Request_ResourceNotFound');

    assert.equal((await d.call('DELETE', `/groups/${leads.id}`)).status, 204);
    assertGraphError(await d.call('GET', `/groups/${leads.id}`), 404, 'Request_ResourceNotFound');
    assert.deepEqual(await memberNames(staff.id), [], 'a deleted group leaves the groups it was in');
    assert.equal((await d.audits('Delete group')).length, 1);
  });
});
