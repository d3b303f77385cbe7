// Configuration loading: defaults, file, environment and flag precedence, every problem reported at once with the
// exact Authelia-style message, warnings for insecure settings, and a frozen result.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { DEFAULT_LOCKOUT_POLICY, type LockoutPolicy } from '../auth/lockout.ts';
import { formatCidr } from '../net/cidr.ts';
import { DEFAULT_LIMITS } from '../policy/import/limits.ts';
import { type Config, ConfigError, type ConfigOverrides, environmentVariables, loadConfig } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
let fileCount = 0;
function yamlFile(text: string): string {
  const path = join(dir, `config-${++fileCount}.yml`);
  writeFileSync(path, text);
  return path;
}
const certFile = yamlFile('-----BEGIN CERTIFICATE-----\n');
const keyFile = yamlFile('-----BEGIN PRIVATE KEY-----\n');
const mmdbFile = yamlFile('not really an mmdb, but a readable file');

// 32 bytes: the same key in the encodings an operator may paste.
const KEY_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const KEY_BASE64 = Buffer.from(KEY_HEX, 'hex').toString('base64');
const KEY_BASE64URL = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8';

interface Input {
  yaml?: string;
  env?: Record<string, string>;
  overrides?: ConfigOverrides;
}

function load(input: Input = {}) {
  return loadConfig({
    file: input.yaml === undefined ? undefined : yamlFile(input.yaml),
    env: input.env ?? {},
    overrides: input.overrides,
  });
}

function problemsOf(input: Input): readonly string[] {
  try {
    load(input);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail('expected the configuration to be refused');
}

/** Reads a dotted path (`lockout.ip.maxFailures`) from the config. */
function at(config: Config, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], config);
}

describe('defaults', () => {
  test('with no file, no environment and no flags every option takes its documented default', () => {
    const { config } = load();
    assert.deepEqual(config, {
      dataDir: './data',
      port: 9091,
      host: '127.0.0.1',
      publicUrl: 'http://localhost:9091',
      store: { postgresUrl: undefined },
      masterKey: undefined,
      trustedProxies: [],
      tls: undefined,
      log: { level: 'info' },
      geo: { countryDatabase: undefined },
      policyLimits: { ...DEFAULT_LIMITS },
      lockout: {
        threshold: 10,
        initialLockoutSeconds: 60,
        maxLockoutSeconds: 3600,
        resetAfterSeconds: 3600,
        lockoutMemorySeconds: 86400,
        rememberedBadPasswords: 3,
        attemptTimeoutSeconds: 30,
        ip: { maxFailures: 50, windowSeconds: 300, throttleSeconds: 900 },
      },
      tokens: { accessTokenMinutes: 60, refreshTokenDays: 90 },
      gateway: {
        applications: [],
        cookieDomain: undefined,
        groups: 'displayName',
        headers: { user: 'Remote-User', groups: 'Remote-Groups', email: 'Remote-Email', name: 'Remote-Name' },
      },
    });
  });

  test("the lockout section is auth's LockoutPolicy, with the same defaults, so it is passed on as is", () => {
    const policy: LockoutPolicy = load().config.lockout;
    assert.deepEqual(policy, DEFAULT_LOCKOUT_POLICY);
  });

  test("the policy limits default to the importer's DEFAULT_LIMITS (Entra's)", () => {
    assert.deepEqual(load().config.policyLimits, DEFAULT_LIMITS);
  });

  test('an empty file and a file of comments mean every default', () => {
    assert.deepEqual(load({ yaml: '' }).config, load().config);
    assert.deepEqual(load({ yaml: '# nothing here yet\n' }).config, load().config);
  });

  test('options left empty in YAML or set to empty environment variables keep their defaults', () => {
    const { config } = load({ yaml: 'port:\ntls:\nlockout:\n  threshold:\n', env: { PORTCULLIS_HOST: '' } });
    assert.equal(config.port, 9091);
    assert.equal(config.tls, undefined);
    assert.equal(config.lockout.threshold, 10);
    assert.equal(config.host, '127.0.0.1');
  });
});

