// The server skeleton over real HTTP on loopback: client address through trusted proxies only, correlation ids,
// Graph-shaped errors, health, readiness, metrics, redacted JSON logs, plugins and TLS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { Writable } from 'node:stream';
import { after, describe, mock, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { UUID_V7 } from '../test/support/uuid.ts';
import { ManualClock } from './clock.ts';
import { type ConfigOverrides, loadConfig } from './config/load.ts';
import { PortcullisError } from './errors.ts';
import { HttpError } from './http/graph-error.ts';
import { createLogger } from './http/logger.ts';
import { setCommonHeaders } from './http/request-id.ts';
import { closeAll } from './http/shutdown.ts';
import { buildServer, logConfigWarnings, type ServerDeps, type ServerPlugin } from './server.ts';

interface Started {
  readonly app: FastifyInstance;
  readonly url: string;
  /** Every log line written so far, parsed. */
  readonly lines: Record<string, unknown>[];
}

const running: FastifyInstance[] = [];
after(async () => {
  await Promise.all(running.map((app) => app.close()));
});

/** A plugin standing in for the features others will mount: it reports what the server worked out. */
const probe: ServerPlugin = {
  name: 'probe',
  prefix: '/probe',
  plugin: async (app: FastifyInstance) => {
    app.get('/whoami', async (request) => ({ clientIp: request.clientIp.text, via: request.clientIp.via }));
    app.post('/echo', async (request) => ({ received: request.body }));
    app.get('/boom', async () => {
      throw new Error('connection to postgres://portcullis:s3cret@db failed at Pool.connect');
    });
    app.get('/conflict', async () => {
      throw new HttpError(409, "A named location called 'HQ' already exists.", 'nameAlreadyExists');
    });
    app.get('/blocked', async () => {
      throw new PortcullisError(53003);
    });
    app.get('/chatty', async (request) => {
      request.log.info(
        {
          headers: request.headers,
          body: { userName: 'alice', password: 'hunter2', nested: { clientSecret: 'x-s3cret' } },
        },
        'probe log line',
      );
      return { ok: true };
    });
    app.get('/config', async () => ({ publicUrl: app.config.publicUrl, now: app.clock.now() }));
  },
};

async function start(
  input: { env?: Record<string, string>; overrides?: ConfigOverrides } & Partial<Omit<ServerDeps, 'config'>> = {},
): Promise<Started> {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const { config } = loadConfig({ env: input.env ?? {}, overrides: input.overrides });
  const app = buildServer({
    config,
    logger: createLogger({ level: 'info', destination }),
    readiness: input.readiness ?? (async () => {}),
    clock: input.clock ?? new ManualClock(Date.UTC(2026, 0, 1, 9, 30, 15, 500)),
    plugins: input.plugins ?? [probe],
    readinessTimeoutMs: input.readinessTimeoutMs,
  });
  running.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { app, url: `http://127.0.0.1:${address.port}`, lines };
}

describe('client address: X-Forwarded-For counts only through trusted proxies (real sockets)', () => {
  const cases: {
    name: string;
    trustedProxies?: string;
    forwardedFor?: string;
    expected: { clientIp: string; via: string };
  }[] = [
    {
      name: 'mallory, connecting directly, spoofs X-Forwarded-For and gains nothing',
      forwardedFor: '10.20.30.40',
      expected: { clientIp: '127.0.0.1', via: 'socket' },
    },
    {
      name: 'mallory tries again with a whole chain',
      forwardedFor: '10.20.30.40, 198.51.100.1',
      expected: { clientIp: '127.0.0.1', via: 'socket' },
    },
    {
      name: 'alice at headquarters through the trusted office proxy gets her forwarded address',
      trustedProxies: '127.0.0.1/32',
      forwardedFor: '198.51.100.7',
      expected: { clientIp: '198.51.100.7', via: 'x-forwarded-for' },
    },
    {
      name: 'bob abroad prepends a fake address; the hop the trusted proxy saw wins',
      trustedProxies: '127.0.0.1',
      forwardedFor: '10.0.0.1, 203.0.113.9',
      expected: { clientIp: '203.0.113.9', via: 'x-forwarded-for' },
    },
    {
      name: 'a trusted proxy that forwards garbage leaves the proxy itself as the client',
      trustedProxies: '127.0.0.0/8',
      forwardedFor: 'not-an-address',
      expected: { clientIp: '127.0.0.1', via: 'socket' },
    },
    {
      name: 'a trusted proxy that sends no header: the proxy is the client',
      trustedProxies: '127.0.0.1/32',
      expected: { clientIp: '127.0.0.1', via: 'socket' },
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const env: Record<string, string> = c.trustedProxies ? { PORTCULLIS_TRUSTED_PROXIES: c.trustedProxies } : {};
      const { url, lines } = await start({ env });
      const headers: Record<string, string> = { 'x-request-id': 'client-ip-test-0001' };
      if (c.forwardedFor !== undefined) headers['x-forwarded-for'] = c.forwardedFor;
      const response = await fetch(`${url}/probe/whoami`, { headers });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), c.expected);
      // The same address is on every log line of the request, starting with the first.
      const requestLines = lines.filter((l) => l.requestId === 'client-ip-test-0001');
      assert.ok(requestLines.length >= 2);
      for (const line of requestLines) assert.equal(line.clientIp, c.expected.clientIp);
    });
  }
});

