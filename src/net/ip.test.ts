// Tests for IP parsing and formatting: every IPv6 text form, IPv4-mapped addresses, and the messages of rejections.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatIp, type Ip, IpParseError, ipEquals, parseIp, tryParseIp } from './ip.ts';

const v4 = (a: number, b: number, c: number, d: number): Ip => ({
  family: 4,
  value: ((a << 24) | (b << 16) | (c << 8) | d) >>> 0,
});
const v6 = (value: bigint): Ip => ({ family: 6, value });

describe('parseIp accepts', () => {
  const cases: { name: string; input: string; want: Ip; canonical: string }[] = [
    { name: 'IPv4 dotted quad', input: '203.0.113.7', want: v4(203, 0, 113, 7), canonical: '203.0.113.7' },
    { name: 'IPv4 zero address', input: '0.0.0.0', want: v4(0, 0, 0, 0), canonical: '0.0.0.0' },
    { name: 'IPv4 broadcast', input: '255.255.255.255', want: v4(255, 255, 255, 255), canonical: '255.255.255.255' },
    { name: 'IPv4 single zero octets', input: '10.0.0.1', want: v4(10, 0, 0, 1), canonical: '10.0.0.1' },
    {
      name: 'IPv6 full form',
      input: '2001:0db8:0000:0000:0000:ff00:0042:8329',
      want: v6(0x20010db8000000000000ff0000428329n),
      canonical: '2001:db8::ff00:42:8329',
    },
    {
      name: 'IPv6 without leading zeros',
      input: '2001:db8:0:0:0:ff00:42:8329',
      want: v6(0x20010db8000000000000ff0000428329n),
      canonical: '2001:db8::ff00:42:8329',
    },
    {
      name: 'IPv6 compressed in the middle',
      input: '2001:db8::1',
      want: v6(0x20010db8000000000000000000000001n),
      canonical: '2001:db8::1',
    },
    { name: 'IPv6 unspecified', input: '::', want: v6(0n), canonical: '::' },
    { name: 'IPv6 loopback', input: '::1', want: v6(1n), canonical: '::1' },
    { name: 'IPv6 compressed at the end', input: 'fe80::', want: v6(0xfe80n << 112n), canonical: 'fe80::' },
    {
      name: ':: standing for one group',
      input: '1:2:3:4:5:6:7::',
      want: v6(0x00010002000300040005000600070000n),
      canonical: '1:2:3:4:5:6:7:0',
    },
    {
      name: ':: standing for one group at the start',
      input: '::2:3:4:5:6:7:8',
      want: v6(0x00000002000300040005000600070008n),
      canonical: '0:2:3:4:5:6:7:8',
    },
    {
      name: 'IPv6 upper case',
      input: 'FE80::ABCD:EF01',
      want: v6((0xfe80n << 112n) | 0xabcdef01n),
      canonical: 'fe80::abcd:ef01',
    },
    {
      name: 'IPv6 mixed case',
      input: '2001:DB8::aB',
      want: v6(0x20010db8000000000000000000000000n | 0xabn),
      canonical: '2001:db8::ab',
    },
    {
      name: 'IPv6 all ones',
      input: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      want: v6((1n << 128n) - 1n),
      canonical: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    },
    {
      name: 'IPv6 in brackets (URL and Host header form)',
      input: '[2001:db8::1]',
      want: v6(0x20010db8000000000000000000000001n),
      canonical: '2001:db8::1',
    },
    { name: 'IPv6 loopback in brackets', input: '[::1]', want: v6(1n), canonical: '::1' },
    {
      name: 'NAT64 with embedded IPv4 stays IPv6',
      input: '64:ff9b::192.0.2.33',
      want: v6(0x0064ff9b0000000000000000c0000221n),
      canonical: '64:ff9b::c000:221',
    },
    {
      name: 'full form with embedded IPv4',
      input: '1:2:3:4:5:6:1.2.3.4',
      want: v6(0x00010002000300040005000601020304n),
      canonical: '1:2:3:4:5:6:102:304',
    },
    {
      name: 'deprecated IPv4-compatible stays IPv6',
      input: '::1.2.3.4',
      want: v6(0x01020304n),
      canonical: '::102:304',
    },
    {
      name: 'IPv4-mapped IPv6 is the IPv4 address',
      input: '::ffff:203.0.113.7',
      want: v4(203, 0, 113, 7),
      canonical: '203.0.113.7',
    },
    {
      name: 'IPv4-mapped IPv6 in hex is the IPv4 address',
      input: '::ffff:cb00:7107',
      want: v4(203, 0, 113, 7),
      canonical: '203.0.113.7',
    },
    { name: 'IPv4-mapped IPv6 upper case', input: '::FFFF:7F00:1', want: v4(127, 0, 0, 1), canonical: '127.0.0.1' },
    {
      name: 'IPv4-mapped IPv6 in full form',
      input: '0:0:0:0:0:ffff:127.0.0.1',
      want: v4(127, 0, 0, 1),
      canonical: '127.0.0.1',
    },
    { name: 'IPv4-mapped IPv6 in brackets', input: '[::ffff:10.0.0.1]', want: v4(10, 0, 0, 1), canonical: '10.0.0.1' },
    { name: 'IPv4-mapped zero', input: '::ffff:0.0.0.0', want: v4(0, 0, 0, 0), canonical: '0.0.0.0' },
    {
      name: 'group with leading zeros',
      input: '0001:0002::0003',
      want: v6(0x00010002000000000000000000000003n),
      canonical: '1:2::3',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const ip = parseIp(c.input);
      assert.deepEqual(ip, c.want);
      assert.deepEqual(tryParseIp(c.input), c.want);
      assert.equal(formatIp(ip), c.canonical);
      assert.deepEqual(parseIp(formatIp(ip)), c.want, 'the canonical text parses back to the same address');
    });
  }
});

