// Serves the admin console (web/, a Vite + Preact single-page app and a client of the Graph API) under each tenant:
//   GET  /t/{tenantId}/console/            the app (index.html; assets under ./assets/, cached for a year)
//   GET  /t/{tenantId}/console/signin      starts the console's OIDC sign-in (login.ts)
//   GET  /t/{tenantId}/console/callback    finishes it and starts the console session (session.ts)
//   GET  /t/{tenantId}/console/session     JSON: who is signed in, their roles, the CSRF token; 401 when not
//   POST /t/{tenantId}/console/signout     ends the console session (CSRF header), answers where to sign out
// The Graph API accepts the console session (cookie + X-CSRF-Token) through admin/auth.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { directoryFor } from '../directory/directory.ts';
import { builtInRole } from '../directory/roles.ts';
import { HttpError } from '../http/graph-error.ts';
import { issuerFor } from '../oidc/provider.ts';
import { injectedEndpoints } from '../oidc/relying-party.ts';
import type { ServerPlugin } from '../server.ts';
import type { SignInServices } from '../signin/ports.ts';
import { TenantRepository } from '../store/tenant-repository.ts';
import { type ConsoleBuild, loadConsoleBuild } from './assets.ts';
import { CONSOLE_APP_ID, consoleUrl, ensureConsoleApplication } from './console-app.ts';
import { type ConsoleLoginResult, finishConsoleSignIn, startConsoleSignIn } from './login.ts';
import { sendPage } from './pages.ts';
import { ConsoleSessions, CSRF_HEADER, sameText } from './session.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The console page's policy: its own scripts, styles and API only. No inline script or style (Vite emits files),
 * nothing framed, no form posts elsewhere.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface ConsolePluginOptions {
  /** Defaults to `config.publicUrl`; tests that listen on port 0 pass the address they got. */
  readonly publicUrl?: () => string;
  /** Where the built console is; default web/dist. */
  readonly distDir?: string;
}

type Params = { tenant: string };

