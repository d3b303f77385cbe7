// Runs `portcullis` as a user does: a separate process started from bin/portcullis.js, with a clean environment
// (only what the test gives, plus PATH and HOME), talking over loopback.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'portcullis.js');

function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PORTCULLIS_LOG_LEVEL: 'warn', ...env };
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; `stdin` is written and closed (absent: standard input is empty). */
export function run(args: readonly string[], options: { env?: Record<string, string>; stdin?: string } = {}) {
  return new Promise<Finished>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: environment(options.env ?? {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** A running `portcullis serve`. */
export class Served {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly #exited: Promise<number | null>;

  /** `node`: the runtime that starts bin/portcullis.js (default this test's, Node 24). */
  constructor(args: readonly string[], env: Record<string, string>, node = process.execPath) {
    this.child = spawn(node, [BIN, 'serve', ...args], {
      // info: the shutdown is logged at that level.
      env: environment({ PORTCULLIS_LOG_LEVEL: 'info', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk) => (this.stdout += chunk));
    this.child.stderr?.on('data', (chunk) => (this.stderr += chunk));
    this.#exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Waits until standard error matches (or the process exits first, which fails the test with its output). */
  async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    for (;;) {
      const match = this.stderr.match(pattern);
      if (match) return match;
      const exited = await Promise.race([
        this.#exited.then((code) => ({ code })),
        new Promise<undefined>((resolve) => this.child.stderr?.once('data', () => resolve(undefined))),
      ]);
      if (exited) {
        const match = this.stderr.match(pattern);
        if (match) return match;
        assert.fail(`serve exited (${exited.code}) before printing ${pattern}:\n${this.stderr}\n${this.stdout}`);
      }
    }
  }

  /** Sends SIGTERM and resolves to the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.#exited;
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }
}

/** A TCP port that was free a moment ago (the server binds it itself, as a user's would). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      assert.ok(address !== null && typeof address === 'object');
      server.close(() => resolve(address.port));
    });
  });
}
