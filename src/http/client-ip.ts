// Resolves the client address once per request with net/client-ip.ts (X-Forwarded-For only through configured
// trusted proxies) and remembers it, so the logger, Conditional Access, lockout and the sign-in log see one value.
// Fastify's own `trustProxy` stays off: one implementation, ours.

import type { IncomingMessage } from 'node:http';
import type { Cidr } from '../net/cidr.ts';
import { type ClientIp, resolveClientIp } from '../net/client-ip.ts';
import { IpParseError } from '../net/ip.ts';
import { PrefixSetBuilder } from '../net/prefix-set.ts';

/** Returns the client address of a raw request, or undefined when the socket has no usable address (fail closed). */
export type ClientIpResolver = (raw: IncomingMessage) => ClientIp | undefined;

export function clientIpResolver(trustedProxies: readonly Cidr[]): ClientIpResolver {
  const builder = new PrefixSetBuilder();
  for (const cidr of trustedProxies) builder.add(cidr, 0);
  const trusted = builder.build();
  const resolved = new WeakMap<IncomingMessage, ClientIp | null>();
  return (raw) => {
    const known = resolved.get(raw);
    if (known !== undefined) return known ?? undefined;
    let ip: ClientIp | null = null;
    const socketAddress = raw.socket?.remoteAddress;
    if (socketAddress !== undefined) {
      try {
        ip = resolveClientIp({ socketAddress, forwardedFor: raw.headers['x-forwarded-for'], trustedProxies: trusted });
      } catch (error) {
        if (!(error instanceof IpParseError)) throw error;
      }
    }
    resolved.set(raw, ip);
    return ip ?? undefined;
  };
}
