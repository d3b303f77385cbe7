// The Conditional Access admin API driven by Microsoft's own Graph client (`@microsoft/microsoft-graph-client`,
// unmodified), pointed at a tenant's Graph base URL with a client-credentials token from the tenant's token endpoint:
// create, list with $filter/$select/$top and the client's PageIterator, update, What If, delete, Graph errors. And
// every change made through the API reaches the node's compiled policy cache at once, not at its next poll.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AuthenticationProvider, Client, GraphError, PageIterator } from '@microsoft/microsoft-graph-client';
import * as client from 'openid-client';
import { ADMIN_API_SCOPE } from '../../src/oidc/provider.ts';
import { PolicyRepository } from '../../src/store/repositories/policy-repository.ts';
import { type HttpsPortcullis, startHttpsPortcullis } from './https-server.ts';

const APP = '00000002-0000-0ff1-ce00-000000000000'; // Exchange Online, as Microsoft's policy examples use it

describe('admin API through the Microsoft Graph client', () => {
  let server: HttpsPortcullis;
  let token: string;
  let graph: Client;

  /** A client as a script would build it: the tenant's Graph base URL, v1.0, and our host allowed a token. */
  function graphClient(customHosts?: Set<string>): Client {
    const authProvider: AuthenticationProvider = { getAccessToken: async () => token };
    return Client.initWithMiddleware({
      authProvider,
      baseUrl: `${server.issuer}/graph/`,
      defaultVersion: 'v1.0',
      ...(customHosts ? { customHosts } : {}),
    });
  }

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
    token = (await client.clientCredentialsGrant(config, { scope: ADMIN_API_SCOPE })).access_token;
    graph = graphClient(new Set(['127.0.0.1']));
  });
  after(async () => server?.close());

  test('without customHosts the client keeps the token to Microsoft hosts: 401', async () => {
    const error = await graphError(graphClient().api('/identity/conditionalAccess/policies').get());
    assert.equal(error.statusCode, 401);
    assert.equal(error.code, 'InvalidAuthenticationToken');
  });

  let branch: { id: string };
  let policy: { id: string };

  test('create a trusted location and a report-only policy; list, filter, select and page through them', async () => {
    branch = await graph.api('/identity/conditionalAccess/namedLocations').post({
      '@odata.type': '#microsoft.graph.ipNamedLocation',
      displayName: 'Branch office',
      isTrusted: true,
      ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '203.0.113.0/24' }],
    });
    assert.match(branch.id, /^[0-9a-f-]{36}$/);
    for (const name of ['Zurich', 'Lisbon', 'Oslo']) {
      server.clock.advance(1000);
      await graph.api('/identity/conditionalAccess/namedLocations').post({
        '@odata.type': '#microsoft.graph.countryNamedLocation',
        displayName: `Country ${name}`,
        countriesAndRegions: [name === 'Zurich' ? 'CH' : name === 'Lisbon' ? 'PT' : 'NO'],
        includeUnknownCountriesAndRegions: false,
      });
    }
    policy = await graph.api('/identity/conditionalAccess/policies').post({
      displayName: 'Require MFA for Bob at the branch',
      state: 'enabledForReportingButNotEnforced',
      conditions: {
        users: { includeUsers: [server.bob] },
        applications: { includeApplications: ['All'] },
        locations: { includeLocations: [branch.id] },
      },
      grantControls: { operator: 'OR', builtInControls: ['mfa'] },
    });

    const countries = await graph
      .api('/identity/conditionalAccess/namedLocations')
      .filter("isof('microsoft.graph.countryNamedLocation') and startswith(displayName, 'country')")
      .select(['displayName'])
      .get();
    assert.deepEqual(
      countries.value.map((l: Record<string, unknown>) => Object.keys(l).sort()),
      [
        ['@odata.type', 'displayName'],
        ['@odata.type', 'displayName'],
        ['@odata.type', 'displayName'],
      ],
    );

    const first = await graph.api('/identity/conditionalAccess/namedLocations').top(1).get();
    assert.equal(first.value.length, 1);
    assert.ok(first['@odata.nextLink'], 'a next link');
    const names: string[] = [];
    const iterator = new PageIterator(graph, first, (item: { displayName: string }) => {
      names.push(item.displayName);
      return true;
    });
    await iterator.iterate();
    assert.deepEqual(names, ['Branch office', 'Country Zurich', 'Country Lisbon', 'Country Oslo']);
  });

  test('an update through the client reaches the compiled policy cache at once', async () => {
    const before = await server.policies.get(server.tenantId);
    assert.equal(before.policies.length, 1);
    assert.equal(before.policies[0].source.state, 'enabledForReportingButNotEnforced');

    // Control: a change behind the API's back is not seen before the cache's next poll (the clock stands still).
    await new PolicyRepository(server.store.forTenant(server.tenantId)).replacePolicy(policy.id, {
      ...before.policies[0].source,
      displayName: 'Renamed behind the API',
    });
    const unchanged = await server.policies.get(server.tenantId);
    assert.equal(unchanged.policies[0].source.displayName, 'Require MFA for Bob at the branch');

    await graph.api(`/identity/conditionalAccess/policies/${policy.id}`).update({ state: 'enabled' });
    const now = await server.policies.get(server.tenantId);
    assert.equal(now.policies[0].source.state, 'enabled');
    assert.equal(now.policies[0].source.displayName, 'Renamed behind the API');
  });

  test('What If through the client: the enabled policy asks Bob for MFA at the branch', async () => {
    const result = await graph.api('/identity/conditionalAccess/evaluate').post({
      signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId: server.bob },
      signInContext: { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: [APP] },
      signInConditions: { ipAddress: '203.0.113.9' },
      appliedPoliciesOnly: true,
    });
    assert.deepEqual(
      result.value.map((r: { id: string; policyApplies: boolean }) => [r.id, r.policyApplies]),
      [[policy.id, true]],
    );
    assert.equal(result.decision.outcome, 'challenge');
    assert.deepEqual(result.decision.missingControls, ['mfa']);
  });

  test('Graph errors reach the client as GraphError: 400 naming fields, 404, 409', async () => {
    const invalid = await graphError(
      graph.api('/identity/conditionalAccess/namedLocations').post({
        '@odata.type': '#microsoft.graph.ipNamedLocation',
        displayName: 'Too broad',
        ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.0.0.0/7' }],
      }),
    );
    assert.equal(invalid.statusCode, 400);
    assert.match(invalid.message, /ipRanges\[0\]\.cidrAddress/);

    const missing = await graphError(graph.api('/identity/conditionalAccess/policies/no-such-policy').get());
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.code, 'itemNotFound');

    const trusted = await graphError(graph.api(`/identity/conditionalAccess/namedLocations/${branch.id}`).delete());
    assert.equal(trusted.statusCode, 409);
    assert.match(trusted.message, /trusted location cannot be deleted/);
  });

  test('delete the policy, then the location once untrusted; the cache drops them at once', async () => {
    await graph.api(`/identity/conditionalAccess/policies/${policy.id}`).delete();
    assert.equal((await server.policies.get(server.tenantId)).policies.length, 0);
    await graph.api(`/identity/conditionalAccess/namedLocations/${branch.id}`).update({ isTrusted: false });
    await graph.api(`/identity/conditionalAccess/namedLocations/${branch.id}`).delete();
    const left = await graph.api('/identity/conditionalAccess/namedLocations').get();
    assert.deepEqual(
      left.value.map((l: { displayName: string }) => l.displayName),
      ['Country Zurich', 'Country Lisbon', 'Country Oslo'],
    );
    const compiled = await server.policies.get(server.tenantId);
    assert.ok(!compiled.locations.some((l) => l.id === branch.id), 'the branch is gone from the compiled set');
  });
});
