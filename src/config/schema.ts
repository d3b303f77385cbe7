// The Portcullis configuration schema: every option with its default, its documentation and its environment variable,
// in one place. docs/configuration.md is generated from it (src/config/docs.ts); load.ts validates against it.

import { type ConfiguredGatewayApplication, PatternError, parseGatewayRules } from '../gateway/patterns.ts';
import { type Cidr, CidrParseError, parseCidr } from '../net/cidr.ts';
import { formatIp, tryParseIp } from '../net/ip.ts';
import { DEFAULT_LIMITS } from '../policy/import/limits.ts';
import { MasterKey } from './master-key.ts';
import {
  type Checked,
  integer,
  list,
  type OptionSpec,
  oneOf,
  optionalFile,
  section,
  showHidden,
  showValue,
  text,
  type ValueOf,
} from './option.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * 9091 is Authelia's port. Forward auth is named and shaped as Authelia's (`/api/authz/forward-auth`), so an nginx,
 * Traefik or Caddy snippet written for Authelia works by changing only the host name; running both side by side
 * during a migration means setting one of them to another port.
 */
export const DEFAULT_PORT = 9091;

export const schema = section('Portcullis configuration', {
  dataDir: text<string>({
    doc:
      'Directory for the embedded SQLite database, the generated master key (when none is configured) and other ' +
      'state. Created on first start. A relative path is relative to the working directory.',
    env: 'PORTCULLIS_DATA_DIR',
    flag: 'data-dir',
    default: './data',
    type: 'path to a directory',
    must: 'must be a directory path',
    parse: (value) =>
      value.trim() === '' || value.includes('\0')
        ? { ok: false, must: 'must be a directory path' }
        : { ok: true, value },
  }),
  port: integer({
    doc:
      "TCP port the HTTP server listens on. 9091 is Authelia's, so reverse-proxy snippets written for Authelia's " +
      'forward auth work by changing only the host name.',
    env: 'PORTCULLIS_PORT',
    flag: 'port',
    default: DEFAULT_PORT,
    min: 1,
    max: 65535,
  }),
  host: text<string>({
    doc:
      'Address the HTTP server listens on. Loopback by default, so nothing outside this machine can reach Portcullis ' +
      'until you decide it should: put it behind a reverse proxy on the same machine, or set `0.0.0.0` / `::` ' +
      '(every interface, as a container needs) together with `tls` or `trustedProxies`.',
    env: 'PORTCULLIS_HOST',
    default: '127.0.0.1',
    type: 'IP address, or `localhost`',
    must: "must be an IP address (such as '127.0.0.1', '0.0.0.0' or '::') or 'localhost'",
    parse: parseHost,
  }),
  publicUrl: text<string | undefined>({
    doc:
      'The URL people and applications use to reach Portcullis: issuer URLs, redirects and links are built from it. ' +
      'Set it whenever Portcullis sits behind a reverse proxy or is reached by another name. A path is allowed ' +
      '(`https://example.com/id`); a trailing slash is removed.',
    env: 'PORTCULLIS_PUBLIC_URL',
    flag: 'public-url',
    default: undefined,
    defaultText: '`http://localhost:<port>` (`https://` when `tls` is set)',
    type: 'http or https URL',
    must: 'must be an absolute http:// or https:// URL without credentials, query or fragment',
    parse: parsePublicUrl,
  }),
  store: section('Where Portcullis keeps its data.', {
    postgresUrl: text<string | undefined>({
      doc:
        'PostgreSQL connection URL (`postgres://user:password@host:5432/portcullis`). When absent, Portcullis uses ' +
        'an embedded SQLite database in `dataDir`. Use PostgreSQL to run several Portcullis nodes.',
      env: 'PORTCULLIS_POSTGRES_URL',
      default: undefined,
      defaultText: 'none (an SQLite database in `dataDir`)',
      type: 'postgres:// URL',
      must: 'must be a postgres:// or postgresql:// URL',
      parse: parsePostgresUrl,
      show: showPostgresUrl,
    }),
  }),
  masterKey: text<MasterKey | undefined>({
    doc:
      "The key that wraps every tenant's data keys (secrets at rest are encrypted with AES-256-GCM under those). " +
      '32 random bytes, written as base64 or hex: `openssl rand -base64 32`. Keep it outside the data directory ' +
      '(environment or secret store) so that a copy of the data alone cannot be decrypted. When absent, a key is ' +
      'generated into `dataDir` and a warning is logged at every start.',
    env: 'PORTCULLIS_MASTER_KEY',
    default: undefined,
    defaultText: 'none (a key generated into `dataDir`, with a warning)',
    type: '32 bytes as base64 or hex',
    must: 'must be 32 bytes written as base64 (44 characters) or hex (64 characters)',
    parse: (value) => {
      const key = MasterKey.parse(value);
      return typeof key === 'string'
        ? { ok: false, must: 'must be 32 bytes written as base64 (44 characters) or hex (64 characters)', detail: key }
        : { ok: true, value: key };
    },
    show: showHidden,
  }),
  trustedProxies: list<Cidr>({
    doc:
      'Reverse proxies whose X-Forwarded-For header is believed. A request whose TCP peer is outside these ranges is ' +
      "attributed to the peer itself and its X-Forwarded-For is ignored, since anyone can send that header. List only your own proxies' addresses. In an environment variable, separate entries with commas.",
    env: 'PORTCULLIS_TRUSTED_PROXIES',
    default: [],
    type: 'list of CIDR ranges or IP addresses',
    must: 'must be a list of CIDR ranges or IP addresses',
    entry: 'a CIDR range or an IP address',
    parse: parseProxy,
  }),
  tls: section(
    'Serve HTTPS directly. Leave both unset when a reverse proxy terminates TLS. Both must be set together.',
    {
      certFile: optionalFile({
        doc: 'PEM certificate chain file.',
        env: 'PORTCULLIS_TLS_CERT_FILE',
        default: undefined,
        defaultText: 'none (plain HTTP)',
      }),
      keyFile: optionalFile({
        doc: 'PEM private key file for the certificate.',
        env: 'PORTCULLIS_TLS_KEY_FILE',
        default: undefined,
        defaultText: 'none (plain HTTP)',
      }),
    },
  ),
  log: section(
    'Logging. Logs are JSON lines on standard output, one correlation id per request: the client’s ' +
      '`X-Request-Id` or `client-request-id` when it sent a usable one, otherwise a new time-ordered UUID (version 7).',
    {
      level: oneOf({
        doc: 'The least severe level written.',
        env: 'PORTCULLIS_LOG_LEVEL',
        default: 'info',
        values: LOG_LEVELS,
      }),
    },
  ),
  geo: section('IP address to country, for country named locations.', {
    countryDatabase: optionalFile({
      doc:
        'An MMDB country database to use instead of the bundled DB-IP Lite database (for example MaxMind GeoIP2 or ' +
        'GeoLite2 Country).',
      env: 'PORTCULLIS_GEO_COUNTRY_DATABASE',
      default: undefined,
      defaultText: 'the bundled DB-IP IP to Country Lite database',
    }),
  }),
  policyLimits: section(
    "Limits on named locations and Conditional Access policies. The defaults are Entra's, so that whatever is " +
      'created in Portcullis can also be imported into Entra.',
    {
      maxNamedLocations: integer({
        doc: 'Named locations per tenant (Entra: "No more than 195 named locations").',
        env: 'PORTCULLIS_POLICY_LIMITS_MAX_NAMED_LOCATIONS',
        default: DEFAULT_LIMITS.maxNamedLocations,
        min: 1,
        max: 100_000,
      }),
      minRangesPerLocation: integer({
        doc: 'Fewest IP ranges an IP named location may have.',
        env: 'PORTCULLIS_POLICY_LIMITS_MIN_RANGES_PER_LOCATION',
        default: DEFAULT_LIMITS.minRangesPerLocation,
        min: 0,
        max: 1_000_000,
      }),
      maxRangesPerLocation: integer({
        doc: 'Most IP ranges per named location (Entra: "No more than 2000 IP ranges per named location").',
        env: 'PORTCULLIS_POLICY_LIMITS_MAX_RANGES_PER_LOCATION',
        default: DEFAULT_LIMITS.maxRangesPerLocation,
        min: 1,
        max: 1_000_000,
      }),
      minIpv4PrefixLength: integer({
        doc:
          'Shortest IPv4 prefix a range may have: 9 allows /9 and refuses /8 (Entra: "Only CIDR masks greater ' +
          'than /8 are allowed").',
        env: 'PORTCULLIS_POLICY_LIMITS_MIN_IPV4_PREFIX_LENGTH',
        default: DEFAULT_LIMITS.minIpv4PrefixLength,
        min: 0,
        max: 32,
      }),
      minIpv6PrefixLength: integer({
        doc: 'Shortest IPv6 prefix a range may have (Entra states the same /8 rule for both families).',
        env: 'PORTCULLIS_POLICY_LIMITS_MIN_IPV6_PREFIX_LENGTH',
        default: DEFAULT_LIMITS.minIpv6PrefixLength,
        min: 0,
        max: 128,
      }),
      maxPolicies: integer({
        doc: 'Conditional Access policies per tenant (Entra applies only "the first 195 policies per user").',
        env: 'PORTCULLIS_POLICY_LIMITS_MAX_POLICIES',
        default: DEFAULT_LIMITS.maxPolicies,
        min: 1,
        max: 100_000,
      }),
    },
  ),
  lockout: section(
    'Smart lockout (src/auth/lockout.ts): repeated failed sign-ins lock the account for a growing period, a repeated ' +
      'wrong password counts once, and a source address with many failures is throttled. A locked-out attempt never ' +
      'reveals whether the password was right. The shape is `LockoutPolicy`, so this section is passed to auth as is.',
    {
      threshold: integer({
        doc: "Counted failures that lock the account (Entra smart lockout's default lockout threshold is 10).",
        env: 'PORTCULLIS_LOCKOUT_THRESHOLD',
        default: 10,
        min: 1,
        max: 100,
      }),
      initialLockoutSeconds: integer({
        doc:
          "The first lockout's length (Entra's default lockout duration is 60 seconds). Each further lockout " +
          'doubles, as Entra locks "for one minute at first and then longer in subsequent attempts".',
        env: 'PORTCULLIS_LOCKOUT_INITIAL_SECONDS',
        default: 60,
        min: 1,
        max: 86_400,
        unit: 'seconds',
      }),
      maxLockoutSeconds: integer({
        doc:
          'The longest a lockout grows to. An hour makes online guessing hopeless (at most `threshold` guesses an ' +
          'hour) while bounding how long someone who knows a user name can keep that user out.',
        env: 'PORTCULLIS_LOCKOUT_MAX_SECONDS',
        default: 3600,
        min: 1,
        max: 86_400,
        unit: 'seconds',
      }),
      resetAfterSeconds: integer({
        doc: 'After this long with no failure, failures that have not (yet) locked the account are forgotten.',
        env: 'PORTCULLIS_LOCKOUT_RESET_AFTER_SECONDS',
        default: 3600,
        min: 1,
        max: 2_592_000,
        unit: 'seconds',
      }),
      lockoutMemorySeconds: integer({
        doc:
          'Once an account has been locked, its failures and lockout level are forgotten only after this long with ' +
          'no failure and no lock (or at a successful sign-in), so waiting an hour does not earn ten fresh guesses.',
        env: 'PORTCULLIS_LOCKOUT_MEMORY_SECONDS',
        default: 86_400,
        min: 1,
        max: 2_592_000,
        unit: 'seconds',
      }),
      rememberedBadPasswords: integer({
        doc: 'Recent wrong passwords remembered so that retyping one does not count again (Entra remembers 3).',
        env: 'PORTCULLIS_LOCKOUT_REMEMBERED_BAD_PASSWORDS',
        default: 3,
        min: 0,
        max: 10,
      }),
      attemptTimeoutSeconds: integer({
        doc: 'How long an admitted sign-in attempt holds its place before it is presumed abandoned (a node died).',
        env: 'PORTCULLIS_LOCKOUT_ATTEMPT_TIMEOUT_SECONDS',
        default: 30,
        min: 1,
        max: 600,
        unit: 'seconds',
      }),
      ip: section('Throttling of one source address across all accounts (password spraying).', {
        maxFailures: integer({
          doc:
            'Failures from one client address within `windowSeconds` that are still answered; the next one ' +
            'throttles the address. Enough for an office behind one NAT address, far below what a spray needs.',
          env: 'PORTCULLIS_LOCKOUT_IP_MAX_FAILURES',
          default: 50,
          min: 1,
          max: 1_000_000,
        }),
        windowSeconds: integer({
          doc: 'The window over which failures from one address are counted.',
          env: 'PORTCULLIS_LOCKOUT_IP_WINDOW_SECONDS',
          default: 300,
          min: 1,
          max: 86_400,
          unit: 'seconds',
        }),
        throttleSeconds: integer({
          doc: 'How long a throttled address is refused.',
          env: 'PORTCULLIS_LOCKOUT_IP_THROTTLE_SECONDS',
          default: 900,
          min: 1,
          max: 86_400,
          unit: 'seconds',
        }),
      }),
    },
  ),
  tokens: section('OpenID Connect token lifetimes.', {
    accessTokenMinutes: integer({
      doc: "Access token lifetime. Entra's default is an hour and its configurable range 10 minutes to 1 day.",
      env: 'PORTCULLIS_TOKENS_ACCESS_TOKEN_MINUTES',
      default: 60,
      min: 10,
      max: 1440,
      unit: 'minutes',
    }),
    refreshTokenDays: integer({
      doc:
        'Refresh token lifetime; each use returns a new refresh token (rotation), and Conditional Access runs again ' +
        'at every use. 90 days, as Entra gives refresh tokens outside single-page apps.',
      env: 'PORTCULLIS_TOKENS_REFRESH_TOKEN_DAYS',
      default: 90,
      min: 1,
      max: 365,
      unit: 'days',
    }),
  }),
  gateway: section(
    'Forward auth (src/gateway/): reverse proxies (nginx `auth_request`, Traefik `ForwardAuth`, Caddy `forward_auth`) ' +
      'ask `/api/authz/auth-request` or `/api/authz/forward-auth` about every request; Conditional Access runs each ' +
      'time. docs/forward-auth.md has the proxy configurations.',
    {
      applications: gatewayApplications(),
      cookieDomain: text<string | undefined>({
        doc:
          'The domain of the forward-auth session cookies, so that one sign-in covers every application under it ' +
          '(`example.com` covers `wiki.example.com` and `auth.example.com`). It must be the host of the public URL ' +
          'or a parent of it, and every configured application host must lie under it. When absent the cookies are ' +
          "host-only: forward auth then works only for applications on Portcullis's own host name.",
        env: 'PORTCULLIS_GATEWAY_COOKIE_DOMAIN',
        default: undefined,
        defaultText: "none (host-only cookies on the public URL's host)",
        type: 'domain name',
        must: 'must be a domain name such as example.com',
        parse: parseCookieDomain,
      }),
      groups: oneOf({
        doc:
          'What the groups header lists, comma-separated: `displayName` (group names, as Authelia sends them; a name ' +
          "that contains a comma is sent as the group's id instead) or `id` (group object ids, which never change). " +
          'Nested groups are included.',
        env: 'PORTCULLIS_GATEWAY_GROUPS',
        default: 'displayName',
        values: ['displayName', 'id'] as const,
      }),
      headers: section(
        'Names of the identity headers an allowed request carries to the application. The defaults are ' +
          "Authelia's. Values are UTF-8; every header is always sent (empty when there is nothing to say), so a " +
          'proxy that copies them replaces any copy the client sent.',
        {
          user: headerName('user', "The user's user principal name (`alice@contoso.com`).", 'Remote-User'),
          groups: headerName('groups', "The user's groups (see `gateway.groups`).", 'Remote-Groups'),
          email: headerName('email', "The user's mail address; empty when the user has none.", 'Remote-Email'),
          name: headerName('name', "The user's display name.", 'Remote-Name'),
        },
      ),
    },
  ),
});

