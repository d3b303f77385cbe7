// The few server-rendered pages of the console (everything else is the single-page app): a sign-in problem, no admin
// role, and "the console has not been built". The HTML and stylesheet are the sign-in pages' (signin/html.ts).
import type { FastifyReply } from 'fastify';
import { CONTENT_SECURITY_POLICY, html, page } from '../signin/html.ts';

export function sendPage(
  reply: FastifyReply,
  input: {
    status: number;
    title: string;
    message: string;
    correlationId: string;
    at: number;
    link?: { href: string; text: string };
  },
): FastifyReply {
  const link = input.link ? html`<p><a href="${input.link.href}">${input.link.text}</a></p>` : html``;
  const body = page({
    title: input.title,
    body: html`<h1>${input.title}</h1>
<div class="error" role="alert" id="problem">${input.message}</div>
${link}
<dl class="details">
<dt>Correlation ID</dt><dd id="correlation-id">${input.correlationId}</dd>
<dt>Timestamp</dt><dd id="timestamp">${new Date(input.at).toISOString()}</dd>
</dl>`,
  });
  return reply
    .code(input.status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .send(body);
}
