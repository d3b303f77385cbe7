// Tests for the tolerant reading of Graph JSON: what is accepted and how it comes out, what is a problem, what warns.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConditionalAccessPolicy, IpNamedLocation, NamedLocation } from '../types.ts';
import { normalizeNamedLocation, normalizePolicy } from './normalize.ts';
import type { Problem } from './problems.ts';

// Tests edit raw JSON freely, as exports vary; typing every path would only restate the fixtures.
// biome-ignore lint/suspicious/noExplicitAny: raw Graph JSON under test.
type Raw = Record<string, any>;

const FILE = 'exports/policies.json';
const ctx = { file: FILE, index: 2 };

/** A minimal valid policy, as a Graph client would POST it. */
function rawPolicy(edit: (p: Raw) => void = () => {}): Raw {
  const p: Raw = {
    id: 'p-1',
    displayName: 'Require MFA for everyone',
    state: 'enabled',
    conditions: {
      users: { includeUsers: ['All'], excludeUsers: ['breakglass-1'] },
      applications: { includeApplications: ['All'] },
    },
    grantControls: { operator: 'OR', builtInControls: ['mfa'] },
  };
  edit(p);
  return p;
}

function policyOf(raw: Raw): ConditionalAccessPolicy {
  const result = normalizePolicy(raw, ctx);
  assert.deepEqual(result.problems, []);
  assert.ok(result.policy);
  return result.policy;
}

const OBJECT = "policy 'Require MFA for everyone' (id p-1)";

