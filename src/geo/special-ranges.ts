// Addresses that no geo database can place in a country: private, loopback, documentation, multicast, reserved, ….
// The lookup answers "unknown" for them without asking the database, whose answer there would be noise or a data bug.
import { parseCidr } from '../net/cidr.ts';
import type { Ip } from '../net/ip.ts';

/** Why an address has no country: the registry entry it falls in. */
export interface SpecialRange {
  /** The block in CIDR notation, as the registry lists it. */
  readonly prefix: string;
  /** A short name for logs and What If, e.g. `private-use`. */
  readonly name: string;
  /** The RFC (and section) that sets the block aside. */
  readonly rfc: string;
}

// IANA IPv4 Special-Purpose Address Registry (www.iana.org/assignments/iana-ipv4-special-registry, RFC 6890 §2.2.2),
// entries not globally reachable, plus multicast from the IPv4 Multicast Address Space Registry. Left out on purpose:
// the globally reachable anycast blocks (AS112 192.31.196.0/24 and 192.175.48.0/24, AMT 192.52.193.0/24), which the
// database may place like any other address.
const ipv4Entries: readonly SpecialRange[] = [
  { prefix: '0.0.0.0/8', name: 'this-network', rfc: 'RFC 791 §3.2' },
  { prefix: '10.0.0.0/8', name: 'private-use', rfc: 'RFC 1918' },
  { prefix: '100.64.0.0/10', name: 'shared-address-space', rfc: 'RFC 6598' }, // carrier-grade NAT
  { prefix: '127.0.0.0/8', name: 'loopback', rfc: 'RFC 1122 §3.2.1.3' },
  { prefix: '169.254.0.0/16', name: 'link-local', rfc: 'RFC 3927' },
  { prefix: '172.16.0.0/12', name: 'private-use', rfc: 'RFC 1918' },
  // Includes DS-Lite 192.0.0.0/29 and the PCP/TURN anycast addresses: services, never a client's source.
  { prefix: '192.0.0.0/24', name: 'ietf-protocol-assignments', rfc: 'RFC 6890 §2.1' },
  { prefix: '192.0.2.0/24', name: 'documentation', rfc: 'RFC 5737' }, // TEST-NET-1
  { prefix: '192.88.99.0/24', name: 'deprecated-6to4-relay-anycast', rfc: 'RFC 7526' },
  { prefix: '192.168.0.0/16', name: 'private-use', rfc: 'RFC 1918' },
  { prefix: '198.18.0.0/15', name: 'benchmarking', rfc: 'RFC 2544' },
  { prefix: '198.51.100.0/24', name: 'documentation', rfc: 'RFC 5737' }, // TEST-NET-2
  { prefix: '203.0.113.0/24', name: 'documentation', rfc: 'RFC 5737' }, // TEST-NET-3
  { prefix: '224.0.0.0/4', name: 'multicast', rfc: 'RFC 5771' },
  // Includes the limited broadcast address 255.255.255.255 (RFC 919 §7).
  { prefix: '240.0.0.0/4', name: 'reserved', rfc: 'RFC 1112 §4' },
];

// IANA IPv6 Special-Purpose Address Registry (www.iana.org/assignments/iana-ipv6-special-registry), entries not
// globally reachable, plus multicast. ::ffff:0:0/96 (IPv4-mapped) and 64:ff9b::/96 (NAT64 well-known prefix) are
// not here: they carry an IPv4 address, which `unwrapIpv4` takes out so that the IPv4 rules and data apply.
const ipv6Entries: readonly SpecialRange[] = [
  { prefix: '::/128', name: 'unspecified', rfc: 'RFC 4291 §2.5.2' },
  { prefix: '::1/128', name: 'loopback', rfc: 'RFC 4291 §2.5.3' },
  { prefix: '64:ff9b:1::/48', name: 'local-use-translation', rfc: 'RFC 8215' },
  { prefix: '100::/64', name: 'discard-only', rfc: 'RFC 6666' },
  // Teredo, benchmarking, ORCHIDv2, AMT, AS112, DET: tunnels, anycast services and identifiers, none of them a
  // source address that a registry places in a country.
  { prefix: '2001::/23', name: 'ietf-protocol-assignments', rfc: 'RFC 2928' },
  { prefix: '2001:db8::/32', name: 'documentation', rfc: 'RFC 3849' },
  { prefix: '3fff::/20', name: 'documentation', rfc: 'RFC 9637' },
  { prefix: 'fc00::/7', name: 'unique-local', rfc: 'RFC 4193' },
  { prefix: 'fe80::/10', name: 'link-local', rfc: 'RFC 4291 §2.5.6' },
  { prefix: 'ff00::/8', name: 'multicast', rfc: 'RFC 4291 §2.7' },
];

