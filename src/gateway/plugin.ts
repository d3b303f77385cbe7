// Mounts forward auth on the server. Routes (full paths; the plugin has no prefix because the sign-in routes live
// under the tenant's issuer):
//   GET|HEAD|… /api/authz/auth-request   nginx auth_request: 200 | 401 (+ Location) | 403
//   GET|HEAD|… /api/authz/forward-auth   Traefik ForwardAuth, Caddy forward_auth: 200 | 302/303 to sign-in | 401 | 403
//   GET        /api/authz/blocked        the 403 page for nginx (its error_page; nginx drops auth_request bodies)
//   GET        /api/authz/doctor         what Portcullis saw of this request, for `portcullis doctor` (doctor-probe.ts)
//   GET        /t/{tenantId}/gateway/login?rd=…   starts the gateway's OIDC sign-in (login.ts)
//   GET        /t/{tenantId}/gateway/callback     finishes it, creates the session, returns to rd
// Each proxied request runs decide.ts; this file only translates headers into its input and its decision into a reply.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES } from '../errors.ts';
import { sendGraphError } from '../http/graph-error.ts';
import { setCommonHeaders } from '../http/request-id.ts';
import { injectedEndpoints } from '../oidc/relying-party.ts';
import type { ServerPlugin } from '../server.ts';
import { TenantRepository } from '../store/tenant-repository.ts';
import { AccessAnswers, AdmittedAddresses, decide, type GatewayDecision } from './decide.ts';
import { diagnose, doctorRequested, withDiagnosis } from './doctor-probe.ts';
import { applicationCookies, identityHeaders } from './headers.ts';
import { DirectoryIdentities, type IdentitySource } from './identity.ts';
import { finishSignIn, type LoginResult, startSignIn } from './login.ts';
import { fromAuthRequest, fromForwardAuth, type OriginalRequestResult, wantsJson } from './original-request.ts';
import { sendBlocked, sendProblem, sendUnregistered } from './pages.ts';
import type { GatewayDeps } from './ports.ts';
import { GatewayRegistry } from './registry.ts';

export const AUTHZ_PREFIX = '/api/authz';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface GatewayPluginOptions {
  /** Defaults to `config.publicUrl`; tests that listen on port 0 pass the address they got. */
  readonly publicUrl?: () => string;
  /** Receives the node's registry (for the admin API: register and list forward-auth applications). */
  readonly onRegistry?: (registry: GatewayRegistry) => void;
  /** How long the route table is kept before the store is read again; default registry.ts DEFAULT_RELOAD_MS. */
  readonly reloadMs?: number;
  /** Who a session's user is; default the directory with a short cache (identity.ts). */
  readonly identities?: IdentitySource;
}

type Flavour = 'auth-request' | 'forward-auth';

