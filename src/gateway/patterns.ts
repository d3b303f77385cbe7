// The host patterns and path prefixes a forward-auth application claims, and the normalisation of the host and path
// of a request before they are matched. Pure: no I/O. Matching itself is routes.ts.
//
// Hosts: an exact name (`wiki.example.com`) or a wildcard (`*.example.com`: any name that ends in `.example.com`, at
// any depth, but not `example.com` itself). Names are compared in lower case without a trailing dot or a port.
// Paths: prefixes on segment boundaries (`/admin` claims `/admin` and `/admin/…`, not `/administrator`), compared
// case-insensitively after dot segments and encoded slashes are resolved, so `/public/../admin` and `/ADMIN` are
// matched as the application that owns `/admin` would see them (a stricter rule is never skipped by spelling).

export type HostPattern =
  | { readonly kind: 'exact'; readonly text: string; readonly host: string }
  /** `suffix` starts with a dot: `*.example.com` → `.example.com`. */
  | { readonly kind: 'wildcard'; readonly text: string; readonly suffix: string };

/** Why a pattern or a request's host or path was refused; phrased to follow the value. */
export class PatternError extends Error {
  override name = 'PatternError';
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_HOST = 253;
const MAX_PATH = 1024;

function validName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_HOST && name.split('.').every((label) => LABEL.test(label));
}

/** `wiki.example.com` or `*.example.com`, lower-cased; throws PatternError naming what is wrong. */
export function parseHostPattern(text: unknown): HostPattern {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new PatternError('must be a host name such as wiki.example.com or *.example.com');
  }
  const value = text.trim().toLowerCase().replace(/\.$/, '');
  if (value.includes(':') || value.includes('/')) {
    throw new PatternError(`'${text}' must be a host name without a scheme, port or path`);
  }
  if (value.startsWith('*.')) {
    const rest = value.slice(2);
    if (!validName(rest) || !rest.includes('.')) {
      throw new PatternError(
        `'${text}' must be '*.' followed by a domain of at least two labels (such as *.example.com)`,
      );
    }
    return { kind: 'wildcard', text: value, suffix: `.${rest}` };
  }
  if (value.includes('*')) throw new PatternError(`'${text}' may use a wildcard only as its first label ('*.')`);
  if (!validName(value)) {
    throw new PatternError(`'${text}' is not a valid host name (letters, digits and hyphens in dot-separated labels)`);
  }
  return { kind: 'exact', text: value, host: value };
}

/** A path prefix: starts with '/', no query, fragment or dot segments; stored lower-case without a trailing '/'. */
export function parsePathPrefix(text: unknown): string {
  if (typeof text !== 'string' || !text.startsWith('/')) {
    throw new PatternError(`must be a path starting with '/' (such as / or /admin)`);
  }
  if (text.length > MAX_PATH) throw new PatternError(`must be at most ${MAX_PATH} characters`);
  if (/[?#*\s\\%]/.test(text)) {
    throw new PatternError(`'${text}' must be a plain path prefix without '?', '#', '*', '%', '\\' or spaces`);
  }
  if (text.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new PatternError(`'${text}' must not contain '.' or '..' segments`);
  }
  const normalized = text
    .replace(/\/{2,}/g, '/')
    .replace(/\/+$/, '')
    .toLowerCase();
  return normalized === '' ? '/' : normalized;
}

/** Whether a normalised request path lies under a prefix from parsePathPrefix, on a segment boundary. */
export function pathUnder(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47) /* / */;
}

/** Whether some host name matches both patterns (`wiki.example.com` and `*.example.com`; `*.a.example.com` and `*.example.com`). */
export function hostsOverlap(a: HostPattern, b: HostPattern): boolean {
  if (a.kind === 'exact' && b.kind === 'exact') return a.host === b.host;
  if (a.kind === 'exact') return a.host.endsWith((b as { suffix: string }).suffix);
  if (b.kind === 'exact') return b.host.endsWith(a.suffix);
  return a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
}

/** Whether a normalised host name is claimed by a pattern. */
export function hostMatches(host: string, pattern: HostPattern): boolean {
  return pattern.kind === 'exact' ? host === pattern.host : host.endsWith(pattern.suffix);
}

/**
 * The host name of a request's Host (or X-Forwarded-Host) value: lower case, without port or trailing dot. IP
 * literals are kept (`[::1]`, `127.0.0.1`) so that no pattern matches them. Undefined when it is not a host.
 */
