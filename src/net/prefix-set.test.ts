// Tests for the compiled prefix set: named overlap cases, and properties checked against the linear-scan reference.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type Cidr, cidrRange, parseCidr } from './cidr.ts';
import { formatIp, type Ip, parseIp } from './ip.ts';
import { naiveLookup, PrefixSetBuilder } from './prefix-set.ts';

type Entry = { cidr: Cidr; label: number };

function build(ranges: [string, number][]) {
  const entries: Entry[] = ranges.map(([text, label]) => ({ cidr: parseCidr(text), label }));
  const builder = new PrefixSetBuilder();
  for (const { cidr, label } of entries) builder.add(cidr, label);
  return { set: builder.build(), entries };
}

describe('PrefixSet named cases', () => {
  const HQ = 0;
  const BRANCH = 1;
  const VPN = 2;
  const cases: { name: string; ranges: [string, number][]; probes: [string, number[]][] }[] = [
    {
      name: 'nothing added matches nothing',
      ranges: [],
      probes: [
        ['10.0.0.1', []],
        ['::1', []],
      ],
    },
    {
      name: 'nested ranges of two labels',
      ranges: [
        ['10.0.0.0/8', HQ],
        ['10.1.0.0/16', BRANCH],
      ],
      probes: [
        ['9.255.255.255', []],
        ['10.0.0.0', [HQ]],
        ['10.0.255.255', [HQ]],
        ['10.1.0.0', [HQ, BRANCH]],
        ['10.1.255.255', [HQ, BRANCH]],
        ['10.2.0.0', [HQ]],
        ['10.255.255.255', [HQ]],
        ['11.0.0.0', []],
      ],
    },
    {
      name: 'nested ranges of the same label count once',
      ranges: [
        ['10.0.0.0/8', HQ],
        ['10.1.0.0/16', HQ],
        ['10.1.2.0/24', HQ],
      ],
      probes: [
        ['10.1.2.3', [HQ]],
        ['10.1.3.0', [HQ]],
        ['10.3.0.0', [HQ]],
      ],
    },
    {
      name: 'overlapping ranges of two labels, added in reverse order',
      ranges: [
        ['192.0.2.128/25', VPN],
        ['192.0.2.0/24', BRANCH],
        ['192.0.2.0/23', HQ],
      ],
      probes: [
        ['192.0.2.0', [HQ, BRANCH]],
        ['192.0.2.127', [HQ, BRANCH]],
        ['192.0.2.128', [HQ, BRANCH, VPN]],
        ['192.0.2.255', [HQ, BRANCH, VPN]],
        ['192.0.3.0', [HQ]],
        ['192.0.1.255', []],
      ],
    },
    {
      name: 'adjacent ranges of one label',
      ranges: [
        ['198.51.100.0/25', BRANCH],
        ['198.51.100.128/25', BRANCH],
      ],
      probes: [
        ['198.51.99.255', []],
        ['198.51.100.127', [BRANCH]],
        ['198.51.100.128', [BRANCH]],
        ['198.51.101.0', []],
      ],
    },
    {
      name: 'adjacent ranges of two labels',
      ranges: [
        ['198.51.100.0/25', HQ],
        ['198.51.100.128/25', BRANCH],
      ],
      probes: [
        ['198.51.100.127', [HQ]],
        ['198.51.100.128', [BRANCH]],
      ],
    },
    {
      name: 'the whole IPv4 space does not include IPv6',
      ranges: [['0.0.0.0/0', HQ]],
      probes: [
        ['0.0.0.0', [HQ]],
        ['255.255.255.255', [HQ]],
        ['::1', []],
        ['2001:db8::1', []],
      ],
    },
    {
      name: 'the whole IPv6 space does not include IPv4, not even mapped',
      ranges: [['::/0', VPN]],
      probes: [
        ['::', [VPN]],
        ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', [VPN]],
        ['10.0.0.1', []],
        ['::ffff:10.0.0.1', []],
      ],
    },
    {
      name: 'an IPv4 client matches an IPv6-written range only through the mapped form',
      ranges: [
        ['::ffff:203.0.113.0/120', BRANCH],
        ['::cb00:7100/120', VPN],
      ],
      probes: [
        ['203.0.113.7', [BRANCH]],
        ['::ffff:203.0.113.7', [BRANCH]],
        ['::203.0.113.7', [VPN]],
        ['203.0.114.0', []],
      ],
    },
    {
      name: 'ranges touching the top of each address space',
      ranges: [
        ['255.255.255.255/32', HQ],
        ['255.255.255.0/24', BRANCH],
        ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', HQ],
        ['ffff::/16', BRANCH],
      ],
      probes: [
        ['255.255.255.254', [BRANCH]],
        ['255.255.255.255', [HQ, BRANCH]],
        ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe', [BRANCH]],
        ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', [HQ, BRANCH]],
        ['fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff', []],
      ],
    },
    {
      name: 'ranges starting at address zero',
      ranges: [
        ['0.0.0.0/8', HQ],
        ['0.0.0.0/32', BRANCH],
        ['::/128', HQ],
        ['::/64', VPN],
      ],
      probes: [
        ['0.0.0.0', [HQ, BRANCH]],
        ['0.0.0.1', [HQ]],
        ['1.0.0.0', []],
        ['::', [HQ, VPN]],
        ['::1', [VPN]],
        ['0:0:0:1::', []],
      ],
    },
    {
      name: 'IPv6 ranges that differ beyond the first word',
      ranges: [
        ['2001:db8::/32', HQ],
        ['2001:db8:0:1::/64', BRANCH],
        ['2001:db8:0:1::8000:0/97', VPN],
      ],
      probes: [
        ['2001:db8::1', [HQ]],
        ['2001:db8:0:1::1', [HQ, BRANCH]],
        ['2001:db8:0:1::7fff:ffff', [HQ, BRANCH]],
        ['2001:db8:0:1::8000:0', [HQ, BRANCH, VPN]],
        ['2001:db8:0:1::ffff:ffff', [HQ, BRANCH, VPN]],
        ['2001:db8:0:1:0:1::', [HQ, BRANCH]],
        ['2001:db8:0:2::', [HQ]],
        ['2001:db9::', []],
      ],
    },
    {
      name: 'large, sparse labels come back sorted',
      ranges: [
        ['10.0.0.0/8', 1_000_000],
        ['10.0.0.0/16', 7],
        ['10.0.0.0/24', 194],
      ],
      probes: [['10.0.0.1', [7, 194, 1_000_000]]],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { set, entries } = build(c.ranges);
      assert.equal(set.size, c.ranges.length);
      for (const [address, want] of c.probes) {
        const ip = parseIp(address);
        assert.deepEqual(set.lookup(ip), want, `lookup(${address})`);
        assert.deepEqual(naiveLookup(entries, ip), want, `naiveLookup(${address})`);
        assert.equal(set.has(ip), want.length > 0, `has(${address})`);
      }
    });
  }

  test('results are shared frozen arrays, one per distinct label set', () => {
    const { set } = build([
      ['10.0.0.0/24', 1],
      ['10.0.2.0/24', 1],
      ['10.0.1.0/24', 2],
    ]);
    const a = set.lookup(parseIp('10.0.0.1'));
    assert.ok(Object.isFrozen(a));
    assert.equal(set.lookup(parseIp('10.0.2.1')), a, 'same set, same array');
    assert.notEqual(set.lookup(parseIp('10.0.1.1')), a);
    const miss = set.lookup(parseIp('192.0.2.1'));
    assert.ok(Object.isFrozen(miss));
    assert.equal(set.lookup(parseIp('::1')), miss, 'one shared empty array');
  });

  test('size counts every range added, duplicates included', () => {
    const { set } = build([
      ['10.0.0.0/8', 1],
      ['10.0.0.0/8', 1],
      ['2001:db8::/32', 1],
    ]);
    assert.equal(set.size, 3);
    assert.deepEqual(set.lookup(parseIp('10.1.1.1')), [1]);
  });

  test('a hand-built IPv4-mapped IPv6 address is looked up as IPv4', () => {
    const { set } = build([['10.0.0.0/8', 4]]);
    assert.deepEqual(set.lookup({ family: 6, value: 0xffff0a000001n }), [4]);
  });

  const badLabels: { name: string; label: number }[] = [
    { name: 'negative', label: -1 },
    { name: 'fractional', label: 1.5 },
    { name: 'NaN', label: Number.NaN },
  ];
  for (const c of badLabels) {
    test(`a ${c.name} label is refused`, () => {
      assert.throws(() => new PrefixSetBuilder().add(parseCidr('10.0.0.0/8'), c.label), RangeError);
    });
  }
});

