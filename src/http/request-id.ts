// The correlation id of a request: taken from the caller's X-Request-Id or client-request-id when it is a safe token,
// generated otherwise, returned in both headers and carried by every log line of the request.

import { randomUUIDv7 } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * X-Request-Id is what reverse proxies set (nginx `$request_id`, Envoy, Heroku); client-request-id is the header
 * Microsoft Graph and Entra clients send and get back. The proxy's id comes first, so a proxy's logs and ours agree.
 */
export const REQUEST_ID_HEADERS = ['x-request-id', 'client-request-id'] as const;

/**
 * A UUID (36), nginx's 32 hex digits, a W3C traceparent (55) all fit: 8 to 64 letters, digits, '-', '_' and '.',
 * starting with a letter or digit. Anything else (spaces, quotes, control characters, a 10 kB header) could forge or
 * flood log lines or break a log query, so it is replaced by a fresh UUID instead.
 */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{7,63}$/;

export function isSafeRequestId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_ID.test(value);
}

/**
 * The headers every answer carries: the correlation id under both names, and `nosniff`. The server sets them before
 * routing (server.ts), except for the targets in `fastify.proxyAnswerUrls`, whose routes set them on the answers that
 * need them; the 404 and error handlers set them when they are missing.
 */
export function setCommonHeaders(reply: { header(name: string, value: string): unknown }, requestId: string): void {
  for (const header of REQUEST_ID_HEADERS) reply.header(header, requestId);
  reply.header('x-content-type-options', 'nosniff');
}

/**
 * The request's correlation id: the client's, when it sent a usable one, else a new time-ordered UUID (version 7). It
 * is also the sign-in log's `correlationId`, which the log indexes: time-ordered ids append to that index instead of
 * landing on a random page of it (docs/benchmarks.md, fifth round of the token bench).
 */
export function requestIdFrom(headers: IncomingHttpHeaders, generate: () => string = randomUUIDv7): string {
  for (const name of REQUEST_ID_HEADERS) {
    const value = headers[name];
    if (isSafeRequestId(value)) return value;
  }
  return generate();
}
