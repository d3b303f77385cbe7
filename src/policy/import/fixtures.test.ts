// Tests against realistic Entra exports (test/fixtures/entra) and Microsoft's published Graph examples
// (test/fixtures/graph-examples): they must import as they are, with exactly the problems and warnings listed here.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadExports } from './load.ts';
import { formatProblem, type Problem } from './problems.ts';
import { validatePolicySet } from './validate.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const ENTRA = join(FIXTURES, 'entra');
const EXAMPLES = join(FIXTURES, 'graph-examples');

/** Problems and warnings as `field: message` lines, without the file, for readable assertions. */
function lines(problems: Problem[]): string[] {
  return problems.map((p) => formatProblem({ ...p, file: undefined }));
}

function withoutDates(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v) => (key.endsWith('DateTime') ? undefined : v)));
}

const ENTRA_WARNINGS = [
  "policy 'CA002: Require phishing-resistant MFA for administrators' (id 2f0e5d8c-4b3a-4c9f-8e12-6d7a8b9c0f31): " +
    "grantControls.authenticationStrength: treated as requiring 'mfa': Portcullis does not check which methods " +
    "satisfy authentication strength 'Phishing-resistant MFA', so any second factor it offers passes",
  "policy 'CA004: Sign-in frequency & no persistent browser on unmanaged devices' (id 4b2a7f0e-6d5c-4eb1-a034-8f9c0d1e2b53): " +
    "conditions.devices: ignored: device filters are not evaluated (rule 'device.isCompliant -eq True -or " +
    'device.trustType -eq "ServerAD"\'), so the policy applies to every device — more broadly than in Entra, which ' +
    'for a block or MFA policy is the stricter direction',
  "policy 'CA005: Require MFA for guests and external users' (id 5c3b8a1f-7e6d-4fc2-b145-9a0d1e2f3c64): " +
    "conditions.users.includeGuestsOrExternalUsers: applied to all guests and external users ('GuestsOrExternalUsers' " +
    'added to includeUsers): Portcullis does not tell guest types (internalGuest,b2bCollaborationGuest,' +
    'b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider) or their home tenants apart',
];

describe('a realistic Entra tenant export', () => {
  const graph = loadExports([join(ENTRA, 'graph-explorer')], 'auto');
  const powershell = loadExports([join(ENTRA, 'powershell')], 'auto');

  test('Graph Explorer pages import without problems, with the expected warnings', () => {
    assert.deepEqual(graph.problems, []);
    assert.deepEqual(lines(graph.warnings), ENTRA_WARNINGS);
    assert.deepEqual(
      graph.files.map((f) => [f.file.slice(ENTRA.length + 1), f.imported, f.skipped]),
      [
        ['graph-explorer/named-locations.json', 4, 0],
        ['graph-explorer/policies.json', 6, 0],
      ],
    );
    assert.deepEqual(validatePolicySet(graph), []);
  });

  test('the set holds what the tenant configured', () => {
    const hq = graph.locations.find((l) => l.displayName === 'Headquarters');
    assert.ok(hq && 'ipRanges' in hq);
    assert.equal(hq.isTrusted, true);
    assert.deepEqual(
      hq.ipRanges.map((r) => `${r['@odata.type'].slice(17)} ${r.cidrAddress}`),
      [
        'iPv4CidrRange 12.34.221.11/22',
        'iPv4CidrRange 203.0.113.0/24',
        'iPv4CidrRange 198.51.100.17/32',
        'iPv6CidrRange 2001:db8:1234::/48',
        'iPv6CidrRange 2001:0:9d38:90d6:0:0:0:0/63',
      ],
    );
    const byName = new Map(graph.policies.map((p) => [p.displayName.slice(0, 5), p]));
    assert.deepEqual(byName.get('CA001')?.conditions.users.excludeUsers, [
      '0b2c4d6e-8f10-4a12-b314-c516d718e920',
      '1a3b5c7d-9e0f-4b21-a343-b565c787d909',
    ]);
    assert.ok(byName.get('CA002')?.conditions.users.includeRoles.includes('62e90394-69f5-4237-9190-012177145e10'));
    assert.deepEqual(byName.get('CA002')?.grantControls?.builtInControls, ['mfa']);
    assert.equal(byName.get('CA003')?.state, 'enabledForReportingButNotEnforced');
    assert.deepEqual(byName.get('CA003')?.conditions.clientAppTypes, ['exchangeActiveSync', 'other']);
    assert.deepEqual(byName.get('CA004')?.sessionControls?.signInFrequency, {
      isEnabled: true,
      type: 'hours',
      value: 12,
      frequencyInterval: 'timeBased',
      authenticationType: 'primaryAndSecondaryAuthentication',
    });
    assert.equal(byName.get('CA004')?.grantControls, null);
    assert.deepEqual(byName.get('CA005')?.conditions.users.includeUsers, ['GuestsOrExternalUsers']);
  });

  test('the policies file is UTF-16 LE with a BOM and CRLF, as Windows PowerShell 5.1 Out-File writes it', () => {
    const bytes = readFileSync(join(ENTRA, 'powershell/policies.json'));
    assert.deepEqual([...bytes.subarray(0, 8)], [0xff, 0xfe, 0x5b, 0x00, 0x0d, 0x00, 0x0a, 0x00]);
    const names = readFileSync(join(ENTRA, 'powershell/named-locations.json'));
    assert.deepEqual([...names.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  });

  test('the committed UTF-16 bytes are what the generator makes from the UTF-8 source', () => {
    const source = readFileSync(join(ENTRA, 'sources/powershell-policies.utf8.txt'), 'utf8').replace(/\r?\n/g, '\r\n');
    const expected = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(source, 'utf16le')]);
    assert.ok(readFileSync(join(ENTRA, 'powershell/policies.json')).equals(expected));
  });

  test('the Graph PowerShell SDK export (PascalCase, AdditionalProperties, /Date()/) normalizes to the same set', () => {
    assert.deepEqual(powershell.problems, []);
    assert.deepEqual(lines(powershell.warnings), ENTRA_WARNINGS);
    assert.deepEqual(withoutDates(powershell.locations), withoutDates(graph.locations));
    assert.deepEqual(withoutDates(powershell.policies), withoutDates(graph.policies));
    assert.equal(powershell.locations[0].createdDateTime, '2023-01-10T09:00:12.441Z');
    assert.deepEqual(validatePolicySet(powershell), []);
  });

  test('both exports together: every object is a duplicate id', () => {
    const both = loadExports([ENTRA], 'auto');
    const problems = validatePolicySet(both, undefined, { fileOf: both.sourceFile });
    assert.equal(problems.length, 10);
    assert.ok(problems.every((p) => p.field === 'id' && p.file?.includes('/powershell/')));
  });
});

