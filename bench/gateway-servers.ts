// The processes behind nginx in bench/gateway.bench.ts, each in its own child process so that its CPU time is its
// own. Kinds:
//   portcullis  Portcullis as `portcullis serve` builds it, set up by bench/gateway-portcullis.ts.
//   bare        The floor: a bare node:http auth_request backend that looks the session cookie up in a Map and
//               answers 200 with the identity headers (401 otherwise). Its sessions come in BENCH_BARE_SESSIONS.
//   upstream    The application: a bare node:http server answering 200 "ok" (only with BENCH_GATEWAY_UPSTREAM=node).
// Each listens on 127.0.0.1, says where over IPC, answers `usage` (CPU, memory) and stops when told.
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { BenchTenantSummary } from './gateway-tenant.ts';

export type GatewayServerKind = 'portcullis' | 'bare' | 'upstream';

/** The application host the benchmark requests (registered in Portcullis; wrk sends it as Host). */
export const BENCH_HOST = 'wiki.bench.localhost';
export const BENCH_PUBLIC_URL = 'https://auth.bench.localhost';
export const BENCH_COOKIE_DOMAIN = 'bench.localhost';

/** One session the bare backend knows: the cookie that names it and the identity headers it answers with. */
export interface BareSessions {
  readonly cookieName: string;
  readonly sessions: Record<string, Record<string, string>>;
}

export interface GatewayServerReady {
  readonly op: 'ready';
  readonly kind: GatewayServerKind;
  readonly port: number;
  /** Portcullis: the Cookie header of the live session, and the bare backend's view of it. */
  readonly cookie?: string;
  readonly bare?: BareSessions;
  readonly tenant?: BenchTenantSummary & { readonly groups: number; readonly logLevel: string };
}

export type GatewayQuestion =
  | { readonly id: number; readonly op: 'usage' }
  | { readonly id: number; readonly op: 'stop' };

export interface GatewayUsage {
  readonly cpuMicros: number;
  readonly rssBytes: number;
  /** TCP connections the server has accepted so far (nginx keeps them alive; new ones mean churn). */
  readonly connections: number;
  /** Event-loop delay since the previous `usage` (ms): how long requests waited for the one JS thread. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

export interface Running {
  readonly ready: GatewayServerReady;
  readonly server: Server;
  /** Portcullis's Fastify app (for profiling it in-process with `inject`). */
  readonly app?: FastifyInstance;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('the server has no TCP address');
  return address.port;
}

function closing(server: Server): () => Promise<void> {
  return async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
}

/** The floor: nothing but a cookie looked up in a Map. */
async function startBare(): Promise<Running> {
  const given = JSON.parse(process.env.BENCH_BARE_SESSIONS ?? 'null') as BareSessions | null;
  if (!given) throw new Error('the bare backend needs BENCH_BARE_SESSIONS');
  const sessions = new Map(Object.entries(given.sessions));
  const prefix = `${given.cookieName}=`;
  const server = createServer((request, response) => {
    let identity: Record<string, string> | undefined;
    for (const pair of (request.headers.cookie ?? '').split(';')) {
      const trimmed = pair.trim();
      if (trimmed.startsWith(prefix)) identity = sessions.get(trimmed.slice(prefix.length));
    }
    // Content-Length 0, as Portcullis sends: nginx reads no body of an auth_request answer, so after a chunked one
    // it could not keep the connection.
    if (identity === undefined) {
      response.writeHead(401, { location: `${BENCH_PUBLIC_URL}/login`, 'content-length': '0' });
    } else response.writeHead(200, { ...identity, 'content-length': '0' });
    response.end();
  });
  const port = await listen(server);
  return { ready: { op: 'ready', kind: 'bare', port }, server, close: closing(server) };
}

async function startUpstream(): Promise<Running> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('ok');
  });
  const port = await listen(server);
  return { ready: { op: 'ready', kind: 'upstream', port }, server, close: closing(server) };
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('bench/gateway-servers.ts runs as a child of bench/gateway.bench.ts (it needs IPC)');
  const kind = process.argv[2];
  // Portcullis's modules are loaded only in its own process: the floor's processes hold nothing but node:http.
  const startPortcullis = async () => (await import('./gateway-portcullis.ts')).startPortcullis();
  const start = { portcullis: startPortcullis, bare: startBare, upstream: startUpstream }[kind ?? ''];
  if (!start) throw new Error(`the server kind must be portcullis, bare or upstream, not '${kind}'`);
  const running = await start();
  let connections = 0;
  running.server.on('connection', () => connections++);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let stopping: Promise<void> | undefined;
  const close = () => {
    stopping ??= running.close();
    return stopping;
  };
  // The parent went away without saying stop: close, so no server is left behind.
  process.once('disconnect', () => {
    void close().finally(() => process.exit(0));
  });
  process.on('message', async (question: GatewayQuestion) => {
    try {
      if (question.op === 'usage') {
        const cpu = process.cpuUsage();
        const usage: GatewayUsage = {
          cpuMicros: cpu.user + cpu.system,
          rssBytes: process.memoryUsage().rss,
          connections,
          loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
          loopDelayMaxMs: loopDelay.max / 1e6,
        };
        loopDelay.reset();
        send({ id: question.id, answer: usage });
      } else {
        await close();
        send({ id: question.id, answer: true });
        process.disconnect();
      }
    } catch (error) {
      send({ id: question.id, error: (error as Error).stack ?? String(error) });
    }
  });
  send(running.ready);
}

// Not a top-level await: Portcullis's module imports this one, which must have finished loading by then.
if (import.meta.main) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
