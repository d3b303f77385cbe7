// Forward auth through real nginx (issue 5, "Performance"): in one run, wrk → nginx (auth_request with the shipped
// deploy/nginx snippets, keep-alive to the auth backend) → the application, once with a bare node:http auth backend
// that only looks the session cookie up in a Map (the floor), once with Portcullis as `portcullis serve` builds it
// (session check + Conditional Access with 100 policies and 4,000 ranges, bench/gateway-tenant.ts). Same nginx
// configuration, same application, same wrk command; the goal is ≥ 70 % of the floor's requests/s with a p99 within
// 2× of the floor's.
//
// Run: `npx node bench/gateway.bench.ts` (also the last part of `npm run bench`). Needs wrk and nginx
// (`apt-get install -y wrk nginx`): without them it says so and exits non-zero. Settings (environment):
//   BENCH_GATEWAY_ROUNDS (3) floor-then-Portcullis pairs (the verdict is on the median of the rounds' ratios),
//   BENCH_GATEWAY_SECONDS (10) timed seconds per row, BENCH_GATEWAY_WARMUP_SECONDS (5), BENCH_GATEWAY_CONNECTIONS
//   (64), BENCH_GATEWAY_THREADS (2), BENCH_GATEWAY_NGINX_WORKERS (auto, Debian's default), BENCH_GATEWAY_UPSTREAM
//   (`nginx`: a `return 200 "ok"` server in the same nginx; `node`: a bare node:http server), BENCH_GATEWAY_LOG_LEVEL
//   (warn) Portcullis's log level, BENCH_CPU_PROF_DIR=dir writes a V8 CPU profile of the Portcullis process there.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BENCH_HOST,
  type GatewayQuestion,
  type GatewayServerKind,
  type GatewayServerReady,
  type GatewayUsage,
} from './gateway-servers.ts';
import { ServerProcess } from './server-process.ts';

const DEPLOY = new URL('../deploy/nginx/', import.meta.url).pathname;
const WRK_SCRIPT = new URL('./gateway-wrk.lua', import.meta.url).pathname;
const NGINX = '/usr/sbin/nginx';
const NOBODY = 65534;
const PATH = '/pages/welcome?tab=recent';
const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export type Backend = 'bare node' | 'portcullis';

export interface GatewayBenchOptions {
  readonly threads: number;
  readonly connections: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly nginxWorkers: string;
  readonly upstream: 'nginx' | 'node';
}

export interface WrkFigures {
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface GatewayBenchRow {
  readonly round: number;
  readonly backend: Backend;
  readonly wrk: WrkFigures;
  /** Cores busy on average over the timed run (1 = one core all the time). */
  readonly cores: {
    readonly backend: number;
    readonly nginx: number;
    readonly wrk: number;
    /** The node:http application when BENCH_GATEWAY_UPSTREAM=node (the nginx one is inside `nginx`). */
    readonly upstream?: number;
    /** Every process on the machine, from /proc/stat. */
    readonly machine: number;
  };
  /** CPU of the auth backend process per request, in microseconds. */
  readonly backendCpuUs: number;
  readonly backendRssMB: number;
  /** Connections the auth backend accepted during the timed run (nginx's keep-alive pool: few is good). */
  readonly backendConnections: number;
  /** The auth backend's event-loop delay over the timed run, p99 and max (ms). */
  readonly loopDelayMs: { readonly p99: number; readonly max: number };
  /** /proc/loadavg (1, 5, 15 minutes) just before the timed run. */
  readonly loadBefore: readonly number[];
}

export interface GatewayBenchResult {
  readonly date: string;
  readonly machine: string;
  readonly cores: number;
  readonly node: string;
  readonly nginx: string;
  readonly wrk: string;
  readonly options: GatewayBenchOptions;
  /** The wrk command of every timed row (only the port differs between the two nginx instances). */
  readonly command: string;
  readonly tenant: NonNullable<GatewayServerReady['tenant']>;
  readonly rows: readonly GatewayBenchRow[];
}

export function gatewayOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayBenchOptions {
  const number = (name: string, fallback: number) => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`${name} must be a whole number above 0, not '${text}'`);
    return value;
  };
  const upstream = env.BENCH_GATEWAY_UPSTREAM ?? 'nginx';
  if (upstream !== 'nginx' && upstream !== 'node') {
    throw new Error(`BENCH_GATEWAY_UPSTREAM must be nginx or node, not '${upstream}'`);
  }
  const nginxWorkers = env.BENCH_GATEWAY_NGINX_WORKERS ?? 'auto';
  if (!/^(auto|[1-9][0-9]?)$/.test(nginxWorkers)) {
    throw new Error(`BENCH_GATEWAY_NGINX_WORKERS must be a number of workers or auto, not '${nginxWorkers}'`);
  }
  return {
    threads: number('BENCH_GATEWAY_THREADS', 2),
    connections: number('BENCH_GATEWAY_CONNECTIONS', 64),
    seconds: number('BENCH_GATEWAY_SECONDS', 10),
    warmupSeconds: number('BENCH_GATEWAY_WARMUP_SECONDS', 5),
    rounds: number('BENCH_GATEWAY_ROUNDS', 3),
    nginxWorkers,
    upstream,
  };
}

