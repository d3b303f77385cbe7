// The command-line contract, run as a user runs it: `bin/portcullis.js` in a child process, on the example files the
// README's quick start uses, and on broken input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const examples = join(root, 'examples');

function portcullis(...args: string[]) {
  const result = spawnSync(process.execPath, [join(root, 'bin/portcullis.js'), ...args], {
    encoding: 'utf8',
    cwd: root,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const exampleArgs = (request: string) => [
  '--locations',
  join(examples, 'locations.json'),
  '--policies',
  join(examples, 'policies.json'),
  '--directory',
  join(examples, 'directory.json'),
  '--request',
  join(examples, request),
];

test('--help lists the commands', () => {
  const { code, stdout } = portcullis('--help');
  assert.equal(code, 0);
  for (const command of ['validate', 'whatif', 'help', 'version'])
    assert.match(stdout, new RegExp(`^  ${command} `, 'm'));
});

test('no command prints the help and exits 2', () => {
  const { code, stdout } = portcullis();
  assert.equal(code, 2);
  assert.match(stdout, /Usage: portcullis/);
});

test('an unknown command is a usage error naming it', () => {
  const { code, stderr } = portcullis('frobnicate');
  assert.equal(code, 2);
  assert.match(stderr, /unknown command 'frobnicate'/);
});

test("the README's quick start: Bob abroad is blocked and the report-only MFA policy is reported", () => {
  const { code, stdout, stderr } = portcullis('whatif', ...exampleArgs('request-bob-abroad.json'));
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout);
  assert.equal(result.decision.blocked, true);
  assert.equal(result.decision.errorCode, 53003);
  assert.deepEqual(result.decision.blockedBy, ['7b2d4a1e-3c55-4f0e-9a51-2f6a0c0b8d11']);
  const byName = Object.fromEntries(result.value.map((p: { displayName: string }) => [p.displayName, p]));
  assert.equal(byName['Block access from outside trusted locations'].policyApplies, true);
  assert.equal(byName['Block access from outside trusted locations'].analysisReasons, 'notSet');
  assert.equal(
    byName['Block access from outside trusted locations']['@odata.type'],
    '#microsoft.graph.whatIfAnalysisResult',
  );
  assert.equal(byName['Require MFA for Global Administrators'].policyApplies, true);
  assert.equal(byName['Require MFA for Global Administrators'].state, 'enabledForReportingButNotEnforced');
});

test('What If for alice at headquarters, by user principal name, with appliedPoliciesOnly', () => {
  const { code, stdout, stderr } = portcullis('whatif', ...exampleArgs('request-alice-at-hq.json'));
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout);
  assert.deepEqual(result.value, []);
  assert.equal(result.decision.blocked, false);
  assert.equal(result.decision.outcome, 'allow');
});

test('validate accepts the examples', () => {
  const { code, stdout } = portcullis(
    'validate',
    '--locations',
    join(examples, 'locations.json'),
    '--policies',
    join(examples, 'policies.json'),
  );
  assert.equal(code, 0);
  assert.equal(stdout, 'valid: 2 named locations, 2 policies\n');
});

test('validate reports every problem, one line each, naming file, object and field, and exits 1', () => {
  const dir = scratch({
    'locations.json': JSON.stringify([
      {
        '@odata.type': '#microsoft.graph.ipNamedLocation',
        id: 'hq',
        displayName: 'HQ',
        isTrusted: true,
        ipRanges: [
          { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.0.0.0/33' },
          { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.0.0.0/8' },
        ],
      },
      {
        '@odata.type': '#microsoft.graph.countryNamedLocation',
        id: 'c',
        displayName: 'Nowhere',
        countriesAndRegions: ['XX'],
        includeUnknownCountriesAndRegions: false,
      },
    ]),
  });
  const { code, stdout } = portcullis('validate', '--locations', join(dir, 'locations.json'));
  assert.equal(code, 1);
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 3, stdout);
  assert.match(lines[0], /locations\.json: .*HQ.*ipRanges\[0\]\.cidrAddress.*10\.0\.0\.0\/33/);
  assert.match(lines[1], /locations\.json: .*HQ.*ipRanges\[1\]\.cidrAddress.*\/8/);
  assert.match(lines[2], /locations\.json: .*Nowhere.*countriesAndRegions\[0\].*XX/);
});

test('validate names malformed JSON with line and column', () => {
  const dir = scratch({ 'policies.json': '{\n  "displayName": "x",\n  "state": enabled\n}\n' });
  const { code, stdout } = portcullis('validate', '--policies', join(dir, 'policies.json'));
  assert.equal(code, 1);
  assert.match(stdout, /policies\.json: .*line 3, column 12/);
});

test('whatif with a request that names an unknown user exits 1 naming the field', () => {
  const dir = scratch({
    'request.json': JSON.stringify({
      signInIdentity: { '@odata.type': '#microsoft.graph.userSignIn', userId: 'nobody' },
      signInContext: { '@odata.type': '#microsoft.graph.applicationContext', includeApplications: ['app'] },
      signInConditions: {},
    }),
  });
  const args = exampleArgs('request-bob-abroad.json');
  args[args.length - 1] = join(dir, 'request.json');
  const { code, stderr } = portcullis('whatif', ...args);
  assert.equal(code, 1);
  assert.match(stderr, /signInIdentity\.userId: 'nobody' is not a user in the directory/);
});

test('whatif with a bad IP address exits 1 naming the field and value', () => {
  const dir = scratch({
    'request.json': JSON.stringify({
      signInIdentity: { userId: 'alice@contoso.example' },
      signInContext: { includeApplications: ['app'] },
      signInConditions: { ipAddress: '999.1.1.1' },
    }),
  });
  const args = exampleArgs('request-bob-abroad.json');
  args[args.length - 1] = join(dir, 'request.json');
  const { code, stderr } = portcullis('whatif', ...args);
  assert.equal(code, 1);
  assert.match(stderr, /signInConditions\.ipAddress: "999\.1\.1\.1" is not an IP address/);
});

test('whatif without --request is a usage error', () => {
  const { code, stderr } = portcullis('whatif', '--policies', join(examples, 'policies.json'), '--directory', 'x');
  assert.equal(code, 2);
  assert.match(stderr, /--request <file> is required/);
});

test('a missing file is named', () => {
  const { code, stdout, stderr } = portcullis('validate', '--policies', '/nonexistent/policies.json');
  assert.equal(code, 1);
  assert.match(stdout + stderr, /\/nonexistent\/policies\.json/);
});

test('--limit overrides a limit and rejects unknown names', () => {
  const tight = portcullis(
    'validate',
    '--locations',
    join(examples, 'locations.json'),
    '--limit',
    'maxNamedLocations=1',
  );
  assert.equal(tight.code, 1);
  assert.match(tight.stdout, /2 named locations is more than the limit of 1/);
  const bad = portcullis('validate', '--locations', join(examples, 'locations.json'), '--limit', 'bogus=3');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--limit 'bogus=3'/);
});

test('started by an older system Node, the entry point re-runs itself on the pinned Node 24', (t) => {
  const system = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' });
  const major = Number(/^v(\d+)/.exec(system.stdout ?? '')?.[1]);
  if (system.error || !(major < 24)) {
    t.skip('no system Node older than 24 on this machine');
    return;
  }
  const result = spawnSync('/usr/bin/node', [join(root, 'bin/portcullis.js'), 'version'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^\d+\.\d+\.\d+\n$/);
});
