// The server's client-address resolver: the answers it remembers are the answers net/client-ip.ts gives, for every
// pair of socket address and X-Forwarded-For, however often and in whatever order they come.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { parseCidr } from '../net/cidr.ts';
import { resolveClientIp } from '../net/client-ip.ts';
import { clientIpResolver } from './client-ip.ts';

const TRUSTED = ['10.0.0.0/8', '127.0.0.1/32'].map(parseCidr);

function raw(socketAddress: string | undefined, forwardedFor?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress: socketAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

function expected(socketAddress: string, forwardedFor?: string | string[]): string | undefined {
  try {
    return resolveClientIp({ socketAddress, forwardedFor, trustedProxies: TRUSTED }).text;
  } catch {
    return undefined;
  }
}

const CASES: ReadonlyArray<{ name: string; socket: string; xff?: string | string[] }> = [
  { name: 'alice straight to Portcullis', socket: '198.51.100.7' },
  { name: 'alice forging X-Forwarded-For without a proxy', socket: '198.51.100.7', xff: '10.1.2.3' },
  { name: 'alice through nginx', socket: '127.0.0.1', xff: '198.51.100.7' },
  { name: 'bob through nginx', socket: '127.0.0.1', xff: '203.0.113.9' },
  { name: 'bob forging a hop left of his own, through nginx', socket: '127.0.0.1', xff: '10.9.9.9, 203.0.113.9' },
  { name: 'nginx without X-Forwarded-For', socket: '127.0.0.1' },
  { name: 'nginx with an empty X-Forwarded-For', socket: '127.0.0.1', xff: '' },
  { name: 'another trusted proxy, same header', socket: '10.0.0.5', xff: '198.51.100.7' },
  { name: 'a malformed hop', socket: '127.0.0.1', xff: 'not-an-address' },
  { name: 'two header lines', socket: '127.0.0.1', xff: ['198.51.100.7', '10.0.0.5'] },
  { name: 'a v4-mapped socket address', socket: '::ffff:127.0.0.1', xff: '2001:db8::1' },
  { name: 'an unparseable socket address', socket: 'nonsense' },
];

test('remembered answers are the resolver’s answers, on first and later requests', () => {
  const resolve = clientIpResolver(TRUSTED);
  for (let round = 0; round < 3; round++) {
    for (const c of CASES) {
      const request = raw(c.socket, c.xff);
      const want = expected(c.socket, c.xff);
      assert.equal(resolve(request)?.text, want, `${c.name} (round ${round})`);
      assert.equal(resolve(request)?.text, want, `${c.name}, asked twice for one request`);
    }
  }
  assert.equal(resolve(raw(undefined, '198.51.100.7')), undefined, 'no socket address: fail closed');
});

test('past the memo’s bound the answers stay right', () => {
  const resolve = clientIpResolver(TRUSTED);
  for (let i = 0; i < 10_000; i++) {
    const client = `198.51.${(i >> 8) & 255}.${i & 255}`;
    assert.equal(resolve(raw('127.0.0.1', client))?.text, client);
    assert.equal(resolve(raw('192.0.2.1', client))?.text, '192.0.2.1', 'an untrusted peer is the client');
  }
});

test('two servers with different trusted proxies never share an answer', () => {
  const behindNginx = clientIpResolver(TRUSTED);
  const direct = clientIpResolver([]);
  const request = raw('127.0.0.1', '198.51.100.7');
  assert.equal(behindNginx(request)?.text, '198.51.100.7');
  assert.equal(direct(request)?.text, '127.0.0.1');
});
