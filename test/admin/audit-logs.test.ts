// The audit log API over HTTPS with real tokens: admin changes made through the API appear in
// /auditLogs/directoryAudits as Graph's directoryAudit (who, what, old and new values), refused changes leave no
// record, the chain verifies; /auditLogs/signIns serves the sign-in log with Graph's filters; $top/$select/$filter and
// @odata.nextLink paging; and the role matrix: only the roles Entra lets read logs may read them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { MAX_SCAN } from '../../src/admin/audit-logs.ts';
import { assignApplicationRole } from '../../src/admin/auth.ts';
import { DirectoryAuditRepository } from '../../src/audit/directory-audit.ts';
import { ChainWalk } from '../../src/audit/directory-audit-chain.ts';
import { type SignInLogInput, SignInLogRepository, StoreSignInLog } from '../../src/audit/sign-in-log.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import {
  APPLICATION_ADMINISTRATOR,
  CONDITIONAL_ACCESS_ADMINISTRATOR,
  GLOBAL_ADMINISTRATOR,
  REPORTS_READER,
  SECURITY_ADMINISTRATOR,
  SECURITY_READER,
  USER_ADMINISTRATOR,
} from '../../src/directory/roles.ts';
import { ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import { type HttpsPortcullis, startHttpsPortcullis } from './https-server.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected field by field.
type Answer = { status: number; body: any };

describe('admin API: audit logs', () => {
  let server: HttpsPortcullis;
  let graph: string;
  let token: string;

  async function clientToken(clientId: string, clientSecret: string): Promise<string> {
    const config = await client.discovery(new URL(server.issuer), clientId, clientSecret);
    return (await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE })).access_token;
  }

  async function tokenFor(roles: readonly string[], name: string): Promise<string> {
    const scope = server.store.forTenant(server.tenantId);
    const created = await directoryFor(scope).applications.create({
      displayName: name,
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    for (const role of roles) await assignApplicationRole(scope, created.application.appId, role);
    assert.ok(created.secretText);
    return clientToken(created.application.appId, created.secretText);
  }

  async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Answer> {
    const response = await fetch(path.startsWith('https:') ? path : `${graph}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.token ?? token}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Every item of a list, following @odata.nextLink; the number of pages too. */
  async function all(path: string): Promise<{ items: Answer['body'][]; pages: number }> {
    const items = [];
    let pages = 0;
    let next: string | undefined = path;
    while (next) {
      const page = await call('GET', next);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      items.push(...page.body.value);
      pages++;
      next = page.body['@odata.nextLink'];
      assert.ok(pages < 50, 'paging ends');
    }
    return { items, pages };
  }

  const ad = (filter: string) => `/auditLogs/directoryAudits?$filter=${encodeURIComponent(filter)}`;

  before(async () => {
    server = await startHttpsPortcullis();
    graph = `${server.issuer}/graph/v1.0`;
    token = await clientToken(server.automation.clientId, server.automation.clientSecret);
  });
  after(async () => server?.close());

  test('changes made through the API are recorded as Graph directoryAudits, newest first', async () => {
    const created = await call('POST', '/identity/conditionalAccess/namedLocations', {
      body: {
        '@odata.type': '#microsoft.graph.ipNamedLocation',
        displayName: 'Head office',
        isTrusted: false,
        ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '203.0.113.0/24' }],
      },
    });
    assert.equal(created.status, 201);
    const location = created.body.id;
    server.clock.advance(1000);
    assert.equal(
      (await call('PATCH', `/identity/conditionalAccess/namedLocations/${location}`, { body: { isTrusted: true } }))
        .status,
      204,
    );
    server.clock.advance(1000);
    const policy = await call('POST', '/identity/conditionalAccess/policies', {
      body: {
        displayName: 'Block outside head office',
        state: 'enabledForReportingButNotEnforced',
        conditions: {
          users: { includeUsers: ['All'] },
          applications: { includeApplications: ['All'] },
          locations: { includeLocations: ['All'], excludeLocations: [location] },
        },
        grantControls: { operator: 'OR', builtInControls: ['block'] },
      },
    });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    server.clock.advance(1000);
    assert.equal(
      (await call('PATCH', `/identity/conditionalAccess/policies/${policy.body.id}`, { body: { state: 'enabled' } }))
        .status,
      204,
    );
    server.clock.advance(1000);
    assert.equal((await call('DELETE', `/identity/conditionalAccess/policies/${policy.body.id}`)).status, 204);
    server.clock.advance(1000);
    assert.equal(
      (await call('PATCH', '/policies/sessionSettings', { body: { maximumSessionLengthMinutes: 480 } })).status,
      204,
    );
    server.clock.advance(1000);
    assert.equal((await call('POST', `/users/${server.bob}/revokeSignInSessions`)).status, 200);

    // Refused changes leave no record: a bad PATCH (400), deleting a trusted location (409), an unknown id (404).
    const before = (await all('/auditLogs/directoryAudits')).items.length;
    assert.equal(
      (await call('PATCH', `/identity/conditionalAccess/namedLocations/${location}`, { body: { ipRanges: 'x' } }))
        .status,
      400,
    );
    assert.equal((await call('DELETE', `/identity/conditionalAccess/namedLocations/${location}`)).status, 409);
    assert.equal((await call('DELETE', `/identity/conditionalAccess/policies/${location}`)).status, 404);
    assert.equal(
      (await call('PATCH', '/policies/sessionSettings', { body: { maximumSessionLengthMinutes: 5 } })).status,
      400,
    );

    const list = await call('GET', '/auditLogs/directoryAudits');
    assert.equal(list.status, 200);
    assert.equal(list.body['@odata.context'], `${graph}/$metadata#auditLogs/directoryAudits`);
    assert.equal(list.body.value.length, before);
    assert.deepEqual(
      list.body.value.map((a: { activityDisplayName: string }) => a.activityDisplayName),
      [
        'Invalidate all refresh tokens for user',
        'Update session settings',
        'Delete conditional access policy',
        'Update conditional access policy',
        'Add conditional access policy',
        'Update named location',
        'Add named location',
      ],
    );
    const [revoke, settings, deleted, updated, , trusted, added] = list.body.value;
    assert.deepEqual(updated.initiatedBy, {
      user: null,
      app: {
        appId: server.automation.clientId,
        displayName: 'Contoso Automation',
        servicePrincipalId: null,
        servicePrincipalName: null,
      },
    });
    assert.equal(updated.category, 'Policy');
    assert.equal(updated.operationType, 'Update');
    assert.equal(updated.loggedByService, 'Conditional Access');
    assert.equal(updated.result, 'success');
    assert.match(updated.correlationId, /\S/);
    const [target] = updated.targetResources;
    assert.equal(target.id, policy.body.id);
    assert.equal(target.displayName, 'Block outside head office');
    assert.equal(target.type, 'Policy');
    const change = target.modifiedProperties[0];
    assert.equal(change.displayName, 'ConditionalAccessPolicy');
    assert.equal(JSON.parse(change.oldValue).state, 'enabledForReportingButNotEnforced');
    assert.equal(JSON.parse(change.newValue).state, 'enabled');
    assert.equal(JSON.parse(trusted.targetResources[0].modifiedProperties[0].oldValue).isTrusted, false);
    assert.equal(JSON.parse(trusted.targetResources[0].modifiedProperties[0].newValue).isTrusted, true);
    assert.equal(added.targetResources[0].modifiedProperties[0].oldValue, null);
    assert.equal(deleted.targetResources[0].modifiedProperties[0].newValue, null);
    assert.equal(JSON.parse(deleted.targetResources[0].modifiedProperties[0].oldValue).state, 'enabled');
    assert.deepEqual(settings.targetResources[0].modifiedProperties, [
      { displayName: 'maximumSessionLengthMinutes', oldValue: '1440', newValue: '480' },
    ]);
    assert.equal(revoke.category, 'UserManagement');
    assert.equal(revoke.targetResources[0].id, server.bob);
    assert.equal(revoke.targetResources[0].userPrincipalName, 'bob@contoso.example');

    const one = await call('GET', `/auditLogs/directoryAudits/${updated.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body['@odata.context'], `${graph}/$metadata#auditLogs/directoryAudits/$entity`);
    assert.deepEqual({ ...one.body, '@odata.context': undefined }, { ...updated, '@odata.context': undefined });

    // The chain over what the API wrote is intact.
    const repo = new DirectoryAuditRepository(server.store.forTenant(server.tenantId));
    const walk = new ChainWalk(server.tenantId, await repo.head());
    for await (const record of repo.walk()) walk.push(record);
    assert.deepEqual(walk.finish().count, 7);
  });

  test('directoryAudits: $filter, $select, $top with @odata.nextLink, and Graph errors for bad options', async () => {
    const { items: everything } = await all('/auditLogs/directoryAudits');
    const paged = await all('/auditLogs/directoryAudits?$top=2');
    assert.deepEqual(
      paged.items.map((a) => a.id),
      everything.map((a) => a.id),
    );
    assert.equal(paged.pages, Math.ceil(everything.length / 2));

    const cases: [string, string, string[]][] = [
      ['eq on the activity', "activityDisplayName eq 'Add named location'", ['Add named location']],
      [
        'startswith, or',
        "startswith(activityDisplayName, 'update c') or operationType eq 'Delete'",
        ['Delete conditional access policy', 'Update conditional access policy'],
      ],
      [
        'category and ne',
        "category eq 'Policy' and loggedByService ne 'Conditional Access'",
        ['Update session settings'],
      ],
      [
        'initiatedBy/app/appId',
        `initiatedBy/app/appId eq '${server.automation.clientId}' and category eq 'UserManagement'`,
        ['Invalidate all refresh tokens for user'],
      ],
      [
        'activityDateTime ge and le',
        `activityDateTime ge ${everything[4].activityDateTime} and activityDateTime le ${everything[2].activityDateTime}`,
        everything.slice(2, 5).map((a) => a.activityDisplayName),
      ],
      ['a user that made no change', "initiatedBy/user/id eq 'a11ce000-0000-4000-8000-000000000001'", []],
    ];
    for (const [name, filter, expected] of cases) {
      const { items } = await all(ad(filter));
      assert.deepEqual(
        items.map((a) => a.activityDisplayName),
        expected,
        name,
      );
    }
    const filteredPages = await all(`${ad("category eq 'Policy'")}&$top=1`);
    assert.equal(filteredPages.items.length, 6);

    const selected = await call('GET', '/auditLogs/directoryAudits?$select=id,activityDisplayName&$top=1');
    assert.deepEqual(Object.keys(selected.body.value[0]).sort(), ['activityDisplayName', 'id']);
    assert.match(selected.body['@odata.context'], /directoryAudits\(id,activityDisplayName\)$/);
    assert.match(selected.body['@odata.nextLink'], /\$select=id%2CactivityDisplayName/);

    const bad: [string, RegExp][] = [
      ['/auditLogs/directoryAudits?$filter=colour eq 1', /could not find a property named 'colour'/],
      ['/auditLogs/directoryAudits?$filter=activityDateTime ge yesterday', /activityDateTime/],
      ['/auditLogs/directoryAudits?$top=0', /\$top/],
      ['/auditLogs/directoryAudits?$orderby=activityDateTime', /\$orderby/],
      ['/auditLogs/directoryAudits?$skiptoken=garbage', /\$skiptoken/],
      ['/auditLogs/directoryAudits?$select=password', /password/],
    ];
    for (const [path, message] of bad) {
      const answer = await call('GET', path);
      assert.equal(answer.status, 400, path);
      assert.match(answer.body.error.message, message, path);
      assert.ok(answer.body.error.innerError['request-id']);
    }
    const missing = await call('GET', '/auditLogs/directoryAudits/no-such-record');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'Request_ResourceNotFound');
  });

  test('signIns: the sign-in log with Graph’s filters and paging', async () => {
    const log = new StoreSignInLog(server.store);
    const t0 = server.clock.now();
    const alice = {
      id: 'a11ce000-0000-4000-8000-000000000001',
      userPrincipalName: 'alice@contoso.example',
      displayName: 'Alice',
    };
    const bob = { id: server.bob, userPrincipalName: 'bob@contoso.example', displayName: 'Bob' };
    const payroll = { appId: 'a0000000-0000-4000-8000-00000000aaaa', displayName: 'Payroll' };
    const attempt = (n: number, user: typeof alice, errorCode: number): SignInLogInput => ({
      tenantId: server.tenantId,
      id: `e0000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      at: t0 + n * 1000,
      correlationId: `c-${n}`,
      user,
      app: payroll,
      ipAddress: '198.51.100.10',
      country: 'NL',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
      clientAppType: 'browser',
      devicePlatform: 'linux',
      isInteractive: true,
      errorCode,
      amr: ['pwd'],
    });
    // 1–6 alice (3 and 5 wrong password), 7–9 bob (8 blocked by Conditional Access).
    for (let n = 1; n <= 9; n++) {
      const user = n <= 6 ? alice : bob;
      await log.append(attempt(n, user, n === 3 || n === 5 ? 50126 : n === 8 ? 53003 : 0));
    }
    const id = (n: number) => `e0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const ids = (items: { id: string }[]) => items.map((e) => Number(e.id.slice(-2)));

    const list = await call('GET', '/auditLogs/signIns');
    assert.equal(list.status, 200);
    assert.equal(list.body['@odata.context'], `${graph}/$metadata#auditLogs/signIns`);
    assert.deepEqual(ids(list.body.value), [9, 8, 7, 6, 5, 4, 3, 2, 1]);

    const at = (n: number) => new Date(t0 + n * 1000).toISOString();
    const cases: [string, string, number[]][] = [
      ['userId', `userId eq '${alice.id}'`, [6, 5, 4, 3, 2, 1]],
      ['failures', 'status/errorCode ne 0', [8, 5, 3]],
      ['successes of alice', `status/errorCode eq 0 and userId eq '${alice.id}'`, [6, 4, 2, 1]],
      ['one error code', 'status/errorCode eq 50126', [5, 3]],
      ['userPrincipalName startswith', "startswith(userPrincipalName, 'BOB@')", [9, 8, 7]],
      ['time window', `createdDateTime ge ${at(3)} and createdDateTime le ${at(5)}`, [5, 4, 3]],
      ['or across users', `correlationId eq 'c-2' or (userId eq '${bob.id}' and status/errorCode eq 0)`, [9, 7, 2]],
      [
        'appId and country',
        `appId eq '${payroll.appId}' and location/countryOrRegion eq 'NL' and ipAddress eq '198.51.100.10'`,
        [9, 8, 7, 6, 5, 4, 3, 2, 1],
      ],
      ['isInteractive', 'isInteractive eq false', []],
    ];
    for (const [name, filter, expected] of cases) {
      const { items } = await all(`/auditLogs/signIns?$filter=${encodeURIComponent(filter)}`);
      assert.deepEqual(ids(items), expected, name);
    }
    const paged = await all(`/auditLogs/signIns?$top=2&$filter=${encodeURIComponent('status/errorCode eq 0')}`);
    assert.deepEqual(ids(paged.items), [9, 7, 6, 4, 2, 1]);
    assert.equal(paged.pages, 3);

    const one = await call('GET', `/auditLogs/signIns/${id(8)}?$select=id,status,userPrincipalName`);
    assert.equal(one.status, 200);
    assert.deepEqual(
      {
        id: one.body.id,
        code: one.body.status.errorCode,
        upn: one.body.userPrincipalName,
        keys: Object.keys(one.body).length,
      },
      { id: id(8), code: 53003, upn: 'bob@contoso.example', keys: 4 },
    );
    const bad = await call('GET', `/auditLogs/signIns?$filter=${encodeURIComponent("status/errorCode eq '0'")}`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /status\/errorCode' is compared with a whole number/);
    assert.equal((await call('GET', '/auditLogs/signIns/nope')).status, 404);
  });

  test('a page reads at most MAX_SCAN entries: a rare match is reached through nextLinks with empty pages', async () => {
    const scope = server.store.forTenant(server.tenantId);
    const t0 = server.clock.now() - 3_600_000;
    const base = (await new SignInLogRepository(scope).list({ top: 1 })).items[0];
    await scope.transaction(async (tx) => {
      const repo = new SignInLogRepository(tx);
      for (let n = 0; n < MAX_SCAN + 10; n++) {
        const rare = n === 0;
        await repo.append({
          ...base,
          id: `f${String(n).padStart(7, '0')}-0000-4000-8000-000000000000`,
          createdDateTime: new Date(t0 + n).toISOString(),
          correlationId: rare ? 'the-rare-one' : `bulk-${n}`,
        });
      }
    });
    const filter = encodeURIComponent("correlationId eq 'the-rare-one'");
    const first = await call('GET', `/auditLogs/signIns?$filter=${filter}`);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.value, []);
    assert.ok(first.body['@odata.nextLink'], 'a next page although this one is empty');
    const { items, pages } = await all(`/auditLogs/signIns?$filter=${filter}`);
    assert.deepEqual(
      items.map((e) => e.correlationId),
      ['the-rare-one'],
    );
    assert.equal(pages, 2);
  });

  // Entra: audit and sign-in logs are read by Reports Reader, Security Reader, Security Administrator, Global Reader
  // (and Global Administrator). Written out here, not read from the routes, so a wrong list fails this test.
  test('role matrix: only the roles that read logs in Entra may read them; the rest get 403', async () => {
    const callers: [string, string[], boolean][] = [
      ['Global Administrator', [GLOBAL_ADMINISTRATOR], true],
      ['Security Administrator', [SECURITY_ADMINISTRATOR], true],
      ['Security Reader', [SECURITY_READER], true],
      ['Reports Reader', [REPORTS_READER], true],
      ['Conditional Access Administrator', [CONDITIONAL_ACCESS_ADMINISTRATOR], false],
      ['User Administrator', [USER_ADMINISTRATOR], false],
      ['Application Administrator', [APPLICATION_ADMINISTRATOR], false],
      ['no role', [], false],
    ];
    const audit = (await call('GET', '/auditLogs/directoryAudits?$top=1')).body.value[0].id;
    const signIn = (await call('GET', '/auditLogs/signIns?$top=1')).body.value[0].id;
    const routes = [
      '/auditLogs/directoryAudits',
      `/auditLogs/directoryAudits/${audit}`,
      '/auditLogs/signIns',
      `/auditLogs/signIns/${signIn}`,
    ];
    for (const [name, roles, allowed] of callers) {
      const callerToken = await tokenFor(roles, name);
      for (const route of routes) {
        const answer = await call('GET', route, { token: callerToken });
        if (allowed) {
          assert.equal(answer.status, 200, `${name} ${route}`);
        } else {
          assert.equal(answer.status, 403, `${name} ${route}`);
          assert.equal(answer.body.error.code, 'Authorization_RequestDenied', `${name} ${route}`);
          assert.match(answer.body.error.message, /Reports Reader/);
          assert.ok(answer.body.error.innerError['request-id']);
        }
      }
      // Refused before the query is looked at: a bad $filter is still a 403 for them.
      const badQuery = await call('GET', '/auditLogs/signIns?$filter=nonsense', { token: callerToken });
      assert.equal(badQuery.status, allowed ? 400 : 403, name);
    }
    assert.equal((await call('GET', '/auditLogs/signIns', { token: 'not.a.jwt' })).status, 401);
  });
});
