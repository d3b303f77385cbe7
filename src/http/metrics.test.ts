// The request metrics: the cheap per-request series must read, at /metrics, exactly as prom-client's own Counter and
// Histogram would have written the same requests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { createHttpMetrics, DURATION_BUCKETS } from './metrics.ts';

/** alice's browser, a monitoring probe and a scanner, with durations on, between and beyond the bucket bounds. */
const REQUESTS: ReadonlyArray<readonly [string, string, number, number]> = [
  ['GET', '/api/authz/auth-request', 200, 0.0004],
  ['GET', '/api/authz/auth-request', 200, 0.001],
  ['GET', '/api/authz/auth-request', 200, 0.0011],
  ['GET', '/api/authz/auth-request', 401, 0.003],
  ['POST', '/api/authz/auth-request', 200, 0.2],
  ['GET', '/healthz', 200, 0.00001],
  ['GET', '/healthz', 200, 12],
  ['GET', 'unmatched', 404, 0.05],
  ['GET', '/api/authz/auth-request', 200, 10],
];

/** The lines of one metric family in a scrape. */
function family(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name}_`))
    .sort();
}

test('the request series read as prom-client’s Counter and Histogram would write them', async () => {
  const ours = createHttpMetrics();
  const reference = new Registry();
  const labelNames = ['method', 'route', 'status_code'] as const;
  const counter = new Counter({ name: 'http_requests_total', help: 'x', labelNames, registers: [reference] });
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'x',
    labelNames,
    buckets: [...DURATION_BUCKETS],
    registers: [reference],
  });
  for (const [method, route, status, seconds] of REQUESTS) {
    ours.observe(method, route, status, seconds);
    const labels = { method, route, status_code: String(status) };
    counter.inc(labels);
    histogram.observe(labels, seconds);
  }
  const [got, expected] = [await ours.registry.metrics(), await reference.metrics()];
  for (const name of ['http_requests_total', 'http_request_duration_seconds']) {
    const lines = family(got, name);
    assert.ok(lines.length > 0, name);
    assert.deepEqual(lines, family(expected, name), name);
  }
  assert.match(got, /# TYPE http_request_duration_seconds histogram/);
  assert.match(got, /# TYPE http_requests_total counter/);
  assert.ok(
    got.includes(
      'http_request_duration_seconds_bucket{le="0.001",method="GET",route="/api/authz/auth-request",status_code="200"} 2',
    ),
  );
  // Counts keep rising between scrapes; a reset of the registry starts them again.
  ours.observe('GET', '/healthz', 200, 0.001);
  assert.ok(
    (await ours.registry.metrics()).includes('http_requests_total{method="GET",route="/healthz",status_code="200"} 3'),
  );
  ours.registry.resetMetrics();
  const after = await ours.registry.metrics();
  assert.ok(!after.includes('route="/healthz"'), 'nothing is left after a reset');
});

test('JSON export has the same series, each with its labels', async () => {
  const ours = createHttpMetrics();
  ours.observe('GET', '/healthz', 200, 0.002);
  const json = await ours.registry.getMetricsAsJSON();
  const duration = json.find((m) => m.name === 'http_request_duration_seconds');
  assert.equal(duration?.type, 'histogram');
  const count = (duration?.values ?? []).find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'));
  assert.deepEqual(count?.labels, { method: 'GET', route: '/healthz', status_code: '200' });
  assert.equal(count?.value, 1);
});
