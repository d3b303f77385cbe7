// Which forward-auth application a request belongs to: every registered (host pattern, path prefix) pair of every
// tenant in one index. The most specific host wins (an exact name over a wildcard, a longer wildcard over a shorter
// one), then the longest path prefix among that host's rules; a request that no rule claims belongs to nobody and is
// denied by the caller (fail closed). Pure: built from entries, no I/O.
import { type HostPattern, hostMatches, normalizeHost, normalizePath, PatternError, pathUnder } from './patterns.ts';

/** One application's claim, as registered through the API (stored) or the configuration file. */
export interface GatewayEntry {
  readonly tenantId: string;
  /** The directory application's appId (client_id): what Conditional Access sees. */
  readonly appId: string;
  readonly hosts: readonly HostPattern[];
  /** Normalised prefixes (patterns.ts parsePathPrefix); `/` claims everything. */
  readonly paths: readonly string[];
  /** Where the entry comes from, for error messages: `config gateway.applications[2]` or `api`. */
  readonly source: string;
}

export interface RouteMatch {
  readonly entry: GatewayEntry;
  readonly host: HostPattern;
  readonly path: string;
}

export class RouteConflictError extends Error {
  override name = 'RouteConflictError';
}

interface Rule {
  readonly entry: GatewayEntry;
  readonly host: HostPattern;
  readonly prefix: string;
}

/** Host specificity: exact names first, then wildcards by the length of their suffix. */
function rank(host: HostPattern): number {
  return host.kind === 'exact' ? Number.MAX_SAFE_INTEGER : host.suffix.length;
}

/** Host values whose normalised name a table remembers: a node serves a few names; made-up ones only fill it. */
const HOST_MEMO_MAX = 1024;

/** A remembered "no application claims it". */
const NO_MATCH = Symbol('no match');

export class RouteTable {
  readonly entries: readonly GatewayEntry[];
  readonly #exact = new Map<string, Rule[]>();
  /** Wildcard rules, most specific first. */
  readonly #wildcards: Rule[] = [];
  /** Host header value → normalizeHost of it (every request carries one of the same few values). */
  readonly #hostNames = new Map<string, string | undefined>();
  /** Proxied request URL → its match (matchRequest). */
  readonly #byUrl = new WeakMap<URL, RouteMatch | typeof NO_MATCH>();

  /** Throws RouteConflictError when two entries claim the same host pattern and path prefix. */
  constructor(entries: readonly GatewayEntry[]) {
    this.entries = entries;
    const seen = new Map<string, GatewayEntry>();
    for (const entry of entries) {
      for (const host of entry.hosts) {
        for (const prefix of entry.paths) {
          const key = `${host.text} ${prefix}`;
          const other = seen.get(key);
          if (other && !(other.tenantId === entry.tenantId && other.appId === entry.appId)) {
            throw new RouteConflictError(
              `host '${host.text}' path '${prefix}' is claimed twice: by application ${other.appId} ` +
                `(${other.source}) and by application ${entry.appId} (${entry.source})`,
            );
          }
          if (other) continue;
          seen.set(key, entry);
          const rule: Rule = { entry, host, prefix };
          if (host.kind === 'exact') {
            const list = this.#exact.get(host.host) ?? [];
            list.push(rule);
            this.#exact.set(host.host, list);
          } else {
            this.#wildcards.push(rule);
          }
        }
      }
    }
    // Longest prefix first within a host; wildcards by specificity, then prefix length.
    for (const list of this.#exact.values()) list.sort((a, b) => b.prefix.length - a.prefix.length);
    this.#wildcards.sort((a, b) => rank(b.host) - rank(a.host) || b.prefix.length - a.prefix.length);
  }

  /**
   * The application a request for `host` (a Host header value, port allowed) and `path` (the request target, query
   * allowed) belongs to, or undefined. Throws PatternError when the path cannot be read (the caller answers 400).
   */
  match(host: string | undefined, path: string): RouteMatch | undefined {
    const name = this.#hostName(host);
    if (name === undefined) return undefined;
    const normalized = normalizePath(path);
    for (const rule of this.#exact.get(name) ?? []) {
      if (pathUnder(normalized, rule.prefix)) return { entry: rule.entry, host: rule.host, path: rule.prefix };
    }
    for (const rule of this.#wildcards) {
      if (hostMatches(name, rule.host) && pathUnder(normalized, rule.prefix)) {
        return { entry: rule.entry, host: rule.host, path: rule.prefix };
      }
    }
    return undefined;
  }

  /**
   * `match` for the URL of a proxied request. The same URL object comes back for the same X-Original-URL
   * (original-request.ts), so the answer is remembered for it, by this table (a new table starts afresh) and weakly (a
   * URL no longer in use takes its answer with it). Throws PatternError as `match` does; that is not remembered.
   */
  matchRequest(url: URL): RouteMatch | undefined {
    const known = this.#byUrl.get(url);
    if (known !== undefined) return known === NO_MATCH ? undefined : known;
    const found = this.match(url.host, url.pathname);
    this.#byUrl.set(url, found ?? NO_MATCH);
    return found;
  }

  #hostName(host: string | undefined): string | undefined {
    if (host === undefined) return undefined;
    const known = this.#hostNames.get(host);
    if (known !== undefined || this.#hostNames.has(host)) return known;
    const name = normalizeHost(host);
    if (this.#hostNames.size >= HOST_MEMO_MAX) this.#hostNames.clear();
    this.#hostNames.set(host, name);
    return name;
  }

  /** `match` for a return URL (absolute http or https): undefined for anything else. */
  matchUrl(url: URL): RouteMatch | undefined {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.username !== '' || url.password !== '') return undefined;
    try {
      return this.match(url.host, url.pathname);
    } catch (error) {
      if (error instanceof PatternError) return undefined;
      throw error;
    }
  }
}