// Each environment variable with a value and what it becomes. A test below checks every variable is covered.
const envCases: { name: string; value: string; path: string; expected: unknown }[] = [
  { name: 'PORTCULLIS_DATA_DIR', value: '/var/lib/portcullis', path: 'dataDir', expected: '/var/lib/portcullis' },
  { name: 'PORTCULLIS_PORT', value: '8443', path: 'port', expected: 8443 },
  { name: 'PORTCULLIS_HOST', value: '::', path: 'host', expected: '::' },
  {
    name: 'PORTCULLIS_PUBLIC_URL',
    value: 'https://id.example.com/',
    path: 'publicUrl',
    expected: 'https://id.example.com',
  },
  {
    name: 'PORTCULLIS_POSTGRES_URL',
    value: 'postgres://portcullis:pw@db:5432/portcullis',
    path: 'store.postgresUrl',
    expected: 'postgres://portcullis:pw@db:5432/portcullis',
  },
  { name: 'PORTCULLIS_TLS_CERT_FILE', value: certFile, path: 'tls.certFile', expected: certFile },
  { name: 'PORTCULLIS_TLS_KEY_FILE', value: keyFile, path: 'tls.keyFile', expected: keyFile },
  { name: 'PORTCULLIS_LOG_LEVEL', value: 'debug', path: 'log.level', expected: 'debug' },
  { name: 'PORTCULLIS_GEO_COUNTRY_DATABASE', value: mmdbFile, path: 'geo.countryDatabase', expected: mmdbFile },
  {
    name: 'PORTCULLIS_POLICY_LIMITS_MAX_NAMED_LOCATIONS',
    value: '500',
    path: 'policyLimits.maxNamedLocations',
    expected: 500,
  },
  {
    name: 'PORTCULLIS_POLICY_LIMITS_MIN_RANGES_PER_LOCATION',
    value: '0',
    path: 'policyLimits.minRangesPerLocation',
    expected: 0,
  },
  {
    name: 'PORTCULLIS_POLICY_LIMITS_MAX_RANGES_PER_LOCATION',
    value: '5000',
    path: 'policyLimits.maxRangesPerLocation',
    expected: 5000,
  },
  {
    name: 'PORTCULLIS_POLICY_LIMITS_MIN_IPV4_PREFIX_LENGTH',
    value: '8',
    path: 'policyLimits.minIpv4PrefixLength',
    expected: 8,
  },
  {
    name: 'PORTCULLIS_POLICY_LIMITS_MIN_IPV6_PREFIX_LENGTH',
    value: '32',
    path: 'policyLimits.minIpv6PrefixLength',
    expected: 32,
  },
  { name: 'PORTCULLIS_POLICY_LIMITS_MAX_POLICIES', value: '20', path: 'policyLimits.maxPolicies', expected: 20 },
  { name: 'PORTCULLIS_LOCKOUT_THRESHOLD', value: '5', path: 'lockout.threshold', expected: 5 },
  { name: 'PORTCULLIS_LOCKOUT_INITIAL_SECONDS', value: '120', path: 'lockout.initialLockoutSeconds', expected: 120 },
  { name: 'PORTCULLIS_LOCKOUT_MAX_SECONDS', value: '86400', path: 'lockout.maxLockoutSeconds', expected: 86400 },
  { name: 'PORTCULLIS_LOCKOUT_RESET_AFTER_SECONDS', value: '600', path: 'lockout.resetAfterSeconds', expected: 600 },
  { name: 'PORTCULLIS_LOCKOUT_MEMORY_SECONDS', value: '7200', path: 'lockout.lockoutMemorySeconds', expected: 7200 },
  {
    name: 'PORTCULLIS_LOCKOUT_REMEMBERED_BAD_PASSWORDS',
    value: '0',
    path: 'lockout.rememberedBadPasswords',
    expected: 0,
  },
  {
    name: 'PORTCULLIS_LOCKOUT_ATTEMPT_TIMEOUT_SECONDS',
    value: '10',
    path: 'lockout.attemptTimeoutSeconds',
    expected: 10,
  },
  { name: 'PORTCULLIS_LOCKOUT_IP_MAX_FAILURES', value: '30', path: 'lockout.ip.maxFailures', expected: 30 },
  { name: 'PORTCULLIS_LOCKOUT_IP_WINDOW_SECONDS', value: '600', path: 'lockout.ip.windowSeconds', expected: 600 },
  { name: 'PORTCULLIS_LOCKOUT_IP_THROTTLE_SECONDS', value: '60', path: 'lockout.ip.throttleSeconds', expected: 60 },
  {
    name: 'PORTCULLIS_TOKENS_ACCESS_TOKEN_MINUTES',
    value: '15',
    path: 'tokens.accessTokenMinutes',
    expected: 15,
  },
  { name: 'PORTCULLIS_TOKENS_REFRESH_TOKEN_DAYS', value: '14', path: 'tokens.refreshTokenDays', expected: 14 },
  {
    name: 'PORTCULLIS_GATEWAY_APPLICATIONS',
    value: '[{"tenant":"default","applicationId":"a1","hosts":["Wiki.localhost"]}]',
    path: 'gateway.applications',
    expected: [
      {
        tenant: 'default',
        applicationId: 'a1',
        hosts: [{ kind: 'exact', text: 'wiki.localhost', host: 'wiki.localhost' }],
        paths: ['/'],
      },
    ],
  },
  {
    name: 'PORTCULLIS_GATEWAY_COOKIE_DOMAIN',
    value: '.localhost',
    path: 'gateway.cookieDomain',
    expected: 'localhost',
  },
  { name: 'PORTCULLIS_GATEWAY_GROUPS', value: 'id', path: 'gateway.groups', expected: 'id' },
  { name: 'PORTCULLIS_GATEWAY_HEADERS_USER', value: 'X-User', path: 'gateway.headers.user', expected: 'X-User' },
  {
    name: 'PORTCULLIS_GATEWAY_HEADERS_GROUPS',
    value: 'X-Groups',
    path: 'gateway.headers.groups',
    expected: 'X-Groups',
  },
  { name: 'PORTCULLIS_GATEWAY_HEADERS_EMAIL', value: 'X-Email', path: 'gateway.headers.email', expected: 'X-Email' },
  { name: 'PORTCULLIS_GATEWAY_HEADERS_NAME', value: 'X-Name', path: 'gateway.headers.name', expected: 'X-Name' },
];

