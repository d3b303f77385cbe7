// Parses CIDR ranges as Microsoft Graph's iPv4CidrRange / iPv6CidrRange `cidrAddress` writes them, and answers
// whether a range contains an address.

import { formatIp, type Ip, parseIpOrReason } from './ip.ts';
import { quote } from './quote.ts';

/** A range with host bits cleared in `network`; `text` is the input exactly as given. */
export type Cidr = {
  readonly family: 4 | 6;
  readonly network: Ip;
  readonly prefixLength: number;
  readonly text: string;
};

export class CidrParseError extends Error {
  override readonly name = 'CidrParseError';
  /** The text that failed to parse, as given. */
  readonly input: string;
  /** Why it failed, without the input: `prefix length 33 is larger than 32`. */
  readonly reason: string;
  constructor(input: string, reason: string) {
    super(`${quote(input)} is not a valid CIDR range: ${reason}`);
    this.input = input;
    this.reason = reason;
  }
}

const ALL_ONES_128 = (1n << 128n) - 1n;

/**
 * Parses `address/prefixLength`. The prefix is required (Graph's cidrAddress always has one) and is 0–32 for IPv4,
 * 0–128 for IPv6, in decimal without leading zeros. Host bits are accepted and masked off, as Entra does: its own
 * documentation example `12.34.221.11/22` means 12.34.220.0/22.
 *
 * IPv4-mapped ranges (`::ffff:1.2.3.0/120`) become the IPv4 range with prefix − 96, because `parseIp` turns mapped
 * client addresses into IPv4. A mapped address with a prefix below 96 would reach outside ::ffff:0:0/96 and is
 * rejected. Other IPv6 ranges never contain IPv4 clients, not even ::/0.
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const ip = parseIpOrReason(text);
    if (typeof ip === 'string') fail(text, "it has no '/' and prefix length");
    const full = ip.family === 4 ? 32 : 128;
    fail(text, `it has no prefix length; a single address is written as '${formatIp(ip)}/${full}'`);
  }
  if (text.indexOf('/', slash + 1) >= 0) fail(text, "it has more than one '/'");
  const addressText = text.slice(0, slash);
  if (addressText.length === 0) fail(text, "the address before '/' is empty");
  const address = parseIpOrReason(addressText);
  if (typeof address === 'string') fail(text, address);

  const prefixText = text.slice(slash + 1);
  const prefix = parsePrefix(text, prefixText);
  const mapped = address.family === 4 && addressText.includes(':');
  if (mapped) {
    if (prefix > 128) fail(text, `prefix length ${prefix} is larger than 128`);
    if (prefix < 96) {
      fail(text, `an IPv4-mapped range must stay inside ::ffff:0:0/96, so its prefix length must be at least 96`);
    }
    return v4Range(address.value, prefix - 96, text);
  }
  if (address.family === 4) {
    if (prefix > 32) fail(text, `prefix length ${prefix} is larger than 32`);
    return v4Range(address.value, prefix, text);
  }
  if (prefix > 128) fail(text, `prefix length ${prefix} is larger than 128`);
  const network: Ip = { family: 6, value: address.value & v6Mask(prefix) };
  return { family: 6, network, prefixLength: prefix, text };
}

/** Whether the range contains the address. An IPv4 address is never in an IPv6 range (see `parseCidr`). */
export function cidrContains(cidr: Cidr, address: Ip): boolean {
  const network = cidr.network;
  // parseIp never returns IPv4-mapped IPv6; a hand-built one is treated as the IPv4 address it maps, as PrefixSet does.
  const ip = address.family === 6 && address.value >> 32n === 0xffffn ? unmap(address.value) : address;
  if (network.family === 4) {
    return ip.family === 4 && ((ip.value ^ network.value) & v4Mask(cidr.prefixLength)) === 0;
  }
  return ip.family === 6 && (ip.value ^ network.value) >> BigInt(128 - cidr.prefixLength) === 0n;
}

/** The first and last address of the range, both inclusive. */
export function cidrRange(cidr: Cidr): { first: Ip; last: Ip } {
  const network = cidr.network;
  if (network.family === 4) {
    const last = (network.value | ~v4Mask(cidr.prefixLength)) >>> 0;
    return { first: network, last: { family: 4, value: last } };
  }
  const last = network.value | (ALL_ONES_128 ^ v6Mask(cidr.prefixLength));
  return { first: network, last: { family: 6, value: last } };
}

/** Canonical text: the masked network in canonical form and the prefix length (`12.34.220.0/22`). */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.network)}/${cidr.prefixLength}`;
}

function unmap(value: bigint): Ip {
  return { family: 4, value: Number(value & 0xffffffffn) };
}

function v4Range(address: number, prefix: number, text: string): Cidr {
  const network: Ip = { family: 4, value: (address & v4Mask(prefix)) >>> 0 };
  return { family: 4, network, prefixLength: prefix, text };
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function v6Mask(prefix: number): bigint {
  return ALL_ONES_128 ^ ((1n << BigInt(128 - prefix)) - 1n);
}

function parsePrefix(text: string, prefixText: string): number {
  if (prefixText.length === 0) fail(text, "the prefix length after '/' is empty");
  let prefix = 0;
  for (let i = 0; i < prefixText.length; i++) {
    const c = prefixText.charCodeAt(i);
    if (c < 48 || c > 57) fail(text, `prefix length ${quote(prefixText)} is not a decimal number`);
    prefix = prefix * 10 + (c - 48);
  }
  if (prefixText.length > 1 && prefixText.charCodeAt(0) === 48) {
    fail(text, `prefix length ${quote(prefixText)} has a leading zero`);
  }
  return prefix;
}

function fail(text: string, reason: string): never {
  throw new CidrParseError(text, reason);
}