describe('correlation id', () => {
  const cases: { name: string; headers: Record<string, string>; expected: string | RegExp }[] = [
    { name: 'none sent: a fresh UUID', headers: {}, expected: UUID_V7 },
    {
      name: "the reverse proxy's X-Request-Id is kept",
      headers: { 'x-request-id': '0f8fad5b-d9cb-469f-a165-70867728950e' },
      expected: '0f8fad5b-d9cb-469f-a165-70867728950e',
    },
    {
      name: "a Graph client's client-request-id is kept",
      headers: { 'client-request-id': 'a1b2c3d4e5f60718293a4b5c6d7e8f90' },
      expected: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    },
    {
      name: "both sent: the proxy's wins",
      headers: { 'x-request-id': 'proxy-id-12345678', 'client-request-id': 'client-id-12345678' },
      expected: 'proxy-id-12345678',
    },
    {
      name: 'an id that could forge log lines is replaced',
      headers: { 'x-request-id': 'abc" level=error msg="forged' },
      expected: UUID_V7,
    },
    { name: 'an id that is too long is replaced', headers: { 'client-request-id': 'a'.repeat(65) }, expected: UUID_V7 },
    { name: 'an id that is too short to be unique is replaced', headers: { 'x-request-id': 'abc' }, expected: UUID_V7 },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const { url, lines } = await start();
      const response = await fetch(`${url}/healthz`, { headers: c.headers });
      const id = response.headers.get('x-request-id') ?? '';
      if (typeof c.expected === 'string') assert.equal(id, c.expected);
      else assert.match(id, c.expected);
      assert.equal(response.headers.get('client-request-id'), id);
      // Probes are not logged, so look at a request that logs: the id shows on each of its lines.
      const chatty = await fetch(`${url}/probe/chatty`, { headers: c.headers });
      const chattyId = chatty.headers.get('x-request-id');
      const requestLines = lines.filter((l) => l.requestId === chattyId);
      assert.deepEqual(
        requestLines.map((l) => l.msg),
        ['incoming request', 'probe log line', 'request completed'],
      );
    });
  }
});