describe('parseIp rejects, naming the input and the reason', () => {
  const cases: { name: string; input: string; message: string }[] = [
    { name: 'empty', input: '', message: "'' is not a valid IP address: it is empty" },
    {
      name: 'only whitespace',
      input: '   ',
      message: "'   ' is not a valid IP address: unexpected whitespace at position 0",
    },
    { name: 'leading whitespace', input: ' 10.0.0.1', message: 'unexpected whitespace at position 0' },
    { name: 'trailing whitespace', input: '10.0.0.1 ', message: 'unexpected whitespace at position 8' },
    {
      name: 'octet above 255',
      input: '300.1.1.1',
      message: "'300.1.1.1' is not a valid IP address: octet 300 is larger than 255",
    },
    { name: 'last octet above 255', input: '1.1.1.256', message: 'octet 256 is larger than 255' },
    { name: 'octal-looking leading zero', input: '01.2.3.4', message: "octet '01' has a leading zero" },
    { name: 'double zero octet', input: '1.00.3.4', message: "octet '00' has a leading zero" },
    { name: 'three octets', input: '10.0.1', message: 'it has 3 octets; an IPv4 address has 4' },
    { name: 'shorthand loopback', input: '127.1', message: 'it has 2 octets' },
    { name: 'five octets', input: '1.2.3.4.5', message: 'it has more than 4 octets' },
    { name: 'empty octet', input: '1..3.4', message: 'an octet is empty at position 2' },
    { name: 'leading dot', input: '.1.2.3', message: 'it starts with a dot' },
    { name: 'trailing dot', input: '1.2.3.', message: 'an octet is empty at position 6' },
    { name: 'hex IPv4', input: '0x7f.0.0.1', message: "unexpected character 'x' at position 1" },
    { name: 'decimal integer', input: '2130706433', message: 'octet 2130706433 is larger than 255' },
    { name: 'IPv4 with port', input: '203.0.113.7:443', message: 'a port is not accepted here' },
    { name: 'bracketed IPv6 with port', input: '[2001:db8::1]:443', message: 'a port is not accepted here' },
    { name: 'unclosed bracket', input: '[::1', message: "the '[' is not closed by ']'" },
    { name: 'bracketed IPv4', input: '[192.0.2.1]', message: 'brackets are only for IPv6 addresses' },
    {
      name: 'zone id',
      input: 'fe80::1%eth0',
      message: "'fe80::1%eth0' is not a valid IP address: zone ids (the '%' suffix) are not accepted",
    },
    { name: 'zone id in brackets', input: '[fe80::1%25eth0]', message: 'zone ids' },
    { name: 'two ::', input: '1::2::3', message: "'::' appears more than once" },
    { name: 'triple colon', input: '1:::2', message: "unexpected ':' at position 3" },
    { name: 'nine groups', input: '1:2:3:4:5:6:7:8:9', message: 'it has more than 8 groups' },
    {
      name: 'seven groups without ::',
      input: '1:2:3:4:5:6:7',
      message: "it has 7 groups; an IPv6 address without '::' has 8",
    },
    {
      name: ':: with eight groups',
      input: '1:2:3:4:5:6:7::8',
      message: 'which must stand for at least one zero group',
    },
    { name: 'five hex digits', input: '12345::1', message: "group '12345' has more than 4 hex digits" },
    { name: 'non-hex letter', input: '2001:db8::g', message: "unexpected character 'g' at position 10" },
    { name: 'leading single colon', input: ':1::', message: 'it starts with a single colon' },
    { name: 'trailing single colon', input: '1::2:', message: 'it ends with a single colon' },
    { name: 'embedded IPv4 too early', input: '1.2.3.4::', message: "unexpected ':' at position 7" },
    { name: 'embedded IPv4 with no room', input: '1:2:3:4:5:6:7:1.2.3.4', message: 'the IPv4 part leaves no room' },
    { name: 'bad embedded IPv4', input: '::ffff:1.2.3.256', message: 'in its IPv4 part, octet 256 is larger than 255' },
    {
      name: 'word',
      input: 'localhost',
      message: "'localhost' is not a valid IP address: unexpected character 'l' at position 0",
    },
    {
      name: 'hostile length',
      input: '1'.repeat(10_000),
      message: 'it is 10000 characters long, longer than any IP address',
    },
    {
      name: 'control characters are escaped in the message',
      input: '1.2.3.4\n',
      message: "'1.2.3.4\\x0a' is not a valid IP address",
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(
        () => parseIp(c.input),
        (error: unknown) => {
          assert.ok(error instanceof IpParseError);
          assert.ok(error.message.includes(c.message), `message was: ${error.message}`);
          assert.equal(error.input, c.input);
          return true;
        },
      );
      assert.equal(tryParseIp(c.input), undefined);
    });
  }
  test('a long input is shortened in the message', () => {
    assert.throws(
      () => parseIp('9'.repeat(500)),
      (error: Error) => error.message.startsWith(`'${'9'.repeat(64)}…' is not a valid IP address`),
    );
  });
});

