// The per-request logger: made only when a line is written, and then every line carries the correlation id and the
// client address, exactly as an eagerly made pino child would.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { Logger } from 'pino';
import { createLogger } from './logger.ts';
import { LazyRequestLogger, requestLogger } from './request-logger.ts';

function world(level: 'info' | 'warn') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const parent = createLogger({ level, destination });
  let children = 0;
  const child = parent.child;
  parent.child = function (this: Logger, ...args: Parameters<Logger['child']>) {
    children++;
    return child.apply(this, args);
  } as Logger['child'];
  let asked = 0;
  const extra = () => {
    asked++;
    return { clientIp: '198.51.100.7' };
  };
  return { parent, lines, extra, children: () => children, asked: () => asked };
}

test('a request that logs nothing makes no child logger and resolves nothing', () => {
  const w = world('warn');
  const log = requestLogger(w.parent, { requestId: 'alice-0001' }, {}, w.extra);
  assert.ok(log instanceof LazyRequestLogger);
  log.info({ req: 'x' }, 'incoming request');
  log.debug('detail');
  log.trace('more detail');
  assert.equal(log.level, 'warn');
  assert.equal(w.children(), 0);
  assert.equal(w.asked(), 0);
  assert.deepEqual(w.lines, []);
});

test('the first line makes the child once; every line carries the correlation id and the client address', () => {
  const w = world('info');
  const log = requestLogger(w.parent, { requestId: 'alice-0002' }, {}, w.extra);
  log.info({ gateway: 'signIn' }, 'forward auth');
  log.warn('forward auth denied');
  log.error({ err: new Error('boom') }, 'request failed');
  log.debug('not written at info');
  assert.equal(w.children(), 1);
  assert.equal(w.asked(), 1);
  assert.deepEqual(
    w.lines.map((l) => [l.level, l.msg, l.requestId, l.clientIp]),
    [
      ['info', 'forward auth', 'alice-0002', '198.51.100.7'],
      ['warn', 'forward auth denied', 'alice-0002', '198.51.100.7'],
      ['error', 'request failed', 'alice-0002', '198.51.100.7'],
    ],
  );
  assert.equal(w.lines[0].gateway, 'signIn');
});

test('lowering the level of one request’s logger lets its debug lines through, not the server’s', () => {
  const w = world('info');
  const log = requestLogger(w.parent, { requestId: 'alice-0003' }, {}, w.extra);
  log.level = 'debug';
  log.debug('detail');
  assert.equal(w.parent.level, 'info');
  assert.deepEqual(
    w.lines.map((l) => [l.level, l.msg, l.requestId]),
    [['debug', 'detail', 'alice-0003']],
  );
});

test('route options (a route-level level or serializers) make the child at once, with them', () => {
  const w = world('info');
  const log = requestLogger(w.parent, { requestId: 'alice-0004' }, { level: 'error' }, w.extra);
  assert.ok(!(log instanceof LazyRequestLogger));
  assert.equal(w.children(), 1);
  log.warn('muted on this route');
  log.error('written');
  assert.deepEqual(
    w.lines.map((l) => [l.msg, l.clientIp]),
    [['written', '198.51.100.7']],
  );
});

test('a child of the request logger keeps its bindings', () => {
  const w = world('info');
  const log = requestLogger(w.parent, { requestId: 'alice-0005' }, {}, w.extra);
  log.child({ step: 'token' }).info('exchanged');
  assert.deepEqual(
    w.lines.map((l) => [l.msg, l.requestId, l.clientIp, l.step]),
    [['exchanged', 'alice-0005', '198.51.100.7', 'token']],
  );
});
