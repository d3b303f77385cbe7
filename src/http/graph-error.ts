// Error bodies shaped as Microsoft Graph's, so Graph clients and scripts read Portcullis errors as they read Graph's:
// {"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}.

import type { FastifyReply } from 'fastify';
import type { Clock } from '../clock.ts';
import { REQUEST_ID_HEADERS } from './request-id.ts';

export interface GraphErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly innerError: {
      /** UTC, second precision, no zone suffix, as Graph writes it: `2026-01-01T00:00:00`. */
      readonly date: string;
      readonly 'request-id': string;
      readonly 'client-request-id': string;
    };
  };
}

/**
 * An error whose message is written for the caller and safe to show. Throw it from a handler; the error handler
 * answers with its status and a Graph error body. Any other error becomes a generic 500 whose details are only logged.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly statusCode: number;
  /** Graph's error code; derived from the status when absent. */
  readonly graphCode: string | undefined;
  constructor(statusCode: number, message: string, graphCode?: string) {
    super(message);
    this.statusCode = statusCode;
    this.graphCode = graphCode;
  }
}

/** Graph's documented error codes ("Microsoft Graph error responses and resource types") for each status. */
const CODES: Readonly<Record<number, string>> = {
  400: 'invalidRequest',
  401: 'unauthenticated',
  403: 'accessDenied',
  404: 'itemNotFound',
  405: 'notAllowed',
  406: 'notSupported',
  409: 'nameAlreadyExists',
  412: 'resourceModified',
  413: 'invalidRequest',
  415: 'notSupported',
  416: 'invalidRange',
  429: 'activityLimitReached',
  501: 'notSupported',
  503: 'serviceNotAvailable',
  507: 'quotaLimitReached',
};

export function graphErrorCodeForStatus(status: number): string {
  return CODES[status] ?? (status >= 500 ? 'generalException' : 'invalidRequest');
}

export function graphErrorBody(input: {
  readonly code: string;
  readonly message: string;
  readonly requestId: string;
  readonly now: number;
}): GraphErrorBody {
  return {
    error: {
      code: input.code,
      message: input.message,
      innerError: {
        date: new Date(input.now).toISOString().slice(0, 19),
        'request-id': input.requestId,
        'client-request-id': input.requestId,
      },
    },
  };
}

/** Answers with a Graph error body; the date comes from the server's clock and the ids from the request. */
export function sendGraphError(
  reply: FastifyReply,
  status: number,
  message: string,
  options: { readonly code?: string; readonly clock?: Clock } = {},
): FastifyReply {
  const clock = options.clock ?? reply.server.clock;
  const requestId = reply.request.id;
  for (const header of REQUEST_ID_HEADERS) reply.header(header, requestId);
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(
      graphErrorBody({
        code: options.code ?? graphErrorCodeForStatus(status),
        message,
        requestId,
        now: clock.now(),
      }),
    );
}
