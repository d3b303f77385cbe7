// The admin API's import (POST /identity/conditionalAccess/import) over HTTP with real tokens, on the server
// `portcullis serve` builds (test/oidc/harness.ts: contoso with Headquarters and "Block outside trusted locations"):
// the real Entra export as it is into a new tenant with its ids kept, roles, a dry run, an id collision remapped
// with the reference rewritten, a refused import writing nothing, bad requests, and sign-ins on this node seeing an
// import at once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { assignApplicationRole } from '../../src/admin/auth.ts';
import { directoryFor } from '../../src/directory/directory.ts';
import {
  CONDITIONAL_ACCESS_ADMINISTRATOR,
  GLOBAL_ADMINISTRATOR,
  REPORTS_READER,
  SECURITY_ADMINISTRATOR,
  SECURITY_READER,
  USER_ADMINISTRATOR,
} from '../../src/directory/roles.ts';
import { createTenant } from '../../src/directory/tenants.ts';
import { ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import { actionOf, Browser, csrfOf, type Harness, HEADQUARTERS, PASSWORDS, startHarness } from '../oidc/harness.ts';

const insecure = { execute: [client.allowInsecureRequests] };
const CA = '/identity/conditionalAccess';
const ENTRA_EXPORT = new URL('../fixtures/entra/graph-explorer/', import.meta.url);
const BLOCKED_COUNTRIES = 'b4e0c7a2-19d3-4b6f-8e25-71a9f3d0c6b8';
const CA006 = '6d4c9b2a-8f7e-4ad3-8256-0b1e2f3a4d75';

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected field by field.
  body: any;
}