describe('formatIp follows RFC 5952', () => {
  const cases: { name: string; ip: Ip; want: string }[] = [
    { name: 'longest zero run is compressed', ip: v6(0x20010db8000000000001000000000001n), want: '2001:db8::1:0:0:1' },
    {
      name: 'first of two equal runs is compressed',
      ip: v6(0x20010db8000000000001000000000000n | 1n),
      want: '2001:db8::1:0:0:1',
    },
    { name: 'equal runs: the first wins', ip: v6(0x00010000000000010000000000010000n), want: '1::1:0:0:1:0' },
    {
      name: 'a single zero group is not compressed',
      ip: v6(0x20010db8000000010001000100010001n),
      want: '2001:db8:0:1:1:1:1:1',
    },
    { name: 'leading zeros dropped, lowercase', ip: v6(0x20010db800aa00000000000000000abcn), want: '2001:db8:aa::abc' },
    { name: 'hand-built IPv4-mapped IPv6 keeps the dotted form', ip: v6(0xffff0a000001n), want: '::ffff:10.0.0.1' },
  ];
  for (const c of cases) test(c.name, () => assert.equal(formatIp(c.ip), c.want));
});

describe('ipEquals', () => {
  const cases: { name: string; a: string; b: string; want: boolean }[] = [
    { name: 'same IPv4', a: '10.0.0.1', b: '10.0.0.1', want: true },
    { name: 'IPv4 and its mapped form', a: '10.0.0.1', b: '::ffff:10.0.0.1', want: true },
    { name: 'different text, same IPv6', a: '2001:DB8::1', b: '2001:db8:0:0:0:0:0:1', want: true },
    { name: 'IPv4 and IPv4-compatible IPv6 differ', a: '1.2.3.4', b: '::1.2.3.4', want: false },
    { name: 'different IPv4', a: '10.0.0.1', b: '10.0.0.2', want: false },
  ];
  for (const c of cases) test(c.name, () => assert.equal(ipEquals(parseIp(c.a), parseIp(c.b)), c.want));
});

describe('parseIp properties', () => {
  // Any valid rendering of a random address — compressed anywhere a zero run allows, any case, padded or not,
  // with or without a dotted tail — parses to that address, and formatIp's output parses back to it.
  const rendering = fc
    .record({
      groups: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
      upper: fc.boolean(),
      pad: fc.boolean(),
      dotted: fc.boolean(),
      compress: fc.nat(),
    })
    .filter(({ groups }) => !(groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff));

  test('every rendering parses to the address', () => {
    fc.assert(
      fc.property(rendering, ({ groups, upper, pad, dotted, compress }) => {
        const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
        let parts = groups.map((g) => (pad ? g.toString(16).padStart(4, '0') : g.toString(16)));
        if (dotted)
          parts = [...parts.slice(0, 6), `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`];
        const zeroRuns: [number, number][] = [];
        for (let i = 0; i < (dotted ? 6 : 8); i++) {
          for (let j = i; j < (dotted ? 6 : 8) && groups[j] === 0; j++) zeroRuns.push([i, j + 1]);
        }
        let text = parts.join(':');
        if (zeroRuns.length > 0 && compress % 3 !== 0) {
          const [from, to] = zeroRuns[compress % zeroRuns.length];
          text = `${parts.slice(0, from).join(':')}::${parts.slice(to).join(':')}`;
        }
        if (upper) text = text.toUpperCase();
        assert.deepEqual(parseIp(text), { family: 6, value }, text);
        assert.deepEqual(parseIp(formatIp({ family: 6, value })), { family: 6, value });
      }),
      { numRuns: 500 },
    );
  });

  test('every IPv4 address round-trips, directly and mapped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const text = formatIp({ family: 4, value });
        assert.deepEqual(parseIp(text), { family: 4, value });
        assert.deepEqual(parseIp(`::ffff:${text}`), { family: 4, value });
      }),
      { numRuns: 500 },
    );
  });
});
