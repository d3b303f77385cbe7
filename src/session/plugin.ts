// The HTTP side of the expiry warning (docs/sessions.md, "Warning before expiry"): `GET /t/{tenant}/session/status`
// for the banner (never counts as activity), `POST /t/{tenant}/session/activity` for its "Stay signed in" (does), both
// readable cross-origin only by the tenant's registered application origins, and the drop-in `/assets/session.js`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';
import { sendGraphError } from '../http/graph-error.ts';
import type { ServerPlugin } from '../server.ts';
import type { StoreHandle } from '../store/store.ts';
import { AppOrigins, type TenantOrigins } from './app-origins.ts';
import { cookieScopeFor, readSessionCookies } from './cookies.ts';
import { type EndReason, sessionStatusBody } from './limits.ts';
import { SESSION_SCRIPT, SESSION_SCRIPT_PATH } from './session-script.ts';
import type { LiveSession, Sessions } from './sessions.ts';

/**
 * "Stay signed in" must carry this header (value `1`). A custom header makes a browser send a CORS preflight first,
 * which only registered application origins pass, so another site cannot keep a session alive behind the user's back.
 */
export const ACTIVITY_HEADER = 'X-Portcullis-Session';
/** How long a browser may reuse a successful preflight (s). */
const PREFLIGHT_MAX_AGE_S = 600;

export interface SessionPluginDeps {
  /** Tenants and their applications (for CORS) are read from here. */
  readonly store: StoreHandle;
  /**
   * The tenant's Sessions, built as sign-in builds them (`SignInServices.sessions`): with the process's shared
   * SessionCache, so the status check is a cache read and "Stay signed in" is seen at once by this node's checks.
   */
  readonly sessions: (tenantId: string) => Sessions;
  /** Defaults to the server's clock (`app.clock`); the same clock as the store's. */
  readonly clock?: Clock;
  /** Defaults to `config.publicUrl`; decides the cookie names (https → `__Host-`) and Portcullis's own origin. */
  readonly publicUrl?: () => string;
  /** How long a tenant's application origins are cached (ms); default APP_ORIGINS_TTL_MS (60 s). */
  readonly originCacheMs?: number;
}

type Caller =
  /** No Origin header: not a cross-origin browser request (a same-origin GET, a navigation, a script). */
  | { readonly kind: 'none' }
  /** Portcullis's own pages. */
  | { readonly kind: 'self' }
  /** A registered application: gets CORS headers. */
  | { readonly kind: 'app'; readonly origin: string }
  /** Anyone else: refused. */
  | { readonly kind: 'foreign'; readonly origin: string };

const ENDED: Readonly<Record<EndReason, string>> = {
  unknown: 'There is no session in this browser. Sign in.',
  binding: 'There is no session in this browser. Sign in.',
  revoked: 'The session was signed out. Sign in again.',
  absolute: 'The session reached its maximum length. Sign in again.',
  inactivity: 'The session ended after a period of inactivity. Sign in again.',
};