describe('normalizePolicy: tolerated input', () => {
  test('a minimal policy gets every list and Graph defaults', () => {
    assert.deepEqual(policyOf(rawPolicy()), {
      id: 'p-1',
      displayName: 'Require MFA for everyone',
      state: 'enabled',
      conditions: {
        users: {
          includeUsers: ['All'],
          excludeUsers: ['breakglass-1'],
          includeGroups: [],
          excludeGroups: [],
          includeRoles: [],
          excludeRoles: [],
        },
        applications: {
          includeApplications: ['All'],
          excludeApplications: [],
          includeUserActions: [],
          includeAuthenticationContextClassReferences: [],
        },
        clientAppTypes: ['all'],
        locations: null,
        platforms: null,
        signInRiskLevels: [],
        userRiskLevels: [],
      },
      grantControls: { operator: 'OR', builtInControls: ['mfa'], customAuthenticationFactors: [], termsOfUse: [] },
      sessionControls: null,
    });
  });

  const cases: Array<{ name: string; edit: (p: Raw) => void; check: (p: ConditionalAccessPolicy) => void }> = [
    {
      name: '@odata annotations are ignored',
      edit: (p) => {
        p['@odata.context'] = 'https://graph.microsoft.com/v1.0/$metadata#conditionalAccess/policies/$entity';
        p['@odata.etag'] = 'W/"1"';
        p.grantControls['authenticationStrength@odata.context'] = 'https://graph.microsoft.com/…/$entity';
        p.grantControls.authenticationStrength = null;
      },
      check: (p) => assert.deepEqual(p.grantControls?.builtInControls, ['mfa']),
    },
    {
      name: 'unknown fields are tolerated',
      edit: (p) => {
        p.description = 'beta only';
        p.partialEnablementStrategy = null;
        p.conditions.someFutureCondition = { x: 1 };
        p.conditions.applications.includeProtectionLevels = [];
      },
      check: (p) => assert.equal(p.displayName, 'Require MFA for everyone'),
    },
    {
      name: 'null lists become empty lists, and null clientAppTypes means all',
      edit: (p) => {
        p.conditions.users.includeGroups = null;
        p.conditions.users.excludeRoles = null;
        p.conditions.signInRiskLevels = null;
        p.conditions.clientAppTypes = null;
        p.conditions.platforms = null;
        p.conditions.locations = null;
      },
      check: (p) => {
        assert.deepEqual(p.conditions.users.includeGroups, []);
        assert.deepEqual(p.conditions.signInRiskLevels, []);
        assert.deepEqual(p.conditions.clientAppTypes, ['all']);
        assert.equal(p.conditions.locations, null);
      },
    },
    {
      name: 'enum values in any case come out in Graph casing',
      edit: (p) => {
        p.state = 'ENABLEDFORREPORTINGBUTNOTENFORCED';
        p.conditions.clientAppTypes = ['Browser', 'EXCHANGEACTIVESYNC'];
        p.conditions.platforms = { includePlatforms: ['IOS', 'Android', 'MACOS'], excludePlatforms: ['WindowsPhone'] };
        p.conditions.signInRiskLevels = ['HIGH'];
        p.grantControls = { operator: 'and', builtInControls: ['MFA', 'CompliantDevice'] };
      },
      check: (p) => {
        assert.equal(p.state, 'enabledForReportingButNotEnforced');
        assert.deepEqual(p.conditions.clientAppTypes, ['browser', 'exchangeActiveSync']);
        assert.deepEqual(p.conditions.platforms, {
          includePlatforms: ['iOS', 'android', 'macOS'],
          excludePlatforms: ['windowsPhone'],
        });
        assert.deepEqual(p.conditions.signInRiskLevels, ['high']);
        assert.equal(p.grantControls?.operator, 'AND');
        assert.deepEqual(p.grantControls?.builtInControls, ['mfa', 'compliantDevice']);
      },
    },
    {
      name: 'special values of users, applications and locations in Graph casing',
      edit: (p) => {
        p.conditions.users = { includeUsers: ['all'], excludeUsers: ['guestsorexternalusers'] };
        p.conditions.applications = {
          includeApplications: ['office365'],
          excludeApplications: ['MICROSOFTADMINPORTALS'],
        };
        p.conditions.locations = { includeLocations: ['all'], excludeLocations: ['alltrusted'] };
      },
      check: (p) => {
        assert.deepEqual(p.conditions.users.includeUsers, ['All']);
        assert.deepEqual(p.conditions.users.excludeUsers, ['GuestsOrExternalUsers']);
        assert.deepEqual(p.conditions.applications.includeApplications, ['Office365']);
        assert.deepEqual(p.conditions.applications.excludeApplications, ['MicrosoftAdminPortals']);
        assert.deepEqual(p.conditions.locations, { includeLocations: ['All'], excludeLocations: ['AllTrusted'] });
      },
    },
    {
      name: "'None' is a special value of users",
      edit: (p) => {
        p.conditions.users = { includeUsers: ['none'] };
      },
      check: (p) => assert.deepEqual(p.conditions.users.includeUsers, ['None']),
    },
    {
      name: 'user actions are lower-cased',
      edit: (p) => {
        p.conditions.applications = { includeApplications: [], includeUserActions: ['urn:user:registerSecurityInfo'] };
      },
      check: (p) => assert.deepEqual(p.conditions.applications.includeUserActions, ['urn:user:registersecurityinfo']),
    },
    {
      name: 'PascalCase names, as PowerShell writes SDK objects',
      edit: (p) => {
        for (const key of Object.keys(p)) delete p[key];
        Object.assign(p, {
          Id: 'p-1',
          DisplayName: 'Require MFA for everyone',
          State: 'enabled',
          Conditions: {
            Users: { IncludeUsers: ['All'], ExcludeUsers: ['breakglass-1'], AdditionalProperties: {} },
            Applications: { IncludeApplications: ['All'], AdditionalProperties: {} },
            AdditionalProperties: {},
          },
          GrantControls: { Operator: 'OR', BuiltInControls: ['mfa'], AdditionalProperties: {} },
          SessionControls: null,
          AdditionalProperties: {},
        });
      },
      check: (p) => assert.deepEqual(p, policyOf(rawPolicy())),
    },
    {
      name: 'a missing id stays empty for the store to assign',
      edit: (p) => {
        delete p.id;
      },
      check: (p) => assert.equal(p.id, ''),
    },
    {
      name: 'one value where Graph has a list of one',
      edit: (p) => {
        p.conditions.users.includeUsers = 'All';
      },
      check: (p) => assert.deepEqual(p.conditions.users.includeUsers, ['All']),
    },
    {
      name: 'Windows PowerShell 5.1 dates become ISO 8601',
      edit: (p) => {
        p.createdDateTime = '/Date(1673341212441)/';
        p.modifiedDateTime = null;
        p.templateId = null;
      },
      check: (p) => {
        assert.equal(p.createdDateTime, '2023-01-10T09:00:12.441Z');
        assert.equal(p.modifiedDateTime, null);
        assert.equal(p.templateId, null);
      },
    },
    {
      name: 'an unset location or platform condition written as empty lists is null',
      edit: (p) => {
        p.conditions.locations = { includeLocations: [], excludeLocations: [] };
        p.conditions.platforms = { includePlatforms: [], excludePlatforms: [] };
      },
      check: (p) => {
        assert.equal(p.conditions.locations, null);
        assert.equal(p.conditions.platforms, null);
      },
    },
    {
      name: 'an empty grant block (Graph writes one for session-only policies) is null',
      edit: (p) => {
        p.grantControls = { operator: 'OR', builtInControls: [], customAuthenticationFactors: [], termsOfUse: [] };
      },
      check: (p) => assert.equal(p.grantControls, null),
    },
    {
      name: 'the operator may be left out when there is one control',
      edit: (p) => {
        p.grantControls = { builtInControls: ['block'] };
      },
      check: (p) => assert.deepEqual(p.grantControls?.operator, 'OR'),
    },
    {
      name: 'session controls come out canonical; unset or disabled ones are dropped',
      edit: (p) => {
        p.sessionControls = {
          disableResilienceDefaults: null,
          applicationEnforcedRestrictions: null,
          cloudAppSecurity: { isEnabled: false },
          persistentBrowser: { mode: 'NEVER', isEnabled: true },
          signInFrequency: {
            value: 12,
            type: 'Hours',
            authenticationType: null,
            frequencyInterval: 'TimeBased',
            isEnabled: true,
          },
        };
      },
      check: (p) =>
        assert.deepEqual(p.sessionControls, {
          signInFrequency: {
            isEnabled: true,
            type: 'hours',
            value: 12,
            frequencyInterval: 'timeBased',
            authenticationType: null,
          },
          persistentBrowser: { isEnabled: true, mode: 'never' },
        }),
    },
    {
      name: 'session controls that are all null are null',
      edit: (p) => {
        p.sessionControls = { signInFrequency: null, persistentBrowser: null, cloudAppSecurity: null };
      },
      check: (p) => assert.equal(p.sessionControls, null),
    },
  ];
  for (const c of cases) test(c.name, () => c.check(policyOf(rawPolicy(c.edit))));

  test('nothing in a well-formed policy warns', () => {
    assert.deepEqual(normalizePolicy(rawPolicy(), ctx).warnings, []);
  });
});

