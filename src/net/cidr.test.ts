// Tests for CIDR parsing (host bits masked, mapped ranges, bad prefixes) and containment.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CidrParseError, cidrContains, cidrRange, formatCidr, parseCidr } from './cidr.ts';
import { formatIp, parseIp } from './ip.ts';

describe('parseCidr accepts', () => {
  const cases: { name: string; input: string; family: 4 | 6; network: string; prefixLength: number }[] = [
    {
      name: "Microsoft's example: host bits are masked off",
      input: '12.34.221.11/22',
      family: 4,
      network: '12.34.220.0',
      prefixLength: 22,
    },
    { name: 'IPv4 /0 is everything', input: '0.0.0.0/0', family: 4, network: '0.0.0.0', prefixLength: 0 },
    { name: 'IPv4 /0 with host bits', input: '192.0.2.1/0', family: 4, network: '0.0.0.0', prefixLength: 0 },
    { name: 'IPv4 /32 is one address', input: '203.0.113.7/32', family: 4, network: '203.0.113.7', prefixLength: 32 },
    { name: 'IPv4 /8', input: '10.200.3.4/8', family: 4, network: '10.0.0.0', prefixLength: 8 },
    { name: 'IPv4 /31', input: '192.0.2.255/31', family: 4, network: '192.0.2.254', prefixLength: 31 },
    {
      name: 'IPv6 /32 with host bits',
      input: '2001:db8:ffff::1/32',
      family: 6,
      network: '2001:db8::',
      prefixLength: 32,
    },
    { name: 'IPv6 /0', input: '::/0', family: 6, network: '::', prefixLength: 0 },
    { name: 'IPv6 /128', input: '2001:db8::1/128', family: 6, network: '2001:db8::1', prefixLength: 128 },
    {
      name: 'IPv6 /127 on an odd address',
      input: '2001:db8::3/127',
      family: 6,
      network: '2001:db8::2',
      prefixLength: 127,
    },
    {
      name: 'IPv6 /64 upper case',
      input: '2001:DB8:1:2:3:4:5:6/64',
      family: 6,
      network: '2001:db8:1:2::',
      prefixLength: 64,
    },
    {
      name: 'IPv4-mapped range becomes IPv4',
      input: '::ffff:1.2.3.0/120',
      family: 4,
      network: '1.2.3.0',
      prefixLength: 24,
    },
    {
      name: 'IPv4-mapped /128 is one IPv4 address',
      input: '::ffff:1.2.3.4/128',
      family: 4,
      network: '1.2.3.4',
      prefixLength: 32,
    },
    {
      name: 'the whole IPv4-mapped space is IPv4 /0',
      input: '::ffff:0:0/96',
      family: 4,
      network: '0.0.0.0',
      prefixLength: 0,
    },
    {
      name: 'IPv4-mapped range in hex, host bits masked',
      input: '::ffff:c000:02ff/120',
      family: 4,
      network: '192.0.2.0',
      prefixLength: 24,
    },
    { name: 'NAT64 range stays IPv6', input: '64:ff9b::/96', family: 6, network: '64:ff9b::', prefixLength: 96 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const cidr = parseCidr(c.input);
      assert.equal(cidr.family, c.family);
      assert.equal(cidr.network.family, c.family);
      assert.equal(formatIp(cidr.network), c.network);
      assert.equal(cidr.prefixLength, c.prefixLength);
      assert.equal(cidr.text, c.input, 'text is the input as given');
      assert.equal(formatCidr(cidr), `${c.network}/${c.prefixLength}`);
    });
  }
});

