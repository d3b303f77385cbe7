// The composition root of the HTTP server: builds the Fastify app from the configuration — correlation ids, client
// address, JSON logs, errors, health and metrics — and registers the feature plugins (sign-in, OIDC, admin API,
// forward auth) that other modules provide.

import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import Fastify, {
  type FastifyHttpsOptions,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyPluginCallback,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.ts';
import type { Config, TlsConfig } from './config/load.ts';
import { clientIpResolver } from './http/client-ip.ts';
import './http/decorations.ts';
import { frameworkErrorMessage, registerErrorHandling } from './http/errors.ts';
import { sendGraphError } from './http/graph-error.ts';
import { DEFAULT_READINESS_TIMEOUT_MS, isQuietUrl, registerHealth } from './http/health.ts';
import { createLogger } from './http/logger.ts';
import { createHttpMetrics, type HttpMetrics, registerMetrics } from './http/metrics.ts';
import { requestIdFrom, setCommonHeaders } from './http/request-id.ts';
import { requestLogger } from './http/request-logger.ts';

/**
 * A feature mounted on the server, such as sign-in, OIDC, the admin API or forward auth. It is an ordinary Fastify
 * plugin: it inherits the error handler, 404 handler, JSON parser, request ids and `request.clientIp`, and reads
 * `fastify.config` and `fastify.clock`. Plugins are registered in the order given, after the built-in routes.
 */
export interface ServerPlugin {
  /** For logs and errors: `signin`, `oidc`, `admin`, `forward-auth`. */
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: plugins choose their own option types; none are passed here.
  readonly plugin: FastifyPluginAsync<any> | FastifyPluginCallback<any>;
  /** Mount point, e.g. `/api/authz` for forward auth. */
  readonly prefix?: string;
}

export interface ServerDeps {
  readonly config: Config;
  /** A logger from `createLogger` (JSON lines, secrets redacted); one is made from `config.log` when absent. */
  readonly logger?: Logger;
  /** Resolves when the server can serve (the store is reachable); rejects with the reason otherwise. */
  readonly readiness: () => Promise<void>;
  readonly clock?: Clock;
  readonly plugins?: readonly ServerPlugin[];
  /** How long /readyz waits for `readiness` before answering 503. */
  readonly readinessTimeoutMs?: number;
  /** Metrics registry; a fresh one (with process metrics) when absent. */
  readonly metrics?: HttpMetrics;
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const resolveClientIp = clientIpResolver(config.trustedProxies);

  const options: FastifyServerOptions = {
    loggerInstance: deps.logger ?? createLogger({ level: config.log.level }),
    // Never Fastify's proxy handling: the client address comes only from http/client-ip.ts.
    trustProxy: false,
    requestIdHeader: false,
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      // A route-level logLevel would also lower the level below the configured one, so probes are muted here.
      disableRequestLogging: (request: { url?: string }) => isQuietUrl(request.url ?? ''),
    }),
    genReqId: (raw) => requestIdFrom(raw.headers),
    // Every log line of a request carries its correlation id and its client address, from the very first one. The
    // child logger is made when the request first logs (http/request-logger.ts): most requests never do.
    childLoggerFactory(logger, bindings, childOptions, raw) {
      return requestLogger(logger as Logger, bindings, childOptions, () => ({
        clientIp: resolveClientIp(raw as IncomingMessage)?.text,
      }));
    },
    // Malformed URLs and over-long path parameters are refused before routing, still with a Graph error body.
    frameworkErrors: (error, request, reply) => sendGraphError(reply, 400, frameworkErrorMessage(error, request.url)),
    return503OnClosing: true,
  };
  const app = (config.tls === undefined
    ? Fastify(options)
    : Fastify({
        ...options,
        https: readTls(config.tls),
      } as unknown as FastifyHttpsOptions<HttpsServer>)) as unknown as FastifyInstance;

  app.decorate('clock', clock);
  app.decorate('config', config);
  app.decorateRequest('clientIp', null as never);
  const proxyAnswerUrls = new Set<string>();
  app.decorate('proxyAnswerUrls', proxyAnswerUrls);

  // A callback hook, not an async one: it runs on every request, and a promise per request is measurable.
  app.addHook('onRequest', (request, reply, done) => {
    if (!proxyAnswerUrls.has(request.url)) setCommonHeaders(reply, request.id);
    const client = resolveClientIp(request.raw);
    if (client === undefined) {
      // No usable peer address (the socket is already gone, or reports something unparseable): fail closed. The
      // reply is sent here, so `done` is not called and no route runs.
      sendGraphError(reply, 400, 'The client address of this connection could not be determined.');
      return;
    }
    request.clientIp = client;
    done();
  });

  registerErrorHandling(app);
  registerMetrics(app, deps.metrics ?? createHttpMetrics());
  registerHealth(app, {
    readiness: deps.readiness,
    timeoutMs: deps.readinessTimeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS,
  });
  for (const { name, plugin, prefix } of deps.plugins ?? []) {
    // avvio's two-argument `after` passes a replaced error on to ready()/listen(); Fastify's types only declare the
    // one-argument form, whose throw would escape as an uncaught exception.
    const registered = app.register(plugin, { prefix }) as unknown as AvvioAfter;
    registered.after((error, done) => {
      done(error ? new Error(`the ${name} plugin failed to load: ${error.message}`, { cause: error }) : undefined);
    });
  }
  return app;
}

interface AvvioAfter {
  after(listener: (error: Error | null, done: (error?: Error) => void) => void): unknown;
}

/** Logs each configuration warning at warn level, once, at start-up. */
export function logConfigWarnings(logger: Pick<Logger, 'warn'>, warnings: readonly string[]): void {
  for (const warning of warnings) logger.warn({ insecureSetting: true }, `configuration: ${warning}`);
}

function readTls(tls: TlsConfig): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
}