describe('normalizePolicy: problems', () => {
  const cases: Array<{ name: string; edit: (p: Raw) => void; problems: Array<Omit<Problem, 'file'>> }> = [
    {
      name: 'missing displayName',
      edit: (p) => {
        delete p.displayName;
      },
      problems: [{ object: 'policy #3 (id p-1)', field: 'displayName', message: 'required but missing' }],
    },
    {
      name: 'missing state',
      edit: (p) => {
        delete p.state;
      },
      problems: [
        {
          object: OBJECT,
          field: 'state',
          message: 'required but missing: one of enabled, disabled, enabledForReportingButNotEnforced',
        },
      ],
    },
    {
      name: 'missing conditions',
      edit: (p) => {
        delete p.conditions;
      },
      problems: [{ object: OBJECT, field: 'conditions', message: 'required but missing' }],
    },
    {
      name: 'missing conditions.users',
      edit: (p) => {
        p.conditions.users = null;
      },
      problems: [{ object: OBJECT, field: 'conditions.users', message: 'required but missing' }],
    },
    {
      name: 'missing conditions.applications',
      edit: (p) => {
        delete p.conditions.applications;
      },
      problems: [{ object: OBJECT, field: 'conditions.applications', message: 'required but missing' }],
    },
    {
      name: 'an unknown state',
      edit: (p) => {
        p.state = 'on';
      },
      problems: [
        {
          object: OBJECT,
          field: 'state',
          message:
            "'on' is not one of the values Portcullis supports: enabled, disabled, enabledForReportingButNotEnforced",
        },
      ],
    },
    {
      name: 'unknownFutureValue among client app types',
      edit: (p) => {
        p.conditions.clientAppTypes = ['browser', 'unknownFutureValue'];
      },
      problems: [
        {
          object: OBJECT,
          field: 'conditions.clientAppTypes[1]',
          message:
            "'unknownFutureValue' is not one of the values Portcullis supports: all, browser, " +
            'mobileAppsAndDesktopClients, exchangeActiveSync, easSupported, other',
        },
      ],
    },
    {
      name: 'a platform Portcullis does not know',
      edit: (p) => {
        p.conditions.platforms = { includePlatforms: ['tizen'] };
      },
      problems: [
        {
          object: OBJECT,
          field: 'conditions.platforms.includePlatforms[0]',
          message:
            "'tizen' is not one of the values Portcullis supports: android, iOS, windows, windowsPhone, macOS, linux, all",
        },
      ],
    },
    {
      name: 'an unknown built-in control',
      edit: (p) => {
        p.grantControls.builtInControls = ['mfa', 'unknownFutureValue'];
      },
      problems: [
        {
          object: OBJECT,
          field: 'grantControls.builtInControls[1]',
          message:
            "'unknownFutureValue' is not one of the values Portcullis supports: block, mfa, compliantDevice, " +
            'domainJoinedDevice, approvedApplication, compliantApplication, passwordChange',
        },
      ],
    },
    {
      name: 'an unknown user action',
      edit: (p) => {
        p.conditions.applications = { includeUserActions: ['urn:user:registerpasskey'] };
      },
      problems: [
        {
          object: OBJECT,
          field: 'conditions.applications.includeUserActions[0]',
          message:
            "'urn:user:registerpasskey' is not a user action Portcullis knows: urn:user:registersecurityinfo, urn:user:registerdevice",
        },
      ],
    },
    {
      name: 'a placeholder group id from a documentation example',
      edit: (p) => {
        p.conditions.users.includeGroups = ['<interview-admins-group-id>'];
      },
      problems: [
        {
          object: OBJECT,
          field: 'conditions.users.includeGroups[0]',
          message: "'<interview-admins-group-id>' is a placeholder, not an id",
        },
      ],
    },
    {
      name: 'a placeholder policy id',
      edit: (p) => {
        p.id = '<Placeholder>';
      },
      problems: [
        {
          object: "policy 'Require MFA for everyone' (id <Placeholder>)",
          field: 'id',
          message: "'<Placeholder>' is a placeholder, not an id",
        },
      ],
    },
    {
      name: 'a placeholder location id',
      edit: (p) => {
        p.conditions.locations = { includeLocations: ['All'], excludeLocations: ['AllTrusted', '<location id>'] };
      },
      problems: [
        {
          object: OBJECT,
          field: 'conditions.locations.excludeLocations[1]',
          message: "'<location id>' is a placeholder, not an id",
        },
      ],
    },
    {
      name: 'an empty id in a list',
      edit: (p) => {
        p.conditions.users.excludeUsers = [''];
      },
      problems: [
        { object: OBJECT, field: 'conditions.users.excludeUsers[0]', message: 'an empty string is not an id' },
      ],
    },
    {
      name: 'a number where an id belongs',
      edit: (p) => {
        p.conditions.users.includeRoles = [62];
      },
      problems: [
        { object: OBJECT, field: 'conditions.users.includeRoles[0]', message: 'expected a string but found 62' },
      ],
    },
    {
      name: 'an export cut off by ConvertTo-Json’s default depth',
      edit: (p) => {
        p.conditions = 'Microsoft.Graph.PowerShell.Models.MicrosoftGraphConditionalAccessConditionSet';
      },
      problems: [
        {
          object: OBJECT,
          field: 'conditions',
          message:
            "expected an object but found a string ('Microsoft.Graph.PowerShell.Models.MicrosoftGraphConditionalAcces…' " +
            'is a PowerShell type name: ConvertTo-Json cut the export off at its default depth of 2; export again ' +
            'with ConvertTo-Json -Depth 10)',
        },
      ],
    },
    {
      name: 'two controls and no operator',
      edit: (p) => {
        p.grantControls = { builtInControls: ['mfa', 'compliantDevice'] };
      },
      problems: [
        {
          object: OBJECT,
          field: 'grantControls.operator',
          message: 'required but missing: AND or OR, to combine the controls',
        },
      ],
    },
    {
      name: 'isEnabled that is not a boolean',
      edit: (p) => {
        p.sessionControls = { signInFrequency: { isEnabled: 'yes', type: 'hours', value: 4 } };
      },
      problems: [
        {
          object: OBJECT,
          field: 'sessionControls.signInFrequency.isEnabled',
          message: "expected true or false but found 'yes'",
        },
      ],
    },
    {
      name: 'a sign-in frequency that is not a whole number',
      edit: (p) => {
        p.sessionControls = { signInFrequency: { isEnabled: true, type: 'hours', value: 1.5 } };
      },
      problems: [
        {
          object: OBJECT,
          field: 'sessionControls.signInFrequency.value',
          message: 'expected a whole number but found 1.5',
        },
      ],
    },
    {
      name: 'every problem is reported, not only the first',
      edit: (p) => {
        p.state = 'on';
        p.conditions.clientAppTypes = ['modern'];
        p.conditions.users.includeGroups = ['<group-id>'];
      },
      problems: [
        {
          object: OBJECT,
          field: 'state',
          message:
            "'on' is not one of the values Portcullis supports: enabled, disabled, enabledForReportingButNotEnforced",
        },
        {
          object: OBJECT,
          field: 'conditions.users.includeGroups[0]',
          message: "'<group-id>' is a placeholder, not an id",
        },
        {
          object: OBJECT,
          field: 'conditions.clientAppTypes[0]',
          message:
            "'modern' is not one of the values Portcullis supports: all, browser, mobileAppsAndDesktopClients, " +
            'exchangeActiveSync, easSupported, other',
        },
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = normalizePolicy(rawPolicy(c.edit), ctx);
      assert.equal(result.policy, undefined);
      assert.deepEqual(
        result.problems,
        c.problems.map((p) => ({ file: FILE, ...p })),
      );
    });
  }

  test('something that is not an object is named by its position', () => {
    assert.deepEqual(normalizePolicy('Require MFA', ctx).problems, [
      { file: FILE, object: 'policy #3', message: 'expected a JSON object but found a string' },
    ]);
  });
});