describe('environment variables override the defaults', () => {
  for (const c of envCases) {
    test(`${c.name}=${c.value} sets ${c.path}`, () => {
      const env = { [c.name]: c.value };
      // The TLS files only count as a pair.
      if (c.name === 'PORTCULLIS_TLS_CERT_FILE') env.PORTCULLIS_TLS_KEY_FILE = keyFile;
      if (c.name === 'PORTCULLIS_TLS_KEY_FILE') env.PORTCULLIS_TLS_CERT_FILE = certFile;
      assert.deepEqual(at(load({ env }).config, c.path), c.expected);
    });
  }

  test('PORTCULLIS_MASTER_KEY sets masterKey, in hex, base64 and base64url alike', () => {
    for (const value of [KEY_HEX, KEY_BASE64, KEY_BASE64URL, `${KEY_BASE64URL}=`]) {
      const key = load({ env: { PORTCULLIS_MASTER_KEY: value } }).config.masterKey;
      assert.equal(key?.bytes().toString('hex'), KEY_HEX, value);
    }
  });

  test('PORTCULLIS_TRUSTED_PROXIES takes a comma-separated list of ranges and single addresses', () => {
    const { config } = load({ env: { PORTCULLIS_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7 ,,2001:db8::/32' } });
    assert.deepEqual(config.trustedProxies.map(formatCidr), ['10.0.0.0/8', '192.0.2.7/32', '2001:db8::/32']);
    assert.equal(config.trustedProxies[1].text, '192.0.2.7');
  });

  test('every environment variable the schema names is covered by a case here', () => {
    const covered = new Set([...envCases.map((c) => c.name), 'PORTCULLIS_MASTER_KEY', 'PORTCULLIS_TRUSTED_PROXIES']);
    const missing = [...environmentVariables().keys()].filter((name) => !covered.has(name));
    assert.deepEqual(missing, []);
  });

  test('environment variable names are unique and all start with PORTCULLIS_', () => {
    const names = [...environmentVariables().keys()];
    assert.equal(names.length, new Set(names).size);
    for (const name of names) assert.match(name, /^PORTCULLIS_[A-Z0-9_]+$/);
  });
});

describe('the file sets options', () => {
  const cases: { name: string; yaml: string; expected: Record<string, unknown> }[] = [
    {
      name: 'the ops team behind nginx on one host',
      yaml: [
        'dataDir: /srv/portcullis',
        'port: 9000',
        'host: "::1"',
        'publicUrl: https://login.example.com/portcullis/',
        'trustedProxies: [127.0.0.1/32, "::1"]',
        'log: { level: warn }',
      ].join('\n'),
      expected: {
        dataDir: '/srv/portcullis',
        port: 9000,
        host: '::1',
        publicUrl: 'https://login.example.com/portcullis',
        'log.level': 'warn',
      },
    },
    {
      name: 'a lab with its own TLS certificate and a tighter lockout',
      yaml: `tls:\n  certFile: ${certFile}\n  keyFile: ${keyFile}\nlockout:\n  threshold: 3\n  ip:\n    maxFailures: 10\n`,
      expected: {
        tls: { certFile, keyFile },
        publicUrl: 'https://localhost:9091',
        'lockout.threshold': 3,
        'lockout.ip.maxFailures': 10,
        'lockout.ip.windowSeconds': 300,
      },
    },
    {
      name: 'a cluster on PostgreSQL with a master key',
      yaml: `store:\n  postgresUrl: postgresql://db.internal/portcullis\nmasterKey: ${KEY_BASE64}\n`,
      expected: { 'store.postgresUrl': 'postgresql://db.internal/portcullis' },
    },
    {
      name: 'an Entra tenant with raised policy limits',
      yaml: 'policyLimits:\n  maxPolicies: 500\n  minIpv4PrefixLength: 16\n',
      expected: {
        'policyLimits.maxPolicies': 500,
        'policyLimits.minIpv4PrefixLength': 16,
        'policyLimits.maxNamedLocations': 195,
      },
    },
    {
      name: 'the default publicUrl follows the configured port',
      yaml: 'port: 8080\n',
      expected: { publicUrl: 'http://localhost:8080' },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { config } = load({ yaml: c.yaml });
      for (const [path, expected] of Object.entries(c.expected)) assert.deepEqual(at(config, path), expected, path);
    });
  }
});

describe('precedence: flags over environment over file over default', () => {
  const yaml = 'dataDir: /from/file\nport: 7000\npublicUrl: https://file.example.com\n';
  const env = {
    PORTCULLIS_DATA_DIR: '/from/env',
    PORTCULLIS_PORT: '7100',
    PORTCULLIS_PUBLIC_URL: 'https://env.example.com',
  };
  const cases: { name: string; input: Input; expected: Pick<Config, 'dataDir' | 'port' | 'publicUrl'> }[] = [
    {
      name: 'file alone',
      input: { yaml },
      expected: { dataDir: '/from/file', port: 7000, publicUrl: 'https://file.example.com' },
    },
    {
      name: 'environment over file',
      input: { yaml, env },
      expected: { dataDir: '/from/env', port: 7100, publicUrl: 'https://env.example.com' },
    },
    {
      name: 'flags over environment and file',
      input: { yaml, env, overrides: { dataDir: '/from/flag', port: '7200', publicUrl: 'https://flag.example.com' } },
      expected: { dataDir: '/from/flag', port: 7200, publicUrl: 'https://flag.example.com' },
    },
    {
      name: 'a numeric --port from a caller that already parsed it',
      input: { overrides: { port: 7300 } },
      expected: { dataDir: './data', port: 7300, publicUrl: 'http://localhost:7300' },
    },
    {
      name: 'PORTCULLIS_CONFIG names the file when none is passed',
      input: { env: { PORTCULLIS_CONFIG: yamlFile('port: 7400\n') } },
      expected: { dataDir: './data', port: 7400, publicUrl: 'http://localhost:7400' },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { config } = load(c.input);
      assert.deepEqual({ dataDir: config.dataDir, port: config.port, publicUrl: config.publicUrl }, c.expected);
    });
  }
});

describe('bad values are refused with the path and the value named', () => {
  const cases: { name: string; input: Input; problems: string[] }[] = [
    {
      name: 'port out of range in the file',
      input: { yaml: 'port: 70000' },
      problems: ["option 'port' must be an integer between 1 and 65535 but it's configured as '70000'"],
    },
    {
      name: 'port quoted in the file',
      input: { yaml: 'port: "9091"' },
      problems: [
        "option 'port' must be an integer between 1 and 65535 but it's configured as '9091' (it is quoted text; write the number without quotes)",
      ],
    },
    {
      name: 'port that is not a number in the environment',
      input: { env: { PORTCULLIS_PORT: '0x1F' } },
      problems: [
        "option 'port' must be an integer between 1 and 65535 but it's configured as '0x1F' by environment variable PORTCULLIS_PORT",
      ],
    },
    {
      name: 'port zero from the command line',
      input: { overrides: { port: '0' } },
      problems: ["option 'port' must be an integer between 1 and 65535 but it's configured as '0' by --port"],
    },
    {
      name: 'a fractional lockout threshold',
      input: { yaml: 'lockout:\n  threshold: 2.5' },
      problems: ["lockout: option 'threshold' must be an integer between 1 and 100 but it's configured as '2.5'"],
    },
    {
      name: 'a nested throttle window of zero',
      input: { yaml: 'lockout:\n  ip:\n    windowSeconds: 0' },
      problems: [
        "lockout.ip: option 'windowSeconds' must be an integer between 1 and 86400 but it's configured as '0'",
      ],
    },
    {
      name: 'access tokens shorter than Entra allows',
      input: { env: { PORTCULLIS_TOKENS_ACCESS_TOKEN_MINUTES: '5' } },
      problems: [
        "tokens: option 'accessTokenMinutes' must be an integer between 10 and 1440 but it's configured as '5' by environment variable PORTCULLIS_TOKENS_ACCESS_TOKEN_MINUTES",
      ],
    },
    {
      name: 'a host name instead of an address',
      input: { yaml: 'host: portcullis.example.com' },
      problems: [
        "option 'host' must be an IP address (such as '127.0.0.1', '0.0.0.0' or '::') or 'localhost' but it's configured as 'portcullis.example.com'",
      ],
    },
    {
      name: 'a publicUrl without a scheme',
      input: { overrides: { publicUrl: 'id.example.com' } },
      problems: [
        "option 'publicUrl' must be an absolute http:// or https:// URL without credentials, query or fragment but it's configured as 'id.example.com' by --public-url",
      ],
    },
    {
      name: 'a publicUrl with another scheme',
      input: { yaml: 'publicUrl: ftp://id.example.com' },
      problems: [
        "option 'publicUrl' must be an absolute http:// or https:// URL without credentials, query or fragment but it's configured as 'ftp://id.example.com' (its scheme is 'ftp')",
      ],
    },
    {
      name: 'a publicUrl with a query',
      input: { yaml: 'publicUrl: https://id.example.com/?tenant=1' },
      problems: [
        "option 'publicUrl' must be an absolute http:// or https:// URL without credentials, query or fragment but it's configured as 'https://id.example.com/?tenant=1' (it has a query)",
      ],
    },
    {
      name: 'a log level Portcullis does not have',
      input: { env: { PORTCULLIS_LOG_LEVEL: 'verbose' } },
      problems: [
        "log: option 'level' must be one of 'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent' but it's configured as 'verbose' by environment variable PORTCULLIS_LOG_LEVEL",
      ],
    },
    {
      name: 'a trusted proxy range with a prefix too long',
      input: { yaml: 'trustedProxies:\n  - 10.0.0.0/8\n  - 10.0.0.0/33' },
      problems: [
        `option 'trustedProxies' must be a list of CIDR ranges or IP addresses but it's configured as '["10.0.0.0/8","10.0.0.0/33"]' (entry 2: '10.0.0.0/33' is not a valid CIDR range: prefix length 33 is larger than 32)`,
      ],
    },
    {
      name: 'a trusted proxy that is a host name',
      input: { env: { PORTCULLIS_TRUSTED_PROXIES: 'nginx' } },
      problems: [
        "option 'trustedProxies' must be a list of CIDR ranges or IP addresses but it's configured as 'nginx' by environment variable PORTCULLIS_TRUSTED_PROXIES (entry 1: 'nginx' is not a CIDR range or an IP address)",
      ],
    },
    {
      name: 'trusted proxies written as one string in the file',
      input: { yaml: 'trustedProxies: 10.0.0.0/8' },
      problems: [
        "option 'trustedProxies' must be a list of CIDR ranges or IP addresses but it's configured as '10.0.0.0/8'",
      ],
    },
    {
      name: 'a master key that is too short, never shown',
      input: { env: { PORTCULLIS_MASTER_KEY: 'hunter2hunter2' } },
      problems: [
        "option 'masterKey' must be 32 bytes written as base64 (44 characters) or hex (64 characters) but it's configured as a hidden value of 14 characters by environment variable PORTCULLIS_MASTER_KEY (it has 14 characters)",
      ],
    },
    {
      name: 'a master key that is a placeholder of zeros',
      input: { yaml: `masterKey: "${'0'.repeat(64)}"` },
      problems: [
        "option 'masterKey' must be 32 bytes written as base64 (44 characters) or hex (64 characters) but it's configured as a hidden value of 64 characters (it is one byte repeated, which is a placeholder rather than a random key)",
      ],
    },
    {
      name: 'a PostgreSQL URL with another scheme, its password hidden',
      input: { env: { PORTCULLIS_POSTGRES_URL: 'mysql://root:s3cret@db/portcullis' } },
      problems: [
        "store: option 'postgresUrl' must be a postgres:// or postgresql:// URL but it's configured as 'mysql://root:***@db/portcullis' by environment variable PORTCULLIS_POSTGRES_URL",
      ],
    },
    {
      name: 'a TLS certificate file that does not exist',
      input: { yaml: `tls:\n  certFile: ${join(dir, 'missing.pem')}\n  keyFile: ${keyFile}` },
      problems: [
        `tls: option 'certFile' must be the path of a readable file but it's configured as '${join(dir, 'missing.pem')}' (no such file)`,
      ],
    },
    {
      name: 'a country database that is a directory',
      input: { env: { PORTCULLIS_GEO_COUNTRY_DATABASE: dir } },
      problems: [
        `geo: option 'countryDatabase' must be the path of a readable file but it's configured as '${dir}' by environment variable PORTCULLIS_GEO_COUNTRY_DATABASE (it is not a regular file)`,
      ],
    },
    {
      name: 'a TLS certificate without its key',
      input: { env: { PORTCULLIS_TLS_CERT_FILE: certFile } },
      problems: [
        "tls: options 'certFile' and 'keyFile' must be set together but only 'certFile' is configured, not 'keyFile'",
      ],
    },
    {
      name: 'a lockout that starts longer than its maximum',
      input: { yaml: 'lockout:\n  initialLockoutSeconds: 7200' },
      problems: [
        "lockout: option 'initialLockoutSeconds' must not be greater than option 'maxLockoutSeconds' (3600) but it's configured as '7200'",
      ],
    },
    {
      name: 'more ranges required than allowed',
      input: { env: { PORTCULLIS_POLICY_LIMITS_MIN_RANGES_PER_LOCATION: '3000' } },
      problems: [
        "policyLimits: option 'minRangesPerLocation' must not be greater than option 'maxRangesPerLocation' (2000) but it's configured as '3000'",
      ],
    },
    {
      name: 'a section written as a scalar',
      input: { yaml: 'tls: yes' },
      problems: ["option 'tls' must be a mapping of options but it's configured as 'yes'"],
    },
    {
      name: 'a nested section written as a list',
      input: { yaml: 'lockout:\n  ip: [1, 2]' },
      problems: ["lockout: option 'ip' must be a mapping of options but it's configured as '[1,2]'"],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(problemsOf(c.input), c.problems));
  }
});

describe('unknown options are problems, with a suggestion', () => {
  const cases: { name: string; yaml: string; problems: string[] }[] = [
    {
      name: 'a transposed letter at the top level',
      yaml: 'prot: 9000',
      problems: ["option 'prot' is not a known option (did you mean 'port'?)"],
    },
    {
      name: "Authelia's snake_case spelling",
      yaml: 'data_dir: /srv/portcullis',
      problems: ["option 'data_dir' is not a known option (did you mean 'dataDir'?)"],
    },
    {
      name: 'a misspelt nested option',
      yaml: 'lockout:\n  treshold: 5',
      problems: ["lockout: option 'treshold' is not a known option (did you mean 'threshold'?)"],
    },
    {
      name: 'an option that is nothing like any other',
      yaml: 'tls:\n  ciphers: HIGH',
      problems: ["tls: option 'ciphers' is not a known option; the options here are 'certFile', 'keyFile'"],
    },
    {
      name: 'a session section that does not exist yet',
      yaml: 'session:\n  inactivityMinutes: 2',
      problems: [
        "option 'session' is not a known option; the options here are 'dataDir', 'port', 'host', 'publicUrl', 'store', 'masterKey', 'trustedProxies', 'tls', 'log', 'geo', 'policyLimits', 'lockout', 'tokens', 'gateway'",
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(problemsOf({ yaml: c.yaml }), c.problems));
  }
});

describe('problems with the file itself', () => {
  const missing = join(dir, 'nope.yml');
  const cases: { name: string; file: () => string; problem: RegExp }[] = [
    {
      name: 'a file that does not exist',
      file: () => missing,
      problem: /^config file '.*nope\.yml' cannot be read: no such file$/,
    },
    {
      // The line holds the master key; a "pretty" YAML error would quote it.
      name: 'YAML that does not parse names the line and column, never the text of the line',
      file: () => yamlFile(`port: 9091\nmasterKey: "${KEY_BASE64}\n`),
      problem: /^config file '.*config-\d+\.yml': line 3, column 1: Missing closing "quote$/,
    },
    {
      name: 'a duplicated key',
      file: () => yamlFile('port: 1\nport: 2\n'),
      problem: /^config file '.*config-\d+\.yml': line 2, column 1: Map keys must be unique$/,
    },
    {
      name: 'a list at the top level',
      file: () => yamlFile('- port: 9091\n'),
      problem: /^config file '.*config-\d+\.yml' must hold a mapping of options but it holds a list$/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      let problems: readonly string[] = [];
      try {
        loadConfig({ file: c.file(), env: {} });
        assert.fail('expected the configuration to be refused');
      } catch (error) {
        assert.ok(error instanceof ConfigError, String(error));
        problems = error.problems;
      }
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0], c.problem);
      assert.ok(!problems[0].includes(KEY_BASE64.slice(0, 10)), 'a secret in the file must not be quoted');
    });
  }
});