describe('PrefixSet agrees with the linear scan', () => {
  // Networks come from small pools so ranges nest, overlap and touch; words sit on bit boundaries where carries
  // and comparisons go wrong.
  const v4Network = fc.oneof(
    fc.constantFrom(0, 0x0a000000, 0x0a010000, 0x0a0100ff, 0xc0000200, 0x7fffffff, 0x80000000, 0xffffff00, 0xffffffff),
    fc.integer({ min: 0, max: 0xffffffff }),
  );
  const word = fc.oneof(fc.constantFrom(0, 1, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff), fc.nat());
  const v6Network = fc
    .tuple(fc.constantFrom(0, 0x20010db8, 0xfe800000, 0xffffffff), word, word, word)
    .map(([a, b, c, d]) => (BigInt(a) << 96n) | (BigInt(b >>> 0) << 64n) | (BigInt(c >>> 0) << 32n) | BigInt(d >>> 0));
  const prefix = (max: number) =>
    fc.oneof(
      fc.integer({ min: 0, max }),
      fc.constantFrom(...[0, 1, 8, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128].filter((p) => p <= max)),
    );
  const cidr = fc.oneof(
    fc.tuple(v4Network, prefix(32)).map(([n, p]) => `${formatIp({ family: 4, value: n >>> 0 })}/${p}`),
    fc.tuple(v6Network, prefix(128)).map(([n, p]) => `${formatIp({ family: 6, value: n })}/${p}`),
  );
  const entries = fc.array(fc.tuple(cidr, fc.integer({ min: 0, max: 6 })), { maxLength: 40 }).map((list) =>
    list.flatMap(([text, label]) => {
      try {
        return [{ cidr: parseCidr(text), label }];
      } catch {
        return []; // an IPv4-mapped network with a prefix below 96
      }
    }),
  );

  /** Addresses around every range edge: first, last, first − 1, last + 1. */
  function edges(list: Entry[]): Ip[] {
    const out: Ip[] = [];
    for (const { cidr } of list) {
      const { first, last } = cidrRange(cidr);
      out.push(first, last);
      if (first.family === 4 && last.family === 4) {
        if (first.value > 0) out.push({ family: 4, value: first.value - 1 });
        if (last.value < 0xffffffff) out.push({ family: 4, value: last.value + 1 });
      } else if (first.family === 6 && last.family === 6) {
        if (first.value > 0n) out.push({ family: 6, value: first.value - 1n });
        if (last.value < (1n << 128n) - 1n) out.push({ family: 6, value: last.value + 1n });
      }
    }
    return out;
  }

  const randomIp = fc.oneof(
    fc.integer({ min: 0, max: 0xffffffff }).map((value): Ip => ({ family: 4, value })),
    v6Network.map((value): Ip => ({ family: 6, value })),
  );

  test('on every range edge and on random addresses', () => {
    fc.assert(
      fc.property(entries, fc.array(randomIp, { maxLength: 20 }), (list, extra) => {
        const builder = new PrefixSetBuilder();
        for (const { cidr, label } of list) builder.add(cidr, label);
        const set = builder.build();
        assert.equal(set.size, list.length);
        for (const ip of [...edges(list), ...extra]) {
          assert.deepEqual(set.lookup(ip), naiveLookup(list, ip), `lookup(${formatIp(ip)})`);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('with many ranges, where buckets hold several intervals', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(cidr, fc.integer({ min: 0, max: 200 })), { minLength: 200, maxLength: 600 }),
        (raw) => {
          const list = raw.flatMap(([text, label]) => {
            try {
              return [{ cidr: parseCidr(text), label }];
            } catch {
              return [];
            }
          });
          const builder = new PrefixSetBuilder();
          for (const { cidr, label } of list) builder.add(cidr, label);
          const set = builder.build();
          for (const ip of edges(list))
            assert.deepEqual(set.lookup(ip), naiveLookup(list, ip), `lookup(${formatIp(ip)})`);
        },
      ),
      { numRuns: 20 },
    );
  });
});
