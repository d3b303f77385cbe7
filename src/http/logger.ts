// The JSON logger (pino, which Fastify uses): one line per event, ISO timestamps, level names, and secrets removed —
// authorization and cookie headers, and any field named like a password, secret or token, at any depth.

import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/schema.ts';

export const REDACTED = '[Redacted]';

/** Field names whose values never reach a log: credentials, cookies, keys and every kind of token. */
const SECRET_NAME =
  /authorization|cookie|password|passwd|passphrase|secret|token|credential|api[-_]?key|private[-_]?key|master[-_]?key|assertion/i;

/** Query parameters whose values are removed from logged URLs (OAuth codes, token hints, passwords). */
const SECRET_PARAM = /^(code|state|nonce|code_verifier|.*(password|secret|token|assertion|key).*)$/i;

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; standard output when absent. Tests pass a stream to read the lines back. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactSecrets(object) as Record<string, unknown>,
      },
      serializers: { req: serializeRequest, res: serializeReply, err: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * Copies plain objects and arrays with secret-named fields replaced. Class instances (requests, errors, buffers) are
 * left to their serializers. Bounded in depth so a deep or cyclic object cannot stall logging.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_NAME.test(key) && item !== undefined ? REDACTED : redactSecrets(item, depth + 1);
  }
  return out;
}

/** A URL for the log: the path as sent, with secret-looking query values removed. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // A malformed escape is kept as sent and judged as is.
      }
      return eq >= 0 && SECRET_PARAM.test(decoded) ? `${name}=${REDACTED}` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

/** The request as logged: no headers at all (they carry cookies and tokens), the URL with secrets removed. */
function serializeRequest(request: FastifyRequest | IncomingMessage): Record<string, unknown> {
  const raw = 'raw' in request ? request.raw : request;
  return {
    method: raw.method,
    url: redactUrl(raw.url ?? ''),
    host: raw.headers.host,
    remoteAddress: raw.socket?.remoteAddress,
    remotePort: raw.socket?.remotePort,
  };
}

function serializeReply(reply: FastifyReply | { statusCode: number }): Record<string, unknown> {
  return { statusCode: reply.statusCode };
}
