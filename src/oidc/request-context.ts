// Carries what Fastify resolved for a request (client IP through trusted proxies, correlation id, User-Agent) into
// oidc-provider's Koa context, which only sees the raw Node request: hooks such as the refresh-token check read it
// from here instead of re-reading X-Forwarded-For.
import type { IncomingMessage } from 'node:http';
import type { ClientIp } from '../net/client-ip.ts';

export interface HttpContext {
  readonly clientIp: ClientIp;
  readonly correlationId: string;
  readonly userAgent: string;
}

const contexts = new WeakMap<IncomingMessage, HttpContext>();

export function bindHttpContext(raw: IncomingMessage, context: HttpContext): void {
  contexts.set(raw, context);
}

/** Throws when the request did not come through the Fastify mount: a hook must never guess a client address. */
export function httpContextOf(raw: IncomingMessage): HttpContext {
  const context = contexts.get(raw);
  if (!context) throw new Error('oidc: no resolved client context for this request (it did not come through Fastify)');
  return context;
}
