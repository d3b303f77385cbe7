// The per-request logger, made only when the request logs something. pino's `child` serialises its bindings (the
// correlation id and the client address) as it is made, a few microseconds on every request, and most requests log
// nothing: at the default level `info` a forward-auth request that is allowed writes no line of its own, and at
// `warn` no request line is written at all. This stands in for the child and makes it on the first enabled call, so
// every line still carries both fields, from the very first one.

import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The logger Fastify hands a request (`request.log`, `reply.log`): what FastifyBaseLogger asks for. */
export class LazyRequestLogger {
  readonly #parent: Logger;
  /** Fastify's bindings (the correlation id); the client address is added when the child is made. */
  readonly #bindings: Bindings;
  readonly #extra: () => Bindings;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Bindings, extra: () => Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#extra = extra;
  }

  /** The real child logger, made on first use. */
  get logger(): Logger {
    this.#child ??= this.#parent.child({ ...this.#bindings, ...this.#extra() });
    return this.#child;
  }

  #write(level: Level, args: unknown[]): void {
    const logger = this.logger;
    (logger[level] as (...a: unknown[]) => void).apply(logger, args);
  }

  /** Whether a line at this level would be written; asks the parent while no child exists (same level). */
  #enabled(level: Level): boolean {
    return (this.#child ?? this.#parent).isLevelEnabled(level);
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  fatal(...args: unknown[]): void {
    if (this.#enabled('fatal')) this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    if (this.#enabled('error')) this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    if (this.#enabled('warn')) this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    if (this.#enabled('info')) this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    if (this.#enabled('debug')) this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    if (this.#enabled('trace')) this.#write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.logger.child(bindings, options);
  }
}

/**
 * The request's logger: lazy when Fastify asks for nothing special (no route-level level or serializers, which
 * must apply to the child from the start), else the child at once.
 */
export function requestLogger(
  parent: Logger,
  bindings: Bindings,
  options: ChildLoggerOptions,
  extra: () => Bindings,
): Logger {
  for (const key in options) {
    if (Object.hasOwn(options, key)) return parent.child({ ...bindings, ...extra() }, options);
  }
  // FastifyBaseLogger's methods are pino's overloaded LogFn; these take the same arguments and pass them on.
  return new LazyRequestLogger(parent, bindings, extra) as unknown as Logger;
}
