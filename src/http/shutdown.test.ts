// Graceful shutdown: the order things close in, the exit code, a second signal, a stuck close, and uninstalling.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, mock, test } from 'node:test';
import { type Closable, handleShutdownSignals, type SignalTarget } from './shutdown.ts';

class FakeProcess extends EventEmitter implements SignalTarget {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
  override on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): this {
    return super.on(signal, listener);
  }
  override off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): this {
    return super.off(signal, listener);
  }
}

function recorder() {
  const events: string[] = [];
  const logger = {
    info: (_object: object, message: string) => events.push(`info: ${message}`),
    error: (_object: object, message: string) => events.push(`error: ${message}`),
  };
  const part = (name: string, behaviour: 'ok' | 'fail' | 'hang' = 'ok'): Closable => ({
    close: () => {
      events.push(`close ${name}`);
      if (behaviour === 'fail') return Promise.reject(new Error(`${name} would not close`));
      if (behaviour === 'hang') return new Promise(() => {});
      return Promise.resolve();
    },
  });
  return { events, logger, part };
}

/** Lets the promise chain after a signal run to its end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('handleShutdownSignals', () => {
  const cases: {
    name: string;
    signal: NodeJS.Signals;
    server?: 'ok' | 'fail';
    store?: 'ok' | 'fail';
    events: string[];
    exits: number[];
  }[] = [
    {
      name: 'SIGTERM from the orchestrator closes the server, then the store, and exits 0',
      signal: 'SIGTERM',
      events: ['info: received SIGTERM; shutting down', 'close server', 'close store', 'info: shut down'],
      exits: [0],
    },
    {
      name: 'Ctrl-C (SIGINT) does the same',
      signal: 'SIGINT',
      events: ['info: received SIGINT; shutting down', 'close server', 'close store', 'info: shut down'],
      exits: [0],
    },
    {
      name: 'a server that fails to close still lets the store close, and exits 1',
      signal: 'SIGTERM',
      server: 'fail',
      events: [
        'info: received SIGTERM; shutting down',
        'close server',
        'error: closing the server failed',
        'close store',
        'info: shut down with errors',
      ],
      exits: [1],
    },
    {
      name: 'a store that fails to close exits 1',
      signal: 'SIGTERM',
      store: 'fail',
      events: [
        'info: received SIGTERM; shutting down',
        'close server',
        'close store',
        'error: closing the store failed',
        'info: shut down with errors',
      ],
      exits: [1],
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const target = new FakeProcess();
      const { events, logger, part } = recorder();
      handleShutdownSignals({ server: part('server', c.server), store: part('store', c.store), logger, target });
      target.emit(c.signal, c.signal);
      await settle();
      assert.deepEqual(events, c.events);
      assert.deepEqual(target.exits, c.exits);
    });
  }

  test('a second signal while closing exits at once with 1', async () => {
    const target = new FakeProcess();
    const { events, logger, part } = recorder();
    handleShutdownSignals({ server: part('server', 'hang'), logger, target });
    target.emit('SIGTERM', 'SIGTERM');
    target.emit('SIGINT', 'SIGINT');
    await settle();
    assert.deepEqual(events, [
      'info: received SIGTERM; shutting down',
      'close server',
      'error: received SIGINT again while shutting down; exiting now',
    ]);
    assert.deepEqual(target.exits, [1]);
  });

  test('a close that never finishes exits 1 when the time is up (mocked timers)', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const target = new FakeProcess();
      const { events, logger, part } = recorder();
      handleShutdownSignals({ server: part('server', 'hang'), logger, target, timeoutMs: 1000 });
      target.emit('SIGTERM', 'SIGTERM');
      await settle();
      mock.timers.tick(999);
      assert.deepEqual(target.exits, []);
      mock.timers.tick(1);
      assert.deepEqual(target.exits, [1]);
      assert.equal(events.at(-1), 'error: shutdown did not finish within 1000 ms; exiting');
    } finally {
      mock.timers.reset();
    }
  });

  test('the returned function removes the handlers', () => {
    const target = new FakeProcess();
    const { logger, part } = recorder();
    const uninstall = handleShutdownSignals({ server: part('server'), logger, target });
    assert.equal(target.listenerCount('SIGTERM'), 1);
    assert.equal(target.listenerCount('SIGINT'), 1);
    uninstall();
    assert.equal(target.listenerCount('SIGTERM'), 0);
    assert.equal(target.listenerCount('SIGINT'), 0);
  });
});