test('every problem is reported at once, file and environment together, in schema order', () => {
  const problems = problemsOf({
    yaml: 'port: 0\nhost: somewhere\nlockout:\n  threshold: 0\n  colour: red\ntokens:\n  refreshTokenDays: 1000\nextra: 1\n',
    env: { PORTCULLIS_LOG_LEVEL: 'loud', PORTCULLIS_TLS_KEY_FILE: keyFile },
  });
  assert.deepEqual(problems, [
    "option 'port' must be an integer between 1 and 65535 but it's configured as '0'",
    "option 'host' must be an IP address (such as '127.0.0.1', '0.0.0.0' or '::') or 'localhost' but it's configured as 'somewhere'",
    "log: option 'level' must be one of 'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent' but it's configured as 'loud' by environment variable PORTCULLIS_LOG_LEVEL",
    "lockout: option 'threshold' must be an integer between 1 and 100 but it's configured as '0'",
    "lockout: option 'colour' is not a known option; the options here are 'threshold', 'initialLockoutSeconds', 'maxLockoutSeconds', 'resetAfterSeconds', 'lockoutMemorySeconds', 'rememberedBadPasswords', 'attemptTimeoutSeconds', 'ip'",
    "tokens: option 'refreshTokenDays' must be an integer between 1 and 365 but it's configured as '1000'",
    "option 'extra' is not a known option; the options here are 'dataDir', 'port', 'host', 'publicUrl', 'store', 'masterKey', 'trustedProxies', 'tls', 'log', 'geo', 'policyLimits', 'lockout', 'tokens', 'gateway'",
    "tls: options 'certFile' and 'keyFile' must be set together but only 'keyFile' is configured, not 'certFile'",
  ]);
  try {
    load({ yaml: 'port: 0\nextra: 1\n' });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(
      error.message,
      "the configuration has 2 problems:\n  option 'port' must be an integer between 1 and 65535 but it's configured as '0'\n" +
        "  option 'extra' is not a known option; the options here are 'dataDir', 'port', 'host', 'publicUrl', 'store', 'masterKey', 'trustedProxies', 'tls', 'log', 'geo', 'policyLimits', 'lockout', 'tokens', 'gateway'",
    );
  }
});