describe("Microsoft's published Graph examples", () => {
  const examples = (...names: string[]) => names.map((name) => join(EXAMPLES, name));
  const all = loadExports([EXAMPLES], 'auto');

  test('every example imports', () => {
    assert.deepEqual(all.problems, []);
    assert.equal(all.files.length, 15);
    assert.ok(all.files.every((f) => f.skipped === 0 && f.imported > 0));
    assert.deepEqual([all.locations.length, all.policies.length], [7, 10]);
  });

  test('with the companion locations, the whole set validates', () => {
    assert.deepEqual(validatePolicySet(all), []);
  });

  test('without them, the location ids the examples assume are reported', () => {
    const loaded = loadExports(
      examples(
        'create-policy-2-block-exo-non-trusted-regions.request.json',
        'create-policy-2-block-exo-non-trusted-regions.response.json',
        'create-policy-3-all-conditions-and-controls.request.json',
        'create-policy-3-all-conditions-and-controls.response.json',
      ),
      'policies',
    );
    assert.deepEqual(
      validatePolicySet(loaded, undefined, { fileOf: loaded.sourceFile }).map((p) => [
        p.file?.slice(EXAMPLES.length + 1),
        p.field,
        p.message,
      ]),
      [
        [
          'create-policy-2-block-exo-non-trusted-regions.request.json',
          'conditions.locations.includeLocations[0]',
          "named location '198ad66e-87b3-4157-85a3-8a7b51794ee9' does not exist",
        ],
        [
          'create-policy-2-block-exo-non-trusted-regions.response.json',
          'conditions.locations.includeLocations[0]',
          "named location '198ad66e-87b3-4157-85a3-8a7b51794ee9' does not exist",
        ],
        [
          'create-policy-3-all-conditions-and-controls.request.json',
          'conditions.locations.excludeLocations[1]',
          "named location 'd2136c9c-b049-47ae-b9cf-316e04ef7198' does not exist",
        ],
        [
          'create-policy-3-all-conditions-and-controls.response.json',
          'conditions.locations.excludeLocations[1]',
          "named location 'd2136c9c-b049-47ae-b9cf-316e04ef7198' does not exist",
        ],
      ],
    );
  });

  test('the warnings: terms of use and Defender for Cloud Apps in example 3, XK in the PowerShell example', () => {
    assert.deepEqual(
      all.warnings.map((w) => [w.file?.slice(EXAMPLES.length + 1), w.field]),
      [
        ['create-policy-3-all-conditions-and-controls.request.json', 'grantControls.termsOfUse'],
        ['create-policy-3-all-conditions-and-controls.request.json', 'sessionControls.cloudAppSecurity'],
        ['create-policy-3-all-conditions-and-controls.response.json', 'grantControls.termsOfUse'],
        ['create-policy-3-all-conditions-and-controls.response.json', 'sessionControls.cloudAppSecurity'],
        ['powershell-new-namedlocation-country.params.json', 'countriesAndRegions[1]'],
      ],
    );
  });

  test('request bodies have no id yet; responses keep Graph’s', () => {
    const [request] = loadExports(examples('create-namedlocation-1-ip.request.json'), 'locations').locations;
    const [response] = loadExports(examples('create-namedlocation-1-ip.response.json'), 'locations').locations;
    assert.equal(request.id, '');
    assert.equal(response.id, '0854951d-5fc0-4eb1-b392-9b2c9d7949c2');
    assert.deepEqual(withoutDates({ ...response, id: '' }), withoutDates(request));
  });

  test('example 3 keeps its conditions in Graph casing', () => {
    const [p] = loadExports(examples('create-policy-3-all-conditions-and-controls.request.json'), 'policies').policies;
    assert.deepEqual(p.conditions.platforms, { includePlatforms: ['all'], excludePlatforms: ['iOS', 'windowsPhone'] });
    assert.deepEqual(p.conditions.users.excludeUsers, [
      '124c5b6a-ffa5-483a-9b88-04c3fce5574a',
      'GuestsOrExternalUsers',
    ]);
    assert.deepEqual(p.sessionControls, {
      signInFrequency: { isEnabled: true, type: 'hours', value: 4, frequencyInterval: null, authenticationType: null },
      cloudAppSecurity: { isEnabled: true, cloudAppSecurityType: 'blockDownloads' },
    });
  });
});