test('proxy answer URLs: no correlation id or nosniff up front; denials, 404s and errors still carry them', async () => {
  // A stand-in for forward auth (gateway/plugin.ts): 200 for the proxy, 403 with the headers set by the route.
  const proxyAnswers: ServerPlugin = {
    name: 'proxy-answers',
    async plugin(app: FastifyInstance) {
      app.proxyAnswerUrls.add('/authz');
      app.route({
        method: ['GET', 'POST'],
        url: '/authz',
        handler: async (request, reply) => {
          const verdict = (request.headers['x-verdict'] as string | undefined) ?? 'allow';
          if (verdict === 'crash') throw new Error('the store is down');
          if (verdict === 'allow') return reply.code(200).header('remote-user', 'alice').send();
          setCommonHeaders(reply, request.id);
          return reply.code(403).send();
        },
      });
    },
  };
  const { url } = await start({ plugins: [probe, proxyAnswers] });
  const id = { 'x-request-id': 'proxy-id-12345678' };
  const cases: [string, RequestInit, number, boolean][] = [
    ['allowed: only what the proxy reads', { headers: { ...id } }, 200, false],
    ['denied by the route', { headers: { ...id, 'x-verdict': 'deny' } }, 403, true],
    ['the route fails', { headers: { ...id, 'x-verdict': 'crash' } }, 500, true],
    ['a method the route does not take', { method: 'PUT', headers: { ...id } }, 404, true],
  ];
  for (const [name, init, status, common] of cases) {
    const response = await fetch(`${url}/authz`, init);
    assert.equal(response.status, status, name);
    assert.equal(response.headers.get('x-request-id'), common ? 'proxy-id-12345678' : null, name);
    assert.equal(response.headers.get('client-request-id'), common ? 'proxy-id-12345678' : null, name);
    assert.equal(response.headers.get('x-content-type-options'), common ? 'nosniff' : null, name);
  }
  // Any other target keeps them up front, also with a query on the proxy's URL.
  for (const path of ['/healthz', '/authz?x=1']) {
    const response = await fetch(`${url}${path}`, { headers: id });
    assert.equal(response.headers.get('x-request-id'), 'proxy-id-12345678', path);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
  }
});

describe('errors are Graph-shaped and never leak internals', () => {
  const cases: {
    name: string;
    path: string;
    init?: RequestInit;
    status: number;
    code: string;
    message: string | RegExp;
  }[] = [
    {
      name: 'an unknown route',
      path: '/nothing/here?token=abc',
      status: 404,
      code: 'itemNotFound',
      message: "No resource matches GET '/nothing/here'.",
    },
    {
      name: 'a malformed URL',
      path: '/probe/%zz',
      status: 400,
      code: 'invalidRequest',
      message: "The URL path '/probe/%zz' is not valid: it has a malformed percent-encoding.",
    },
    {
      name: 'a body that is not JSON',
      path: '/probe/echo',
      init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{password: "hunter2"}' },
      status: 400,
      code: 'invalidRequest',
      message:
        "The request body is not valid JSON: Expected property name or '}' in JSON at position 1 (line 1 column 2).",
    },
    {
      name: 'a body whose first token is wrong does not have the body quoted back',
      path: '/probe/echo',
      init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'hunter2' },
      status: 400,
      code: 'invalidRequest',
      message: "The request body is not valid JSON: Unexpected token 'h'.",
    },
    {
      name: 'an empty JSON body',
      path: '/probe/echo',
      init: { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '' },
      status: 400,
      code: 'invalidRequest',
      message: 'The request body is empty but its Content-Type is application/json.',
    },
    {
      name: 'prototype poisoning',
      path: '/probe/echo',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"__proto__": {"isAdmin": true}}',
      },
      status: 400,
      code: 'invalidRequest',
      message:
        "The request body is not valid JSON: it contains a '__proto__' or 'constructor.prototype' key, which is not allowed.",
    },
    {
      name: 'a content type nobody parses',
      path: '/probe/echo',
      init: { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' },
      status: 415,
      code: 'notSupported',
      message: 'The Content-Type of the request body is not supported here.',
    },
    {
      name: 'a crash inside a handler: generic message, no stack, no connection string',
      path: '/probe/boom',
      status: 500,
      code: 'generalException',
      message: 'An unexpected error occurred. The request id in this response identifies it in the server log.',
    },
    {
      name: 'an HttpError thrown on purpose keeps its status, code and message',
      path: '/probe/conflict',
      status: 409,
      code: 'nameAlreadyExists',
      message: "A named location called 'HQ' already exists.",
    },
    {
      name: 'a PortcullisError keeps its status and safe message',
      path: '/probe/blocked',
      status: 403,
      code: 'accessDenied',
      message: 'Access has been blocked by Conditional Access policies.',
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const { url } = await start();
      const response = await fetch(`${url}${c.path}`, c.init);
      assert.equal(response.status, c.status);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const text = await response.text();
      assert.ok(!text.includes('s3cret') && !text.includes('hunter2') && !/\n\s+at /.test(text), text);
      const id = response.headers.get('x-request-id');
      assert.deepEqual(JSON.parse(text), {
        error: {
          code: c.code,
          message: c.message,
          innerError: { date: '2026-01-01T09:30:15', 'request-id': id, 'client-request-id': id },
        },
      });
    });
  }

  test('the crash is logged in full at error level, with the request id', async () => {
    const { url, lines } = await start();
    const response = await fetch(`${url}/probe/boom`);
    const id = response.headers.get('x-request-id');
    const logged = lines.find((l) => l.requestId === id && l.level === 'error');
    assert.ok(logged, 'an error line for the request');
    assert.match(JSON.stringify(logged.err), /Pool\.connect/);
  });

  test('a valid JSON body reaches the handler', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/probe/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'Headquarters' }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { received: { displayName: 'Headquarters' } });
  });
});