export function consolePlugin(services: SignInServices, options: ConsolePluginOptions = {}): ServerPlugin {
  return {
    name: 'console',
    async plugin(app: FastifyInstance) {
      const publicUrl = options.publicUrl ?? (() => app.config.publicUrl);
      const build: ConsoleBuild | undefined = loadConsoleBuild(options.distDir);
      if (!build) {
        app.log.warn(
          'the admin console is not built (web/dist is missing): run `npm install` or `npm run build:console`',
        );
      }
      const consoleSessions = new ConsoleSessions({
        keyring: services.keyring,
        sessions: services.sessions,
        issuerOf: (tenantId) => issuerFor(publicUrl(), tenantId),
      });
      const tenants = new TenantRepository(services.store);
      const endpoints = injectedEndpoints(app, 'console');
      const loginDeps = {
        consoleSessions,
        keyring: services.keyring,
        endpoints,
        publicUrl,
        async user(tenantId: string, userId: string) {
          const directory = directoryFor(services.store.forTenant(tenantId));
          const user = await directory.users.get(userId);
          if (!user?.accountEnabled) return undefined;
          return { roles: await directory.roles.rolesOf(user.id), name: user.userPrincipalName };
        },
      };

      /** The tenant named in the URL (by id), or undefined after answering 404. */
      async function tenantOf(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) {
        const segment = request.params.tenant;
        if (UUID.test(segment) && (await tenants.get(segment).catch(() => undefined))) return segment;
        sendPage(reply, {
          status: 404,
          title: 'Not found',
          message: 'There is no such tenant.',
          correlationId: request.id,
          at: app.clock.now(),
        });
        return undefined;
      }

      const signOutUrl = (tenantId: string) =>
        `${issuerFor(publicUrl(), tenantId)}/session/end?${new URLSearchParams({
          client_id: CONSOLE_APP_ID,
          post_logout_redirect_uri: consoleUrl(publicUrl(), tenantId),
        })}`;

      function answer(request: FastifyRequest, reply: FastifyReply, tenantId: string, result: ConsoleLoginResult) {
        reply.header('cache-control', 'no-store');
        for (const cookie of result.setCookie ?? []) reply.header('set-cookie', cookie);
        if (result.kind === 'redirect') return reply.redirect(result.location, 303);
        return sendPage(reply, {
          status: result.status,
          title: result.title,
          message: result.message,
          correlationId: request.id,
          at: app.clock.now(),
          link:
            result.status === 403
              ? { href: signOutUrl(tenantId), text: 'Sign out and sign in as someone else' }
              : { href: `${consoleUrl(publicUrl(), tenantId)}signin`, text: 'Sign in again' },
        });
      }

      app.get<{ Params: Params }>('/t/:tenant/console', async (request, reply) =>
        reply.redirect(`${consoleUrl(publicUrl(), request.params.tenant.slice(0, 64))}`, 308),
      );

      app.get<{ Params: Params }>('/t/:tenant/console/', async (request, reply) => {
        const tenantId = await tenantOf(request, reply);
        if (!tenantId) return reply;
        if (!build) {
          return sendPage(reply, {
            status: 503,
            title: 'The admin console is not built',
            message:
              'This Portcullis has no built admin console (web/dist is missing). Run `npm install` (its prepare ' +
              'script builds it) or `npm run build:console` in the Portcullis folder, then restart the server. ' +
              'The Graph API works without it.',
            correlationId: request.id,
            at: app.clock.now(),
          });
        }
        return reply
          .type(build.index.type)
          .header('cache-control', build.index.cacheControl)
          .header('content-security-policy', CONSOLE_CSP)
          .header('referrer-policy', 'no-referrer')
          .send(build.index.body);
      });

      app.get<{ Params: Params & { '*': string } }>('/t/:tenant/console/*', async (request, reply) => {
        const file = build?.files.get(request.params['*']);
        if (!file) throw new HttpError(404, 'There is no such file of the admin console.', 'itemNotFound');
        return reply
          .type(file.type)
          .header('cache-control', file.cacheControl)
          .header('content-security-policy', CONSOLE_CSP)
          .send(file.body);
      });

      app.get<{ Params: Params }>('/t/:tenant/console/signin', async (request, reply) => {
        const tenantId = await tenantOf(request, reply);
        if (!tenantId) return reply;
        await ensureConsoleApplication(services.store.forTenant(tenantId), publicUrl());
        const result = await startConsoleSignIn(loginDeps, {
          tenantId,
          cookieHeader: request.headers.cookie,
          now: app.clock.now(),
        });
        return answer(request, reply, tenantId, result);
      });

      app.get<{ Params: Params; Querystring: Record<string, unknown> }>(
        '/t/:tenant/console/callback',
        async (request, reply) => {
          const tenantId = await tenantOf(request, reply);
          if (!tenantId) return reply;
          const result = await finishConsoleSignIn(loginDeps, {
            tenantId,
            query: request.query,
            cookieHeader: request.headers.cookie,
            now: app.clock.now(),
          });
          return answer(request, reply, tenantId, result);
        },
      );

      app.get<{ Params: Params }>('/t/:tenant/console/session', async (request, reply) => {
        reply.header('cache-control', 'no-store');
        const tenantId = request.params.tenant;
        if (!UUID.test(tenantId) || !(await tenants.get(tenantId))) {
          throw new HttpError(404, 'There is no such tenant.', 'itemNotFound');
        }
        const checked = await consoleSessions.check(tenantId, request.headers.cookie, app.clock.now());
        if (!checked.live) {
          throw new HttpError(401, 'Not signed in to the admin console.', 'InvalidAuthenticationToken');
        }
        const directory = directoryFor(services.store.forTenant(tenantId));
        const user = await directory.users.get(checked.userId);
        if (!user?.accountEnabled) {
          throw new HttpError(401, 'Not signed in to the admin console.', 'InvalidAuthenticationToken');
        }
        const roles = (await directory.roles.rolesOf(user.id))
          .map((id) => builtInRole(id))
          .filter((role) => role !== undefined)
          .map((role) => ({ id: role.id, displayName: role.displayName }));
        return {
          tenantId,
          graphBaseUrl: `${issuerFor(publicUrl(), tenantId)}/graph/v1.0`,
          consoleAppId: CONSOLE_APP_ID,
          csrfToken: checked.csrfToken,
          user: { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName },
          roles,
        };
      });

      app.post<{ Params: Params }>('/t/:tenant/console/signout', async (request, reply) => {
        reply.header('cache-control', 'no-store');
        const tenantId = request.params.tenant;
        if (!UUID.test(tenantId)) throw new HttpError(404, 'There is no such tenant.', 'itemNotFound');
        const checked = await consoleSessions.check(tenantId, request.headers.cookie, app.clock.now());
        const sent = request.headers[CSRF_HEADER];
        // Without the CSRF token nothing happens: another site must not be able to sign an admin out.
        if (checked.live && (typeof sent !== 'string' || !sameText(sent, checked.csrfToken))) {
          throw new HttpError(403, 'Signing out needs the X-CSRF-Token header.', 'Authorization_RequestDenied');
        }
        reply.header('set-cookie', consoleSessions.cleared(tenantId));
        return { location: signOutUrl(tenantId) };
      });
    },
  };
}