describe('admin API: import', () => {
  let h: Harness;
  let graph: string;
  let token: string;

  async function clientToken(clientId: string, clientSecret: string, issuer = h.issuer): Promise<string> {
    const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, insecure);
    return (await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE })).access_token;
  }

  async function applicationWith(roles: readonly string[], tenantId = h.tenantId): Promise<string> {
    const scope = h.store.forTenant(tenantId);
    const app = await directoryFor(scope).applications.create({
      displayName: `holder of ${roles.join(', ') || 'no roles'}`,
      clientType: 'confidential',
      grantTypes: ['client_credentials'],
    });
    for (const role of roles) await assignApplicationRole(scope, app.application.appId, role);
    return clientToken(app.application.appId, app.secretText ?? '', `${h.url}/t/${tenantId}`);
  }

  async function call(
    method: string,
    path: string,
    options: { token?: string | null; body?: unknown; base?: string; raw?: string } = {},
  ): Promise<Answer> {
    const response = await fetch(`${options.base ?? graph}${path}`, {
      method,
      headers: {
        ...(options.token === null ? {} : { authorization: `Bearer ${options.token ?? token}` }),
        ...(options.body === undefined && options.raw === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  const exported = (file: string) => JSON.parse(readFileSync(new URL(file, ENTRA_EXPORT), 'utf8'));
  const names = async (collection: string, base?: string) =>
    (await call('GET', `${CA}/${collection}?$select=displayName`, { base })).body.value
      .map((o: { displayName: string }) => o.displayName)
      .sort();

  /** Bob signs in with his password from `address`: the HTTP status of the answer to the password form. */
  async function bobSignsInFrom(address: string): Promise<number> {
    const config = await client.discovery(
      new URL(h.issuer),
      h.clients.spa.clientId,
      undefined,
      client.None(),
      insecure,
    );
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: h.clients.spa.redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const browser = new Browser({ forwardedFor: address });
    const page = await (await browser.follow(url.href, h.url)).response.text();
    const done = await browser.follow(new URL(actionOf(page, 'password'), h.url).href, h.url, {
      form: { csrf: csrfOf(page), username: 'bob@contoso.example', password: PASSWORDS.bob },
    });
    return done.response.status;
  }

  before(async () => {
    h = await startHarness();
    graph = `${h.issuer}/graph/v1.0`;
    await assignApplicationRole(h.store.forTenant(h.tenantId), h.clients.automation.clientId, GLOBAL_ADMINISTRATOR);
    token = await clientToken(h.clients.automation.clientId, h.clients.automation.clientSecret);
  });
  after(async () => h.close());

  test('the Entra export as it is, into a new tenant: every id kept, CA006 still names Blocked countries', async () => {
    const northwind = await createTenant(h.store, { name: 'northwind' });
    const as = await applicationWith([CONDITIONAL_ACCESS_ADMINISTRATOR], northwind.id);
    const base = `${h.url}/t/${northwind.id}/graph/v1.0`;
    const body = {
      namedLocations: exported('named-locations.json').value,
      policies: exported('policies.json').value,
    };
    const answer = await call('POST', `${CA}/import`, { token: as, base, body });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.outcome, 'imported');
    assert.equal(answer.body.tenant, northwind.id);
    assert.equal(answer.body.imported.namedLocations.length, 4);
    assert.equal(answer.body.imported.policies.length, 6);
    assert.equal(answer.body.warnings.length, 3);
    assert.match(answer.body.warnings[0].file, /^policies$/, 'problems and warnings name the part of the body');
    const ca006 = await call('GET', `${CA}/policies/${CA006}`, { token: as, base });
    assert.equal(ca006.status, 200);
    assert.deepEqual(ca006.body.conditions.locations.includeLocations, [BLOCKED_COUNTRIES]);
    const blocked = await call('GET', `${CA}/namedLocations/${BLOCKED_COUNTRIES}`, { token: as, base });
    assert.equal(blocked.body.displayName, 'Blocked countries');

    const again = await call('POST', `${CA}/import`, { token: as, base, body });
    assert.equal(again.status, 200);
    assert.equal(again.body.outcome, 'imported');
    assert.equal(again.body.skipped.length, 10);
    assert.ok(again.body.skipped.every((s: { reason: string }) => s.reason === 'alreadyPresent'));
  });

  test('roles: the Conditional Access managers may import; readers and others get 403; no token 401', async () => {
    const body = { namedLocations: [], policies: [] };
    for (const role of [SECURITY_READER, REPORTS_READER, USER_ADMINISTRATOR]) {
      const answer = await call('POST', `${CA}/import`, { token: await applicationWith([role]), body });
      assert.equal(answer.status, 403, role);
      assert.equal(answer.body.error.code, 'Authorization_RequestDenied');
      assert.match(answer.body.error.message, /import named locations and Conditional Access policies/);
    }
    const nobody = await call('POST', `${CA}/import`, { token: await applicationWith([]), body });
    assert.equal(nobody.status, 403);
    const anonymous = await call('POST', `${CA}/import`, { token: null, body });
    assert.equal(anonymous.status, 401);
    // Refused before the body is read: a large body from someone unauthorised is not parsed (no 400, no 413).
    const large = await call('POST', `${CA}/import`, { token: null, raw: `[${'{},'.repeat(700_000)}{}` });
    assert.equal(large.status, 401);
    const reader = await call('POST', `${CA}/import`, {
      token: await applicationWith([SECURITY_READER]),
      raw: '{"not json',
    });
    assert.equal(reader.status, 403, 'the role is checked before the body is parsed');
    for (const role of [CONDITIONAL_ACCESS_ADMINISTRATOR, SECURITY_ADMINISTRATOR, GLOBAL_ADMINISTRATOR]) {
      const answer = await call('POST', `${CA}/import?dryRun=true`, { token: await applicationWith([role]), body });
      assert.equal(answer.status, 200, role);
      assert.equal(answer.body.outcome, 'imported');
    }
  });

  test('?dryRun=true with an array of export documents (the files as they are): the report, nothing written', async () => {
    const before = { locations: await names('namedLocations'), policies: await names('policies') };
    const answer = await call('POST', `${CA}/import?dryRun=true`, {
      body: [exported('named-locations.json'), exported('policies.json')],
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.dryRun, true);
    assert.equal(answer.body.imported.namedLocations.length, 4);
    assert.equal(answer.body.imported.policies.length, 6);
    assert.equal(answer.body.imported.policies[0].file, 'body[1]');
    assert.deepEqual({ locations: await names('namedLocations'), policies: await names('policies') }, before);
  });

  test('an id taken by Headquarters: the imported location gets a new id and the policy follows it', async () => {
    const locations = (await call('GET', `${CA}/namedLocations`)).body.value;
    const hq = locations.find((l: { displayName: string }) => l.displayName === HEADQUARTERS.displayName);
    const answer = await call('POST', `${CA}/import`, {
      body: {
        namedLocations: [
          {
            '@odata.type': '#microsoft.graph.ipNamedLocation',
            id: hq.id,
            displayName: 'Branch office',
            isTrusted: false,
            ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '192.0.2.0/24' }],
          },
        ],
        policies: [
          {
            id: '7e7e7e7e-7e7e-4e7e-8e7e-7e7e7e7e7e7e',
            displayName: 'MFA at the branch',
            state: 'disabled',
            conditions: {
              users: { includeUsers: ['All'] },
              applications: { includeApplications: ['All'] },
              locations: { includeLocations: [hq.id] },
            },
            grantControls: { operator: 'OR', builtInControls: ['mfa'] },
          },
        ],
      },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const [branch] = answer.body.imported.namedLocations;
    assert.equal(branch.id, hq.id);
    assert.equal(branch.newIdReason, 'taken');
    assert.notEqual(branch.newId, hq.id);
    const [policy] = answer.body.imported.policies;
    assert.deepEqual(policy.rewritten, [
      { field: 'conditions.locations.includeLocations[0]', from: hq.id, to: branch.newId },
    ]);
    const stored = await call('GET', `${CA}/policies/7e7e7e7e-7e7e-4e7e-8e7e-7e7e7e7e7e7e`);
    assert.deepEqual(stored.body.conditions.locations.includeLocations, [branch.newId]);
    assert.equal((await call('GET', `${CA}/namedLocations/${hq.id}`)).body.displayName, 'Headquarters');
  });

  test('over the policy limit: 400 naming the limit, and nothing written', async () => {
    const before = { locations: await names('namedLocations'), policies: await names('policies') };
    const many = Array.from({ length: 196 }, (_, i) => ({
      displayName: `Policy ${i}`,
      state: 'disabled',
      conditions: { users: { includeUsers: ['None'] }, applications: { includeApplications: ['None'] } },
      grantControls: { operator: 'OR', builtInControls: ['mfa'] },
    }));
    const answer = await call('POST', `${CA}/import`, {
      body: {
        namedLocations: [
          {
            '@odata.type': '#microsoft.graph.countryNamedLocation',
            displayName: 'Nordics',
            countriesAndRegions: ['NO', 'SE', 'DK', 'FI', 'IS'],
          },
        ],
        policies: many,
      },
    });
    assert.equal(answer.status, 400);
    assert.match(
      answer.body.error.message,
      /^Nothing was imported: importing 196 policies would give the tenant \d+ \(it has \d+\), more than the limit of 195\.$/,
    );
    assert.deepEqual({ locations: await names('namedLocations'), policies: await names('policies') }, before);
  });

  test('bad requests: 400 naming what is wrong', async () => {
    const cases: [string, { body?: unknown; raw?: string }, RegExp][] = [
      ['?dryRun=maybe', { body: { policies: [] } }, /^dryRun: 'maybe' is not a boolean/],
      ['', { body: { namedLocations: 'all of them' } }, /^namedLocations: expected an array/],
      ['', { body: 'a string' }, /must be a JSON object or array/],
      ['', { raw: '{"policies": [' }, /^The request body is not valid JSON/],
      ['', {}, /needs a JSON body/],
    ];
    for (const [query, options, message] of cases) {
      const answer = await call('POST', `${CA}/import${query}`, options);
      assert.equal(answer.status, 400, `${query} ${JSON.stringify(options)}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.error.message, message);
    }
    const invalid = await call('POST', `${CA}/import`, {
      body: { policies: [{ displayName: 'No conditions', state: 'enabled' }] },
    });
    assert.equal(invalid.status, 200, 'objects with problems are reported, not refused');
    assert.equal(invalid.body.outcome, 'importedWithProblems');
    assert.equal(invalid.body.skipped[0].reason, 'invalid');
    assert.ok(invalid.body.skipped[0].problems.some((p: { field?: string }) => p.field === 'conditions'));
  });

  test("an import takes effect on this node's sign-ins at once", async () => {
    // Bob at headquarters passes; the compiled set is now cached, and the (stopped) clock never expires it.
    assert.notEqual(await bobSignsInFrom('198.51.100.7'), 403);
    const answer = await call('POST', `${CA}/import`, {
      body: {
        policies: [
          {
            displayName: 'Block Bob even at trusted locations',
            state: 'enabled',
            conditions: {
              users: { includeUsers: [h.users.bob] },
              applications: { includeApplications: ['All'] },
              locations: { includeLocations: ['AllTrusted'] },
            },
            grantControls: { operator: 'OR', builtInControls: ['block'] },
          },
        ],
      },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(await bobSignsInFrom('198.51.100.7'), 403);
  });
});