describe('health and readiness', () => {
  const cases: {
    name: string;
    readiness: () => Promise<void>;
    path: string;
    status: number;
    body: unknown;
  }[] = [
    {
      name: 'liveness while the store is down',
      readiness: () => Promise.reject(new Error('store down')),
      path: '/healthz',
      status: 200,
      body: { status: 'ok' },
    },
    {
      name: 'ready when the store answers',
      readiness: async () => {},
      path: '/readyz',
      status: 200,
      body: { status: 'ready' },
    },
    {
      name: 'not ready when the store does not answer, with the reason',
      readiness: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap')),
      path: '/readyz',
      status: 503,
      body: { status: 'unavailable', reason: 'connect ECONNREFUSED 127.0.0.1:5432' },
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const { url } = await start({ readiness: c.readiness });
      const response = await fetch(`${url}${c.path}`);
      assert.equal(response.status, c.status);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await response.json(), c.body);
    });
  }

  test('a readiness check that hangs answers 503 when its time is up (mocked timers, no waiting)', async () => {
    const { config } = loadConfig({ env: {} });
    const app = buildServer({
      config,
      logger: createLogger({ level: 'silent' }),
      readiness: () => new Promise<void>(() => {}),
      readinessTimeoutMs: 5000,
    });
    running.push(app);
    await app.ready();
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const pending = app.inject({ method: 'GET', url: '/readyz' });
      // Let the handler start its race before moving time on.
      for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      mock.timers.tick(5000);
      const response = await pending;
      assert.equal(response.statusCode, 503);
      assert.deepEqual(response.json(), {
        status: 'unavailable',
        reason: 'the readiness check did not finish within 5000 ms',
      });
    } finally {
      mock.timers.reset();
    }
  });
});

test('metrics count and time requests by route template and status, with process metrics', async () => {
  const { url } = await start();
  await fetch(`${url}/healthz`);
  await fetch(`${url}/healthz`);
  await fetch(`${url}/probe/whoami`);
  await fetch(`${url}/no/such/${'x'.repeat(10)}`);
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  for (const expected of [
    'http_requests_total{method="GET",route="/healthz",status_code="200"} 2',
    'http_requests_total{method="GET",route="/probe/whoami",status_code="200"} 1',
    'http_requests_total{method="GET",route="unmatched",status_code="404"} 1',
    'http_request_duration_seconds_count{method="GET",route="/healthz",status_code="200"} 2',
    'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz",status_code="200"}',
    'process_cpu_user_seconds_total',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.ok(text.includes(expected), `metrics should include ${expected}`);
  }
  assert.ok(!text.includes('xxxxxxxxxx'), 'unmatched paths never become label values');
});

test('logs are JSON lines without credentials, cookies, secrets or OAuth codes', async () => {
  const { url, lines } = await start();
  const response = await fetch(`${url}/probe/chatty?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz123&page=2`, {
    headers: {
      authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.payload.signature',
      cookie: 'portcullis_session=s3ss10n-value',
      'x-api-key': 'k3y-value',
    },
  });
  assert.equal(response.status, 200);
  const text = JSON.stringify(lines);
  for (const secret of [
    'eyJhbGciOiJSUzI1NiJ9',
    's3ss10n-value',
    'hunter2',
    'x-s3cret',
    'k3y-value',
    'SplxlOBeZQQ',
    'xyz123',
  ]) {
    assert.ok(!text.includes(secret), `${secret} must not be logged`);
  }
  const probeLine = lines.find((l) => l.msg === 'probe log line') as Record<string, Record<string, unknown>>;
  assert.equal(probeLine.headers.authorization, '[Redacted]');
  assert.equal(probeLine.headers.cookie, '[Redacted]');
  assert.deepEqual(probeLine.body, {
    userName: 'alice',
    password: '[Redacted]',
    nested: { clientSecret: '[Redacted]' },
  });
  const incoming = lines.find((l) => l.msg === 'incoming request') as Record<string, Record<string, unknown>>;
  assert.equal(incoming.req.url, '/probe/chatty?code=[Redacted]&state=[Redacted]&page=2');
  assert.equal(incoming.level, 'info');
  assert.match(String(incoming.time), /^\d{4}-\d\d-\d\dT/);
});

test('probe and scrape requests write no log lines; other requests do', async () => {
  const { url, lines } = await start();
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    const response = await fetch(`${url}${path}`);
    const id = response.headers.get('x-request-id');
    assert.deepEqual(
      lines.filter((l) => l.requestId === id),
      [],
      path,
    );
  }
  const response = await fetch(`${url}/probe/whoami`);
  assert.equal(lines.filter((l) => l.requestId === response.headers.get('x-request-id')).length, 2);
});

