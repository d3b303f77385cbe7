// Finds the client's address for a request: the socket peer, or X-Forwarded-For read right to left, but only through
// peers that are configured trusted proxies (as Fastify's trustProxy and Authelia do). Fails closed.

import { type Cidr, cidrContains } from './cidr.ts';
import { formatIp, type Ip, IpParseError, parseIp, tryParseIp } from './ip.ts';
import { PrefixSet } from './prefix-set.ts';

export type ClientIpInput = {
  /** The TCP peer as Node reports it (`socket.remoteAddress`), e.g. '203.0.113.7' or '::ffff:127.0.0.1'. */
  readonly socketAddress: string;
  /** X-Forwarded-For; several header lines are read as one list joined with commas, in order. */
  readonly forwardedFor?: string | readonly string[];
  readonly trustedProxies: PrefixSet | readonly Cidr[];
};

/** The client address, its canonical text (for logs), and where it came from. */
export type ClientIp = {
  readonly ip: Ip;
  readonly text: string;
  readonly via: 'socket' | 'x-forwarded-for';
};

/**
 * Resolves the client address.
 * - A socket peer that is not a trusted proxy is the client; X-Forwarded-For is ignored, since anyone can send it.
 * - Otherwise X-Forwarded-For is walked right to left. Each trusted proxy appends the peer it saw, so the entries
 *   right of (and including) the first untrusted one were written by proxies we trust; that entry is the client.
 *   Trusted entries are skipped; if every entry is trusted, the leftmost is the client.
 * - A malformed entry ends the walk and the client is the hop right of it: the last address whose provenance we
 *   trust, which is a trusted proxy (or the socket peer). Nothing at or left of a malformed entry is ever used, so
 *   a client cannot smuggle an address past a broken hop. Empty entries (`a,,b`, a trailing comma) carry no
 *   address and are skipped, as Fastify's proxy-addr does.
 * - Entries may carry a port (`203.0.113.7:1234`, `[2001:db8::1]:443`) and surrounding whitespace.
 * - The socket address must parse (IpParseError otherwise). A zone id on it ('fe80::1%eth0') is dropped: it names
 *   our own interface, not the client, and Node reports it for link-local peers.
 */
export function resolveClientIp(input: ClientIpInput): ClientIp {
  const socket = parseSocketAddress(input.socketAddress);
  const trusted = trustTest(input.trustedProxies);
  if (!trusted(socket)) return { ip: socket, text: formatIp(socket), via: 'socket' };

  let client = socket;
  let via: ClientIp['via'] = 'socket';
  const header = input.forwardedFor;
  const lines = header === undefined ? [] : typeof header === 'string' ? [header] : header;
  // Scanned right to left without splitting, so a long header costs only as many hops as are trusted.
  walk: for (let l = lines.length - 1; l >= 0; l--) {
    const line = lines[l];
    let end = line.length;
    for (let i = line.length - 1; i >= -1; i--) {
      if (i >= 0 && line.charCodeAt(i) !== COMMA) continue;
      const entry = line.slice(i + 1, end).trim();
      end = i;
      if (entry === '') continue;
      const hop = parseHop(entry);
      if (hop === undefined) break walk;
      client = hop;
      via = 'x-forwarded-for';
      if (!trusted(hop)) break walk;
    }
  }
  return { ip: client, text: formatIp(client), via };
}

const COMMA = 44;

function parseSocketAddress(text: string): Ip {
  const zone = text.indexOf('%');
  const address = zone >= 0 && text.includes(':') ? text.slice(0, zone) : text;
  try {
    return parseIp(address);
  } catch (error) {
    if (error instanceof IpParseError) throw new IpParseError(text, `as a socket address, ${error.reason}`);
    throw error;
  }
}

function trustTest(proxies: PrefixSet | readonly Cidr[]): (ip: Ip) => boolean {
  if (proxies instanceof PrefixSet) return (ip) => proxies.has(ip);
  return (ip) => proxies.some((cidr) => cidrContains(cidr, ip));
}

/** One X-Forwarded-For entry: an address, optionally with a port (`a.b.c.d:port`, `[v6]:port`). */
function parseHop(entry: string): Ip | undefined {
  if (entry.charCodeAt(0) === 91 /* [ */) {
    const close = entry.indexOf(']');
    if (close < 0) return undefined;
    if (close !== entry.length - 1 && !(entry.charCodeAt(close + 1) === 58 && isPort(entry, close + 2))) {
      return undefined;
    }
    return tryParseIp(entry.slice(0, close + 1));
  }
  const colon = entry.indexOf(':');
  // One colon: IPv4 with a port. Two or more: a bare IPv6 address, which cannot carry a port without brackets.
  if (colon >= 0 && entry.indexOf(':', colon + 1) < 0) {
    if (!isPort(entry, colon + 1)) return undefined;
    const ip = tryParseIp(entry.slice(0, colon));
    return ip?.family === 4 ? ip : undefined;
  }
  return tryParseIp(entry);
}

/** Whether text[from..] is a decimal port 0–65535. */
function isPort(text: string, from: number): boolean {
  const digits = text.length - from;
  if (digits < 1 || digits > 5) return false;
  let port = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    port = port * 10 + (c - 48);
  }
  return port <= 65535;
}
