// Tests for client IP resolution through trusted proxies, with personas for who sends what.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCidr } from './cidr.ts';
import { resolveClientIp } from './client-ip.ts';
import { IpParseError } from './ip.ts';
import { PrefixSetBuilder } from './prefix-set.ts';

// The load balancer at 10.0.0.5 and the ingress at 10.0.1.7 are trusted; so is the IPv6 proxy net.
const trustedCidrs = ['10.0.0.0/16', '127.0.0.1/32', '2001:db8:ffff::/48'].map(parseCidr);
const builder = new PrefixSetBuilder();
for (const cidr of trustedCidrs) builder.add(cidr, 0);
const trustedSet = builder.build();

describe('resolveClientIp', () => {
  const cases: {
    name: string;
    socketAddress: string;
    forwardedFor?: string | string[];
    want: string;
    via: 'socket' | 'x-forwarded-for';
  }[] = [
    {
      name: 'mallory connects directly and spoofs X-Forwarded-For: her socket address is used',
      socketAddress: '198.51.100.66',
      forwardedFor: '10.0.0.1, 203.0.113.7',
      want: '198.51.100.66',
      via: 'socket',
    },
    {
      name: 'alice connects directly without the header',
      socketAddress: '203.0.113.7',
      want: '203.0.113.7',
      via: 'socket',
    },
    {
      name: 'alice through the load balancer',
      socketAddress: '10.0.0.5',
      forwardedFor: '203.0.113.7',
      want: '203.0.113.7',
      via: 'x-forwarded-for',
    },
    {
      name: 'alice through two trusted proxies',
      socketAddress: '10.0.1.7',
      forwardedFor: '203.0.113.7, 10.0.0.5',
      want: '203.0.113.7',
      via: 'x-forwarded-for',
    },
    {
      name: 'mallory prepends a fake address; the first untrusted one from the right wins',
      socketAddress: '10.0.1.7',
      forwardedFor: '10.0.0.9, 192.0.2.1, 198.51.100.66, 10.0.0.5',
      want: '198.51.100.66',
      via: 'x-forwarded-for',
    },
    {
      name: 'the health checker inside the proxy network: every hop trusted, the leftmost is the client',
      socketAddress: '10.0.1.7',
      forwardedFor: '10.0.3.3, 10.0.0.5',
      want: '10.0.3.3',
      via: 'x-forwarded-for',
    },
    {
      name: 'several header lines are one list, in order',
      socketAddress: '10.0.1.7',
      forwardedFor: ['198.51.100.66, 203.0.113.7', '10.0.0.5'],
      want: '203.0.113.7',
      via: 'x-forwarded-for',
    },
    {
      name: 'a malformed entry ends the walk: the trusted hop right of it is the client',
      socketAddress: '10.0.1.7',
      forwardedFor: '203.0.113.7, garbage, 10.0.0.5',
      want: '10.0.0.5',
      via: 'x-forwarded-for',
    },
    {
      name: 'a malformed last entry leaves the socket peer as the client',
      socketAddress: '10.0.1.7',
      forwardedFor: '203.0.113.7, unknown',
      want: '10.0.1.7',
      via: 'socket',
    },
    {
      name: 'an entry with a zone id is malformed',
      socketAddress: '10.0.1.7',
      forwardedFor: 'fe80::1%eth0',
      want: '10.0.1.7',
      via: 'socket',
    },
    {
      name: 'an out-of-range port makes the entry malformed',
      socketAddress: '10.0.1.7',
      forwardedFor: '203.0.113.7:99999',
      want: '10.0.1.7',
      via: 'socket',
    },
    {
      name: 'IPv4 with a port',
      socketAddress: '10.0.0.5',
      forwardedFor: '203.0.113.7:1234',
      want: '203.0.113.7',
      via: 'x-forwarded-for',
    },
    {
      name: 'bracketed IPv6 with a port',
      socketAddress: '10.0.0.5',
      forwardedFor: '[2001:db8::1]:443',
      want: '2001:db8::1',
      via: 'x-forwarded-for',
    },
    {
      name: 'bracketed IPv6 without a port',
      socketAddress: '10.0.0.5',
      forwardedFor: '[2001:db8::1]',
      want: '2001:db8::1',
      via: 'x-forwarded-for',
    },
    {
      name: 'bare IPv6, upper case, is canonicalised',
      socketAddress: '10.0.0.5',
      forwardedFor: '2001:DB8:0:0::1',
      want: '2001:db8::1',
      via: 'x-forwarded-for',
    },
    {
      name: 'whitespace, tabs and empty entries are ignored',
      socketAddress: '10.0.0.5',
      forwardedFor: ' 198.51.100.66 ,\t203.0.113.7 ,, ',
      want: '203.0.113.7',
      via: 'x-forwarded-for',
    },
    {
      name: 'an empty header from a trusted proxy leaves the socket peer',
      socketAddress: '10.0.0.5',
      forwardedFor: '',
      want: '10.0.0.5',
      via: 'socket',
    },
    {
      name: 'Node reports an IPv4 proxy as IPv4-mapped IPv6; it is still trusted',
      socketAddress: '::ffff:127.0.0.1',
      forwardedFor: '203.0.113.7',
      want: '203.0.113.7',
      via: 'x-forwarded-for',
    },
    {
      name: 'an IPv4-mapped untrusted peer is reported as IPv4',
      socketAddress: '::ffff:203.0.113.7',
      forwardedFor: '10.0.0.1',
      want: '203.0.113.7',
      via: 'socket',
    },
    {
      name: 'a mapped entry in the header is the IPv4 client',
      socketAddress: '10.0.0.5',
      forwardedFor: '::ffff:203.0.113.7',
      want: '203.0.113.7',
      via: 'x-forwarded-for',
    },
    {
      name: 'an IPv6 trusted proxy',
      socketAddress: '2001:db8:ffff::10',
      forwardedFor: '2001:db8:1::42',
      want: '2001:db8:1::42',
      via: 'x-forwarded-for',
    },
    {
      name: 'a link-local peer with a zone id: the zone is dropped',
      socketAddress: 'fe80::1%eth0',
      forwardedFor: '10.0.0.1',
      want: 'fe80::1',
      via: 'socket',
    },
  ];
  for (const c of cases) {
    for (const [kind, trustedProxies] of [
      ['prefix set', trustedSet],
      ['CIDR list', trustedCidrs],
    ] as const) {
      test(`${c.name} (${kind})`, () => {
        const got = resolveClientIp({ socketAddress: c.socketAddress, forwardedFor: c.forwardedFor, trustedProxies });
        assert.equal(got.text, c.want);
        assert.equal(got.via, c.via);
      });
    }
  }

  const bad: { name: string; socketAddress: string; message: string }[] = [
    {
      name: 'an empty socket address',
      socketAddress: '',
      message: "'' is not a valid IP address: as a socket address, it is empty",
    },
    { name: 'a socket address with a port', socketAddress: '10.0.0.5:80', message: 'a port is not accepted here' },
    { name: 'a host name', socketAddress: 'proxy.internal', message: "'proxy.internal' is not a valid IP address" },
  ];
  for (const c of bad) {
    test(`an unparsable socket address throws: ${c.name}`, () => {
      assert.throws(
        () =>
          resolveClientIp({ socketAddress: c.socketAddress, forwardedFor: '203.0.113.7', trustedProxies: trustedSet }),
        (error: unknown) => error instanceof IpParseError && error.message.includes(c.message),
      );
    });
  }
});
