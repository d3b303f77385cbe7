// Liveness and readiness for orchestrators and load balancers: /healthz answers while the process runs; /readyz
// answers 200 only when the readiness check (the store is reachable, …) passes, and 503 with the reason otherwise.

import type { FastifyInstance } from 'fastify';

export interface HealthOptions {
  /** Resolves when the server can serve requests; rejects with the reason when it cannot. */
  readonly readiness: () => Promise<void>;
  /** A check that takes longer counts as failed, so a hung database cannot hang the probe. */
  readonly timeoutMs: number;
}

export const DEFAULT_READINESS_TIMEOUT_MS = 5000;

/**
 * Probe and scrape paths: they come every few seconds, so their request lines are not logged (see server.ts).
 * A failed readiness check is still logged, as a warning.
 */
export const QUIET_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);
const QUIET_LIST = [...QUIET_PATHS];

/** Whether a request target (path, optional query) is one of QUIET_PATHS. Asked on every request: no splitting. */
export function isQuietUrl(url: string): boolean {
  for (const path of QUIET_LIST) {
    if (url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 63) /* ? */) return true;
  }
  return false;
}

export function registerHealth(app: FastifyInstance, options: HealthOptions): void {
  app.get('/healthz', async (_request, reply) => {
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });
  app.get('/readyz', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const failure = await runCheck(options);
    if (failure === undefined) return reply.send({ status: 'ready' });
    request.log.warn({ err: failure.error }, `not ready: ${failure.reason}`);
    return reply.code(503).send({ status: 'unavailable', reason: failure.reason });
  });
}

async function runCheck(options: HealthOptions): Promise<{ reason: string; error: unknown } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  try {
    const outcome = await Promise.race([options.readiness().then(() => 'ready' as const), timeout]);
    if (outcome === 'ready') return undefined;
    return { reason: `the readiness check did not finish within ${options.timeoutMs} ms`, error: undefined };
  } catch (error) {
    return { reason: describe(error), error };
  } finally {
    clearTimeout(timer);
  }
}

/** The first line of the error's message, bounded and without control characters: a probe body, not a dump. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
  const line = (message.split('\n')[0] ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  const bounded = line.length > 200 ? `${line.slice(0, 200)}…` : line;
  return bounded === '' ? 'the readiness check failed' : bounded;
}