export function sessionPlugin(deps: SessionPluginDeps): ServerPlugin {
  return {
    name: 'session',
    async plugin(app: FastifyInstance) {
      const clock = deps.clock ?? app.clock;
      const publicUrl = deps.publicUrl ?? (() => app.config.publicUrl);
      const tenants = new AppOrigins(deps.store, clock, deps.originCacheMs);

      app.get(SESSION_SCRIPT_PATH, async (_request, reply) =>
        reply
          .type('text/javascript; charset=utf-8')
          .header('cache-control', 'public, max-age=3600')
          // Public and without credentials: apps may load it with `crossorigin` + `integrity`, or under COEP.
          .header('access-control-allow-origin', '*')
          .header('cross-origin-resource-policy', 'cross-origin')
          .send(SESSION_SCRIPT),
      );

      type Params = { Params: { tenant: string } };

      /** The tenant and the calling origin, with CORS headers set for a registered app; undefined once refused. */
      async function admit(
        request: FastifyRequest<Params>,
        reply: FastifyReply,
      ): Promise<{ tenant: TenantOrigins; caller: Caller } | undefined> {
        reply.header('vary', 'Origin').header('cache-control', 'no-store');
        const segment = request.params.tenant;
        const tenant = await tenants.lookup(segment);
        if (tenant === undefined) {
          sendGraphError(reply, 404, `There is no tenant '${segment.slice(0, 64)}'.`, { clock });
          return undefined;
        }
        const caller = callerOf(request.headers.origin, tenant, publicUrl());
        if (caller.kind === 'foreign') {
          sendGraphError(
            reply,
            403,
            `The origin '${caller.origin.slice(0, 256)}' is not an application of this tenant: register a redirect ` +
              'URI on that origin to use the session endpoints from its pages.',
            { clock },
          );
          return undefined;
        }
        if (caller.kind === 'app') {
          reply.header('access-control-allow-origin', caller.origin).header('access-control-allow-credentials', 'true');
        }
        return { tenant, caller };
      }

      function cookiesOf(request: FastifyRequest, tenant: TenantOrigins) {
        return readSessionCookies(request.headers.cookie, cookieScopeFor(publicUrl(), tenant.tenantId));
      }

      function sendStatus(reply: FastifyReply, live: LiveSession, now: number) {
        return reply.code(200).send(sessionStatusBody(live, now));
      }

      function sendEnded(reply: FastifyReply, reason: EndReason) {
        return sendGraphError(reply, 401, ENDED[reason], { clock });
      }

      // The status of the session, for the banner. A check only: it does not count as activity, or the banner
      // would keep every open tab's session alive for ever.
      app.get<Params>('/t/:tenant/session/status', async (request, reply) => {
        const admitted = await admit(request, reply);
        if (admitted === undefined) return reply;
        const { sessionId, bindingSecret } = cookiesOf(request, admitted.tenant);
        const now = clock.now();
        const checked = await deps.sessions(admitted.tenant.tenantId).check(sessionId, bindingSecret, now);
        return checked.live ? sendStatus(reply, checked, now) : sendEnded(reply, checked.reason);
      });

      // "Stay signed in": user activity, then the new status. Only from Portcullis's own pages or a registered app's,
      // and only with the custom header (which a cross-origin page can send only after a preflight it passed).
      app.post<Params>('/t/:tenant/session/activity', async (request, reply) => {
        const admitted = await admit(request, reply);
        if (admitted === undefined) return reply;
        if (request.headers[ACTIVITY_HEADER.toLowerCase()] !== '1') {
          return sendGraphError(
            reply,
            403,
            `This request needs the header '${ACTIVITY_HEADER}: 1' (session.js sends it).`,
            {
              clock,
            },
          );
        }
        if (admitted.caller.kind === 'none') {
          return sendGraphError(reply, 403, 'This request needs an Origin header: it is made by pages in a browser.', {
            clock,
          });
        }
        const { sessionId, bindingSecret } = cookiesOf(request, admitted.tenant);
        const sessions = deps.sessions(admitted.tenant.tenantId);
        const now = clock.now();
        const checked = await sessions.check(sessionId, bindingSecret, now);
        if (!checked.live) return sendEnded(reply, checked.reason);
        // Never rejects: a failed write is logged and the session stays live on this node's cache.
        await sessions.touch(checked.session, now);
        const after = await sessions.check(sessionId, bindingSecret, now);
        return after.live ? sendStatus(reply, after, now) : sendEnded(reply, after.reason);
      });

      for (const [path, method] of [
        ['/t/:tenant/session/status', 'GET'],
        ['/t/:tenant/session/activity', 'POST'],
      ] as const) {
        // The CORS preflight (and a plain OPTIONS). Registered here so that it does not reach the OIDC mount's
        // wildcard `/t/:tenant/*`: the more specific route wins.
        app.options<Params>(path, async (request, reply) => {
          const admitted = await admit(request, reply);
          if (admitted === undefined) return reply;
          reply.header('allow', `${method}, OPTIONS`);
          if (admitted.caller.kind === 'app') {
            reply
              .header('access-control-allow-methods', method)
              .header('access-control-allow-headers', ACTIVITY_HEADER)
              .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_S));
          }
          return reply.code(204).send();
        });
        // Other methods would otherwise fall through to the OIDC wildcard.
        app.route<Params>({
          method: (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).filter((m) => m !== method),
          url: path,
          async handler(_request, reply) {
            reply.header('allow', `${method}, OPTIONS`);
            return sendGraphError(reply, 405, `Use ${method} here.`, { clock });
          },
        });
      }
    },
  };
}

function callerOf(origin: string | undefined, tenant: TenantOrigins, publicUrl: string): Caller {
  if (origin === undefined) return { kind: 'none' };
  if (origin === new URL(publicUrl).origin) return { kind: 'self' };
  // Exact match of the serialized origin; `null` (sandboxed frames, file:) never matches.
  if (tenant.origins.has(origin)) return { kind: 'app', origin };
  return { kind: 'foreign', origin };
}
