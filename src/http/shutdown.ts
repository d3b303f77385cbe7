// Graceful shutdown on SIGTERM (orchestrators) and SIGINT (Ctrl-C): stop accepting requests and finish the ones in
// flight (Fastify's close answers new requests with 503 meanwhile), then close the store, then exit.

export interface Closable {
  close(): Promise<unknown> | unknown;
}

/** The part of `process` this needs, so tests can send signals without touching the real process. */
export interface SignalTarget {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

interface ShutdownLogger {
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface ShutdownOptions {
  readonly server: Closable;
  /** Closed after the server, so requests still in flight can use it. */
  readonly store?: Closable;
  readonly logger: ShutdownLogger;
  readonly signals?: readonly NodeJS.Signals[];
  /** After this long the process exits with 1 even if closing has not finished (a stuck connection, a hung pool). */
  readonly timeoutMs?: number;
  readonly target?: SignalTarget;
}

export const DEFAULT_SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
/** Under Kubernetes' default 30 s grace period, so the log says what happened before a SIGKILL would. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

/** Closes the server, then the store; both are attempted even if the first fails. Resolves to whether both closed. */
export async function closeAll(
  server: Closable,
  store: Closable | undefined,
  logger: ShutdownLogger,
): Promise<boolean> {
  let ok = true;
  for (const [name, part] of [
    ['server', server],
    ['store', store],
  ] as const) {
    if (part === undefined) continue;
    try {
      await part.close();
    } catch (error) {
      ok = false;
      logger.error({ err: error }, `closing the ${name} failed`);
    }
  }
  return ok;
}

/**
 * On the first signal, closes everything and exits (0 when everything closed, 1 otherwise). A second signal, or the
 * timeout, exits at once with 1. Returns a function that removes the handlers.
 */
export function handleShutdownSignals(options: ShutdownOptions): () => void {
  const target: SignalTarget = options.target ?? process;
  const signals = options.signals ?? DEFAULT_SHUTDOWN_SIGNALS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const { logger } = options;
  let shuttingDown = false;

  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.error({ signal }, `received ${signal} again while shutting down; exiting now`);
      target.exit(1);
      return;
    }
    shuttingDown = true;
    logger.info({ signal }, `received ${signal}; shutting down`);
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, `shutdown did not finish within ${timeoutMs} ms; exiting`);
      target.exit(1);
    }, timeoutMs);
    timer.unref?.();
    void closeAll(options.server, options.store, logger).then((ok) => {
      clearTimeout(timer);
      logger.info({}, ok ? 'shut down' : 'shut down with errors');
      target.exit(ok ? 0 : 1);
    });
  };

  // Still listening after the first signal: a second Ctrl-C then exits at once, with a log line saying why.
  for (const signal of signals) target.on(signal, onSignal);
  return () => {
    for (const signal of signals) target.off(signal, onSignal);
  };
}