/** Why the benchmark cannot run here, or undefined when it can. */
export function gatewayBenchMissing(): string | undefined {
  const wrk = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (wrk.error) return 'wrk is not installed (apt-get install -y wrk): this benchmark measures with it';
  if (!existsSync(NGINX)) return 'nginx is not installed (apt-get install -y nginx): this benchmark runs through it';
  return undefined;
}

// ---- child processes -------------------------------------------------------------------------------------------

type Ask = GatewayQuestion extends infer Q ? (Q extends unknown ? Omit<Q, 'id'> : never) : never;

type GatewayServer = ServerProcess<GatewayServerReady, Ask>;

function startServer(kind: GatewayServerKind, env: Record<string, string> = {}): Promise<GatewayServer> {
  return ServerProcess.start(new URL('./gateway-servers.ts', import.meta.url), kind, {
    env,
    profile: kind === 'portcullis',
    stdout: 'ignore',
  });
}

// ---- nginx -----------------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

async function waitForPort(port: number, child: ChildProcess, logs: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${logs()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nginx did not listen on ${port}:\n${logs()}`);
}

interface RunningNginx {
  readonly port: number;
  /** The master and its workers. */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/**
 * nginx as deploy/nginx/example.conf shapes a protected site (plain HTTP on loopback): `upstream portcullis` with
 * `keepalive 32` pointing at the auth backend, `upstream app` with `keepalive 16`, the shipped snippets included
 * unchanged. With `upstreamPort` undefined, the application is a `return 200 "ok"` server in the same nginx.
 * Unprivileged: as `nobody` when this runs as root.
 */
async function startNginx(options: {
  authPort: number;
  upstreamPort: number | undefined;
  workers: string;
}): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-nginx-'));
  for (const file of ['portcullis-authz.conf', 'portcullis-protect.conf']) {
    writeFileSync(join(dir, file), readFileSync(join(DEPLOY, file)));
  }
  for (const temp of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, temp));
  const listen = await freePort();
  const appPort = options.upstreamPort ?? (await freePort());
  const builtInApp =
    options.upstreamPort === undefined
      ? `server {
    listen 127.0.0.1:${appPort};
    location / { default_type text/plain; return 200 "ok"; }
  }`
      : '';
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes ${options.workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream portcullis {
    server 127.0.0.1:${options.authPort};
    keepalive 32;
  }
  upstream app {
    server 127.0.0.1:${appPort};
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${listen};
    server_name ${BENCH_HOST};
    include ${dir}/portcullis-authz.conf;
    location / {
      include ${dir}/portcullis-protect.conf;
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
  ${builtInApp}
}
`,
  );
  const root = process.getuid?.() === 0;
  if (root) {
    chownSync(dir, NOBODY, NOBODY);
    for (const name of readdirSync(dir, { recursive: true }) as string[]) chownSync(join(dir, name), NOBODY, NOBODY);
  }
  const child = spawn(
    NGINX,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
    {
      cwd: dir,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(root ? { uid: NOBODY, gid: NOBODY } : {}),
    },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const logs = () => output + (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');
  await waitForPort(listen, child, logs);
  const master = child.pid as number;
  return {
    port: listen,
    pids: [master, ...childrenOf(master)],
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- CPU accounting from /proc ---------------------------------------------------------------------------------

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** Fields of /proc/<pid>/stat after the command name: [0] is the state, [1] the parent, [11] utime, [12] stime… */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(Number(name));
    if (fields && Number(fields[1]) === parent) pids.push(Number(name));
  }
  return pids;
}

/** CPU seconds of these processes (user + system). */
function processSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds of this process's children that have exited and been waited for (wrk, here). */
function reapedChildrenSeconds(): number {
  const fields = statFields('self');
  return fields ? (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND : Number.NaN;
}

/** Busy CPU seconds of the whole machine (every core), from /proc/stat. */
function machineSeconds(): number {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  const [user, nice, system, , , irq, softirq, steal] = values.map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

// ---- wrk -------------------------------------------------------------------------------------------------------

function wrkArgs(options: GatewayBenchOptions, seconds: number, cookie: string, port: number): string[] {
  return [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${seconds}s`,
    '--latency',
    '-s',
    WRK_SCRIPT,
    '-H',
    `Host: ${BENCH_HOST}`,
    '-H',
    `Cookie: ${cookie}`,
    '-H',
    `User-Agent: ${USER_AGENT}`,
    '-H',
    'Accept: text/html',
    `http://127.0.0.1:${port}${PATH}`,
  ];
}

async function runWrk(args: readonly string[]): Promise<WrkFigures> {
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = output.split('\n').find((l) => l.startsWith('BENCH-JSON '));
  if (code !== 0 || line === undefined) throw new Error(`wrk failed (exit ${code}):\n${output}`);
  const r = JSON.parse(line.slice('BENCH-JSON '.length)) as Record<string, number>;
  const errors = r.connectErrors + r.readErrors + r.writeErrors + r.timeouts;
  if (r.statusErrors > 0 || errors > 0) {
    throw new Error(
      `wrk saw ${r.statusErrors} answers that were not 2xx/3xx and ${errors} socket errors; every request must be ` +
        `allowed:\n${output}`,
    );
  }
  const seconds = r.durationUs / 1e6;
  return {
    requests: r.requests,
    seconds,
    perSecond: r.requests / seconds,
    p50Ms: r.p50Us / 1000,
    p90Ms: r.p90Us / 1000,
    p99Ms: r.p99Us / 1000,
    maxMs: r.maxUs / 1000,
  };
}

// ---- checks ----------------------------------------------------------------------------------------------------

function get(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: '127.0.0.1', port, path: PATH, headers: { host: BENCH_HOST, 'user-agent': USER_AGENT, ...headers } },
      (incoming) => {
        let body = '';
        incoming.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        incoming.on('end', () =>
          resolve({ status: incoming.statusCode ?? 0, body, location: incoming.headers.location }),
        );
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/**
 * wrk counts a 302 as a success, so before and after every run: with the session cookie the application's "ok"
 * comes back, without it nginx redirects to sign in — the auth backend is really asked.
 */
async function checkThrough(port: number, cookie: string, backend: Backend): Promise<void> {
  const allowed = await get(port, { cookie, accept: 'text/html' });
  if (allowed.status !== 200 || allowed.body !== 'ok') {
    throw new Error(`${backend}: a request with the session got ${allowed.status} ${allowed.body.slice(0, 200)}`);
  }
  const refused = await get(port, { accept: 'text/html' });
  if (refused.status !== 302 || !refused.location) {
    throw new Error(`${backend}: a request without a session got ${refused.status}, not a redirect to sign in`);
  }
}

// ---- the benchmark ---------------------------------------------------------------------------------------------

async function measureRow(
  round: number,
  backend: Backend,
  server: GatewayServer,
  nginx: RunningNginx,
  upstream: GatewayServer | undefined,
  cookie: string,
  options: GatewayBenchOptions,
): Promise<GatewayBenchRow> {
  await checkThrough(nginx.port, cookie, backend);
  await runWrk(wrkArgs(options, options.warmupSeconds, cookie, nginx.port));
  const loadBefore = loadavg();
  const before = {
    backend: await server.ask<GatewayUsage>({ op: 'usage' }),
    upstream: upstream && (await upstream.ask<GatewayUsage>({ op: 'usage' })),
    nginx: processSeconds(nginx.pids),
    wrk: reapedChildrenSeconds(),
    machine: machineSeconds(),
    at: performance.now(),
  };
  const wrk = await runWrk(wrkArgs(options, options.seconds, cookie, nginx.port));
  const after = {
    backend: await server.ask<GatewayUsage>({ op: 'usage' }),
    upstream: upstream && (await upstream.ask<GatewayUsage>({ op: 'usage' })),
    nginx: processSeconds(nginx.pids),
    wrk: reapedChildrenSeconds(),
    machine: machineSeconds(),
    at: performance.now(),
  };
  await checkThrough(nginx.port, cookie, backend);
  const wall = (after.at - before.at) / 1000;
  const backendSeconds = (after.backend.cpuMicros - before.backend.cpuMicros) / 1e6;
  return {
    round,
    backend,
    wrk,
    cores: {
      backend: backendSeconds / wall,
      nginx: (after.nginx - before.nginx) / wall,
      wrk: (after.wrk - before.wrk) / wall,
      ...(after.upstream && before.upstream
        ? { upstream: (after.upstream.cpuMicros - before.upstream.cpuMicros) / 1e6 / wall }
        : {}),
      machine: (after.machine - before.machine) / wall,
    },
    backendCpuUs: (backendSeconds * 1e6) / wrk.requests,
    backendRssMB: after.backend.rssBytes / 2 ** 20,
    backendConnections: after.backend.connections - before.backend.connections,
    loopDelayMs: { p99: after.backend.loopDelayP99Ms, max: after.backend.loopDelayMaxMs },
    loadBefore,
  };
}

function versionOf(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')[0].trim();
}

export async function benchGateway(
  options: GatewayBenchOptions = gatewayOptionsFromEnv(),
): Promise<GatewayBenchResult> {
  const missing = gatewayBenchMissing();
  if (missing) throw new Error(missing);
  const stops: (() => Promise<void>)[] = [];
  try {
    const portcullis = await startServer('portcullis');
    stops.push(() => portcullis.stop());
    const { cookie, bare: sessions, tenant } = portcullis.ready;
    if (!cookie || !sessions || !tenant) throw new Error('the Portcullis server came without its session');
    const bare = await startServer('bare', { BENCH_BARE_SESSIONS: JSON.stringify(sessions) });
    stops.push(() => bare.stop());
    let upstream: GatewayServer | undefined;
    if (options.upstream === 'node') {
      upstream = await startServer('upstream');
      const started = upstream;
      stops.push(() => started.stop());
    }
    const nginxFor = async (server: GatewayServer) => {
      const nginx = await startNginx({
        authPort: server.ready.port,
        upstreamPort: upstream?.ready.port,
        workers: options.nginxWorkers,
      });
      stops.push(() => nginx.stop());
      return nginx;
    };
    const floorNginx = await nginxFor(bare);
    const portcullisNginx = await nginxFor(portcullis);

    const rows: GatewayBenchRow[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      rows.push(await measureRow(round, 'bare node', bare, floorNginx, upstream, cookie, options));
      rows.push(await measureRow(round, 'portcullis', portcullis, portcullisNginx, upstream, cookie, options));
    }
    const shown = wrkArgs(options, options.seconds, '<session cookies>', 0)
      .map((arg) => (arg.includes(' ') ? `'${arg}'` : arg))
      .join(' ')
      .replace(WRK_SCRIPT, 'bench/gateway-wrk.lua')
      .replace('127.0.0.1:0', '127.0.0.1:<nginx>');
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      node: process.version,
      nginx: versionOf(NGINX, ['-v']),
      wrk: versionOf('wrk', ['--version']),
      options,
      command: `wrk ${shown}`,
      tenant,
      rows,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch((error) => console.error(error));
  }
}

export interface GatewayRatio {
  readonly round: number;
  /** Portcullis's requests/s over the floor's. */
  readonly throughput: number;
  /** Portcullis's p99 over the floor's. */
  readonly p99: number;
  readonly met: boolean;
}

export function gatewayRatios(result: GatewayBenchResult): GatewayRatio[] {
  const ratios: GatewayRatio[] = [];
  for (let round = 1; round <= result.options.rounds; round++) {
    const floor = result.rows.find((r) => r.round === round && r.backend === 'bare node');
    const ours = result.rows.find((r) => r.round === round && r.backend === 'portcullis');
    if (!floor || !ours) continue;
    const throughput = ours.wrk.perSecond / floor.wrk.perSecond;
    const p99 = ours.wrk.p99Ms / floor.wrk.p99Ms;
    ratios.push({ round, throughput, p99, met: throughput >= 0.7 && p99 <= 2 });
  }
  return ratios;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The verdict of a run: the median of the rounds' throughput ratios and of their p99 ratios, against the goal. */
export function gatewaySummary(ratios: readonly GatewayRatio[]): { throughput: number; p99: number; met: boolean } {
  const throughput = median(ratios.map((r) => r.throughput));
  const p99 = median(ratios.map((r) => r.p99));
  return { throughput, p99, met: throughput >= 0.7 && p99 <= 2 };
}

export function formatGateway(result: GatewayBenchResult): string {
  const o = result.options;
  const f1 = (n: number) => n.toFixed(1);
  const f2 = (n: number) => n.toFixed(2);
  const lines = [
    `${result.date}, ${result.cores} cores (${result.machine}), Node ${result.node}, ${result.nginx}, ${result.wrk}; ` +
      `nginx workers: ${o.nginxWorkers}, application: ${o.upstream === 'nginx' ? 'nginx `return 200 "ok"`' : 'node:http "ok"'}, ` +
      `Portcullis log level ${result.tenant.logLevel}; ${result.tenant.policies} policies, ${result.tenant.locations} ` +
      `named locations, ${result.tenant.ranges.toLocaleString('en')} ranges; ${o.warmupSeconds} s warm-up per row.`,
    '',
    `\`${result.command}\``,
    '',
    '| round | auth backend | requests/s | p50 ms | p90 ms | p99 ms | max ms | backend CPU µs/req | ' +
      'backend event loop delay p99 / max ms | backend new conns | backend RSS MB | ' +
      `cores busy: backend / nginx / wrk${o.upstream === 'node' ? ' / app' : ''} / whole machine | load avg before |`,
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of result.rows) {
    const cores = [
      r.cores.backend,
      r.cores.nginx,
      r.cores.wrk,
      ...(r.cores.upstream === undefined ? [] : [r.cores.upstream]),
      r.cores.machine,
    ]
      .map(f2)
      .join(' / ');
    lines.push(
      `| ${r.round} | ${r.backend} | ${Math.round(r.wrk.perSecond).toLocaleString('en')} | ${f2(r.wrk.p50Ms)} | ` +
        `${f2(r.wrk.p90Ms)} | ${f2(r.wrk.p99Ms)} | ${f1(r.wrk.maxMs)} | ${f1(r.backendCpuUs)} | ` +
        `${f1(r.loopDelayMs.p99)} / ${f1(r.loopDelayMs.max)} | ${r.backendConnections.toLocaleString('en')} | ` +
        `${Math.round(r.backendRssMB)} | ${cores} | ${r.loadBefore.map(f2).join(' ')} |`,
    );
  }
  lines.push('');
  const ratios = gatewayRatios(result);
  for (const ratio of ratios) {
    lines.push(
      `Round ${ratio.round}: Portcullis reaches ${(ratio.throughput * 100).toFixed(0)} % of the floor's requests/s, ` +
        `p99 ${ratio.p99.toFixed(2)}× the floor's.`,
    );
  }
  const summary = gatewaySummary(ratios);
  lines.push(
    '',
    `Median of ${ratios.length} round${ratios.length === 1 ? '' : 's'}: ${(summary.throughput * 100).toFixed(0)} % of ` +
      `the floor's requests/s, p99 ${summary.p99.toFixed(2)}× — goal (≥ 70 %, p99 ≤ 2×) ` +
      `${summary.met ? 'met' : 'NOT met'}.`,
  );
  return lines.join('\n');
}

if (import.meta.main) {
  const missing = gatewayBenchMissing();
  if (missing) {
    console.error(`bench/gateway.bench.ts: ${missing}`);
    process.exit(1);
  }
  console.log(formatGateway(await benchGateway()));
}
