// Prometheus metrics: HTTP requests counted and timed by method, route template and status, plus Node's process
// metrics (CPU, memory, event loop lag, handles) from prom-client. One registry per server, so tests do not collide.
//
// Every request is recorded, so recording is cheap: a few map lookups and additions into a series per (route,
// method, status), with no label objects hashed and no allocation once the series exists (prom-client's own
// counter and histogram cost 1–3 µs per request). The series become prom-client's text only when /metrics is
// scraped: `http_requests_total` through a prom-client Counter filled at collection, and
// `http_request_duration_seconds` through a metric object that gives the registry the same values its Histogram
// would (the tests compare the two).

import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, type Metric, Registry } from 'prom-client';

/** The route label of a request that matched no route: one value, so scanners cannot explode the label set. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Upper bounds of the duration histogram's buckets, in seconds. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

const REQUESTS_HELP = 'HTTP requests answered, by method, route template and status code.';
const DURATION_NAME = 'http_request_duration_seconds';
const DURATION_HELP =
  'Time from receiving an HTTP request to finishing its response, by method, route template and status code.';

export interface HttpMetrics {
  readonly registry: Registry;
  observe(method: string, route: string, statusCode: number, seconds: number): void;
}

type Labels = { readonly method: string; readonly route: string; readonly status_code: string };

/** One (method, route, status) series: how many requests, their total time, and how many fell in each bucket. */
interface Series {
  readonly labels: Labels;
  count: number;
  sum: number;
  /** Requests per bucket (not cumulative); index DURATION_BUCKETS.length is above the last bound. */
  readonly buckets: Float64Array;
}

/** The request series of one server: route → method → status code → series. */
export class RequestSeries {
  readonly #byRoute = new Map<string, Map<string, Map<number, Series>>>();

  record(method: string, route: string, statusCode: number, seconds: number): void {
    if (!Number.isFinite(seconds)) return; // as prom-client's histogram, which throws on it
    let byMethod = this.#byRoute.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.#byRoute.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let series = byStatus.get(statusCode);
    if (series === undefined) {
      series = {
        labels: Object.freeze({ method, route, status_code: String(statusCode) }),
        count: 0,
        sum: 0,
        buckets: new Float64Array(DURATION_BUCKETS.length + 1),
      };
      byStatus.set(statusCode, series);
    }
    series.count += 1;
    series.sum += seconds;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]) bucket++;
    series.buckets[bucket] += 1;
  }

  *series(): IterableIterator<Series> {
    for (const byMethod of this.#byRoute.values()) {
      for (const byStatus of byMethod.values()) yield* byStatus.values();
    }
  }

  reset(): void {
    this.#byRoute.clear();
  }
}

/**
 * The duration histogram as prom-client's registry reads a metric (`get()`: name, help, type, values), with the
 * lines its Histogram writes: cumulative `_bucket` lines with `le` first, then `+Inf`, `_sum` and `_count`.
 */
function durationHistogram(series: RequestSeries) {
  return {
    name: DURATION_NAME,
    help: DURATION_HELP,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const s of series.series()) {
        let cumulative = 0;
        for (const [i, bound] of DURATION_BUCKETS.entries()) {
          cumulative += s.buckets[i];
          values.push({ labels: { le: bound, ...s.labels }, value: cumulative, metricName: `${DURATION_NAME}_bucket` });
        }
        values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${DURATION_NAME}_bucket` });
        values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${DURATION_NAME}_sum` });
        values.push({ labels: { ...s.labels }, value: s.count, metricName: `${DURATION_NAME}_count` });
      }
      return { name: DURATION_NAME, help: DURATION_HELP, type: 'histogram', aggregator: 'sum', values };
    },
    reset() {
      series.reset();
    },
  };
}

export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const series = new RequestSeries();
  new Counter({
    name: 'http_requests_total',
    help: REQUESTS_HELP,
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of series.series()) this.inc(s.labels, s.count);
    },
  });
  // The registry takes any object with a name and get(); its types list only prom-client's own classes.
  registry.registerMetric(durationHistogram(series) as unknown as Metric);
  return {
    registry,
    observe(method, route, statusCode, seconds) {
      series.record(method, route, statusCode, seconds);
    },
  };
}

/** Times every request and serves GET /metrics in the Prometheus text format. */
export function registerMetrics(app: FastifyInstance, metrics: HttpMetrics): void {
  // A callback hook, not an async one: it runs on every request.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('cache-control', 'no-store').type(metrics.registry.contentType).send(text);
  });
}