describe('parseCidr rejects, naming the range and the reason', () => {
  const cases: { name: string; input: string; message: string }[] = [
    {
      name: 'IPv4 prefix above 32',
      input: '10.0.0.0/33',
      message: "'10.0.0.0/33' is not a valid CIDR range: prefix length 33 is larger than 32",
    },
    { name: 'IPv6 prefix above 128', input: '2001:db8::/129', message: 'prefix length 129 is larger than 128' },
    { name: 'mapped prefix above 128', input: '::ffff:1.2.3.4/129', message: 'prefix length 129 is larger than 128' },
    {
      name: 'mapped prefix below 96',
      input: '::ffff:1.2.3.4/80',
      message: 'an IPv4-mapped range must stay inside ::ffff:0:0/96',
    },
    {
      name: 'bare IPv4 address',
      input: '10.0.0.1',
      message: "it has no prefix length; a single address is written as '10.0.0.1/32'",
    },
    { name: 'bare IPv6 address', input: '2001:db8::1', message: "a single address is written as '2001:db8::1/128'" },
    {
      name: 'garbage without slash',
      input: 'office',
      message: "'office' is not a valid CIDR range: it has no '/' and prefix length",
    },
    { name: 'empty', input: '', message: "it has no '/'" },
    { name: 'empty prefix', input: '10.0.0.0/', message: "the prefix length after '/' is empty" },
    { name: 'empty address', input: '/8', message: "the address before '/' is empty" },
    { name: 'negative prefix', input: '10.0.0.0/-1', message: "prefix length '-1' is not a decimal number" },
    { name: 'prefix with a sign', input: '10.0.0.0/+8', message: "prefix length '+8' is not a decimal number" },
    { name: 'hex prefix', input: '10.0.0.0/0x8', message: "prefix length '0x8' is not a decimal number" },
    {
      name: 'prefix as a netmask',
      input: '10.0.0.0/255.0.0.0',
      message: "prefix length '255.0.0.0' is not a decimal number",
    },
    { name: 'prefix with whitespace', input: '10.0.0.0/ 8', message: "prefix length ' 8' is not a decimal number" },
    { name: 'prefix with a leading zero', input: '10.0.0.0/08', message: "prefix length '08' has a leading zero" },
    { name: 'two slashes', input: '10.0.0.0/8/8', message: "it has more than one '/'" },
    {
      name: 'bad address',
      input: '300.0.0.0/8',
      message: "'300.0.0.0/8' is not a valid CIDR range: octet 300 is larger than 255",
    },
    { name: 'zone id', input: 'fe80::%eth0/64', message: 'zone ids' },
    { name: 'whitespace around', input: ' 10.0.0.0/8', message: 'unexpected whitespace at position 0' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(
        () => parseCidr(c.input),
        (error: unknown) => {
          assert.ok(error instanceof CidrParseError);
          assert.ok(error.message.includes(c.message), `message was: ${error.message}`);
          assert.equal(error.input, c.input);
          return true;
        },
      );
    });
  }
});

describe('cidrContains and cidrRange', () => {
  const cases: { name: string; cidr: string; ip: string; want: boolean }[] = [
    { name: 'first address', cidr: '12.34.221.11/22', ip: '12.34.220.0', want: true },
    { name: 'last address', cidr: '12.34.221.11/22', ip: '12.34.223.255', want: true },
    { name: 'one before', cidr: '12.34.221.11/22', ip: '12.34.219.255', want: false },
    { name: 'one after', cidr: '12.34.221.11/22', ip: '12.34.224.0', want: false },
    { name: 'IPv4 /0 contains everything IPv4', cidr: '0.0.0.0/0', ip: '255.255.255.255', want: true },
    { name: 'IPv4 /0 does not contain IPv6', cidr: '0.0.0.0/0', ip: '::1', want: false },
    { name: 'IPv6 /0 does not contain IPv4', cidr: '::/0', ip: '10.0.0.1', want: false },
    { name: 'IPv6 /0 does not contain a mapped IPv4 client', cidr: '::/0', ip: '::ffff:10.0.0.1', want: false },
    { name: 'mapped range contains the IPv4 client', cidr: '::ffff:10.0.0.0/104', ip: '10.9.9.9', want: true },
    { name: 'IPv6 /128 contains itself', cidr: '2001:db8::1/128', ip: '2001:db8::1', want: true },
    { name: 'IPv6 /128 not its neighbour', cidr: '2001:db8::1/128', ip: '2001:db8::2', want: false },
    { name: 'IPv6 /48 last address', cidr: '2001:db8:1::/48', ip: '2001:db8:1:ffff:ffff:ffff:ffff:ffff', want: true },
    { name: 'IPv6 /48 one after', cidr: '2001:db8:1::/48', ip: '2001:db8:2::', want: false },
  ];
  for (const c of cases) test(c.name, () => assert.equal(cidrContains(parseCidr(c.cidr), parseIp(c.ip)), c.want));

  const ranges: { name: string; cidr: string; first: string; last: string }[] = [
    { name: 'IPv4 /22', cidr: '12.34.221.11/22', first: '12.34.220.0', last: '12.34.223.255' },
    { name: 'IPv4 /0', cidr: '0.0.0.0/0', first: '0.0.0.0', last: '255.255.255.255' },
    { name: 'IPv4 /32', cidr: '10.0.0.1/32', first: '10.0.0.1', last: '10.0.0.1' },
    { name: 'IPv6 /0', cidr: '::/0', first: '::', last: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' },
    { name: 'IPv6 /64', cidr: '2001:db8::/64', first: '2001:db8::', last: '2001:db8::ffff:ffff:ffff:ffff' },
  ];
  for (const c of ranges) {
    test(`range of ${c.name}`, () => {
      const { first, last } = cidrRange(parseCidr(c.cidr));
      assert.equal(formatIp(first), c.first);
      assert.equal(formatIp(last), c.last);
    });
  }
});