test('a value that failed its own check does not also fail a comparison with another option', () => {
  assert.deepEqual(problemsOf({ yaml: 'lockout:\n  initialLockoutSeconds: 7200\n  maxLockoutSeconds: forever\n' }), [
    "lockout: option 'maxLockoutSeconds' must be an integer between 1 and 86400 but it's configured as 'forever'",
  ]);
});

describe('warnings for insecure settings', () => {
  const noKeyWarning =
    "no master key is configured (masterKey, or PORTCULLIS_MASTER_KEY): secrets at rest are encrypted under a key generated into the data directory './data', so anyone with a copy of that directory can decrypt them. Set a master key kept outside it (openssl rand -base64 32).";
  const cases: { name: string; input: Input; warnings: string[] }[] = [
    { name: 'a laptop with the defaults: only the missing master key', input: {}, warnings: [noKeyWarning] },
    {
      name: 'production behind a TLS proxy with a master key: nothing to say',
      input: {
        env: {
          PORTCULLIS_MASTER_KEY: KEY_HEX,
          PORTCULLIS_HOST: '0.0.0.0',
          PORTCULLIS_TRUSTED_PROXIES: '10.1.0.0/16',
          PORTCULLIS_PUBLIC_URL: 'https://login.example.com',
        },
      },
      warnings: [],
    },
    {
      name: 'plain HTTP publicUrl on a real host name',
      input: { env: { PORTCULLIS_MASTER_KEY: KEY_HEX, PORTCULLIS_PUBLIC_URL: 'http://login.example.com' } },
      warnings: [
        "publicUrl 'http://login.example.com' is plain HTTP on a host other than this machine: passwords, codes and session cookies would cross the network unencrypted. Use an https:// URL.",
      ],
    },
    {
      name: 'plain HTTP on a .localhost name or loopback address is fine',
      input: { env: { PORTCULLIS_MASTER_KEY: KEY_HEX, PORTCULLIS_PUBLIC_URL: 'http://portcullis.localhost:9091' } },
      warnings: [],
    },
    {
      name: 'every interface, no TLS, no proxies',
      input: {
        env: {
          PORTCULLIS_MASTER_KEY: KEY_HEX,
          PORTCULLIS_HOST: '::',
          PORTCULLIS_PUBLIC_URL: 'https://login.example.com',
        },
      },
      warnings: [
        "listening on '::' (every interface) over plain HTTP with no trusted proxies: clients reach Portcullis directly and unencrypted. Set tls, or listen on loopback behind a reverse proxy that terminates TLS.",
      ],
    },
    {
      name: 'every interface with TLS is fine',
      input: {
        env: {
          PORTCULLIS_MASTER_KEY: KEY_HEX,
          PORTCULLIS_HOST: '0.0.0.0',
          PORTCULLIS_TLS_CERT_FILE: certFile,
          PORTCULLIS_TLS_KEY_FILE: keyFile,
        },
      },
      warnings: [],
    },
    {
      name: 'a trusted proxy range that trusts everyone',
      input: { env: { PORTCULLIS_MASTER_KEY: KEY_HEX, PORTCULLIS_TRUSTED_PROXIES: '0.0.0.0/0,::/0' } },
      warnings: [
        "trustedProxies entry '0.0.0.0/0' trusts every IPv4 peer: any client can choose the address Conditional Access sees by sending X-Forwarded-For. List only your own proxies.",
        "trustedProxies entry '::/0' trusts every IPv6 peer: any client can choose the address Conditional Access sees by sending X-Forwarded-For. List only your own proxies.",
      ],
    },
    {
      name: 'an unknown PORTCULLIS_ variable, probably a typo',
      input: { env: { PORTCULLIS_MASTER_KEY: KEY_HEX, PORTCULLIS_PROT: '80', HOME: '/root' } },
      warnings: [
        'environment variable PORTCULLIS_PROT is not a Portcullis option and is ignored (did you mean PORTCULLIS_PORT?)',
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(load(c.input).warnings, c.warnings));
  }
});

describe('the result', () => {
  test('is frozen all the way down', () => {
    const { config, warnings } = load({
      env: { PORTCULLIS_TRUSTED_PROXIES: '10.0.0.0/8', PORTCULLIS_MASTER_KEY: KEY_HEX },
    });
    const mutable = config as unknown as Record<string, unknown>;
    assert.throws(() => {
      mutable.port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.lockout.ip as { maxFailures: number }).maxFailures = 1;
    }, TypeError);
    assert.throws(() => {
      (config.trustedProxies as unknown[]).push('x');
    }, TypeError);
    assert.throws(() => {
      (config.trustedProxies[0] as { prefixLength: number }).prefixLength = 0;
    }, TypeError);
    assert.ok(Object.isFrozen(config.policyLimits));
    assert.ok(Object.isFrozen(config.masterKey));
    assert.ok(Object.isFrozen(warnings));
  });

  test('never shows the master key in JSON, inspection or strings, and hands out copies', () => {
    const { config } = load({ env: { PORTCULLIS_MASTER_KEY: KEY_HEX } });
    const shown = [JSON.stringify(config), inspect(config, { depth: 10 }), String(config.masterKey)].join('\n');
    assert.ok(!shown.includes(KEY_HEX));
    assert.ok(!shown.includes(KEY_BASE64.slice(0, 20)));
    assert.match(JSON.stringify(config), /"masterKey":"\[redacted\]"/);
    const copy = config.masterKey!.bytes();
    copy.fill(0);
    assert.equal(config.masterKey!.bytes().toString('hex'), KEY_HEX);
  });
});
