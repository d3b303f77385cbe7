// Parses, formats and compares IPv4 and IPv6 addresses; IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) become IPv4.
// Written over char codes without regular expressions because a client address is parsed on every request.

import { fromWords, toWords } from './ipv6-words.ts';
import { quote } from './quote.ts';

/** IPv4 as an unsigned 32-bit number; IPv6 as an unsigned 128-bit bigint. */
export type Ip = { readonly family: 4; readonly value: number } | { readonly family: 6; readonly value: bigint };

export class IpParseError extends Error {
  override readonly name = 'IpParseError';
  /** The text that failed to parse, as given. */
  readonly input: string;
  /** Why it failed, without the input: `octet 300 is larger than 255`. */
  readonly reason: string;
  constructor(input: string, reason: string) {
    super(`${quote(input)} is not a valid IP address: ${reason}`);
    this.input = input;
    this.reason = reason;
  }
}

/**
 * Parses an IPv4 dotted quad or an IPv6 address in any RFC 4291 §2.2 text form, optionally in brackets (`[::1]`).
 * Strict on purpose: an IPv4 octet with a leading zero (`01.2.3.4`) is rejected because some parsers read it as
 * octal and others as decimal; zone ids (`fe80::1%eth0`), ports, whitespace and shorthand (`127.1`) are rejected.
 * Addresses in ::ffff:0:0/96 are returned as IPv4 (RFC 4291 §2.5.5.2), so one client has one identity.
 */
export function parseIp(text: string): Ip {
  const ip = parse(text);
  if (ip === undefined) throw new IpParseError(text, reason);
  return ip;
}

/** `parseIp` that returns undefined instead of throwing; builds no error on the hot path. */
export function tryParseIp(text: string): Ip | undefined {
  return parse(text);
}

/**
 * Parses like `parseIp` but returns why it failed instead of throwing, so callers (CIDR parsing) can wrap the reason
 * in their own error.
 */
export function parseIpOrReason(text: string): Ip | string {
  return parse(text) ?? reason;
}

/** Canonical text: dotted quad for IPv4, RFC 5952 §4 for IPv6 (lowercase, no leading zeros, longest zero run as ::). */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) return formatV4(ip.value);
  const w = toWords(ip.value);
  const g = [
    w[0] >>> 16,
    w[0] & 0xffff,
    w[1] >>> 16,
    w[1] & 0xffff,
    w[2] >>> 16,
    w[2] & 0xffff,
    w[3] >>> 16,
    w[3] & 0xffff,
  ];
  // RFC 5952 §5: IPv4-mapped addresses are written with the IPv4 part in dotted form.
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return `::ffff:${formatV4(w[3])}`;
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return g.map(hex).join(':');
  const head = g.slice(0, bestStart).map(hex).join(':');
  const tail = g
    .slice(bestStart + bestLength)
    .map(hex)
    .join(':');
  return `${head}::${tail}`;
}

/** Same family and same address. `parseIp` never returns IPv4-mapped IPv6, so each address has one form. */
export function ipEquals(a: Ip, b: Ip): boolean {
  return a.family === b.family && a.value === b.value;
}

function formatV4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

function hex(group: number): string {
  return group.toString(16);
}

// The longest valid text is 47 characters: '[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]'. Refusing anything much
// longer up front bounds the work done on hostile input.
const MAX_LENGTH = 64;

const DOT = 46;
const COLON = 58;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

// Failure reporting without allocation on success: the parsers return a sentinel and leave the reason here.
let reason = '';
/** parseV4 returns this when the text is not IPv4 at all (a non-digit before the first dot), and sets `stoppedAt`. */
const NOT_V4 = -2;
const INVALID = -1;
let stoppedAt = 0;

function fail(why: string): undefined {
  reason = why;
  return undefined;
}

function parse(text: string): Ip | undefined {
  const length = text.length;
  if (length === 0) return fail('it is empty');
  if (length > MAX_LENGTH) return fail(`it is ${length} characters long, longer than any IP address`);
  if (text.charCodeAt(0) === OPEN_BRACKET) {
    if (text.charCodeAt(length - 1) !== CLOSE_BRACKET) {
      return fail(text.includes(']:') ? 'a port is not accepted here' : "the '[' is not closed by ']'");
    }
    const ip = parseV6(text, 1, length - 1);
    // Brackets set IPv6 apart from a port (RFC 3986 §3.2.2); '[192.0.2.1]' is not an IPv6 address.
    if (ip === undefined && parseV4(text, 1, length - 1) >= 0) return fail('brackets are only for IPv6 addresses');
    return ip;
  }
  const v4 = parseV4(text, 0, length);
  if (v4 >= 0) return { family: 4, value: v4 };
  if (v4 === NOT_V4) return parseV6(text, 0, length);
  return undefined;
}