describe('normalizePolicy: parts Portcullis does not evaluate', () => {
  const cases: Array<{
    name: string;
    edit: (p: Raw) => void;
    field: string;
    says: RegExp;
    check?: (p: ConditionalAccessPolicy) => void;
  }> = [
    {
      name: 'a device filter: ignored, so the policy applies more broadly',
      edit: (p) => {
        p.conditions.devices = { deviceFilter: { mode: 'exclude', rule: 'device.isCompliant -eq True' } };
      },
      field: 'conditions.devices',
      says: /^ignored: device filters are not evaluated \(rule 'device.isCompliant -eq True'\), .*more broadly/,
    },
    {
      name: 'an authentication strength: treated as requiring mfa',
      edit: (p) => {
        p.grantControls = {
          operator: 'OR',
          builtInControls: [],
          authenticationStrength: { id: '00000000-0000-0000-0000-000000000004', displayName: 'Phishing-resistant MFA' },
        };
      },
      field: 'grantControls.authenticationStrength',
      says: /^treated as requiring 'mfa': .*'Phishing-resistant MFA'/,
      check: (p) => assert.deepEqual(p.grantControls?.builtInControls, ['mfa']),
    },
    {
      name: 'an authentication strength ANDed with a compliant device keeps both',
      edit: (p) => {
        p.grantControls = {
          operator: 'AND',
          builtInControls: ['compliantDevice'],
          authenticationStrength: { id: 'x' },
        };
      },
      field: 'grantControls.authenticationStrength',
      says: /^treated as requiring 'mfa'.*'x'/,
      check: (p) => assert.deepEqual(p.grantControls?.builtInControls, ['compliantDevice', 'mfa']),
    },
    {
      name: 'custom controls: treated as requiring mfa, and kept',
      edit: (p) => {
        p.grantControls = { operator: 'OR', builtInControls: [], customAuthenticationFactors: ['Duo-MFA'] };
      },
      field: 'grantControls.customAuthenticationFactors',
      says: /^treated as requiring 'mfa': Portcullis cannot call custom controls \('Duo-MFA'\)/,
      check: (p) => {
        assert.deepEqual(p.grantControls?.builtInControls, ['mfa']);
        assert.deepEqual(p.grantControls?.customAuthenticationFactors, ['Duo-MFA']);
      },
    },
    {
      name: 'terms of use: not shown, kept',
      edit: (p) => {
        p.grantControls.termsOfUse = ['ce580154-086a-40fd-91df-8a60abac81a0'];
      },
      field: 'grantControls.termsOfUse',
      says: /^not shown: .*'ce580154-086a-40fd-91df-8a60abac81a0'/,
      check: (p) => assert.deepEqual(p.grantControls?.termsOfUse, ['ce580154-086a-40fd-91df-8a60abac81a0']),
    },
    {
      name: 'included guest types: every guest is included',
      edit: (p) => {
        p.conditions.users = {
          includeUsers: [],
          includeGuestsOrExternalUsers: {
            guestOrExternalUserTypes: 'b2bCollaborationGuest,b2bCollaborationMember',
            externalTenants: {
              '@odata.type': '#microsoft.graph.conditionalAccessAllExternalTenants',
              membershipKind: 'all',
            },
          },
        };
      },
      field: 'conditions.users.includeGuestsOrExternalUsers',
      says: /^applied to all guests and external users .*\(b2bCollaborationGuest,b2bCollaborationMember\)/,
      check: (p) => assert.deepEqual(p.conditions.users.includeUsers, ['GuestsOrExternalUsers']),
    },
    {
      name: 'excluded guest types: ignored, so no guest is excluded',
      edit: (p) => {
        p.conditions.users.excludeGuestsOrExternalUsers = { guestOrExternalUserTypes: 'serviceProvider' };
      },
      field: 'conditions.users.excludeGuestsOrExternalUsers',
      says: /^ignored: .*\(serviceProvider\).*the policy applies to them too/,
      check: (p) => assert.deepEqual(p.conditions.users.excludeUsers, ['breakglass-1']),
    },
    {
      name: 'an application filter',
      edit: (p) => {
        p.conditions.applications.applicationFilter = { mode: 'include', rule: 'CustomSecurityAttribute.x -eq "y"' };
      },
      field: 'conditions.applications.applicationFilter',
      says: /^ignored: application filters are not evaluated .*more broadly/,
    },
    {
      name: 'workload identities',
      edit: (p) => {
        p.conditions.clientApplications = { includeServicePrincipals: ['All'], excludeServicePrincipals: [] };
      },
      field: 'conditions.clientApplications',
      says: /^ignored: workload identities/,
    },
    {
      name: 'authentication flows: the lock-out risk is spelled out',
      edit: (p) => {
        p.conditions.authenticationFlows = { transferMethods: 'deviceCodeFlow' };
      },
      field: 'conditions.authenticationFlows',
      says: /^ignored: authentication flows \('deviceCodeFlow'\) .*a block here blocks them everywhere/,
    },
    {
      name: 'service principal risk',
      edit: (p) => {
        p.conditions.servicePrincipalRiskLevels = ['high'];
      },
      field: 'conditions.servicePrincipalRiskLevels',
      says: /^ignored: service principal risk/,
    },
    {
      name: 'insider risk',
      edit: (p) => {
        p.conditions.insiderRiskLevels = 'elevated';
      },
      field: 'conditions.insiderRiskLevels',
      says: /^ignored: insider risk \('elevated'\)/,
    },
    {
      name: 'Defender for Cloud Apps session control: kept, not enforced',
      edit: (p) => {
        p.sessionControls = { cloudAppSecurity: { cloudAppSecurityType: 'blockDownloads', isEnabled: true } };
      },
      field: 'sessionControls.cloudAppSecurity',
      says: /^not enforced/,
      check: (p) =>
        assert.deepEqual(p.sessionControls, {
          cloudAppSecurity: { isEnabled: true, cloudAppSecurityType: 'blockDownloads' },
        }),
    },
    {
      name: 'token protection: kept, not enforced',
      edit: (p) => {
        p.grantControls = null;
        p.sessionControls = { secureSignInSession: { isEnabled: true } };
      },
      field: 'sessionControls.secureSignInSession',
      says: /^not enforced: .*token protection/,
    },
    {
      name: 'an exclude-only location condition reads as All',
      edit: (p) => {
        p.conditions.locations = { excludeLocations: ['AllTrusted'] };
      },
      field: 'conditions.locations.includeLocations',
      says: /^empty while excludeLocations is set: read as 'All'/,
      check: (p) =>
        assert.deepEqual(p.conditions.locations, { includeLocations: ['All'], excludeLocations: ['AllTrusted'] }),
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = normalizePolicy(rawPolicy(c.edit), ctx);
      assert.deepEqual(result.problems, []);
      assert.equal(result.warnings.length, 1, JSON.stringify(result.warnings));
      const [warning] = result.warnings;
      assert.equal(warning.file, FILE);
      assert.equal(warning.field, c.field);
      assert.match(warning.message, c.says);
      if (c.check && result.policy) c.check(result.policy);
    });
  }

  test('Graph’s usual nulls and empty lists for those parts do not warn', () => {
    const result = normalizePolicy(
      rawPolicy((p) => {
        Object.assign(p.conditions, {
          devices: null,
          clientApplications: null,
          authenticationFlows: null,
          servicePrincipalRiskLevels: [],
          insiderRiskLevels: null,
          times: null,
        });
        p.conditions.users.includeGuestsOrExternalUsers = null;
        p.conditions.applications.applicationFilter = null;
        p.grantControls.authenticationStrength = null;
      }),
      ctx,
    );
    assert.deepEqual([result.problems, result.warnings], [[], []]);
  });
});

