// What the server adds to Fastify's types: the clock and configuration on the instance (so plugins read them from
// `fastify.clock` / `fastify.config`), and the client address resolved once per request.

import type { Clock } from '../clock.ts';
import type { Config } from '../config/load.ts';
import type { ClientIp } from '../net/client-ip.ts';

declare module 'fastify' {
  interface FastifyInstance {
    readonly clock: Clock;
    readonly config: Config;
    /**
     * Request targets (exact, as `request.url`) whose answers go to a reverse proxy on every request of every user
     * (forward auth): the server does not put the correlation id and `nosniff` on them up front; their routes set
     * them (http/request-id.ts setCommonHeaders) on every answer other than the allowed one, which the proxy reduces
     * to its identity headers; the 404 and error handlers add them when missing.
     */
    readonly proxyAnswerUrls: Set<string>;
  }
  interface FastifyRequest {
    /**
     * The client's address: the socket peer, or X-Forwarded-For only through `config.trustedProxies`. Resolved once,
     * before any other hook; use it for policy, lockout and logs alike, never `request.ip` or the headers.
     */
    clientIp: ClientIp;
  }
}