/** The values the schema produces, before the cross-option steps in load.ts turn them into a `Config`. */
export type SchemaValues = ValueOf<typeof schema>;

function parseHost(value: string): Checked<string> {
  const must = "must be an IP address (such as '127.0.0.1', '0.0.0.0' or '::') or 'localhost'";
  if (value === 'localhost') return { ok: true, value };
  const ip = tryParseIp(value);
  if (ip === undefined) return { ok: false, must };
  return { ok: true, value: formatIp(ip) };
}

function parsePublicUrl(value: string): Checked<string | undefined> {
  const must = 'must be an absolute http:// or https:// URL without credentials, query or fragment';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, must };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, must, detail: `its scheme is '${url.protocol.slice(0, -1)}'` };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, must, detail: 'it has credentials' };
  if (url.search !== '' || value.includes('?')) return { ok: false, must, detail: 'it has a query' };
  if (url.hash !== '' || value.includes('#')) return { ok: false, must, detail: 'it has a fragment' };
  return { ok: true, value: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}

function parsePostgresUrl(value: string): Checked<string | undefined> {
  const must = 'must be a postgres:// or postgresql:// URL';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, must };
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return { ok: false, must };
  return { ok: true, value };
}

/** Shows a connection URL with its password replaced, or hides it whole when it does not parse as a URL. */
function showPostgresUrl(value: unknown): string {
  if (typeof value !== 'string') return showValue(value);
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    return showValue(url.href);
  } catch {
    return showHidden(value);
  }
}

