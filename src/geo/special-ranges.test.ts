// Tests for the special-purpose address check: which client addresses geo answers "unknown" for without a lookup.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cidrRange, parseCidr } from '../net/cidr.ts';
import { formatIp, type Ip, parseIp } from '../net/ip.ts';
import { isNonRoutable, specialRange, specialRanges, unwrapIpv4 } from './special-ranges.ts';

describe('specialRange', () => {
  // [case, address, the registry entry's name, or undefined for an ordinary public address]
  const cases: ReadonlyArray<[name: string, address: string, expected: string | undefined]> = [
    ['alice at headquarters behind NAT', '192.168.1.20', 'private-use'],
    ['carol on the office VPN', '10.8.0.5', 'private-use'],
    ['a container bridge network', '172.17.0.2', 'private-use'],
    ['dave behind his mobile carrier’s CGNAT', '100.64.12.34', 'shared-address-space'],
    ['the CGNAT block’s last address', '100.127.255.255', 'shared-address-space'],
    ['just below the CGNAT block', '100.63.255.255', undefined],
    ['just above the CGNAT block', '100.128.0.0', undefined],
    ['just below 172.16/12', '172.15.255.255', undefined],
    ['just above 172.16/12', '172.32.0.0', undefined],
    ['localhost', '127.0.0.1', 'loopback'],
    ['anywhere in 127/8', '127.255.255.254', 'loopback'],
    ['a link-local (APIPA) address', '169.254.10.20', 'link-local'],
    ['IPv4 unspecified', '0.0.0.0', 'this-network'],
    ['DS-Lite B4 address', '192.0.0.2', 'ietf-protocol-assignments'],
    ['TEST-NET-1', '192.0.2.1', 'documentation'],
    ['TEST-NET-2', '198.51.100.7', 'documentation'],
    ['TEST-NET-3', '203.0.113.99', 'documentation'],
    ['benchmarking', '198.19.255.255', 'benchmarking'],
    ['mDNS multicast', '224.0.0.251', 'multicast'],
    ['the top of multicast', '239.255.255.250', 'multicast'],
    ['reserved class E', '240.0.0.1', 'reserved'],
    ['limited broadcast', '255.255.255.255', 'reserved'],
    ['Google Public DNS', '8.8.8.8', undefined],
    ['the first public address', '1.0.0.0', undefined],
    ['just below multicast', '223.255.255.255', undefined],
    ['IPv6 unspecified', '::', 'unspecified'],
    ['IPv6 loopback', '::1', 'loopback'],
    ['IPv6 link-local', 'fe80::1c2b:3aff:fe4d:5e6f', 'link-local'],
    ['IPv6 unique-local', 'fd12:3456:789a::1', 'unique-local'],
    ['unique-local, the unused fc half', 'fc00::1', 'unique-local'],
    ['IPv6 documentation', '2001:db8:85a3::8a2e:370:7334', 'documentation'],
    ['IPv6 documentation, the new block', '3fff:fff:ffff::1', 'documentation'],
    ['just above 3fff::/20', '3fff:1000::1', undefined],
    ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2', 'ietf-protocol-assignments'],
    ['the last of 2001::/23', '2001:1ff:ffff:ffff::1', 'ietf-protocol-assignments'],
    ['just above 2001::/23 (WIDE, Japan)', '2001:200::1', undefined],
    ['discard-only', '100::1', 'discard-only'],
    ['local-use NAT64 prefix', '64:ff9b:1::a00:1', 'local-use-translation'],
    ['IPv6 multicast, all nodes', 'ff02::1', 'multicast'],
    ['deprecated site-local', 'fec0::1', 'not-global-unicast'],
    ['SRv6 SIDs', '5f00::1', 'not-global-unicast'],
    ['deprecated IPv4-compatible', '::808:808', 'not-global-unicast'],
    ['just below 2000::/3', '1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'not-global-unicast'],
    ['Google Public DNS over IPv6', '2001:4860:4860::8888', undefined],
    ['the first global unicast address', '2000::', undefined],
    ['the last global unicast address', '3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', undefined],
    ['IPv4-mapped private address (a dual-stack socket)', '::ffff:192.168.1.20', 'private-use'],
    ['IPv4-mapped public address', '::ffff:8.8.8.8', undefined],
    ['NAT64 well-known prefix around a public address', '64:ff9b::8.8.8.8', undefined],
    ['NAT64 well-known prefix around a private address', '64:ff9b::10.0.0.1', 'private-use'],
  ];
  for (const [name, address, expected] of cases) {
    test(`${name} (${address})`, () => {
      const ip = parseIp(address);
      assert.equal(specialRange(ip)?.name, expected);
      assert.equal(isNonRoutable(ip), expected !== undefined);
    });
  }

  // The tables are matched with precomputed shifts; this checks every block's edges against net's own CIDR maths.
  test('covers the first and last address of every listed block, and not the addresses around it', () => {
    for (const range of specialRanges) {
      if (range.name === 'not-global-unicast') continue;
      const { first, last } = cidrRange(parseCidr(range.prefix));
      assert.equal(specialRange(first), range, `${range.prefix} first`);
      assert.equal(specialRange(last), range, `${range.prefix} last`);
      for (const outside of [step(first, -1), step(last, 1)]) {
        if (outside === undefined) continue;
        const found = specialRange(outside);
        assert.notEqual(found, range, `${formatIp(outside)} is outside ${range.prefix}`);
      }
    }
  });

  test('every block cites an RFC and has a name', () => {
    for (const range of specialRanges) {
      assert.match(range.rfc, /^RFC \d+/);
      assert.match(range.name, /^[a-z0-9-]+$/);
      assert.ok(Object.isFrozen(range));
    }
  });
});

describe('unwrapIpv4', () => {
  // net's parser already returns mapped addresses as IPv4; an Ip built by hand may still carry the mapped form.
  const cases: ReadonlyArray<[name: string, input: Ip, expected: Ip]> = [
    ['a hand-built IPv4-mapped address', { family: 6, value: 0xffff_0808_0808n }, { family: 4, value: 0x0808_0808 }],
    [
      'an address in the NAT64 well-known prefix',
      { family: 6, value: 0x0064_ff9b_0000_0000_0000_0000_c000_0201n },
      { family: 4, value: 0xc000_0201 },
    ],
    ['an IPv4 address is unchanged', { family: 4, value: 0x0102_0304 }, { family: 4, value: 0x0102_0304 }],
    ['a global IPv6 address is unchanged', parseIp('2001:4860::1'), parseIp('2001:4860::1')],
    ['the IPv4-compatible form is not unwrapped', parseIp('::808:808'), parseIp('::808:808')],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.deepEqual(unwrapIpv4(input), expected));
  }

  test('a hand-built mapped private address is non-routable', () => {
    assert.equal(specialRange({ family: 6, value: 0xffff_c0a8_0114n })?.name, 'private-use');
  });
});

function step(ip: Ip, by: 1 | -1): Ip | undefined {
  if (ip.family === 4) {
    const value = ip.value + by;
    return value < 0 || value > 0xffff_ffff ? undefined : { family: 4, value };
  }
  const value = ip.value + BigInt(by);
  return value < 0n || value >= 1n << 128n ? undefined : { family: 6, value };
}