// IANA IPv6 Address Space registry (www.iana.org/assignments/ipv6-address-space): global unicast is allocated only
// from 2000::/3 (RFC 4291 §2.4); everything else is reserved by the IETF (site-local fec0::/10, the deprecated
// IPv4-compatible ::/96, SRv6 5f00::/16, …), so no registry places it in a country either.
const notGlobalUnicast: SpecialRange = Object.freeze({
  prefix: 'not in 2000::/3',
  name: 'not-global-unicast',
  rfc: 'RFC 4291 §2.4',
});

interface Matcher4 {
  readonly shift: number;
  readonly key: number;
  readonly range: SpecialRange;
}
interface Matcher6 {
  readonly shift: bigint;
  readonly key: bigint;
  readonly range: SpecialRange;
}

// Each check compares the address's network bits with the block's, shifted once here rather than on every lookup.
const matchers4: readonly Matcher4[] = ipv4Entries.map((entry) => {
  const { network, prefixLength } = parseCidr(entry.prefix);
  const shift = 32 - prefixLength;
  return { shift, key: (network.value as number) >>> shift, range: Object.freeze(entry) };
});

const matchers6: readonly Matcher6[] = ipv6Entries.map((entry) => {
  const { network, prefixLength } = parseCidr(entry.prefix);
  const shift = BigInt(128 - prefixLength);
  return { shift, key: (network.value as bigint) >> shift, range: Object.freeze(entry) };
});

// Nearly every client address is global unicast, and the blocks inside 2000::/3 are all /32 or shorter, so those
// are checked on the address's top 32 bits as plain numbers, a fraction of the cost of bigint comparisons.
const globalUnicastMatchers: readonly Matcher4[] = matchers6
  .map((m) => ({ network: m.key << m.shift, bits: 128 - Number(m.shift), range: m.range }))
  .filter(({ network }) => network >> 125n === 1n)
  .map(({ network, bits, range }) => {
    if (bits > 32) throw new Error(`special-ranges: ${range.prefix} is longer than /32; give it a bigint check`);
    const shift = 32 - bits;
    return { shift, key: Number(network >> 96n) >>> shift, range };
  });

/** Every block this module knows, IPv4 first, in the order they are checked; for documentation and What If. */
export const specialRanges: readonly SpecialRange[] = Object.freeze([
  ...matchers4.map((m) => m.range),
  ...matchers6.map((m) => m.range),
  notGlobalUnicast,
]);

const mappedKey = 0xffffn; // ::ffff:0:0/96, RFC 4291 §2.5.5.2
const nat64Key = 0x64_ff9b_0000_0000_0000_0000n; // 64:ff9b::/96, RFC 6052 §2.1

/**
 * The IPv4 address carried in an IPv4-mapped address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an
 * IPv4 peer) or in the NAT64 well-known prefix (`64:ff9b::192.0.2.1`, what an IPv6-only server behind a stateless
 * translator sees, RFC 7755); any other address unchanged.
 */
export function unwrapIpv4(ip: Ip): Ip {
  if (ip.family === 6) {
    const high = ip.value >> 32n;
    if (high === mappedKey || high === nat64Key) return { family: 4, value: Number(ip.value & 0xffff_ffffn) };
  }
  return ip;
}

/** The special-purpose block that `ip` (after `unwrapIpv4`) falls in, or undefined for an ordinary public address. */
export function specialRange(ip: Ip): SpecialRange | undefined {
  const address = unwrapIpv4(ip);
  if (address.family === 4) {
    const value = address.value;
    for (const m of matchers4) if (value >>> m.shift === m.key) return m.range;
    return undefined;
  }
  const value = address.value;
  const high = Number(value >> 96n);
  if (high >>> 29 === 1) {
    for (const m of globalUnicastMatchers) if (high >>> m.shift === m.key) return m.range;
    return undefined;
  }
  for (const m of matchers6) if (value >> m.shift === m.key) return m.range;
  return notGlobalUnicast;
}

/** True when no geo database should be asked about `ip`: private, loopback, documentation, multicast, reserved, …. */
export function isNonRoutable(ip: Ip): boolean {
  return specialRange(ip) !== undefined;
}