/** A CIDR range, or a single address taken as /32 or /128 (the usual way to name one proxy). */
function parseProxy(value: string): Checked<Cidr> {
  const must = 'must be a CIDR range or an IP address';
  const entry = value.trim();
  if (!entry.includes('/')) {
    const ip = tryParseIp(entry);
    if (ip === undefined)
      return { ok: false, must, detail: `${showValue(value)} is not a CIDR range or an IP address` };
    const cidr = parseCidr(`${formatIp(ip)}/${ip.family === 4 ? 32 : 128}`);
    return { ok: true, value: { ...cidr, text: entry } };
  }
  try {
    return { ok: true, value: parseCidr(entry) };
  } catch (error) {
    if (error instanceof CidrParseError) return { ok: false, must, detail: error.message };
    throw error;
  }
}

const GATEWAY_APPLICATIONS_MUST =
  'must be a list of applications, each with tenant, applicationId, hosts and optionally paths';
const GATEWAY_APPLICATION_KEYS = ['tenant', 'applicationId', 'hosts', 'paths'];

/**
 * `gateway.applications`: forward-auth applications from the file (a YAML list of mappings) or from
 * PORTCULLIS_GATEWAY_APPLICATIONS (the same list as JSON). Host and path rules are checked as the API checks them;
 * whether the tenant and the application exist is checked when the server starts.
 */
