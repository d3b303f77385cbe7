// Resolves the client address with net/client-ip.ts (X-Forwarded-For only through configured trusted proxies) and
// remembers the answer, so the logger, Conditional Access, lockout and the sign-in log see one value.
// Fastify's own `trustProxy` stays off: one implementation, ours.

import type { IncomingMessage } from 'node:http';
import type { Cidr } from '../net/cidr.ts';
import { type ClientIp, resolveClientIp } from '../net/client-ip.ts';
import { IpParseError } from '../net/ip.ts';
import { PrefixSetBuilder } from '../net/prefix-set.ts';

/** Returns the client address of a raw request, or undefined when the socket has no usable address (fail closed). */
export type ClientIpResolver = (raw: IncomingMessage) => ClientIp | undefined;

/**
 * Answers remembered per (socket address, X-Forwarded-For) pair, at most this many: resolution is a pure function of
 * the two for a resolver's trusted proxies, so every part of one request (the logger, the onRequest hook) gets the
 * same answer, and behind a proxy the same few clients ask again and again (a page and its assets each go through
 * forward auth). When full it starts again empty.
 */
const MEMO_MAX = 4096;

export function clientIpResolver(trustedProxies: readonly Cidr[]): ClientIpResolver {
  const builder = new PrefixSetBuilder();
  for (const cidr of trustedProxies) builder.add(cidr, 0);
  const trusted = builder.build();
  /** socket address → X-Forwarded-For ('' when absent) → answer (null: the address could not be determined). */
  const memo = new Map<string, Map<string, ClientIp | null>>();
  let memoSize = 0;

  function resolve(socketAddress: string, forwardedFor: string | string[] | undefined): ClientIp | null {
    try {
      return resolveClientIp({ socketAddress, forwardedFor, trustedProxies: trusted });
    } catch (error) {
      if (!(error instanceof IpParseError)) throw error;
      return null;
    }
  }

  return (raw) => {
    let ip: ClientIp | null = null;
    const socketAddress = raw.socket?.remoteAddress;
    if (socketAddress !== undefined) {
      const forwardedFor = raw.headers['x-forwarded-for'];
      if (typeof forwardedFor === 'string' || forwardedFor === undefined) {
        let byHeader = memo.get(socketAddress);
        const answer = byHeader?.get(forwardedFor ?? '');
        if (answer !== undefined) ip = answer;
        else {
          ip = resolve(socketAddress, forwardedFor);
          if (memoSize >= MEMO_MAX) {
            memo.clear();
            memoSize = 0;
            byHeader = undefined;
          }
          if (byHeader === undefined) {
            byHeader = new Map();
            memo.set(socketAddress, byHeader);
          }
          byHeader.set(forwardedFor ?? '', ip);
          memoSize++;
        }
      } else ip = resolve(socketAddress, forwardedFor);
    }
    return ip ?? undefined;
  };
}
