// How the server answers when something goes wrong: Graph-shaped error bodies, a 404 for unknown routes, a 400 that
// names the problem for a body that is not JSON, and a generic 500 that never carries a stack trace or internals.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { ERROR_CODES, PortcullisError } from '../errors.ts';
import { quote } from '../net/quote.ts';
import { HttpError, sendGraphError } from './graph-error.ts';
import { setCommonHeaders } from './request-id.ts';

export const INTERNAL_ERROR_MESSAGE =
  'An unexpected error occurred. The request id in this response identifies it in the server log.';

export function registerErrorHandling(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setNotFoundHandler((request, reply) => {
    withCommonHeaders(request, reply);
    const path = request.url.split('?')[0];
    return sendGraphError(reply, 404, `No resource matches ${request.method} ${quote(path)}.`);
  });
  app.setErrorHandler(handleError);
}

/** For errors Fastify raises before routing (Fastify's `frameworkErrors`): said plainly, the URL bounded. */
export function frameworkErrorMessage(error: FastifyError, url: string): string {
  const path = url.split('?')[0];
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return `The URL path ${quote(path)} is not valid: it has a malformed percent-encoding.`;
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return `A segment of the URL path ${quote(path)} is too long.`;
    default:
      return 'The request is invalid.';
  }
}

/** Parses a JSON request body; throws an HttpError (400) that says what is wrong, never echoing the body. */
export function parseJsonBody(body: string): unknown {
  if (body.trim() === '')
    throw new HttpError(400, 'The request body is empty but its Content-Type is application/json.');
  try {
    // Prototype poisoning (`{"__proto__": …}`) is refused rather than stripped, as Fastify does by default.
    return secureJson.parse(body, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const reason = message.includes('forbidden prototype property')
      ? "it contains a '__proto__' or 'constructor.prototype' key, which is not allowed"
      : // V8's messages quote part of the body (`Unexpected token 'x', "{x..." is not valid JSON`); the quote is
        // dropped, since the body may hold a password.
        message.replace(/, ".*" is not valid JSON$/s, '');
    throw new HttpError(400, `The request body is not valid JSON: ${reason}.`);
  }
}

/** The correlation id and nosniff, when the route had not set them yet (fastify.proxyAnswerUrls). */
function withCommonHeaders(request: FastifyRequest, reply: FastifyReply): void {
  if (!reply.hasHeader('x-request-id')) setCommonHeaders(reply, request.id);
}

function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  withCommonHeaders(request, reply);
  const status = statusOf(error);
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    return sendGraphError(reply, status, INTERNAL_ERROR_MESSAGE);
  }
  const message = safeMessage(error, status);
  request.log.info({ statusCode: status, code: (error as FastifyError).code }, message);
  const graphCode = error instanceof HttpError ? error.graphCode : undefined;
  return sendGraphError(reply, status, message, { code: graphCode });
}

function statusOf(error: Error): number {
  if (error instanceof PortcullisError) return error.status;
  const status = (error as FastifyError).statusCode;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}

/** Only messages written for callers are shown: ours, Fastify's own request errors, and schema validation. */
function safeMessage(error: Error, status: number): string {
  if (error instanceof HttpError) return error.message;
  if (error instanceof PortcullisError) return ERROR_CODES[error.code].safe ? error.message : 'The request is invalid.';
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'The Content-Type of the request body is not supported here.';
  if ((error as FastifyError).validation !== undefined || code?.startsWith('FST_')) return error.message;
  return status === 404 ? 'The resource was not found.' : 'The request is invalid.';
}