function gatewayApplications(): OptionSpec<readonly ConfiguredGatewayApplication[]> {
  return {
    kind: 'option',
    doc:
      'Forward-auth applications: each names its tenant (name or id), the directory application whose id ' +
      'Conditional Access sees (`applicationId`, a public client), the `hosts` it claims (`wiki.example.com`, or ' +
      '`*.example.com` for every name under example.com) and optionally `paths` (prefixes, default `/`). A request ' +
      'goes to the most specific host, then the longest path prefix; a host no application claims is denied. ' +
      'Applications can also be registered through the API; both kinds apply together. In the environment ' +
      'variable, write the list as JSON.',
    type: 'list of `{tenant, applicationId, hosts: [...], paths: [...]}`',
    default: [],
    env: 'PORTCULLIS_GATEWAY_APPLICATIONS',
    fromText: (text) => {
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    },
    check: (value) => {
      if (!Array.isArray(value)) return { ok: false, must: GATEWAY_APPLICATIONS_MUST };
      const out: ConfiguredGatewayApplication[] = [];
      for (const [i, entry] of value.entries()) {
        const fail = (detail: string): Checked<never> => ({
          ok: false,
          must: GATEWAY_APPLICATIONS_MUST,
          detail: `entry ${i + 1}: ${detail}`,
        });
        if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return fail('is not a mapping');
        const unknown = Object.keys(entry).find((key) => !GATEWAY_APPLICATION_KEYS.includes(key));
        if (unknown !== undefined) return fail(`${showValue(unknown)} is not a known key`);
        const { tenant, applicationId, hosts, paths } = entry as Record<string, unknown>;
        if (typeof tenant !== 'string' || tenant.trim() === '') return fail('tenant must be a tenant name or id');
        if (typeof applicationId !== 'string' || applicationId.trim() === '') {
          return fail('applicationId must be the application (client) id');
        }
        try {
          const rules = parseGatewayRules({ hosts, paths });
          out.push({ tenant: tenant.trim(), applicationId: applicationId.trim(), ...rules });
        } catch (error) {
          if (error instanceof PatternError) return fail(error.message);
          throw error;
        }
      }
      return { ok: true, value: out };
    },
    show: showValue,
  };
}