describe('normalizePolicy: continuous access evaluation (strict location enforcement)', () => {
  /** Entra's "Strictly enforce location policies" on a block outside trusted locations, as Graph beta exports it. */
  const strict = (mode: unknown, edit: (p: Raw) => void = () => {}) =>
    rawPolicy((p) => {
      p.conditions.locations = { includeLocations: ['All'], excludeLocations: ['AllTrusted'] };
      p.grantControls = { operator: 'OR', builtInControls: ['block'] };
      p.sessionControls = {
        continuousAccessEvaluation: {
          '@odata.type': '#microsoft.graph.continuousAccessEvaluationSessionControl',
          mode,
        },
      };
      edit(p);
    });

  const kept: Array<{ name: string; raw: Raw; mode: string | undefined; warning?: [string, RegExp] }> = [
    { name: "'strictLocation' is kept, without a warning", raw: strict('strictLocation'), mode: 'strictLocation' },
    {
      name: "any casing, as PowerShell writes it ('Mode': 'StrictLocation')",
      raw: strict(undefined, (p) => {
        p.sessionControls.continuousAccessEvaluation = { Mode: 'StrictLocation' };
      }),
      mode: 'strictLocation',
    },
    {
      name: "'strictEnforcement' is kept, and the warning says only its location part is enforced",
      raw: strict('strictEnforcement'),
      mode: 'strictEnforcement',
      warning: [
        'sessionControls.continuousAccessEvaluation.mode',
        /^'strictEnforcement': its location part is enforced, as 'strictLocation'.*no counterpart/,
      ],
    },
    {
      name: "'disabled' is kept, and the warning says it does not turn the tenant setting off",
      raw: strict('disabled'),
      mode: 'disabled',
      warning: [
        'sessionControls.continuousAccessEvaluation.mode',
        /^'disabled': kept, but it does not turn off the tenant's continuousLocationEnforcement/,
      ],
    },
    {
      name: "'strictLocation' on a policy without a location condition warns that it does nothing",
      raw: strict('strictLocation', (p) => {
        p.conditions.locations = null;
      }),
      mode: 'strictLocation',
      warning: ['sessionControls.continuousAccessEvaluation.mode', /^'strictLocation' has no effect here/],
    },
    { name: 'a null mode sets nothing', raw: strict(null), mode: undefined },
    {
      name: 'a null control sets nothing',
      raw: strict(undefined, (p) => {
        p.sessionControls = { continuousAccessEvaluation: null };
      }),
      mode: undefined,
    },
  ];
  for (const c of kept) {
    test(c.name, () => {
      const result = normalizePolicy(c.raw, ctx);
      assert.deepEqual(result.problems, []);
      assert.deepEqual(
        result.warnings.map((w) => w.field),
        c.warning ? [c.warning[0]] : [],
      );
      if (c.warning) assert.match(result.warnings[0].message, c.warning[1]);
      const policy = result.policy as ConditionalAccessPolicy;
      assert.deepEqual(
        policy.sessionControls?.continuousAccessEvaluation,
        c.mode === undefined ? undefined : { mode: c.mode },
      );
    });
  }

  test('it round-trips: the policy as served (JSON) reads back the same', () => {
    for (const mode of ['strictLocation', 'strictEnforcement', 'disabled']) {
      const first = policyOf(strict(mode));
      const again = policyOf(JSON.parse(JSON.stringify(first)));
      assert.deepEqual(again, first);
      assert.deepEqual(JSON.parse(JSON.stringify(first)).sessionControls, { continuousAccessEvaluation: { mode } });
    }
  });

  for (const [name, mode, message] of [
    [
      "Graph's 'unknownFutureValue'",
      'unknownFutureValue',
      "'unknownFutureValue' is not one of the values Portcullis supports: strictEnforcement, disabled, strictLocation",
    ],
    ['a number', 1, '1 is not one of the values Portcullis supports: strictEnforcement, disabled, strictLocation'],
  ] as const) {
    test(`a mode that is ${name} is a problem naming the field and the value`, () => {
      const result = normalizePolicy(strict(mode), ctx);
      assert.equal(result.policy, undefined);
      assert.deepEqual(result.problems, [
        {
          file: FILE,
          object: "policy 'Require MFA for everyone' (id p-1)",
          field: 'sessionControls.continuousAccessEvaluation.mode',
          message,
        },
      ]);
    });
  }
});

