// What If and strict location enforcement: the decision's merged session controls say whether the gateway must
// re-check location on every request, for one application and merged over several.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicySet } from './compile.ts';
import type { ConditionalAccessPolicy, NamedLocation } from './types.ts';
import { directoryResolver, whatIf } from './whatif.ts';

const CRM = 'a1b2c3d4-0000-0000-0000-00000000c0de';
const WIKI = 'a1b2c3d4-0000-0000-0000-0000000000ff';
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const HQ = '12.34.220.5';
const ABROAD = '203.0.113.9';

const locations: NamedLocation[] = [
  {
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    id: 'loc-hq',
    displayName: 'Headquarters',
    isTrusted: true,
    ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '12.34.220.0/22' }],
  },
];

/** Entra's "Strictly enforce location policies" on a block outside trusted locations, for the CRM only. */
const strictCrm: ConditionalAccessPolicy = {
  id: 'strict-crm',
  displayName: 'CRM: block outside trusted locations, strictly',
  state: 'enabled',
  conditions: {
    users: {
      includeUsers: ['All'],
      excludeUsers: [],
      includeGroups: [],
      excludeGroups: [],
      includeRoles: [],
      excludeRoles: [],
    },
    applications: { includeApplications: [CRM], excludeApplications: [], includeUserActions: [] },
    clientAppTypes: ['all'],
    locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] },
    signInRiskLevels: [],
    userRiskLevels: [],
  },
  grantControls: { operator: 'OR', builtInControls: ['block'] },
  sessionControls: { continuousAccessEvaluation: { mode: 'strictLocation' } },
};

const set = compilePolicySet(locations, [strictCrm]);
const resolve = directoryResolver([{ id: 'alice', userPrincipalName: 'alice@contoso.example' }]);
const ask = (applications: string[], ipAddress: string) =>
  whatIf(
    set,
    resolve,
    {
      signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId: 'alice@contoso.example' },
      signInContext: { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: applications },
      signInConditions: { ipAddress },
    },
    NOW,
  );

const cases: Array<{ name: string; applications: string[]; ip: string; outcome: string; session: object }> = [
  {
    name: 'alice at headquarters on the CRM: allowed, and location is re-checked on every request',
    applications: [CRM],
    ip: HQ,
    outcome: 'allow',
    session: { strictLocation: true },
  },
  {
    name: 'alice abroad on the CRM: blocked',
    applications: [CRM],
    ip: ABROAD,
    outcome: 'block',
    session: { strictLocation: true },
  },
  {
    name: 'alice at headquarters on the wiki: the policy is out of scope, nothing to re-check',
    applications: [WIKI],
    ip: HQ,
    outcome: 'allow',
    session: {},
  },
  {
    name: 'the wiki and the CRM at once: merged, the CRM asks for it',
    applications: [WIKI, CRM],
    ip: HQ,
    outcome: 'allow',
    session: { strictLocation: true },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const { decision, value } = ask(c.applications, c.ip);
    assert.equal(decision.outcome, c.outcome);
    assert.deepEqual(decision.sessionControls, c.session);
    // The policy is listed with its session control as stored, whether or not it applies.
    assert.deepEqual(value[0].sessionControls, { continuousAccessEvaluation: { mode: 'strictLocation' } });
  });
}
