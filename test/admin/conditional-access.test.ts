// The Conditional Access admin API (issue 6) over HTTP with real tokens from the tenant's token endpoint, on the
// server `portcullis serve` builds (test/oidc/harness.ts: contoso, with the trusted location Headquarters and the
// enabled policy "Block outside trusted locations"): named locations and policies (create, get, list with the OData
// subset and paging, update, delete and its rules, validation), What If, admin roles, tenant isolation, and a real
// Entra export posted as it is.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { assignApplicationRole } from '../../src/admin/auth.ts';
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
import { createTenant } from '../../src/directory/tenants.ts';
import { ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import { type Harness, HEADQUARTERS, startHarness } from '../oidc/harness.ts';

const insecure = { execute: [client.allowInsecureRequests] };
const CA = '/identity/conditionalAccess';
const EXCHANGE = '00000002-0000-0ff1-ce00-000000000000';
const ENTRA_EXPORT = new URL('../fixtures/entra/graph-explorer/', import.meta.url);

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected field by field.
  body: any;
}

describe('admin API: named locations, Conditional Access policies and What If', () => {
  let h: Harness;
  let graph: string;
  let token: string;

  async function clientToken(clientId: string, clientSecret: string, issuer = h.issuer): Promise<string> {
    const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, insecure);
    return (await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE })).access_token;
  }

  /** A new application of `tenantId` holding `roles`, and a token for it. */
  async function applicationWith(roles: readonly string[], tenantId = h.tenantId): Promise<string> {
    const scope = h.store.forTenant(tenantId);
    const app = await directoryFor(scope).applications.create({
      displayName: `holder of ${roles.length} roles`,
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    for (const role of roles) await assignApplicationRole(scope, app.application.appId, role);
    return clientToken(app.application.appId, app.secretText ?? '', `${h.url}/t/${tenantId}`);
  }

  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; base?: string } = {},
  ): Promise<Answer> {
    const url = path.startsWith('http') ? path : `${options.base ?? graph}${path}`;
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${options.token ?? token}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  const branchOffice = {
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    displayName: 'Branch office',
    isTrusted: true,
    ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '203.0.113.0/24' }],
  };
  const whatIfBobAt = (ipAddress: string) => ({
    signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId: h.users.bob },
    signInContext: { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: [EXCHANGE] },
    signInConditions: { ipAddress },
  });

  let hq: { id: string };
  let branch: { id: string; createdDateTime: string };
  let mfaAtBranch: { id: string; createdDateTime: string };

  before(async () => {
    h = await startHarness();
    graph = `${h.issuer}/graph/v1.0`;
    await assignApplicationRole(h.store.forTenant(h.tenantId), h.clients.automation.clientId, GLOBAL_ADMINISTRATOR);
    token = await clientToken(h.clients.automation.clientId, h.clients.automation.clientSecret);
    const locations = await call('GET', `${CA}/namedLocations`);
    hq = locations.body.value.find((l: { displayName: string }) => l.displayName === HEADQUARTERS.displayName);
  });
  after(async () => h.close());

  test('create a trusted location and a report-only policy: 201 with the object, its Location, then GET', async () => {
    h.clock.advance(60_000);
    const created = await call('POST', `${CA}/namedLocations`, { body: branchOffice });
    assert.equal(created.status, 201);
    assert.equal(
      created.body['@odata.context'],
      `${graph}/$metadata#identity/conditionalAccess/namedLocations/$entity`,
    );
    assert.match(created.body.id, /^[0-9a-f]{8}-[0-9a-f-]{27}$/);
    assert.equal(created.body.isTrusted, true);
    assert.equal(created.body.createdDateTime, new Date(h.clock.now()).toISOString());
    assert.equal(created.headers.get('location'), `${graph}${CA}/namedLocations/${created.body.id}`);
    branch = created.body;
    const read = await call('GET', created.headers.get('location') ?? '');
    assert.equal(read.status, 200);
    assert.deepEqual({ ...read.body, '@odata.context': undefined }, { ...created.body, '@odata.context': undefined });

    h.clock.advance(60_000);
    const policy = await call('POST', `${CA}/policies`, {
      body: {
        displayName: 'Require MFA for Bob at the branch',
        state: 'enabledForReportingButNotEnforced',
        conditions: {
          users: { includeUsers: [h.users.bob] },
          applications: { includeApplications: ['All'] },
          locations: { includeLocations: [branch.id] },
          clientAppTypes: ['all'],
        },
        grantControls: { operator: 'OR', builtInControls: ['mfa'] },
      },
    });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    assert.equal(policy.body.state, 'enabledForReportingButNotEnforced');
    assert.deepEqual(policy.body.conditions.locations, { includeLocations: [branch.id], excludeLocations: [] });
    mfaAtBranch = policy.body;
  });

  test('list: a Graph page; $filter, $select and $top with @odata.nextLink paging', async () => {
    const all = await call('GET', `${CA}/namedLocations`);
    assert.equal(all.status, 200);
    assert.equal(all.body['@odata.context'], `${graph}/$metadata#identity/conditionalAccess/namedLocations`);
    assert.deepEqual(
      all.body.value.map((l: { displayName: string }) => l.displayName),
      ['Headquarters', 'Branch office'],
    );
    assert.equal(all.body['@odata.nextLink'], undefined);

    const cases: Array<{ name: string; path: string; expect: string[] }> = [
      {
        name: 'trusted and named like a branch',
        path: `namedLocations?$filter=isTrusted eq true and startswith(displayName,'BRANCH')`,
        expect: ['Branch office'],
      },
      {
        name: 'not the branch',
        path: `namedLocations?$filter=displayName ne 'branch office'`,
        expect: ['Headquarters'],
      },
      {
        name: 'created since the branch',
        path: `namedLocations?$filter=createdDateTime ge ${branch.createdDateTime}`,
        expect: ['Branch office'],
      },
      {
        name: 'created before the branch',
        path: `namedLocations?$filter=createdDateTime le ${new Date(Date.parse(branch.createdDateTime) - 1).toISOString()}`,
        expect: ['Headquarters'],
      },
      {
        name: 'report-only or named like the blocking one',
        path: `policies?$filter=(state eq 'enabledForReportingButNotEnforced') or startswith(displayName, 'Block')`,
        expect: ['Block outside trusted locations', 'Require MFA for Bob at the branch'],
      },
      {
        name: 'modified after the policy was',
        path: `policies?$filter=modifiedDateTime gt ${mfaAtBranch.createdDateTime}`,
        expect: [],
      },
      {
        name: 'an IP location',
        path: `namedLocations?$filter=isof('microsoft.graph.ipNamedLocation')`,
        expect: ['Headquarters', 'Branch office'],
      },
    ];
    for (const c of cases) {
      const page = await call('GET', `${CA}/${c.path}`);
      assert.equal(page.status, 200, `${c.name}: ${JSON.stringify(page.body)}`);
      assert.deepEqual(
        page.body.value.map((item: { displayName: string }) => item.displayName),
        c.expect,
        c.name,
      );
    }

    const selected = await call('GET', `${CA}/policies?$select=displayName,state`);
    assert.equal(
      selected.body['@odata.context'],
      `${graph}/$metadata#identity/conditionalAccess/policies(displayName,state)`,
    );
    assert.deepEqual(selected.body.value[1], {
      displayName: 'Require MFA for Bob at the branch',
      state: 'enabledForReportingButNotEnforced',
    });
    const one = await call('GET', `${CA}/namedLocations/${branch.id}?$select=displayName`);
    assert.deepEqual(
      { ...one.body, '@odata.context': undefined },
      { '@odata.context': undefined, '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Branch office' },
    );

    const first = await call('GET', `${CA}/namedLocations?$top=1&$select=displayName`);
    assert.deepEqual(first.body.value, [
      { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Headquarters' },
    ]);
    const next = first.body['@odata.nextLink'];
    assert.match(
      next,
      new RegExp(`^${graph.replaceAll('.', '\\.')}${CA}/namedLocations\\?\\$top=1&\\$select=displayName&\\$skiptoken=`),
    );
    const second = await call('GET', next);
    assert.deepEqual(second.body.value, [
      { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'Branch office' },
    ]);
    assert.equal(second.body['@odata.nextLink'], undefined, 'the last page has no next link');
  });

  test('unsupported or malformed query options: 400 saying what is wrong', async () => {
    const cases: Array<{ path: string; message: RegExp }> = [
      {
        path: 'policies?$orderby=displayName',
        message: /'\$orderby' is not supported here; supported: \$top, \$select, \$filter/,
      },
      { path: 'policies?$top=0', message: /\$top must be a whole number from 1 to 999, but it is '0'/ },
      { path: `policies?$filter=endswith(displayName,'x')`, message: /the function 'endswith' is not supported/ },
      {
        path: `policies?$filter=displayName gt 'a'`,
        message: /'gt' compares dates only \(createdDateTime, modifiedDateTime\)/,
      },
      { path: `policies?$filter=colour eq 'red'`, message: /could not find a property named 'colour'/ },
      { path: `policies?$filter=conditions eq null`, message: /filtering on 'conditions' is not supported/ },
      {
        path: `policies?$filter=displayName eq 'unclosed`,
        message: /the string starting at position 16 is not closed/,
      },
      { path: `policies?$filter=state eq enabled`, message: /text needs single quotes/ },
      { path: `policies?$filter=createdDateTime ge yesterday`, message: /a date and time such as/ },
      { path: `policies?$filter=not (state eq 'enabled')`, message: /'not' is not supported/ },
      { path: `policies?$select=displayName,colour`, message: /\$select: could not find a property named 'colour'/ },
      { path: `policies/${'x'}?$top=1`, message: /'\$top' is not supported here; supported: \$select/ },
      { path: 'policies?$skiptoken=garbage', message: /\$skiptoken is not valid/ },
    ];
    for (const c of cases) {
      const answer = await call('GET', `${CA}/${c.path}`);
      assert.equal(answer.status, 400, c.path);
      assert.equal(answer.body.error.code, 'invalidRequest', c.path);
      assert.match(answer.body.error.message, c.message, c.path);
    }
  });

  test('What If: the report-only policy applies without changing the decision; enabled, it asks for MFA', async () => {
    const atBranch = await call('POST', `${CA}/evaluate`, { body: whatIfBobAt('203.0.113.9') });
    assert.equal(atBranch.status, 200, JSON.stringify(atBranch.body));
    assert.equal(
      atBranch.body['@odata.context'],
      `${graph}/$metadata#Collection(microsoft.graph.whatIfAnalysisResult)`,
    );
    const result = atBranch.body.value.find((r: { id: string }) => r.id === mfaAtBranch.id);
    assert.equal(result['@odata.type'], '#microsoft.graph.whatIfAnalysisResult');
    assert.equal(result.policyApplies, true);
    assert.equal(atBranch.body.decision.outcome, 'allow');

    const patched = await call('PATCH', `${CA}/policies/${mfaAtBranch.id}`, { body: { state: 'enabled' } });
    assert.equal(patched.status, 204);
    assert.equal(patched.body, undefined);

    const enabled = await call('POST', `${CA}/evaluate`, {
      body: { ...whatIfBobAt('203.0.113.9'), appliedPoliciesOnly: true },
    });
    assert.deepEqual(
      enabled.body.value.map((r: { id: string; policyApplies: boolean }) => [r.id, r.policyApplies]),
      [[mfaAtBranch.id, true]],
    );
    assert.equal(enabled.body.decision.outcome, 'challenge');
    assert.deepEqual(enabled.body.decision.missingControls, ['mfa']);

    const atHq = await call('POST', `${CA}/evaluate`, { body: whatIfBobAt('198.51.100.7') });
    const notThere = atHq.body.value.find((r: { id: string }) => r.id === mfaAtBranch.id);
    assert.equal(notThere.policyApplies, false);
    assert.equal(notThere.analysisReasons, 'location');
    assert.equal(atHq.body.decision.outcome, 'allow');

    const outside = await call('POST', `${CA}/evaluate`, {
      body: { ...whatIfBobAt('192.0.2.1'), signInIdentity: { userId: 'bob@contoso.example' } },
    });
    assert.equal(outside.body.decision.outcome, 'block', 'by user principal name too; blocked outside trusted');
  });

  test('What If refuses a bad request naming the field', async () => {
    const cases: Array<{ body: unknown; message: RegExp }> = [
      {
        body: { ...whatIfBobAt('203.0.113.9'), signInConditions: { ipAddress: 'nowhere' } },
        message: /signInConditions\.ipAddress: "nowhere" is not an IP address/,
      },
      {
        body: { ...whatIfBobAt('203.0.113.9'), signInIdentity: { userId: 'mallory@contoso.example' } },
        message: /signInIdentity\.userId: 'mallory@contoso\.example' is not a user of this tenant/,
      },
      { body: { signInIdentity: { userId: h.users.bob } }, message: /signInContext: must be a JSON object/ },
      { body: [], message: /\(request body\): must be a JSON object/ },
    ];
    for (const c of cases) {
      const answer = await call('POST', `${CA}/evaluate`, { body: c.body });
      assert.equal(answer.status, 400);
      assert.match(answer.body.error.message, c.message);
    }
  });

  test('PATCH changes only the given properties, inside complex ones too, and validates the result', async () => {
    h.clock.advance(60_000);
    const patched = await call('PATCH', `${CA}/policies/${mfaAtBranch.id}`, {
      body: { conditions: { clientAppTypes: ['browser'] }, id: 'ignored', createdDateTime: '2001-01-01T00:00:00Z' },
    });
    assert.equal(patched.status, 204, JSON.stringify(patched.body));
    const read = (await call('GET', `${CA}/policies/${mfaAtBranch.id}`)).body;
    assert.equal(read.id, mfaAtBranch.id);
    assert.equal(read.state, 'enabled', 'the earlier change stays');
    assert.deepEqual(read.conditions.clientAppTypes, ['browser']);
    assert.deepEqual(read.conditions.users.includeUsers, [h.users.bob], 'the users condition stays');
    assert.deepEqual(read.conditions.locations.includeLocations, [branch.id]);
    assert.equal(read.createdDateTime, mfaAtBranch.createdDateTime);
    assert.equal(read.modifiedDateTime, new Date(h.clock.now()).toISOString());

    const bad = await call('PATCH', `${CA}/policies/${mfaAtBranch.id}`, {
      body: {
        state: 'sometimes',
        conditions: { locations: { includeLocations: ['4a3c1f0e-0000-4000-8000-000000000000'] } },
      },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /state: /);
    assert.match(bad.body.error.message, /'sometimes'/);
    const still = (await call('GET', `${CA}/policies/${mfaAtBranch.id}`)).body;
    assert.equal(still.state, 'enabled', 'nothing written');

    const unknownLocation = await call('PATCH', `${CA}/policies/${mfaAtBranch.id}`, {
      body: { conditions: { locations: { includeLocations: ['4a3c1f0e-0000-4000-8000-000000000000'] } } },
    });
    assert.equal(unknownLocation.status, 400);
    assert.match(unknownLocation.body.error.message, /conditions\.locations\.includeLocations\[0\]/);

    const kind = await call('PATCH', `${CA}/namedLocations/${branch.id}`, {
      body: { '@odata.type': '#microsoft.graph.countryNamedLocation', countriesAndRegions: ['PT'] },
    });
    assert.equal(kind.status, 400);
    assert.match(kind.body.error.message, /@odata\.type: is '#microsoft\.graph\.ipNamedLocation' and cannot change/);

    const notAnObject = await call('PATCH', `${CA}/namedLocations/${branch.id}`, { body: ['isTrusted'] });
    assert.equal(notAnObject.status, 400);
    assert.match(notAnObject.body.error.message, /must be a named location as a JSON object, not \["isTrusted"\]/);
  });

  test('create refuses an invalid object naming every problem by field', async () => {
    const ranges = await call('POST', `${CA}/namedLocations`, {
      body: {
        '@odata.type': '#microsoft.graph.ipNamedLocation',
        displayName: 'Everywhere',
        ipRanges: [{ cidrAddress: '10.0.0.0/33' }, { cidrAddress: '12.0.0.0/6' }],
      },
    });
    assert.equal(ranges.status, 400);
    assert.equal(ranges.body.error.code, 'invalidRequest');
    assert.match(
      ranges.body.error.message,
      /^Invalid named location \(2 problems\): ipRanges\[0\]\.cidrAddress: .*; ipRanges\[1\]\.cidrAddress: .*'12\.0\.0\.0\/6' is too broad/,
    );

    const fields = await call('POST', `${CA}/namedLocations`, {
      body: { '@odata.type': '#microsoft.graph.ipNamedLocation', isTrusted: 'yes', ipRanges: [] },
    });
    assert.equal(fields.status, 400);
    assert.match(fields.body.error.message, /displayName: required but missing/);
    assert.match(fields.body.error.message, /isTrusted: /);

    const policy = await call('POST', `${CA}/policies`, {
      body: {
        displayName: 'Half a policy',
        state: 'on',
        conditions: { applications: { includeApplications: ['All'] } },
      },
    });
    assert.equal(policy.status, 400);
    assert.match(policy.body.error.message, /state: /);
    assert.match(policy.body.error.message, /conditions\.users: /);

    const none = await fetch(`${graph}${CA}/policies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(none.status, 400);
    assert.match(((await none.json()) as Answer['body']).error.message, /needs a policy as a JSON object/);
    const all = await call('GET', `${CA}/policies`);
    assert.equal(all.body.value.length, 2, 'nothing was created');
  });

  test('unknown ids: 404 itemNotFound for get, update and delete', async () => {
    for (const [method, path] of [
      ['GET', `${CA}/policies/no-such-id`],
      ['PATCH', `${CA}/policies/no-such-id`],
      ['DELETE', `${CA}/namedLocations/no-such-id`],
    ] as const) {
      const answer = await call(method, path, method === 'PATCH' ? { body: { state: 'disabled' } } : {});
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.equal(answer.body.error.code, 'itemNotFound');
      assert.match(answer.body.error.message, /'no-such-id'/);
    }
  });

  test('DELETE: a trusted location is refused while trusted, a used one while a policy uses it (409)', async () => {
    const trusted = await call('DELETE', `${CA}/namedLocations/${branch.id}`);
    assert.equal(trusted.status, 409);
    assert.equal(trusted.body.error.code, 'notAllowed');
    assert.match(trusted.body.error.message, /a trusted location cannot be deleted: set isTrusted to false first/);

    assert.equal(
      (await call('PATCH', `${CA}/namedLocations/${branch.id}`, { body: { isTrusted: false } })).status,
      204,
    );
    const used = await call('DELETE', `${CA}/namedLocations/${branch.id}`);
    assert.equal(used.status, 409);
    assert.match(used.body.error.message, /policy 'Require MFA for Bob at the branch' \(id [^)]+\) refers to it/);

    assert.equal((await call('DELETE', `${CA}/policies/${mfaAtBranch.id}`)).status, 204);
    const deleted = await call('DELETE', `${CA}/namedLocations/${branch.id}`);
    assert.equal(deleted.status, 204);
    assert.equal((await call('GET', `${CA}/namedLocations/${branch.id}`)).status, 404);
    assert.equal((await call('GET', `${CA}/policies/${mfaAtBranch.id}`)).status, 404);
    assert.deepEqual(
      (await call('GET', `${CA}/namedLocations`)).body.value.map((l: { id: string }) => l.id),
      [hq.id],
    );
  });

  test('roles: administrators manage, readers only read, everyone else is refused', async () => {
    const personas: Array<{ name: string; roles: string[]; read: boolean; manage: boolean }> = [
      { name: 'Conditional Access Administrator', roles: [CONDITIONAL_ACCESS_ADMINISTRATOR], read: true, manage: true },
      { name: 'Security Administrator', roles: [SECURITY_ADMINISTRATOR], read: true, manage: true },
      { name: 'Security Reader', roles: [SECURITY_READER], read: true, manage: false },
      { name: 'Reports Reader', roles: [REPORTS_READER], read: true, manage: false },
      { name: 'User Administrator', roles: [USER_ADMINISTRATOR], read: false, manage: false },
      { name: 'Application Administrator', roles: [APPLICATION_ADMINISTRATOR], read: false, manage: false },
      { name: 'no role', roles: [], read: false, manage: false },
    ];
    for (const persona of personas) {
      const as = await applicationWith(persona.roles);
      const expect = (answer: Answer, allowed: boolean, ok: number, what: string) => {
        assert.equal(answer.status, allowed ? ok : 403, `${persona.name}: ${what}: ${JSON.stringify(answer.body)}`);
        if (!allowed) {
          assert.equal(answer.body.error.code, 'Authorization_RequestDenied');
          assert.match(
            answer.body.error.message,
            /Global Administrator, Conditional Access Administrator, Security Administrator/,
          );
        }
      };
      expect(await call('GET', `${CA}/policies`, { token: as }), persona.read, 200, 'list policies');
      expect(await call('GET', `${CA}/namedLocations/${hq.id}`, { token: as }), persona.read, 200, 'get a location');
      const created = await call('POST', `${CA}/namedLocations`, {
        token: as,
        body: { ...branchOffice, displayName: `made by ${persona.name}`, isTrusted: false },
      });
      expect(created, persona.manage, 201, 'create a location');
      const id = created.body.id ?? hq.id;
      expect(
        await call('PATCH', `${CA}/namedLocations/${id}`, {
          token: as,
          body: { displayName: `renamed by ${persona.name}` },
        }),
        persona.manage,
        204,
        'update',
      );
      expect(
        await call('POST', `${CA}/evaluate`, { token: as, body: whatIfBobAt('203.0.113.9') }),
        persona.manage,
        200,
        'What If',
      );
      expect(await call('DELETE', `${CA}/namedLocations/${id}`, { token: as }), persona.manage, 204, 'delete');
    }
    assert.equal(
      (await call('GET', `${CA}/namedLocations/${hq.id}`)).body.displayName,
      'Headquarters',
      'no one else renamed it',
    );
  });

  test("tenant isolation: a tenant's token cannot reach another tenant, nor its ids", async () => {
    const fabrikam = await createTenant(h.store, { name: 'fabrikam' });
    const fabrikamToken = await applicationWith([GLOBAL_ADMINISTRATOR], fabrikam.id);
    const fabrikamGraph = `${h.url}/t/${fabrikam.id}/graph/v1.0`;

    const intoContoso = await call('GET', `${CA}/namedLocations`, { token: fabrikamToken });
    assert.equal(intoContoso.status, 401);
    assert.equal(intoContoso.body.error.code, 'InvalidAuthenticationToken');
    const intoFabrikam = await call('GET', `${CA}/policies`, { token, base: fabrikamGraph });
    assert.equal(intoFabrikam.status, 401);

    const own = await call('GET', `${CA}/namedLocations`, { token: fabrikamToken, base: fabrikamGraph });
    assert.equal(own.status, 200);
    assert.deepEqual(own.body.value, [], "contoso's Headquarters is not fabrikam's");
    for (const [method, body] of [['GET'], ['PATCH', { displayName: 'Taken over' }], ['DELETE']] as const) {
      const answer = await call(method, `${CA}/namedLocations/${hq.id}`, {
        token: fabrikamToken,
        base: fabrikamGraph,
        body,
      });
      assert.equal(answer.status, 404, `${method} of contoso's location through fabrikam`);
    }
    assert.equal((await call('GET', `${CA}/namedLocations/${hq.id}`)).body.displayName, 'Headquarters');
  });

  test('a real Entra export (Graph Explorer) posts as it is; a reference to a location id of the old tenant is named', async () => {
    const northwind = await createTenant(h.store, { name: 'northwind' });
    const as = await applicationWith([CONDITIONAL_ACCESS_ADMINISTRATOR], northwind.id);
    const base = `${h.url}/t/${northwind.id}/graph/v1.0`;
    const read = (file: string) => JSON.parse(readFileSync(new URL(file, ENTRA_EXPORT), 'utf8')).value;

    const newIds = new Map<string, string>();
    for (const location of read('named-locations.json')) {
      const created = await call('POST', `${CA}/namedLocations`, { token: as, base, body: location });
      assert.equal(created.status, 201, `${location.displayName}: ${JSON.stringify(created.body)}`);
      assert.equal(created.body.displayName, location.displayName);
      newIds.set(location.id, created.body.id);
    }
    const warned: string[] = [];
    for (const policy of read('policies.json')) {
      const created = await call('POST', `${CA}/policies`, { token: as, base, body: policy });
      if (policy.displayName.startsWith('CA006')) {
        // Graph's POST gives new ids, so the export's location id names nothing in this tenant.
        assert.equal(created.status, 400);
        assert.match(
          created.body.error.message,
          /conditions\.locations\.includeLocations\[0\]: .*b4e0c7a2-19d3-4b6f-8e25-71a9f3d0c6b8/,
        );
        const remapped = {
          ...policy,
          conditions: {
            ...policy.conditions,
            locations: {
              ...policy.conditions.locations,
              includeLocations: policy.conditions.locations.includeLocations.map((id: string) => newIds.get(id)),
            },
          },
        };
        const again = await call('POST', `${CA}/policies`, { token: as, base, body: remapped });
        assert.equal(again.status, 201, JSON.stringify(again.body));
        continue;
      }
      assert.equal(created.status, 201, `${policy.displayName}: ${JSON.stringify(created.body)}`);
      assert.equal(created.body.state, policy.state);
      if (created.body['@portcullis.warnings']) warned.push(policy.displayName.slice(0, 5));
    }
    assert.deepEqual(warned, ['CA002', 'CA004', 'CA005'], 'parts kept but not evaluated are reported');
    const policies = await call('GET', `${CA}/policies?$select=displayName`, { token: as, base });
    assert.equal(policies.body.value.length, 6);
    const locations = await call('GET', `${CA}/namedLocations?$filter=isTrusted eq true`, { token: as, base });
    assert.deepEqual(
      // Created within one millisecond of the (stopped) clock: in id order, which is random.
      locations.body.value.map((l: { displayName: string }) => l.displayName).sort(),
      ['Headquarters', 'VPN egress (Zürich)'],
    );
  });
});