export function normalizeHost(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.trim().toLowerCase();
  if (text.length === 0 || text.length > MAX_HOST + 7) return undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    return close > 0 && /^[0-9a-f:.]+$/.test(text.slice(1, close)) ? text.slice(0, close + 1) : undefined;
  }
  const colon = text.indexOf(':');
  const name = (colon >= 0 ? text.slice(0, colon) : text).replace(/\.$/, '');
  if (colon >= 0 && !/^\d{1,5}$/.test(text.slice(colon + 1))) return undefined;
  return validName(name) ? name : undefined;
}

/** What sends a path through normalizePath's full resolution: an escape, a backslash, a segment that is empty or
 * starts with a dot, a trailing slash. */
const NEEDS_RESOLVING = /[%\\]|\/\.|\/\/|\/$/;

/**
 * A request path as an application would route it, for matching only: `\` as `/`, encoded slashes and dots decoded,
 * dot segments resolved, repeated slashes collapsed, lower case, no query. Throws PatternError when the path is not
 * one (it does not start with '/', or it has malformed percent-encoding).
 */
export function normalizePath(rawPath: string): string {
  const query = rawPath.search(/[?#]/);
  let path = query >= 0 ? rawPath.slice(0, query) : rawPath;
  // The common case, on every forward-auth request: nothing to decode or resolve (no '%', no backslash, no empty, '.'
  // or '..' segment, no trailing '/'), so the path is already what the loop below would make of it, but lower case.
  if (path.startsWith('/') && !NEEDS_RESOLVING.test(path)) return path.toLowerCase();
  if (!path.startsWith('/') && !path.startsWith('\\')) throw new PatternError('the path must start with /');
  if (/%(?![0-9a-fA-F]{2})/.test(path)) throw new PatternError('the path has malformed percent-encoding');
  // Decoded only for matching: %2F and %5C (slashes), %2E (dots); other escapes stay as they are.
  path = path
    .replace(/%2f|%5c/gi, '/')
    .replace(/%2e/gi, '.')
    .replace(/\\/g, '/');
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return `/${out.join('/')}`.toLowerCase();
}

/** What one application claims: at least one host pattern, and path prefixes (default `/`). */
export interface GatewayRules {
  readonly hosts: readonly HostPattern[];
  readonly paths: readonly string[];
}

/** A `gateway.applications` entry of the configuration file, checked by the config schema. */
export interface ConfiguredGatewayApplication extends GatewayRules {
  /** The tenant's name or id. */
  readonly tenant: string;
  readonly applicationId: string;
}

export const MAX_HOSTS = 64;
export const MAX_PATHS = 64;

/**
 * Checks an application's `hosts` and `paths` as the API and the config file give them; throws PatternError naming
 * the field (`hosts[1]: 'a b' is not a valid host name …`). Duplicates are dropped.
 */
export function parseGatewayRules(input: { hosts: unknown; paths?: unknown }): GatewayRules {
  const { hosts, paths } = input;
  if (!Array.isArray(hosts) || hosts.length === 0) {
    throw new PatternError('hosts: must be a non-empty list of host names such as wiki.example.com or *.example.com');
  }
  if (hosts.length > MAX_HOSTS) throw new PatternError(`hosts: at most ${MAX_HOSTS}, but it has ${hosts.length}`);
  if (paths !== undefined && (!Array.isArray(paths) || paths.length === 0)) {
    throw new PatternError("paths: must be a non-empty list of path prefixes such as '/' or '/admin'");
  }
  const pathList = (paths as unknown[] | undefined) ?? ['/'];
  if (pathList.length > MAX_PATHS) throw new PatternError(`paths: at most ${MAX_PATHS}, but it has ${pathList.length}`);
  const at = <T>(field: string, i: number, parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      if (error instanceof PatternError) throw new PatternError(`${field}[${i}]: ${error.message}`);
      throw error;
    }
  };
  const parsedHosts = new Map<string, HostPattern>();
  hosts.forEach((h, i) => {
    const pattern = at('hosts', i, () => parseHostPattern(h));
    parsedHosts.set(pattern.text, pattern);
  });
  const parsedPaths = new Set(pathList.map((p, i) => at('paths', i, () => parsePathPrefix(p))));
  return { hosts: [...parsedHosts.values()], paths: [...parsedPaths] };
}