export function gatewayPlugin(deps: GatewayDeps, options: GatewayPluginOptions = {}): ServerPlugin {
  return {
    name: 'forward-auth',
    async plugin(app: FastifyInstance) {
      const config = app.config.gateway;
      const publicUrl = options.publicUrl ?? (() => app.config.publicUrl);
      const registry = new GatewayRegistry({
        store: deps.store,
        publicUrl,
        configured: config.applications,
        reloadMs: options.reloadMs,
        logger: app.log,
      });
      options.onRegistry?.(registry);
      // At start-up every configured application must be usable, or the server does not start (fail closed).
      app.addHook('onReady', async () => {
        await registry.load(true);
      });
      const identities = options.identities ?? new DirectoryIdentities(deps.store, app.clock);
      const decideDeps = {
        routes: () => registry.routes(),
        sessions: deps.sessions,
        policies: deps.policies,
        identities,
        admitted: new AdmittedAddresses(),
        answers: new AccessAnswers(),
      };

      // The proxies send no body; whatever arrives is not parsed.
      app.removeAllContentTypeParsers();
      app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

      async function authorize(flavour: Flavour, request: FastifyRequest, reply: FastifyReply) {
        reply.header('cache-control', 'no-store');
        const original: OriginalRequestResult =
          flavour === 'auth-request' ? fromAuthRequest(request.headers) : fromForwardAuth(request.headers);
        const now = app.clock.now();
        const decision = await decide(decideDeps, {
          original,
          cookieHeader: request.headers.cookie,
          clientIp: request.clientIp,
          userAgent: String(request.headers['user-agent'] ?? ''),
          now,
        });
        log(request, decision);
        return answer(flavour, request, reply, decision, now);
      }

      function answer(
        flavour: Flavour,
        request: FastifyRequest,
        reply: FastifyReply,
        decision: GatewayDecision,
        now: number,
      ) {
        // The allowed answer goes to the proxy, which passes on only the identity headers: it is left without the
        // correlation id and nosniff (see the routes below); every other answer carries them.
        if (decision.kind !== 'allow') setCommonHeaders(reply, request.id);
        switch (decision.kind) {
          case 'allow': {
            reply.headers(identityHeaders(decision.identity, config.headers, config.groups));
            // The proxy puts this Cookie header on the request to the application (nginx, Traefik): Portcullis's own
            // cookies removed. Absent when nothing is left, which removes the header.
            const cookies = applicationCookies(request.headers.cookie);
            if (cookies !== undefined) reply.header('cookie', cookies);
            return reply.code(200).send();
          }
          case 'signIn': {
            let location = `${publicUrl()}/t/${decision.tenantId}/gateway/login?rd=${encodeURIComponent(decision.returnUrl.href)}`;
            // `portcullis doctor` asks what Portcullis saw; the sign-in URL is the one thing every proxy passes back.
            if (doctorRequested(request.headers)) {
              location = withDiagnosis(location, diagnose(flavour, request.clientIp, request.headers));
            }
            const message =
              decision.reason === 'mfa' ? ERROR_CODES[50076].message : 'Sign in to continue to this application.';
            if (wantsJson(request.headers)) {
              return sendGraphError(reply, 401, message, { code: decision.reason === 'mfa' ? '50076' : undefined });
            }
            if (flavour === 'auth-request') return reply.code(401).header('location', location).send();
            // A form post or other method comes back as a GET of the sign-in page (303), as Authelia does.
            const status = decision.method === 'GET' || decision.method === 'HEAD' ? 302 : 303;
            return reply.redirect(location, status);
          }
          case 'blocked': {
            const json = wantsJson(request.headers);
            return sendBlocked(request, reply, { code: decision.errorCode, json, publicUrl: publicUrl(), now });
          }
          case 'unregistered':
            return sendUnregistered(request, reply, { json: wantsJson(request.headers), publicUrl: publicUrl(), now });
          case 'badRequest':
            return sendGraphError(reply, 400, `The reverse proxy's request cannot be read: ${decision.problem}.`);
        }
      }

      function log(request: FastifyRequest, decision: GatewayDecision) {
        if (decision.kind === 'allow') return;
        const fields = {
          gateway: decision.kind,
          ...('appId' in decision ? { tenantId: decision.tenantId, appId: decision.appId } : {}),
          ...(decision.kind === 'blocked' ? { userId: decision.userId, errorCode: decision.errorCode } : {}),
          ...(decision.kind === 'signIn' ? { reason: decision.reason } : {}),
          ...(decision.kind === 'unregistered' ? { host: decision.host } : {}),
          ...(decision.kind === 'badRequest' ? { problem: decision.problem } : {}),
        };
        if (decision.kind === 'blocked' || decision.kind === 'badRequest')
          request.log.warn(fields, 'forward auth denied');
        else request.log.info(fields, 'forward auth');
      }

      for (const flavour of ['auth-request', 'forward-auth'] as const) {
        // Asked on every request of every user; answer() sets the correlation id and nosniff on the denials.
        app.proxyAnswerUrls.add(`${AUTHZ_PREFIX}/${flavour}`);
        app.route({
          method: [...METHODS],
          url: `${AUTHZ_PREFIX}/${flavour}`,
          handler: (request, reply) => authorize(flavour, request, reply),
        });
      }

      // nginx shows this for a 403 from auth-request (deploy/nginx: error_page 403). The code comes from the
      // auth-request answer (Portcullis-Error-Code); the correlation id is nginx's $request_id, which both carry.
      app.get<{ Querystring: { code?: string } }>(`${AUTHZ_PREFIX}/blocked`, async (request, reply) => {
        const now = app.clock.now();
        const json = wantsJson(request.headers);
        const code = request.query.code === '53000' ? 53000 : request.query.code === '53003' ? 53003 : undefined;
        if (code === undefined) return sendUnregistered(request, reply, { json, publicUrl: publicUrl(), now });
        return sendBlocked(request, reply, { code, json, publicUrl: publicUrl(), now });
      });

      // For `portcullis doctor`: how Portcullis resolved this request's client address (the proxy in front of
      // Portcullis's own host decides what the sign-in pages see). Only the caller's own request is described.
      app.get(`${AUTHZ_PREFIX}/doctor`, async (request, reply) =>
        reply.header('cache-control', 'no-store').send(diagnose('portcullis', request.clientIp, request.headers)),
      );

      const endpoints = injectedEndpoints(app, 'gateway');
      const loginDeps = { registry, sessions: deps.sessions, keyring: deps.keyring, endpoints, publicUrl };
      const tenants = new TenantRepository(deps.store);

      async function signInRoute(
        request: FastifyRequest<{ Params: { tenant: string }; Querystring: Record<string, unknown> }>,
        reply: FastifyReply,
        run: (tenantId: string, now: number) => Promise<LoginResult>,
      ) {
        reply.header('cache-control', 'no-store');
        const now = app.clock.now();
        const segment = request.params.tenant;
        if (!UUID.test(segment) || !(await tenants.get(segment))) {
          return sendProblem(request, reply, {
            status: 404,
            title: 'Not found',
            message: 'There is no such tenant.',
            publicUrl: publicUrl(),
            now,
          });
        }
        const result = await run(segment, now);
        if (result.kind === 'problem') return sendProblem(request, reply, { ...result, publicUrl: publicUrl(), now });
        for (const cookie of result.setCookie) reply.header('set-cookie', cookie);
        return reply.redirect(result.location, 303);
      }

      app.get<{ Params: { tenant: string }; Querystring: Record<string, unknown> }>(
        '/t/:tenant/gateway/login',
        (request, reply) =>
          signInRoute(request, reply, (tenantId, now) =>
            startSignIn(loginDeps, { tenantId, rd: request.query.rd, cookieHeader: request.headers.cookie, now }),
          ),
      );
      app.get<{ Params: { tenant: string }; Querystring: Record<string, unknown> }>(
        '/t/:tenant/gateway/callback',
        (request, reply) =>
          signInRoute(request, reply, (tenantId, now) =>
            finishSignIn(loginDeps, { tenantId, query: request.query, cookieHeader: request.headers.cookie, now }),
          ),
      );
    },
  };
}
