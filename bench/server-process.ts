// One benchmark server in a child process (`fork`), with a request/answer channel over IPC: the child sends its
// `Ready` message once listening, then answers each `{ ...question, id }` with `{ id, answer }` or `{ id, error }`,
// and exits after `{ op: 'stop' }`. Shared by the token and gateway benchmarks.
import { type ChildProcess, fork } from 'node:child_process';

export interface StartOptions {
  readonly env?: Record<string, string>;
  /** Write a V8 CPU profile into BENCH_CPU_PROF_DIR (when set) on exit. */
  readonly profile?: boolean;
  /** The child's standard output; its standard error is always shown. */
  readonly stdout?: 'inherit' | 'ignore';
}

export class ServerProcess<Ready, Ask extends object> {
  readonly ready: Ready;
  /** CPU time so far of each process of an out-of-process database serving this server, in microseconds. */
  databaseCpu?: () => Map<string, number>;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #next = 0;

  private constructor(child: ChildProcess, ready: Ready) {
    this.#child = child;
    this.ready = ready;
    child.on('message', (message: { id: number; answer?: unknown; error?: string }) => {
      const waiting = this.#pending.get(message.id);
      if (!waiting) return;
      this.#pending.delete(message.id);
      if (message.error !== undefined) waiting.reject(new Error(`server: ${message.error}`));
      else waiting.resolve(message.answer);
    });
  }

  /** Starts `script` with `kind` as its argument; resolves with its ready message. */
  static start<Ready, Ask extends object>(
    script: URL,
    kind: string,
    options: StartOptions = {},
  ): Promise<ServerProcess<Ready, Ask>> {
    const profileDir = options.profile === false ? undefined : process.env.BENCH_CPU_PROF_DIR;
    const child = fork(script, [kind], {
      env: { ...process.env, ...options.env },
      execArgv: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
      stdio: ['ignore', options.stdout ?? 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const failed = (code: number | null) =>
        reject(new Error(`the ${kind} server exited (${code}) before it was ready`));
      child.once('exit', failed);
      child.once('message', (message: Ready) => {
        child.off('exit', failed);
        resolve(new ServerProcess<Ready, Ask>(child, message));
      });
    });
  }

  ask<T>(question: Ask): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#child.send({ ...question, id });
    });
  }

  /** Stops the server; it must exit within ten seconds (a CPU profile is written on exit). */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    await this.ask({ op: 'stop' } as Ask);
    const timer = setTimeout(() => this.#child.kill(), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
