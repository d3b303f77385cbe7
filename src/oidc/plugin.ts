// Mounts OpenID Connect and the sign-in pages on the Fastify server: each tenant's oidc-provider (a Koa app) under
// `/t/{tenantId}`, the interaction pages under `/t/{tenantId}/signin/{uid}`, and the pages' stylesheet.
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { sendGraphError } from '../http/graph-error.ts';
import type { ServerPlugin } from '../server.ts';
import { PASSKEY_SCRIPT, PASSKEY_SCRIPT_PATH, STYLESHEET, STYLESHEET_PATH } from '../signin/html.ts';
import type { SignInServices } from '../signin/ports.ts';
import { registerInteractions } from './interactions.ts';
import { bindHttpContext } from './request-context.ts';
import { withRequestMemo } from './request-memo.ts';
import { TenantProviders } from './tenant-providers.ts';

export interface OidcPluginOptions {
  /** Defaults to `config.publicUrl`; tests that listen on port 0 pass the address they got. */
  readonly publicUrl?: () => string;
  /** Receives the node's provider registry (for key rotation from an admin command). */
  readonly onProviders?: (providers: TenantProviders) => void;
}

const OIDC_CSP = "default-src 'self'; script-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'";

export function oidcPlugin(services: SignInServices, options: OidcPluginOptions = {}): ServerPlugin {
  return {
    name: 'oidc',
    async plugin(app: FastifyInstance) {
      const publicUrl = options.publicUrl ?? (() => app.config.publicUrl);
      const providers = new TenantProviders(services, app.config, publicUrl);
      options.onProviders?.(providers);

      app.get(STYLESHEET_PATH, async (_request, reply) =>
        reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
      );

      app.get(PASSKEY_SCRIPT_PATH, async (_request, reply) =>
        reply
          .type('text/javascript; charset=utf-8')
          .header('cache-control', 'public, max-age=3600')
          .send(PASSKEY_SCRIPT),
      );

      // The sign-in pages parse their own form posts.
      await app.register(async (pages) => {
        await pages.register(formbody, { bodyLimit: 16 * 1024 });
        registerInteractions(pages, services, providers);
      });

      // oidc-provider reads request bodies itself: in this context no parser consumes the stream.
      await app.register(async (mount) => {
        mount.removeAllContentTypeParsers();
        mount.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
        mount.route<{ Params: { tenant: string; '*': string } }>({
          method: ['GET', 'POST', 'OPTIONS', 'DELETE'],
          url: '/t/:tenant/*',
          async handler(request, reply) {
            const segment = request.params.tenant;
            const tenant = await providers.resolveTenant(segment);
            if (!tenant) return sendGraphError(reply, 404, `There is no tenant '${segment.slice(0, 64)}'.`);
            if (tenant.id !== segment) {
              // The issuer names the tenant by id (ids never change); a name is redirected to it.
              const rest = request.raw.url?.slice(`/t/${segment}`.length) ?? '/';
              return reply.redirect(`/t/${tenant.id}${rest}`, 308);
            }
            const tp = await providers.get(tenant.id);
            const raw = request.raw;
            const base = new URL(publicUrl());
            bindHttpContext(raw, {
              clientIp: request.clientIp,
              correlationId: request.id,
              userAgent: String(request.headers['user-agent'] ?? ''),
            });
            // Koa (with proxy on) builds URLs from these: they come from publicUrl and the resolved client address,
            // never from what the client sent.
            raw.headers['x-forwarded-proto'] = base.protocol.slice(0, -1);
            raw.headers['x-forwarded-host'] = base.host;
            raw.headers['x-forwarded-for'] = request.clientIp.text;
            const mountPath = new URL(tp.issuer).pathname;
            const path = raw.url ?? '/';
            (raw as { originalUrl?: string }).originalUrl = path;
            raw.url = path.slice(`/t/${segment}`.length) || '/';
            if (mountPath !== `/t/${segment}`) (raw as { originalUrl?: string }).originalUrl = mountPath + raw.url;
            reply.hijack();
            for (const [name, value] of Object.entries(reply.getHeaders())) {
              if (value !== undefined) reply.raw.setHeader(name, value as string);
            }
            reply.raw.setHeader('content-security-policy', OIDC_CSP);
            await withRequestMemo(() => tp.handle(raw, reply.raw));
          },
        });
      });
    },
  };
}
