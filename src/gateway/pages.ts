// The gateway's own pages and script answers: blocked by Conditional Access (code, correlation id, time — never which
// policy), no application for this address, and sign-in problems. The HTML is the sign-in pages' (signin/pages.ts);
// these pages are often shown on an application's host (Traefik and Caddy pass them on), so the stylesheet is linked
// by its absolute URL and the CSP names Portcullis's origin.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES } from '../errors.ts';
import { sendGraphError } from '../http/graph-error.ts';
import { STYLESHEET_PATH } from '../signin/html.ts';
import { errorPage, problemPage } from '../signin/pages.ts';

const HTML = 'text/html; charset=utf-8';

function absoluteStylesheet(page: string, publicUrl: string): string {
  return page.replace(`href="${STYLESHEET_PATH}"`, `href="${new URL(publicUrl).origin}${STYLESHEET_PATH}"`);
}

function sendHtml(reply: FastifyReply, status: number, body: string, publicUrl: string): FastifyReply {
  const origin = new URL(publicUrl).origin;
  return reply
    .code(status)
    .type(HTML)
    .header('cache-control', 'no-store')
    .header('content-security-policy', `default-src 'none'; style-src ${origin}; frame-ancestors 'none'`)
    .send(absoluteStylesheet(body, publicUrl));
}

/** 403 for a request Conditional Access blocks (53003, or 53000 for controls Portcullis cannot verify). */
export function sendBlocked(
  request: FastifyRequest,
  reply: FastifyReply,
  input: { code: 53003 | 53000; json: boolean; publicUrl: string; now: number },
): FastifyReply {
  reply.header('portcullis-error-code', String(input.code));
  if (input.json) {
    return sendGraphError(reply, 403, ERROR_CODES[input.code].message, { code: String(input.code) });
  }
  return sendHtml(
    reply,
    403,
    errorPage({ code: input.code, correlationId: request.id, at: input.now }),
    input.publicUrl,
  );
}

/** 403 for a host (and path) no forward-auth application claims. */
export function sendUnregistered(
  request: FastifyRequest,
  reply: FastifyReply,
  input: { json: boolean; publicUrl: string; now: number },
): FastifyReply {
  const message = 'No application is registered for this address, so access is denied.';
  if (input.json) return sendGraphError(reply, 403, message);
  return sendHtml(
    reply,
    403,
    problemPage({ title: 'Access denied', message, correlationId: request.id, at: input.now }),
    input.publicUrl,
  );
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  input: { status: number; title: string; message: string; publicUrl: string; now: number },
): FastifyReply {
  return sendHtml(
    reply,
    input.status,
    problemPage({ title: input.title, message: input.message, correlationId: request.id, at: input.now }),
    input.publicUrl,
  );
}