test('plugins read the configuration and the clock from the instance', async () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const { url } = await start({ overrides: { publicUrl: 'https://login.example.com/' }, clock });
  const response = await fetch(`${url}/probe/config`);
  assert.deepEqual(await response.json(), { publicUrl: 'https://login.example.com', now: Date.UTC(2026, 5, 1) });
});

test('a plugin that fails to load stops the server from starting, naming the plugin', async () => {
  const { config } = loadConfig({ env: {} });
  const app = buildServer({
    config,
    logger: createLogger({ level: 'silent' }),
    readiness: async () => {},
    plugins: [
      {
        name: 'oidc',
        plugin: async () => {
          throw new Error('no signing key');
        },
      },
    ],
  });
  await assert.rejects(async () => {
    await app.ready();
  }, /the oidc plugin failed to load: no signing key/);
});

test('with tls configured the server speaks HTTPS', async () => {
  const certFile = new URL('./http/fixtures/localhost-cert.pem', import.meta.url).pathname;
  const keyFile = new URL('./http/fixtures/localhost-key.pem', import.meta.url).pathname;
  const { config } = loadConfig({ env: { PORTCULLIS_TLS_CERT_FILE: certFile, PORTCULLIS_TLS_KEY_FILE: keyFile } });
  assert.equal(config.publicUrl, 'https://localhost:9091');
  const app = buildServer({ config, logger: createLogger({ level: 'silent' }), readiness: async () => {} });
  running.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: address.port, path: '/healthz', ca: readFileSync(certFile), servername: 'localhost' },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.deepEqual(JSON.parse(body), { status: 'ok' });
});

test('configuration warnings are logged one per line at warn level', () => {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const { warnings } = loadConfig({ env: { PORTCULLIS_HOST: '0.0.0.0' } });
  logConfigWarnings(createLogger({ level: 'info', destination }), warnings);
  assert.equal(lines.length, 2);
  for (const line of lines) {
    assert.equal(line.level, 'warn');
    assert.equal(line.insecureSetting, true);
    assert.match(String(line.msg), /^configuration: /);
  }
});

test('shutting down lets a request in flight finish before the store closes', async () => {
  const events: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered: () => void = () => {};
  const inHandler = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const slow: ServerPlugin = {
    name: 'slow',
    plugin: async (app: FastifyInstance) => {
      app.get('/slow', async () => {
        entered();
        await gate;
        events.push('request finished');
        return { done: true };
      });
    },
  };
  const { app, url } = await start({ plugins: [slow] });
  const response = fetch(`${url}/slow`);
  await inHandler;
  const store = { close: async () => void events.push('store closed') };
  const closing = closeAll(app, store, { info: () => {}, error: () => {} });
  release();
  assert.equal(await closing, true);
  assert.deepEqual(events, ['request finished', 'store closed']);
  assert.deepEqual(await (await response).json(), { done: true });
});