/**
 * Parses a dotted quad in text[start, end). Returns the address, INVALID (reason set), or NOT_V4 when a character
 * other than a digit or dot comes before the first dot — the text may still be IPv6.
 */
function parseV4(text: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let octetStart = start;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
    } else if (c === DOT) {
      if (badOctet(text, octetStart, i, octet)) return INVALID;
      value = value * 256 + octet;
      if (++dots > 3) return invalid('it has more than 4 octets');
      octet = 0;
      octetStart = i + 1;
    } else if (dots === 0) {
      stoppedAt = i;
      return NOT_V4;
    } else if (c === COLON && dots === 3 && i > octetStart && isDigit(text.charCodeAt(i + 1))) {
      return invalid('a port is not accepted here');
    } else {
      return invalid(unexpected(text, i));
    }
  }
  if (badOctet(text, octetStart, end, octet)) return INVALID;
  if (dots !== 3) return invalid(`it has ${dots + 1} octets; an IPv4 address has 4`);
  return value * 256 + octet;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function invalid(why: string): number {
  reason = why;
  return INVALID;
}

/** Sets the reason and returns true when text[start, end) is not a valid decimal octet. */
function badOctet(text: string, start: number, end: number, octet: number): boolean {
  const digits = end - start;
  if (digits === 0) reason = start === 0 ? 'it starts with a dot' : `an octet is empty at position ${start}`;
  else if (digits > 1 && text.charCodeAt(start) === 48) {
    reason = `octet '${text.slice(start, end)}' has a leading zero, which some software reads as octal`;
  } else if (octet > 255) reason = `octet ${text.slice(start, end)} is larger than 255`;
  else return false;
  return true;
}

/** Eight 16-bit groups of the IPv6 address being parsed; parsing is synchronous, so one scratch array suffices. */
const groups = new Uint16Array(8);

function parseV6(text: string, start: number, end: number): Ip | undefined {
  let count = 0;
  let gap = -1; // index in `groups` where '::' stands, or -1
  let i = start;
  if (i < end && text.charCodeAt(i) === COLON) {
    if (i + 1 >= end || text.charCodeAt(i + 1) !== COLON) return fail('it starts with a single colon');
    gap = 0;
    i += 2;
  }
  while (i < end) {
    const groupStart = i;
    let group = 0;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      let digit: number;
      if (c >= 48 && c <= 57) digit = c - 48;
      else if ((c | 32) >= 97 && (c | 32) <= 102) digit = (c | 32) - 87;
      else break;
      group = group * 16 + digit;
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      // RFC 4291 §2.2 form 3: the last 32 bits may be written as a dotted quad.
      if (count > 6) return fail('the IPv4 part leaves no room: it must be the last 32 bits');
      const v4 = parseV4(text, groupStart, end);
      if (v4 === NOT_V4) return fail(unexpected(text, stoppedAt));
      if (v4 < 0) return fail(`in its IPv4 part, ${reason}`);
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = end;
      break;
    }
    const digits = i - groupStart;
    if (digits === 0) return fail(unexpected(text, i));
    if (digits > 4) return fail(`group '${text.slice(groupStart, i)}' has more than 4 hex digits`);
    if (count === 8) return fail('it has more than 8 groups');
    groups[count++] = group;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return fail(unexpected(text, i));
    i++;
    if (i < end && text.charCodeAt(i) === COLON) {
      if (gap >= 0) return fail("'::' appears more than once");
      gap = count;
      i++;
    } else if (i === end) {
      return fail('it ends with a single colon');
    }
  }
  if (gap < 0) {
    if (count !== 8) return fail(`it has ${count} groups; an IPv6 address without '::' has 8`);
  } else {
    if (count > 7) return fail("it has 8 groups besides '::', which must stand for at least one zero group");
    const tail = count - gap;
    for (let k = tail - 1; k >= 0; k--) groups[8 - tail + k] = groups[gap + k];
    groups.fill(0, gap, 8 - tail);
  }
  const w0 = groups[0] * 0x10000 + groups[1];
  const w1 = groups[2] * 0x10000 + groups[3];
  const w2 = groups[4] * 0x10000 + groups[5];
  const w3 = groups[6] * 0x10000 + groups[7];
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return { family: 4, value: w3 };
  return { family: 6, value: fromWords(w0, w1, w2, w3) };
}

function unexpected(text: string, at: number): string {
  const c = text.charCodeAt(at);
  if (c === 37) return "zone ids (the '%' suffix) are not accepted";
  if (c === 32 || c === 9 || c === 10 || c === 13) return `unexpected whitespace at position ${at}`;
  if (c === COLON) return `unexpected ':' at position ${at}`;
  return `unexpected character ${quote(text[at])} at position ${at}`;
}