/** Header names an operator may not take over: they are the proxy's and the request's own. */
const RESERVED_HEADERS = new Set([
  'host',
  'cookie',
  'authorization',
  'connection',
  'content-length',
  'content-type',
  'transfer-encoding',
  'te',
  'upgrade',
  'location',
  'set-cookie',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-uri',
  'x-forwarded-method',
  'x-original-url',
  'x-original-method',
  'x-request-id',
]);

function headerName(key: string, doc: string, fallback: string): OptionSpec<string> {
  const must = 'must be an HTTP header name (letters, digits and hyphens) that is not a standard header';
  return text<string>({
    doc,
    env: `PORTCULLIS_GATEWAY_HEADERS_${key.toUpperCase()}`,
    default: fallback,
    type: 'HTTP header name',
    must,
    parse: (value) => {
      const name = value.trim();
      if (!/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(name)) return { ok: false, must };
      if (RESERVED_HEADERS.has(name.toLowerCase())) return { ok: false, must, detail: `${name} is reserved` };
      return { ok: true, value: name };
    },
  });
}

function parseCookieDomain(value: string): Checked<string | undefined> {
  const must = 'must be a domain name such as example.com';
  const domain = value.trim().toLowerCase().replace(/^\./, '').replace(/\.$/, '');
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  if (domain === '' || domain.length > 253 || !domain.split('.').every((l) => label.test(l)))
    return { ok: false, must };
  return { ok: true, value: domain };
}