describe('normalizeNamedLocation', () => {
  const LCTX = { file: 'exports/locations.json', index: 0 };
  function locationOf(raw: unknown): NamedLocation {
    const result = normalizeNamedLocation(raw, LCTX);
    assert.deepEqual(result.problems, []);
    assert.ok(result.location);
    return result.location;
  }
  const hq: IpNamedLocation = {
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    id: 'hq',
    displayName: 'Headquarters',
    isTrusted: true,
    ipRanges: [
      { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '12.34.221.11/22' },
      { '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '2001:db8::/48' },
    ],
  };
  const expectedHq = { ...hq };

  const accepted: Array<{ name: string; raw: unknown; location: NamedLocation }> = [
    { name: 'an IP location as Graph writes it', raw: hq, location: expectedHq },
    {
      name: 'a country location gets Graph defaults',
      raw: {
        '@odata.type': '#microsoft.graph.countryNamedLocation',
        displayName: 'EU',
        countriesAndRegions: ['de', 'FR '],
      },
      location: {
        '@odata.type': '#microsoft.graph.countryNamedLocation',
        id: '',
        displayName: 'EU',
        countriesAndRegions: ['DE', 'FR'],
        includeUnknownCountriesAndRegions: false,
        countryLookupMethod: 'clientIpAddress',
      },
    },
    {
      name: 'no @odata.type: ipRanges make an IP location, range families come from the address',
      raw: {
        id: 'hq',
        displayName: 'Headquarters',
        isTrusted: true,
        ipRanges: [{ cidrAddress: '12.34.221.11/22' }, '2001:db8::/48'],
      },
      location: expectedHq,
    },
    {
      name: 'no @odata.type: countriesAndRegions make a country location',
      raw: { displayName: 'Nowhere', countriesAndRegions: [], includeUnknownCountriesAndRegions: true },
      location: {
        '@odata.type': '#microsoft.graph.countryNamedLocation',
        id: '',
        displayName: 'Nowhere',
        countriesAndRegions: [],
        includeUnknownCountriesAndRegions: true,
        countryLookupMethod: 'clientIpAddress',
      },
    },
    {
      name: 'types in any case, with or without #',
      raw: {
        ...hq,
        '@odata.type': 'Microsoft.Graph.IPNamedLocation',
        ipRanges: [
          { '@odata.type': '#microsoft.graph.ipv4CidrRange', cidrAddress: ' 12.34.221.11/22 ' },
          { '@odata.type': 'microsoft.graph.IPv6CidrRange', cidrAddress: '2001:db8::/48' },
        ],
      },
      location: expectedHq,
    },
    {
      name: 'the Graph PowerShell SDK shape: derived properties in AdditionalProperties',
      raw: {
        CreatedDateTime: null,
        DisplayName: 'Headquarters',
        Id: 'hq',
        ModifiedDateTime: null,
        AdditionalProperties: { '@odata.type': hq['@odata.type'], isTrusted: true, ipRanges: hq.ipRanges },
      },
      location: { ...expectedHq, createdDateTime: null, modifiedDateTime: null },
    },
    {
      name: 'isTrusted missing means false; null ranges of a typed location are a problem elsewhere',
      raw: { ...hq, isTrusted: null },
      location: { ...expectedHq, isTrusted: false },
    },
  ];
  for (const c of accepted) test(`accepts ${c.name}`, () => assert.deepEqual(locationOf(c.raw), c.location));

  const OBJ = "location 'Headquarters' (id hq)";
  const rejected: Array<{ name: string; raw: unknown; problems: Array<Omit<Problem, 'file'>> }> = [
    {
      name: 'a kind of location Portcullis does not support',
      raw: { ...hq, '@odata.type': '#microsoft.graph.compliantNetworkNamedLocation' },
      problems: [
        {
          object: OBJ,
          field: '@odata.type',
          message:
            "'#microsoft.graph.compliantNetworkNamedLocation' is not a kind of named location Portcullis supports: " +
            "expected '#microsoft.graph.ipNamedLocation' or '#microsoft.graph.countryNamedLocation'",
        },
      ],
    },
    {
      name: 'neither ranges nor countries',
      raw: { id: 'hq', displayName: 'Headquarters' },
      problems: [
        {
          object: OBJ,
          field: 'ipRanges',
          message:
            'required but missing: a named location needs ipRanges (an IP location) or countriesAndRegions (a country location)',
        },
      ],
    },
    {
      name: 'ranges and countries and no type',
      raw: { id: 'hq', displayName: 'Headquarters', ipRanges: [], countriesAndRegions: [] },
      problems: [
        {
          object: OBJ,
          field: '@odata.type',
          message: 'missing, and the location has both ipRanges and countriesAndRegions, so its kind is unclear',
        },
      ],
    },
    {
      name: 'an IP location without ipRanges',
      raw: { '@odata.type': hq['@odata.type'], id: 'hq', displayName: 'Headquarters' },
      problems: [{ object: OBJ, field: 'ipRanges', message: 'required but missing' }],
    },
    {
      name: 'a range of an unknown type',
      raw: { ...hq, ipRanges: [{ '@odata.type': '#microsoft.graph.ipRange', cidrAddress: '10.0.0.0/24' }] },
      problems: [
        {
          object: OBJ,
          field: 'ipRanges[0].@odata.type',
          message:
            "'#microsoft.graph.ipRange' is not a kind of IP range: expected '#microsoft.graph.iPv4CidrRange' or " +
            "'#microsoft.graph.iPv6CidrRange'",
        },
      ],
    },
    {
      name: 'a range without cidrAddress',
      raw: { ...hq, ipRanges: [hq.ipRanges[0], { '@odata.type': '#microsoft.graph.iPv4CidrRange' }] },
      problems: [{ object: OBJ, field: 'ipRanges[1].cidrAddress', message: 'required but missing' }],
    },
    {
      name: 'a placeholder id',
      raw: { ...hq, id: '<location-id>' },
      problems: [
        {
          object: "location 'Headquarters' (id <location-id>)",
          field: 'id',
          message: "'<location-id>' is a placeholder, not an id",
        },
      ],
    },
    {
      name: 'isTrusted that is not a boolean',
      raw: { ...hq, isTrusted: 'yes' },
      problems: [{ object: OBJ, field: 'isTrusted', message: "expected true or false but found 'yes'" }],
    },
    {
      name: 'an unknown country lookup method',
      raw: { id: 'c', displayName: 'C', countriesAndRegions: ['DE'], countryLookupMethod: 'wifi' },
      problems: [
        {
          object: "location 'C' (id c)",
          field: 'countryLookupMethod',
          message: "'wifi' is not one of the values Portcullis supports: clientIpAddress, authenticatorAppGps",
        },
      ],
    },
    {
      name: 'a country that is not a string',
      raw: { id: 'c', displayName: 'C', countriesAndRegions: [276] },
      problems: [
        {
          object: "location 'C' (id c)",
          field: 'countriesAndRegions[0]',
          message: 'expected a two-letter country code but found 276',
        },
      ],
    },
    {
      name: 'every problem is reported',
      raw: { ...hq, isTrusted: 1, ipRanges: [{}, 42] },
      problems: [
        { object: OBJ, field: 'ipRanges[0].cidrAddress', message: 'required but missing' },
        { object: OBJ, field: 'ipRanges[1]', message: 'expected an object with a cidrAddress but found a number' },
        { object: OBJ, field: 'isTrusted', message: 'expected true or false but found 1' },
      ],
    },
  ];
  for (const c of rejected) {
    test(`rejects ${c.name}`, () => {
      const result = normalizeNamedLocation(c.raw, LCTX);
      assert.equal(result.location, undefined);
      assert.deepEqual(
        result.problems,
        c.problems.map((p) => ({ file: LCTX.file, ...p })),
      );
    });
  }

  test('GPS lookup warns that only unknown countries can match', () => {
    const result = normalizeNamedLocation(
      { displayName: 'GPS', countriesAndRegions: ['US'], countryLookupMethod: 'authenticatorAppGps' },
      LCTX,
    );
    assert.equal(result.location?.['@odata.type'], '#microsoft.graph.countryNamedLocation');
    assert.equal(result.warnings.length, 1);
    assert.equal(result.warnings[0].field, 'countryLookupMethod');
    assert.match(result.warnings[0].message, /no GPS signal.*includeUnknownCountriesAndRegions \(false\)/);
  });

  test('XK (Kosovo), which Entra accepts, warns that no address resolves to it', () => {
    const result = normalizeNamedLocation({ displayName: 'K', countriesAndRegions: ['us', 'xk'] }, LCTX);
    assert.deepEqual(
      result.location && 'countriesAndRegions' in result.location && result.location.countriesAndRegions,
      ['US', 'XK'],
    );
    assert.equal(result.warnings[0].field, 'countriesAndRegions[1]');
    assert.match(result.warnings[0].message, /^'XK' \(Kosovo\)/);
  });
});
